package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/flowgrad/flowgrad/data"
	"github.com/flowgrad/flowgrad/internal/cli"
	"github.com/flowgrad/flowgrad/model"
	"github.com/flowgrad/flowgrad/tabular"
	"github.com/flowgrad/flowgrad/train"
)

// modelData are the -model and -data flags that eval and predict share.
type modelData struct {
	modelPath, dataPath string
	comma               rune
	ignore              string // -ignore, comma-separated
}

func (md *modelData) register(fs *flag.FlagSet, sep *string) {
	fs.StringVar(&md.modelPath, "model", "model.fgm", "the model file (from flowgrad train)")
	fs.StringVar(&md.dataPath, "data", "", "the CSV with the model's feature columns; required")
	fs.StringVar(sep, "sep", ",", "the field separator (one character; \\t for tab)")
	fs.StringVar(&md.ignore, "ignore", "", "comma-separated columns of -data that the model did not train on, to skip (a timestamp, notes)")
}

func (md *modelData) check(sep string) error {
	if md.dataPath == "" {
		return cli.Usagef("-data: give a CSV (see -h)")
	}
	var err error
	md.comma, err = separator(sep)
	return err
}

// load reads the model and the CSV as the model's preprocessing reads
// tables (its categorical and ignored columns), with extra text columns.
func (md *modelData) load(text ...string) (*model.Model, *data.Table, error) {
	m, err := model.Load(md.modelPath)
	if err != nil {
		return nil, nil, err
	}
	text = append(text, cli.Names(md.ignore)...)
	tab, err := data.LoadCSV(md.dataPath, m.Pre.CSVOptions(&data.CSVOptions{Comma: md.comma, Text: text}))
	if err != nil {
		return nil, nil, err
	}
	return m, tab, nil
}

func evalCmd(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("flowgrad eval", "usage: flowgrad eval -model model.fgm -data test.csv [-importance]\n\n"+
		"Scores the model on a labelled CSV: loss and accuracy with a confusion matrix for classes;\n"+
		"RMSE, MAE and R² in the target's units for regression; with -importance, how much each\n"+
		"feature matters (permutation importance).",
		stderr)
	var md modelData
	var sep string
	md.register(fs, &sep)
	importance := fs.Bool("importance", false, "also measure each feature's permutation importance: how much the score falls when the feature's values are shuffled across the rows")
	repeats := fs.Int("repeats", 5, "-importance: shuffles per feature")
	seed := fs.Uint64("seed", 1, "-importance: seed of the shuffles")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if err := md.check(sep); err != nil {
		return err
	}
	if *repeats < 1 {
		return cli.Usagef("-repeats %d: want at least 1", *repeats)
	}
	m, tab, err := md.load()
	if err != nil {
		return err
	}
	if tab.Column(m.Pre.Target) == nil {
		return fmt.Errorf("%s has no target column %q: eval needs the true values (use predict for unlabelled rows)%s", md.dataPath, m.Pre.Target, tab.SeparatorHint())
	}
	ds, err := m.Pre.Dataset(tab)
	if err != nil {
		return err
	}
	ev, err := train.NewEvaluator(ds, 1000, train.LossFor[float32](ds.Kind()))
	if err != nil {
		return err
	}
	metrics := tabular.TargetUnits(ev.Evaluate(m.Net), m.Pre)
	what := fmt.Sprintf("target %q", m.Pre.Target)
	if len(m.Pre.ExtraTargets) > 0 {
		what = "targets " + strings.Join(quoted(m.Pre.Targets()), ", ")
	}
	fmt.Fprintf(stdout, "flowgrad eval: model %s on %s: %d rows, %s\n", md.modelPath, md.dataPath, ds.Len(), what)
	if ds.Kind() == data.Regression {
		pred, err := m.Predict(tab)
		if err != nil {
			return err
		}
		if len(m.Pre.ExtraTargets) > 0 {
			writeTargets(stdout, tab, pred, metrics.R2)
		} else {
			_, mae, _ := targetErrors(tab, pred, 0)
			fmt.Fprintf(stdout, "RMSE      %.6g\nMAE       %.6g\nR²        %.6f\n", metrics.RMSE, mae, metrics.R2)
		}
	} else {
		fmt.Fprintf(stdout, "loss      %.6f\naccuracy  %.2f%%\n", metrics.Loss, 100*metrics.Accuracy)
		pred, err := m.Predict(tab)
		if err != nil {
			return err
		}
		if len(m.Pre.Classes) == 2 {
			fmt.Fprintf(stdout, "ROC AUC   %.4f (the chance that p_%s ranks a %s row above a %s row)\n",
				pred.AUC(ds.Labels()), m.Pre.Classes[1], m.Pre.Classes[1], m.Pre.Classes[0])
		}
		writeConfusion(stdout, m.Pre.Classes, ds.Labels(), pred.Class)
	}
	if !*importance {
		return nil
	}
	_, imps, err := m.PermutationImportance(tab, *repeats, rand.New(rand.NewPCG(*seed, 0x1a9)))
	if err != nil {
		return err
	}
	writeImportance(stdout, ds.Kind(), imps, *repeats, *seed)
	return nil
}

// writeImportance prints the features' permutation importance, most
// important first.
func writeImportance(w io.Writer, kind data.Kind, imps []model.Importance, repeats int, seed uint64) {
	score, loss := "accuracy", "cross-entropy"
	if kind == data.Regression {
		score, loss = "R²", "squared error"
	}
	fmt.Fprintf(w, "\npermutation importance: how much the %s falls (and the %s rises) when one feature's values are shuffled across the rows; mean ± sd of %d shuffles (-seed %d)\n",
		score, loss, repeats, seed)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "feature\t%s fall\t%s rise\t\n", score, loss)
	for _, imp := range imps {
		fmt.Fprintf(tw, "%s\t%.4f ± %.4f\t%.4f ± %.4f\t\n", imp.Feature, imp.Fall, imp.FallSD, imp.Rise, imp.RiseSD)
	}
	tw.Flush()
}

// quoted returns the names in Go quotes.
func quoted(names []string) []string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return q
}

// writeTargets prints RMSE, MAE and R² of each target of a regression
// with several, in its units, and the mean R² (the evaluator's).
func writeTargets(w io.Writer, tab *data.Table, pred *model.Prediction, meanR2 float64) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "target\tRMSE\tMAE\tR²\t")
	for j, name := range pred.Targets {
		rmse, mae, r2 := targetErrors(tab, pred, j)
		fmt.Fprintf(tw, "%s\t%.6g\t%.6g\t%.6f\t\n", name, rmse, mae, r2)
	}
	tw.Flush()
	fmt.Fprintf(w, "mean R²   %.6f\n", meanR2)
}

// targetErrors returns the RMSE, MAE and R² of a regression prediction's
// output j against its target column in tab, in the target's units.
func targetErrors(tab *data.Table, pred *model.Prediction, j int) (rmse, mae, r2 float64) {
	truth := tab.Column(pred.Targets[j])
	n := float64(tab.Len())
	var mean, se, ss float64
	for i := range tab.Len() {
		mean += float64(truth.Float(i)) / n
	}
	for i := range tab.Len() {
		y := float64(truth.Float(i))
		d := float64(pred.Value.At(i, j)) - y
		se, mae, ss = se+d*d, mae+math.Abs(d), ss+(y-mean)*(y-mean)
	}
	return math.Sqrt(se / n), mae / n, train.RSquared(se, ss)
}

// writeConfusion prints the confusion matrix — a row per true class, a
// column per predicted class — with each class's recall and F1 score, a
// row of precisions and the macro-averaged F1 (the mean over classes).
func writeConfusion(w io.Writer, classes []string, truth []int32, pred []int) {
	n := len(classes)
	counts := make([][]int, n)
	for i := range counts {
		counts[i] = make([]int, n)
	}
	trueN, predN := make([]int, n), make([]int, n)
	for i, t := range truth {
		counts[t][pred[i]]++
		trueN[t]++
		predN[pred[i]]++
	}
	ratio := func(a, b int) float64 {
		if b == 0 {
			return math.NaN()
		}
		return float64(a) / float64(b)
	}
	pct := func(v float64) string {
		if math.IsNaN(v) {
			return "-"
		}
		return fmt.Sprintf("%.1f%%", 100*v)
	}
	fmt.Fprintln(w, "\nconfusion matrix (rows: true class, columns: predicted)")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "\t%s\trecall\tF1\t\n", strings.Join(classes, "\t"))
	precisions := make([]string, n)
	f1 := train.F1Scores(n, truth, pred)
	for i, row := range counts {
		cells := make([]string, n)
		for j, c := range row {
			cells[j] = fmt.Sprint(c)
		}
		recall, precision := ratio(row[i], trueN[i]), ratio(row[i], predN[i])
		precisions[i] = pct(precision)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\n", classes[i], strings.Join(cells, "\t"), pct(recall), pct(f1[i]))
	}
	fmt.Fprintf(tw, "precision\t%s\t\t\t\n", strings.Join(precisions, "\t"))
	tw.Flush()
	fmt.Fprintf(w, "macro F1  %s (the mean of the classes' F1 scores)\n", pct(train.MacroF1(f1)))
}
