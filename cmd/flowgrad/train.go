package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/flowgrad/flowgrad/data"
	"github.com/flowgrad/flowgrad/internal/cli"
	"github.com/flowgrad/flowgrad/tabular"
	"github.com/flowgrad/flowgrad/train"
	"gonum.org/v1/gonum/stat"
)

// trainFlags are the flags of flowgrad train, parsed and checked.
type trainFlags struct {
	dataPath, target, modelPath string
	task                        data.Task
	ignore, categorical         []string
	comma                       rune
	hidden                      []int
	batch, epochs               int
	batchGiven, patienceGiven   bool
	val                         float64
	opt                         cli.OptimizerFlags
	lr                          float64
	reg                         cli.RegularizationFlags
	scaleTarget                 bool
	scaling                     data.FeatureScaling
	fillMissing                 bool
	minCategory                 int
	cv                          int
	classWeight                 string
	split                       string
	refit                       bool
	monitor                     string
	seed                        uint64
	progress                    string
	verbose                     bool
}

func parseTrain(args []string, stderr io.Writer) (*trainFlags, error) {
	fs := cli.NewFlagSet("flowgrad train", "usage: flowgrad train -data train.csv [-target COLUMN] [-model model.fgm] [flags]\n\n"+
		"Reads the CSV, holds out a validation split, fits the preprocessing on the training rows,\n"+
		"trains an MLP with early stopping on a validation score and writes the model file.",
		stderr)
	c := &trainFlags{}
	var task, ignore, categorical, sep, hidden string
	fs.StringVar(&c.dataPath, "data", "", "the training CSV (plain or gzip, header row); required")
	fs.StringVar(&c.target, "target", "", "the target column (default: the last column); several numeric ones, comma-separated, for a regression with one output each")
	fs.StringVar(&c.modelPath, "model", "model.fgm", "the model file to write")
	fs.StringVar(&task, "task", "auto", "auto | classify | regress: auto makes a text target classes, a numeric one of two whole numbers (0 and 1) classes too, and any other numeric one regression")
	fs.StringVar(&ignore, "ignore", "", "comma-separated columns that are not features (an ID column)")
	fs.StringVar(&categorical, "categorical", "", "comma-separated columns to read as categories even if their values are numbers")
	fs.StringVar(&sep, "sep", ",", "the field separator (one character; \\t for tab)")
	fs.StringVar(&hidden, "hidden", "64,64", "hidden layer sizes, comma-separated (\"\" for a linear model)")
	fs.IntVar(&c.batch, "batch", 32, "minibatch size B (at most the training rows; the default 32 shrinks to fit)")
	fs.IntVar(&c.epochs, "epochs", 1000, "the most epochs to train")
	c.reg.Register(fs, 0.1, train.MaxDefaultPatience, fmt.Sprintf("stop after this many epochs without a better validation score (see -monitor), keeping the best weights (0: never stop early); if not given, %d, or fewer beyond %d training rows at B = 32: about %d steps' worth, at least %d",
		train.MaxDefaultPatience, 32*train.DefaultPatienceSteps/train.MaxDefaultPatience, train.DefaultPatienceSteps, train.MinDefaultPatience), 10)
	fs.StringVar(&c.monitor, "monitor", "auto", "the validation score early stopping watches: loss | metric (accuracy for classes, R² for regression; ties keep the later epoch) | auto (metric for classes, loss for regression or with -class-weight balanced)")
	fs.Float64Var(&c.val, "val", 0.2, "the fraction of rows held out for validation (stratified for classes)")
	fs.StringVar(&c.split, "split", "random", "which rows validate: random (seeded, stratified for classes) | last (the last -val of the file: for rows in time order, validate on the latest)")
	fs.Float64Var(&c.lr, "lr", 0, "learning rate (default: adam, adamw, rmsprop 0.001; adagrad 0.01; sgd 0.01)")
	c.opt.Register(fs, "adam", 0.01)
	fs.Lookup("weight-decay").Usage = fmt.Sprintf("L2 weight decay λ (default %g for classes, %g for regression, times %d/rows for more than %d training rows; adamw: decoupled decay, default 0.01)",
		train.DefaultWeightDecay(data.Classification, 1), train.DefaultWeightDecay(data.Regression, 1), train.DecayRows, train.DecayRows)
	fs.BoolVar(&c.scaleTarget, "scale-target", true, "regression: train on the standardised target (predictions are in the original units)")
	scaling := fs.String("scale-features", "auto", "how to scale numeric features, from the training rows: each (to mean 0, std 1 each) | joint (centre each, divide all by one scale: keeps their relative spread) | none | auto (joint if their stds are within a factor 10 of each other, else each; see docs/tabular.md)")
	missing := fs.String("missing", "error", "blank values in feature columns: error (say where, and stop) | mean (fill in a numeric feature's training mean, a categorical feature's no category; the model file keeps the choice, so predict fills them in too). A blank target is always an error")
	fs.IntVar(&c.minCategory, "min-category", 0, "group rare categories: a value of a categorical feature that fewer training rows have gets no input of its own; all such values share one (other), which also takes values first seen after training, so predict encodes them rather than stop (0: every value its own input, and an unseen one is an error)")
	fs.StringVar(&c.classWeight, "class-weight", "none", "classes: none | balanced (weigh each class's rows by rows/(classes·its rows), so a rare class counts as much as a common one; early stopping then watches the weighted loss)")
	fs.IntVar(&c.cv, "cv", 0, "before training the model, estimate its score on unseen rows by K-fold cross-validation: train K models as below, each on all folds but one, score each on its fold, print the mean ± sd (0: no cross-validation)")
	fs.BoolVar(&c.refit, "refit", true, "after early stopping picks the number of epochs, train again on all rows (training and validation) for that many")
	fs.Uint64Var(&c.seed, "seed", 1, "seed of the split, the weights and the minibatch order")
	fs.StringVar(&c.progress, "progress", "auto", "progress bar: auto (on a terminal) | on | off")
	fs.BoolVar(&c.verbose, "v", false, "print every epoch (default: epochs 1–10, every 10th to 100, every 100th, and the last)")
	if err := cli.Parse(fs, args); err != nil {
		return nil, err
	}
	var err error
	switch {
	case c.dataPath == "":
		return nil, cli.Usagef("-data: give the training CSV (see -h)")
	case c.modelPath == "":
		return nil, cli.Usagef("-model: give the file to write")
	case c.batch < 1:
		return nil, cli.Usagef("-batch %d: want at least 1", c.batch)
	case c.epochs < 1:
		return nil, cli.Usagef("-epochs %d: want at least 1", c.epochs)
	case !(c.val > 0 && c.val < 1):
		return nil, cli.Usagef("-val %v: want a fraction in (0, 1)", c.val)
	case c.split != "random" && c.split != "last":
		return nil, cli.Usagef("-split %q: want random or last", c.split)
	case c.cv > 0 && c.split == "last":
		return nil, cli.Usagef("-cv with -split last: cross-validation would train on later rows to score earlier ones; use one or the other")
	case c.cv == 1 || c.cv < 0:
		return nil, cli.Usagef("-cv %d: want at least 2 folds, or 0", c.cv)
	case c.classWeight != "none" && c.classWeight != "balanced":
		return nil, cli.Usagef("-class-weight %q: want none or balanced", c.classWeight)
	case c.minCategory < 0:
		return nil, cli.Usagef("-min-category %d: want a number of rows ≥ 0", c.minCategory)
	}
	if err := c.reg.Check(); err != nil {
		return nil, err
	}
	if c.monitor != "auto" && c.monitor != "loss" && c.monitor != "metric" {
		return nil, cli.Usagef("-monitor %q: want auto, loss or metric", c.monitor)
	}
	if err := cli.CheckProgress(c.progress); err != nil {
		return nil, err
	}
	if c.scaling, err = data.ParseFeatureScaling(*scaling); err != nil {
		return nil, cli.Usagef("-scale-features %q: want auto, each, joint or none", *scaling)
	}
	switch *missing {
	case "error", "mean":
		c.fillMissing = *missing == "mean"
	default:
		return nil, cli.Usagef("-missing %q: want error or mean", *missing)
	}
	if c.task, err = data.ParseTask(task); err != nil {
		return nil, cli.Usagef("-task %q: want auto, classify or regress", task)
	}
	if c.hidden, err = cli.Ints("hidden", hidden, 1); err != nil {
		return nil, err
	}
	if c.comma, err = separator(sep); err != nil {
		return nil, err
	}
	c.ignore, c.categorical = cli.Names(ignore), cli.Names(categorical)
	c.batchGiven, c.patienceGiven = cli.Given(fs)["batch"], cli.Given(fs)["patience"]
	if err := c.opt.Check(fs); err != nil {
		return nil, err
	}
	if !cli.Given(fs)["lr"] {
		c.lr = c.opt.DefaultRate()
	} else if !(c.lr > 0) || math.IsInf(c.lr, 1) {
		return nil, cli.Usagef("-lr %v: want a finite rate > 0", c.lr)
	}
	return c, nil
}

// separator parses -sep: one character, or \t.
func separator(s string) (rune, error) {
	if s == `\t` || s == "tab" {
		return '\t', nil
	}
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 || n != len(s) || r == '"' || r == '\r' || r == '\n' || r == utf8.RuneError {
		return 0, cli.Usagef("-sep %q: want one character other than a quote or a line break (\\t for tab)", s)
	}
	return r, nil
}

func trainCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, err := parseTrain(args, stderr)
	if err != nil {
		return err
	}
	if err := c.checkRanks(); err != nil {
		return err
	}
	if err := checkWritable("-model", c.modelPath); err != nil {
		return err
	}
	start := time.Now()
	readBar := cli.NewBar(stderr, c.progress, -1, "reading "+filepath.Base(c.dataPath))
	tab, err := data.LoadCSV(c.dataPath, &data.CSVOptions{Comma: c.comma, Categorical: c.categorical, Text: c.ignore,
		Missing: c.fillMissing, Progress: func(rows int, _ int64) { readBar.Set(rows) }})
	readBar.Close()
	if err != nil {
		return err
	}
	fit := data.FitOptions{Target: c.target, Ignore: c.ignore, Task: c.task, ScaleTarget: c.scaleTarget, Scaling: c.scaling,
		FillMissing: c.fillMissing, MinCategoryRows: c.minCategory}
	if names := cli.Names(c.target); len(names) > 1 {
		fit.Target, fit.Targets = "", names
	}
	if fit, err = data.ResolveTask(tab, fit); err != nil { // decided on all rows, not a split's
		return err
	}
	cv := ""
	if c.cv > 0 {
		if cv, err = c.crossValidate(ctx, tab, fit, stdout, stderr); err != nil {
			return err
		}
	}
	res, err := tabular.Train(ctx, tab, c.printing(c.options(fit), stdout, stderr))
	if err != nil {
		return c.optionError(err)
	}
	split, final := res.Split, res.Final
	meta := map[string]string{
		"trained_by": "flowgrad train",
		"data":       filepath.Base(c.dataPath),
		"rows":       strconv.Itoa(final.Train.Len()),
		"epochs":     strconv.Itoa(final.Last.Epoch),
		"optimizer":  final.Optimizer.String(),
		"seed":       strconv.FormatUint(c.seed, 10),
		"validation": fmt.Sprintf("%s (%d held-out rows, epoch %d)", summary(res.Validation()), split.Validation.Len(), split.BestEpoch),
		"created":    time.Now().UTC().Format(time.RFC3339),
	}
	if cv != "" {
		meta["cross_validation"] = cv
	}
	if !isRoot() {
		return nil // rank 0 writes the model
	}
	m, err := res.Model(meta)
	if err != nil {
		return err
	}
	if err := m.Save(c.modelPath); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (%.1fs)\n", c.modelPath, time.Since(start).Seconds())
	return nil
}

// options returns the recipe of the flags for training on rows decided by
// fit, without hooks.
func (c *trainFlags) options(fit data.FitOptions) *tabular.Options {
	o := &tabular.Options{
		Fit: fit, Hidden: c.hidden, Dropout: c.reg.Dropout, Batch: tabular.Auto, Epochs: c.epochs, Patience: tabular.Auto,
		Val: c.val, SplitLast: c.split == "last", BalanceClasses: c.classWeight == "balanced", Refit: c.refit,
		Seed: c.seed, Rate: c.lr, WeightDecay: tabular.Auto, Plateau: c.reg.PlateauConfig(), Clip: c.reg.Clip, Comm: comm,
		NewOptimizer: c.opt.NewWithDefaultDecay, // the recipe's weight decay unless -weight-decay was given
	}
	if c.batchGiven {
		o.Batch = c.batch
	}
	if c.patienceGiven {
		o.Patience = c.reg.Patience
	}
	switch c.monitor {
	case "loss":
		o.Monitor = tabular.MonitorLoss
	case "metric":
		o.Monitor = tabular.MonitorMetric
	}
	return o
}

// printing returns o with hooks that print the run on the split (its
// notes and per-epoch table) and the refit's line to stdout, and each
// run's progress bar to stderr.
func (c *trainFlags) printing(o *tabular.Options, stdout, stderr io.Writer) *tabular.Options {
	// The refit may run beside the split's run, its hooks on another
	// goroutine: each run has its own bar, and the refit's shows only
	// once the split's run has ended, so that one bar is on the terminal
	// at a time.
	var splitBar, refitBar *cli.Bar
	var splitEnded atomic.Bool
	var line func(train.EpochResult, *data.Preprocessor) string
	o.Hooks = tabular.Hooks{
		Start: func(r *tabular.Run) {
			if r.Refit {
				return
			}
			c.printStart(stdout, r)
			var header string
			header, line = epochFormat(r.Pre.Kind)
			fmt.Fprintln(stdout, header)
			splitBar = cli.NewBar(stderr, c.progress, (r.Train.Len()+r.Batch-1)/r.Batch, "")
		},
		Batch: func(r *tabular.Run, index, perEpoch int) {
			if !r.Refit {
				splitBar.Set(index + 1)
				return
			}
			if splitEnded.Load() {
				if refitBar == nil {
					refitBar = cli.NewBar(stderr, c.progress, perEpoch, "refit")
				}
				refitBar.Set(index + 1)
			}
		},
		Epoch: func(r *tabular.Run, e train.EpochResult, last bool) {
			if r.Refit {
				refitBar.Clear()
				return
			}
			splitBar.Clear()
			if c.verbose || logged(e.Epoch) || last {
				fmt.Fprintln(stdout, line(e, r.Pre))
			}
		},
		End: func(r *tabular.Run) {
			if !r.Refit {
				splitBar.Clear()
				fmt.Fprintf(stdout, "best validation epoch %d of %d: %s\n", r.BestEpoch, r.Last.Epoch, summary(tabular.TargetUnits(r.Best, r.Pre)))
				splitEnded.Store(true)
				return
			}
			refitBar.Clear()
			epochs := "epochs"
			if r.Epochs == 1 {
				epochs = "epoch"
			}
			fmt.Fprintf(stdout, "refit on all %d rows for %d %s: training loss %.4f\n", r.Train.Len(), r.Epochs, epochs, r.Last.TrainLoss)
		},
	}
	return o
}

// optionError makes an error of the flags (exit status 2) of err when
// the recipe's options are at fault, naming the flag.
func (c *trainFlags) optionError(err error) error {
	var oe *tabular.OptionError
	if !errors.As(err, &oe) {
		return err
	}
	context := strings.TrimSuffix(err.Error(), oe.Error()) // "fold 2 of 5: ", say
	switch oe.Option {
	case "Batch":
		if strings.Contains(oe.Err.Error(), "for validation") {
			return cli.Usagef("%s-batch %v (-val %g)", context, oe.Err, c.val)
		}
		return cli.Usagef("%s-batch %v", context, oe.Err)
	case "BalanceClasses":
		return cli.Usagef("%s-class-weight balanced: %v", context, oe.Err)
	}
	return cli.UsageError{Msg: context + oe.Err.Error()} // the optimiser's or the plateau's: names the value
}

// printStart prints the run on the split's first lines: the table, the
// preprocessing and its notes, the split and the model.
func (c *trainFlags) printStart(stdout io.Writer, r *tabular.Run) {
	trainTab, valTab, pre := r.Train, r.Validation, r.Pre
	fmt.Fprintf(stdout, "flowgrad train: %s: %d rows, %d features → %d inputs; %s\n",
		c.dataPath, trainTab.Len()+valTab.Len(), len(pre.Features), pre.Inputs(), describeTarget(pre))
	if note := scalingNote(c.scaling, pre); note != "" {
		fmt.Fprintln(stdout, note)
	}
	if note := missingNote(trainTab, valTab, pre); note != "" {
		fmt.Fprintln(stdout, note)
	}
	if note := taskNote(trainTab, pre, c.task); note != "" {
		fmt.Fprintln(stdout, note)
	}
	for _, note := range categoryNotes(trainTab, valTab, pre, c.val) {
		fmt.Fprintln(stdout, note)
	}
	for _, note := range rowNumberNotes(trainTab, pre) {
		fmt.Fprintln(stdout, note)
	}
	how := fmt.Sprintf("seed %d", c.seed)
	if c.split == "last" {
		how = "the last rows validate"
	}
	stopping := fmt.Sprintf("early stopping after %d epochs without a better validation score", r.Patience)
	if r.Patience == 0 {
		stopping = "no early stopping (-patience 0), but the best validation epoch's weights are kept"
	}
	fmt.Fprintf(stdout, "split (%s): %d training, %d validation rows; %s\n", how, trainTab.Len(), valTab.Len(), stopping)
	if r.ClassWeights != nil {
		fmt.Fprintf(stdout, "class weights (balanced, from the training rows): %s; early stopping watches the weighted validation loss\n", classWeights(pre.Classes, r.ClassWeights))
	}
	dropout := c.reg.Dropout
	if len(c.hidden) == 0 {
		dropout = 0 // a linear model has no hidden layer to drop units of
	}
	fmt.Fprintf(stdout, "model: MLP %s%s, B=%d, %s\n", sizes(pre.Inputs(), c.hidden, pre.Outputs()), dropoutNote(dropout), r.Batch, r.Optimizer)
}

// crossValidate estimates how well the model that flowgrad train makes
// does on rows it has not seen, by -cv K-fold cross-validation
// (tabular.CrossValidate: each fold's model trained exactly as flowgrad
// train trains on the whole table), prints each fold's score and their
// mean and standard deviation, and returns that summary.
func (c *trainFlags) crossValidate(ctx context.Context, tab *data.Table, fit data.FitOptions, stdout, stderr io.Writer) (string, error) {
	fmt.Fprintf(stdout, "cross-validation: %d folds (seed %d), each model trained on the other folds as below\n", c.cv, c.seed)
	var scores, rmses, f1s, aucs []float64
	kind := data.Regression
	bar := cli.NewBar(stderr, c.progress, c.cv, "cross-validation folds")
	_, err := tabular.CrossValidate(ctx, tab, c.options(fit), c.cv, func(i int, s tabular.FoldScore) {
		bar.Clear()
		defer bar.Set(i + 1)
		m := s.Metrics
		kind = m.Kind
		scores, rmses = append(scores, m.Primary()), append(rmses, m.RMSE)
		moved := ""
		if s.Moved > 0 {
			moved = fmt.Sprintf(" (%d more trained only: their class or category is in no other fold)", s.Moved)
		}
		more := ""
		if kind == data.Classification {
			f1s = append(f1s, s.MacroF1)
			more = fmt.Sprintf(", macro F1 %.2f%%", 100*s.MacroF1)
			if !math.IsNaN(s.AUC) {
				aucs = append(aucs, s.AUC)
				more += fmt.Sprintf(", ROC AUC %.4f", s.AUC)
			}
		}
		fmt.Fprintf(stdout, "fold %d: %d training, %d test rows%s: %s%s\n", i+1, s.Train, s.Test, moved, summary(m), more)
	})
	bar.Clear()
	if err != nil {
		return "", c.optionError(err)
	}
	mean, sd := stat.MeanStdDev(scores, nil) // k ≥ 2 folds
	var result string
	if kind == data.Classification {
		f1, f1SD := stat.MeanStdDev(f1s, nil)
		result = fmt.Sprintf("accuracy %.2f%% ± %.2f, macro F1 %.2f%% ± %.2f", 100*mean, 100*sd, 100*f1, 100*f1SD)
		if len(aucs) > 0 {
			auc, aucSD := stat.MeanStdDev(aucs, nil)
			result += fmt.Sprintf(", ROC AUC %.4f ± %.4f", auc, aucSD)
		}
		result += fmt.Sprintf(" (mean ± sd over %d folds, seed %d)", c.cv, c.seed)
	} else {
		rmse, rmseSD := stat.MeanStdDev(rmses, nil)
		rmseOf := "RMSE"
		if len(fit.Targets) > 1 {
			rmseOf = "RMSE of the standardised targets" // several: no one unit
		}
		result = fmt.Sprintf("R² %.4f ± %.4f, %s %.4g ± %.3g (mean ± sd over %d folds, seed %d)", mean, sd, rmseOf, rmse, rmseSD, c.cv, c.seed)
	}
	fmt.Fprintf(stdout, "cross-validated %s\n", result)
	return result, nil
}

// taskNote says, when -task auto decided the task of a numeric target of
// a few whole numbers (labels 0 and 1, say), how to ask for the other
// ("" otherwise): two values are trained as classes, three to ten as
// regression.
func taskNote(trainTab *data.Table, pre *data.Preprocessor, task data.Task) string {
	if task != data.AutoTask || pre.TargetType != data.Numeric || len(pre.ExtraTargets) > 0 {
		return ""
	}
	vals := wholeValues(trainTab.Column(pre.Target), trainTab.Len())
	if vals == nil {
		return ""
	}
	names := make([]string, len(vals))
	for i, v := range vals {
		names[i] = strconv.FormatFloat(float64(v), 'g', -1, 32)
	}
	if pre.Kind == data.Classification {
		return fmt.Sprintf("note: the numeric target %q holds the two whole numbers %s, and is trained as classes; for regression, add -task regress",
			pre.Target, strings.Join(names, " and "))
	}
	return fmt.Sprintf("note: the numeric target %q holds only the whole numbers %s, and is trained as regression; if they are classes, add -task classify",
		pre.Target, strings.Join(names, ", "))
}

// classWeights formats per-class weights: "no 0.526, yes 10.2".
func classWeights(classes []string, w []float64) string {
	parts := make([]string, len(w))
	for i := range w {
		parts[i] = fmt.Sprintf("%s %.3g", classes[i], w[i])
	}
	return strings.Join(parts, ", ")
}

// manyCategories is the number of categories from which categoryNotes
// looks at how rare they are.
const manyCategories = 20

// suggestMin is the -min-category that categoryNotes suggests.
const suggestMin = 5

// rareValues counts the values of a categorical column and those in one
// row only, and when at least manyCategories values are mostly in one row
// only (a name, an identifier, a timestamp read as text) says what to do:
// -ignore the column when most rows have a value that fewer than
// suggestMin rows have, else group the rare ones with -min-category; ""
// otherwise.
func rareValues(c *data.Column) (values, once int, advice string) {
	rows, inCommon := 0, 0 // inCommon: rows with a value of suggestMin rows or more
	for _, n := range c.Counts() {
		rows += n
		if n > 0 {
			values++
		}
		if n == 1 {
			once++
		}
		if n >= suggestMin {
			inCommon += n
		}
	}
	switch {
	case values < manyCategories || 2*once <= values:
	case 2*inCommon < rows:
		advice = fmt.Sprintf("most rows have a value that fewer than %d rows have (an identifier? free text?): -ignore %s", suggestMin, c.Name())
	default:
		advice = fmt.Sprintf("group the rare ones (-min-category %d) or -ignore %s", suggestMin, c.Name())
	}
	return values, once, advice
}

// categoryNotes says, for each categorical feature with rare categories,
// how many -min-category grouped into its other input; or, without
// -min-category, warns of a feature with at least manyCategories
// categories of which most are in a single training row (a name, an
// identifier, a timestamp read as text): each of those becomes an input
// learnt from one row, predict stops at any value not seen, and the
// split moves validation rows with such values to training, so it also
// says when that left validation much smaller than -val asked.
func categoryNotes(trainTab, valTab *data.Table, pre *data.Preprocessor, val float64) []string {
	var notes []string
	for _, f := range pre.Features {
		if f.Type != data.Categorical {
			continue
		}
		values, once, advice := rareValues(trainTab.Column(f.Name))
		switch {
		case pre.MinCategoryRows > 0 && f.Other:
			notes = append(notes, fmt.Sprintf("categories: %q has %d values in the training rows; the %d in fewer than %d rows share one input (other), as will values not seen",
				f.Name, values, values-len(f.Categories), pre.MinCategoryRows))
		case advice != "":
			notes = append(notes, fmt.Sprintf("note: %q has %d values in %d training rows, %d of them in one row only: each value is an input learnt from a row or two, and predict stops at a value it never saw; %s",
				f.Name, values, trainTab.Len(), once, advice))
		}
	}
	all := trainTab.Len() + valTab.Len()
	if want := int(math.Round(val * float64(all))); pre.MinCategoryRows == 0 && valTab.Len() < want*3/4 {
		notes = append(notes, fmt.Sprintf("note: validation has %d rows, not about %d (-val %g): rows whose category no training row has went to training, as the model could not encode them; -min-category keeps them",
			valTab.Len(), want, val))
	}
	return notes
}

// rowNumberNotes warns of each numeric feature whose values are whole
// numbers that rise with every training row (at least manyCategories of
// them): a row number or an identifier, which the model would learn from
// as a quantity, tying its predictions to the order of the file.
func rowNumberNotes(trainTab *data.Table, pre *data.Preprocessor) []string {
	var notes []string
	for _, f := range pre.Features {
		if f.Type == data.Numeric && risesByRow(trainTab.Column(f.Name), trainTab.Len()) {
			notes = append(notes, fmt.Sprintf("note: %q holds whole numbers that rise with every row (a row number or an identifier?) and is a numeric feature; if it is not a quantity to learn from, -ignore %s",
				f.Name, f.Name))
		}
	}
	return notes
}

// missingNote says which feature columns of the training and validation
// rows have missing values and how many ("" if none).
func missingNote(trainTab, valTab *data.Table, pre *data.Preprocessor) string {
	var cols []string
	total := 0
	for _, f := range pre.Features {
		n := trainTab.Column(f.Name).Missing() + valTab.Column(f.Name).Missing()
		if n > 0 {
			cols = append(cols, fmt.Sprintf("%s (%d)", f.Name, n))
			total += n
		}
	}
	if total == 0 {
		return ""
	}
	return fmt.Sprintf("missing values: %d, filled in (numeric: the training mean; categorical: no category): %s", total, strings.Join(cols, ", "))
}

// scalingNote says how the numeric features were scaled ("" without
// numeric features), and why when -scale-features was auto.
func scalingNote(asked data.FeatureScaling, pre *data.Preprocessor) string {
	if !slices.ContainsFunc(pre.Features, func(f data.Feature) bool { return f.Type == data.Numeric }) {
		return ""
	}
	why := ""
	if asked == data.ScaleAuto {
		why = fmt.Sprintf(" (-scale-features auto: their standard deviations differ by more than %d×)", data.JointSpreadRatio)
		if pre.Scaling() == data.ScaleJoint {
			why = fmt.Sprintf(" (-scale-features auto: their standard deviations are within %d× of each other)", data.JointSpreadRatio)
		}
	}
	switch pre.Scaling() {
	case data.ScaleEach:
		return "numeric features: each standardised to mean 0, standard deviation 1" + why
	case data.ScaleJoint:
		return "numeric features: centred and divided by one scale, keeping their relative spread" + why
	}
	return "numeric features: as they are"
}

// logged reports whether the per-epoch table shows an epoch without -v:
// 1–10, every 10th up to 100, then every 100th.
func logged(epoch int) bool {
	return epoch <= 10 || epoch <= 100 && epoch%10 == 0 || epoch%100 == 0
}

// checkWritable fails early, before any training, when the model file
// cannot be written: its folder is missing or it is a folder.
func checkWritable(flagName, path string) error {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return cli.Usagef("%s %s is a folder; give a file name", flagName, path)
	}
	dir := filepath.Dir(path)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return cli.Usagef("%s %s: the folder %s does not exist", flagName, path, dir)
	}
	return nil
}

func sizes(in int, hidden []int, out int) string {
	return cli.JoinInts(append(append([]int{in}, hidden...), out), "-")
}

func dropoutNote(p float64) string {
	if p == 0 {
		return ""
	}
	return fmt.Sprintf(" (dropout %g)", p)
}

func describeTarget(pre *data.Preprocessor) string {
	if pre.Kind == data.Classification {
		return fmt.Sprintf("target %q: %d classes (%s)", pre.Target, len(pre.Classes), strings.Join(pre.Classes, ", "))
	}
	if len(pre.ExtraTargets) > 0 {
		scaled := ""
		if pre.TargetStd > 0 {
			scaled = ", each standardised (RMSE below is of the standardised targets, R² their mean; eval gives each in its units)"
		}
		return fmt.Sprintf("targets %s: regression with %d outputs%s", strings.Join(quoted(pre.Targets()), ", "), pre.Outputs(), scaled)
	}
	scaled := ""
	if pre.TargetStd > 0 {
		scaled = fmt.Sprintf(", standardised (mean %.4g, sd %.4g)", pre.TargetMean, pre.TargetStd)
	}
	return fmt.Sprintf("target %q: regression%s", pre.Target, scaled)
}

// summary formats the metrics that matter (m in the target's units: see
// tabular.TargetUnits).
func summary(m train.Metrics) string {
	if m.Kind == data.Regression {
		return fmt.Sprintf("RMSE %.4g, R² %.4f", m.RMSE, m.R2)
	}
	return fmt.Sprintf("accuracy %.2f%%, loss %.4f", 100*m.Accuracy, m.Loss)
}

// epochFormat returns the header of the per-epoch table and the function
// that formats one epoch's line.
func epochFormat(k data.Kind) (string, func(train.EpochResult, *data.Preprocessor) string) {
	if k == data.Regression {
		return fmt.Sprintf("%5s  %10s  %9s  %10s  %8s  %8s", "epoch", "train loss", "val loss", "val RMSE", "val R²", "elapsed"),
			func(r train.EpochResult, pre *data.Preprocessor) string {
				m := tabular.TargetUnits(r.Eval, pre)
				return fmt.Sprintf("%5d  %10.4f  %9.4f  %10.4g  %8.4f  %7.1fs", r.Epoch, r.TrainLoss, m.Loss, m.RMSE, m.R2, r.Elapsed.Seconds())
			}
	}
	return fmt.Sprintf("%5s  %10s  %9s  %8s  %8s", "epoch", "train loss", "val loss", "val acc", "elapsed"),
		func(r train.EpochResult, _ *data.Preprocessor) string {
			return fmt.Sprintf("%5d  %10.4f  %9.4f  %7.2f%%  %7.1fs", r.Epoch, r.TrainLoss, r.Eval.Loss, 100*r.Eval.Accuracy, r.Elapsed.Seconds())
		}
}
