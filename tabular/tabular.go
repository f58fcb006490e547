// Package tabular trains an MLP on a table in one call, the way
// `flowgrad train` does (the command is built on it):
//
//  1. decide the task on all rows ([data.ResolveTask]);
//  2. hold out a seeded validation split, stratified for classes
//     ([data.Split]);
//  3. fit the preprocessing on the training rows ([data.Fit]) and train an
//     MLP with early stopping on the validation score, keeping the best
//     epoch's weights;
//  4. with Refit, train again from the same start on all rows for the
//     number of epochs early stopping chose, so that no fifth of a small
//     table is left unused (beside step 3 on another core when there is
//     one: see [Train]).
//
// [CrossValidate] estimates the model's score on unseen rows by k-fold
// cross-validation of the same recipe.
//
// [Defaults] are the command's defaults, chosen on public tables (see
// docs/tabular.md):
//
//	opt := tabular.Defaults()
//	opt.Fit.Target = "species"
//	res, err := tabular.Train(ctx, tab, &opt)
//	...
//	m, err := res.Model(nil) // a model.Model: Predict, Save
//
// Everything the recipe does is also there piece by piece (data, layers,
// optim, train) for a program that wants another recipe.
package tabular

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"

	"github.com/flowgrad/flowgrad/autograd"
	"github.com/flowgrad/flowgrad/data"
	"github.com/flowgrad/flowgrad/dist"
	"github.com/flowgrad/flowgrad/layers"
	"github.com/flowgrad/flowgrad/model"
	"github.com/flowgrad/flowgrad/optim"
	"github.com/flowgrad/flowgrad/train"
)

// Auto asks for the value of an Options field that depends on the table:
// see Batch, Patience and WeightDecay.
const Auto = -1

// Monitor chooses the validation score early stopping watches.
type Monitor int

const (
	// MonitorAuto watches the accuracy for classes, and the loss for
	// regression or with BalanceClasses (whose weighted loss accuracy
	// would undo).
	MonitorAuto Monitor = iota
	// MonitorLoss watches the validation loss.
	MonitorLoss
	// MonitorMetric watches the validation accuracy (classes) or R²
	// (regression); of equal epochs the later counts as better: on a
	// small validation set accuracy stays level while the model still
	// improves.
	MonitorMetric
)

// OptimizerFunc makes the optimiser of a run over the network's parameters,
// with the learning-rate schedule and the L2 weight decay the recipe
// chose (Options.WeightDecay, or its default).
type OptimizerFunc func(params []*autograd.Value[float32], rate optim.Schedule, weightDecay float64) (optim.Optimizer[float32], error)

// Options are the recipe's choices. Start from [Defaults]: the zero value
// of a field is its literal value (Dropout 0 is no dropout), not its
// default, except where Auto is documented.
type Options struct {
	// Fit chooses the target, the task and how rows are encoded.
	Fit data.FitOptions
	// Hidden are the hidden layer sizes (ReLU); empty for a linear model.
	Hidden []int
	// Dropout is the dropout probability after each hidden layer, in
	// [0, 1).
	Dropout float64
	// Batch is the minibatch size B, at most the training rows; Auto: 32,
	// or all training rows when there are fewer.
	Batch int
	// Epochs is the most epochs the split's run trains.
	Epochs int
	// Patience is the number of epochs without a better validation score
	// after which training stops (keeping the best epoch's weights); 0
	// never stops early (but keeps the best weights too); Auto:
	// [train.DefaultPatience] of the batches an epoch.
	Patience int
	// Monitor is the validation score early stopping watches.
	Monitor Monitor
	// Val is the fraction of rows held out for validation, in (0, 1).
	Val float64
	// SplitLast validates on the last rows of the table (for rows in time
	// order) instead of a seeded random split.
	SplitLast bool
	// BalanceClasses weighs each class's rows by rows/(classes·its rows)
	// ([train.BalancedWeights]), so that a rare class counts as much as a
	// common one. Classes only.
	BalanceClasses bool
	// Refit trains again on all rows for the epochs early stopping chose.
	Refit bool
	// Seed seeds the split, the weights, dropout and the minibatch order.
	Seed uint64
	// Rate is the learning rate.
	Rate float64
	// WeightDecay is the L2 weight decay λ passed to the optimiser; Auto:
	// [train.DefaultWeightDecay] of the task and the training rows.
	WeightDecay float64
	// NewOptimizer makes each run's optimiser; nil: Adam.
	NewOptimizer OptimizerFunc
	// Plateau, if not nil, lowers the rate when the validation loss
	// stalls ([optim.NewPlateau]); the refit, which has no validation
	// rows, keeps the rate.
	Plateau *optim.PlateauConfig
	// Clip, if positive, clips the gradients' global norm to it before
	// each update.
	Clip float64
	// Comm runs the training data-parallel on a group of processes
	// ([dist.Train]); nil: this process alone.
	Comm dist.Comm
	// Hooks are called as the runs progress (to print, say); any may be
	// nil.
	Hooks Hooks

	sequential bool // no refit beside the split's run (CrossValidate's folds use the cores)
}

// Defaults returns the recipe's defaults: an MLP with two hidden layers
// of 64 ReLU units and dropout 0.1 after each, Adam at 0.001 with
// [train.DefaultWeightDecay], B = 32, at most 1000 epochs with early
// stopping after [train.DefaultPatience] epochs without a better
// validation accuracy (classes) or loss (regression), a seeded 20 %
// validation split, a regression target standardised, and a refit on all
// rows. The target is the table's last column.
func Defaults() Options {
	return Options{
		Fit:         data.FitOptions{ScaleTarget: true},
		Hidden:      []int{64, 64},
		Dropout:     0.1,
		Batch:       Auto,
		Epochs:      1000,
		Patience:    Auto,
		Val:         0.2,
		Refit:       true,
		Seed:        1,
		Rate:        0.001,
		WeightDecay: Auto,
	}
}

// Hooks observe the runs of Train. Each gets the run it belongs to. A
// run's hooks are called in order from one goroutine; the refit may run
// beside the split's run on another goroutine (see [Train]), so the two
// runs' hooks may be called at once — but the refit's End comes after
// the split's End. A refit beside the split's run may train epochs past
// the one early stopping chose (they are dropped, and the refit ends with
// the chosen epoch's weights): its Batch and Epoch hooks see them.
type Hooks struct {
	// Start is called when a run has its rows, preprocessing, network and
	// optimiser, before its first epoch.
	Start func(r *Run)
	// Batch is called after each minibatch step: index counts from 0
	// within the epoch, of perEpoch.
	Batch func(r *Run, index, perEpoch int)
	// Epoch is called after each epoch (r.Last is it); last reports
	// whether the run ends with it.
	Epoch func(r *Run, e train.EpochResult, last bool)
	// End is called when a run has ended, with the split's run holding
	// its best epoch's weights.
	End func(r *Run)
}

// Run is one training run of the recipe: on the training split with
// early stopping, or the refit on all rows.
type Run struct {
	// Refit tells the refit on all rows from the run on the split.
	Refit bool
	// Train are the rows trained on; Validation the held-out rows (nil
	// in the refit).
	Train, Validation *data.Table
	// Pre is the preprocessing fitted on Train.
	Pre *data.Preprocessor
	// Net is the network, and Optimizer its optimiser.
	Net       *layers.Sequential[float32]
	Optimizer optim.Optimizer[float32]
	// Batch is the minibatch size, Epochs the most epochs, Patience the
	// early stopping's (0 in the refit).
	Batch, Epochs, Patience int
	// ClassWeights are the classes' weights with BalanceClasses.
	ClassWeights []float64
	// Monitor is the score early stopping watched (not in the refit).
	Monitor train.Monitor
	// Last is the last epoch trained.
	Last train.EpochResult
	// BestEpoch is the epoch early stopping chose, and Best its metrics on
	// the validation rows (in the units the network is trained in: a
	// standardised target's; see [Result.Validation]). Zero in the refit.
	BestEpoch int
	Best      train.Metrics
}

// Result is what Train trained.
type Result struct {
	// Split is the run on the training split, with early stopping.
	Split *Run
	// Final is the model's run: the refit on all rows, or Split without
	// Refit.
	Final *Run
}

// Model returns the final network and its preprocessing as a model with
// the metadata meta (see [model.New]).
func (r *Result) Model(meta map[string]string) (*model.Model, error) {
	return model.New(r.Final.Net, r.Final.Pre, meta)
}

// Validation returns the best epoch's validation metrics with the RMSE in
// the target's units (of the standardised targets when there are
// several: they have no one unit).
func (r *Result) Validation() train.Metrics {
	return TargetUnits(r.Split.Best, r.Split.Pre)
}

// TargetUnits converts metrics computed on the (possibly standardised)
// targets a network is trained on into the target's own units: the RMSE
// scales with the standard deviation; R² and accuracy do not change.
// With several targets it leaves them as they are.
func TargetUnits(m train.Metrics, pre *data.Preprocessor) train.Metrics {
	if m.Kind == data.Regression && pre.TargetStd > 0 && len(pre.ExtraTargets) == 0 {
		m.RMSE *= pre.TargetStd
	}
	return m
}

// OptionError is an error of the Options rather than of the data: a batch
// larger than the training rows, class weights for a regression, an
// optimiser's bad hyperparameter.
type OptionError struct {
	// Option names the field at fault.
	Option string
	// Err says what is wrong.
	Err error
}

func (e *OptionError) Error() string { return "tabular: " + e.Option + ": " + e.Err.Error() }
func (e *OptionError) Unwrap() error { return e.Err }

// Train trains a model on tab by the recipe of opt (nil: [Defaults]). Its
// errors are the data's (named by file, line and column where the table
// says), an *OptionError, or the context's.
//
// With more than one core (GOMAXPROCS), in one process and for a table
// of at most 2²⁴ values, the refit trains beside the split's run rather
// than after it, following it epoch by epoch: a table's products are too
// small to share one step between cores, and the refit's model is the
// same, bit for bit. Result.Final.Epochs is then still the chosen epoch.
func Train(ctx context.Context, tab *data.Table, opt *Options) (*Result, error) {
	o, err := resolve(tab, opt)
	if err != nil {
		return nil, err
	}
	var rng *rand.Rand // SplitLast: nil, the last rows
	if !o.SplitLast {
		rng = rand.New(rand.NewPCG(o.Seed, 0x5b1))
	}
	trainTab, valTab, err := data.Split(tab, o.Fit, o.Val, rng)
	if err != nil {
		return nil, err
	}
	if err := o.checkShares(trainTab.Len(), tab.Len()); err != nil {
		return nil, err
	}
	res := &Result{}
	if o.Refit && o.refitAlongside(tab) {
		if res.Split, res.Final, err = o.runBoth(ctx, tab, trainTab, valTab); err != nil {
			return nil, err
		}
		return res, nil
	}
	if res.Split, err = o.run(ctx, trainTab, valTab, o.Epochs, nil); err != nil {
		return nil, err
	}
	res.Final = res.Split
	if !o.Refit {
		return res, nil
	}
	epochs, err := o.shareEpochs(res.Split.BestEpoch)
	if err != nil {
		return nil, err
	}
	// The split's datasets are garbage now: collect them before the
	// refit makes one of all rows, so that it reuses their memory rather
	// than adding to it (a large table's peak: see docs/benchmarks.md,
	// "Reading a large CSV").
	runtime.GC()
	if res.Final, err = o.run(ctx, tab, nil, epochs, nil); err != nil {
		return nil, err
	}
	return res, nil
}

// resolve returns a copy of opt (nil: Defaults) checked, with the task
// decided on all rows of tab, not on a split's or a fold's.
func resolve(tab *data.Table, opt *Options) (Options, error) {
	o := Defaults()
	if opt != nil {
		o = *opt
	}
	if err := o.check(); err != nil {
		return o, err
	}
	fit, err := data.ResolveTask(tab, o.Fit)
	o.Fit = fit
	return o, err
}

// batchFor returns the minibatch size of Options.Batch b for a run on
// rows rows: b, or for Auto 32, or all rows when there are fewer.
func batchFor(b, rows int) int {
	if b == Auto {
		return min(32, rows)
	}
	return b
}

func (o *Options) check() error {
	bad := func(option string, format string, args ...any) error {
		return &OptionError{Option: option, Err: fmt.Errorf(format, args...)}
	}
	for _, h := range o.Hidden {
		if h < 1 {
			return bad("Hidden", "a layer of %d units: want at least 1", h)
		}
	}
	switch {
	case !(o.Dropout >= 0 && o.Dropout < 1):
		return bad("Dropout", "%v: want a probability in [0, 1)", o.Dropout)
	case o.Batch < 1 && o.Batch != Auto:
		return bad("Batch", "%d: want at least 1, or Auto", o.Batch)
	case o.Epochs < 1:
		return bad("Epochs", "%d: want at least 1", o.Epochs)
	case o.Patience < 0 && o.Patience != Auto:
		return bad("Patience", "%d: want 0 (never stop early), more epochs, or Auto", o.Patience)
	case o.Monitor < MonitorAuto || o.Monitor > MonitorMetric:
		return bad("Monitor", "%d: want MonitorAuto, MonitorLoss or MonitorMetric", o.Monitor)
	case !(o.Val > 0 && o.Val < 1):
		return bad("Val", "%v: want a fraction in (0, 1)", o.Val)
	case !(o.Rate > 0):
		return bad("Rate", "%v: want a rate > 0", o.Rate)
	case !(o.WeightDecay >= 0) && o.WeightDecay != Auto:
		return bad("WeightDecay", "%v: want λ ≥ 0, or Auto", o.WeightDecay)
	case !(o.Clip >= 0):
		return bad("Clip", "%v: want a norm > 0, or 0 for no clipping", o.Clip)
	}
	return nil
}

// run fits the preprocessing on trainTab, builds the network and the
// optimiser and trains for at most epochs epochs. With validation rows
// valTab it stops early on the validation score and ends with the best
// epoch's weights; with valTab nil (the refit) it trains all the epochs.
// With p not nil the two run side by side (see runBoth): the split's run
// reports each epoch to p, and the refit follows it, ending with the
// weights of the epoch the split's early stopping chose.
func (o *Options) run(ctx context.Context, trainTab, valTab *data.Table, epochs int, p *progress) (_ *Run, err error) {
	var chosen int // the split's best epoch, for p
	if p != nil && valTab != nil {
		defer func() { p.ended(chosen, err) }() // on every way out: the refit waits on it
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0xf10))
	pre, err := data.Fit(trainTab, o.Fit)
	if err != nil {
		return nil, err
	}
	trainSet, err := pre.Dataset(trainTab)
	if err != nil {
		return nil, err
	}
	r := &Run{Refit: valTab == nil, Train: trainTab, Validation: valTab, Pre: pre, Epochs: epochs, Batch: batchFor(o.Batch, trainSet.Len())}
	r.Net = layers.WithDropout(layers.MLP[float32](rng, append(append([]int{pre.Inputs()}, o.Hidden...), pre.Outputs())...), rng, o.Dropout)
	sched := optim.Must(optim.Constant(o.Rate))
	var plateau *optim.Plateau
	if valTab != nil && o.Plateau != nil { // the refit has no held-out loss to watch
		if plateau, err = optim.NewPlateau(sched, *o.Plateau); err != nil {
			return nil, &OptionError{Option: "Plateau", Err: err}
		}
		sched = plateau
	}
	wd := o.WeightDecay
	if wd == Auto {
		wd = train.DefaultWeightDecay(trainSet.Kind(), trainSet.Len())
	}
	newOpt := o.NewOptimizer
	if newOpt == nil {
		newOpt = adam
	}
	if r.Optimizer, err = newOpt(r.Net.Params(), sched, wd); err != nil {
		return nil, &OptionError{Option: "NewOptimizer", Err: err}
	}
	loss := train.LossFor[float32](trainSet.Kind())
	if o.BalanceClasses {
		if trainSet.Kind() != data.Classification {
			return nil, &OptionError{Option: "BalanceClasses", Err: fmt.Errorf("the target %q is trained as regression; class weights need classes", pre.Target)}
		}
		r.ClassWeights = train.BalancedWeights(trainSet)
		loss = train.WeightedCrossEntropy[float32](r.ClassWeights)
	}
	tr := train.NewTrainer(r.Net, r.Optimizer, loss)
	var afterSum []func() error // after the ranks' gradients are summed
	if o.Clip > 0 {
		params, clip := r.Net.Params(), o.Clip
		afterSum = append(afterSum, func() error { optim.ClipGlobalNorm(params, clip); return nil })
	}
	if r.Batch > trainSet.Len() {
		held := ""
		if valTab != nil {
			held = fmt.Sprintf(" left after holding out %d for validation", valTab.Len())
		}
		return nil, &OptionError{Option: "Batch", Err: fmt.Errorf("%d: at most the %d training rows%s", r.Batch, trainSet.Len(), held)}
	}
	batches, err := data.NewBatcher(trainSet, r.Batch, rng)
	if err != nil {
		return nil, &OptionError{Option: "Batch", Err: err}
	}
	var eval *train.Evaluator[float32]
	var early *train.EarlyStopping[float32]
	if valTab != nil {
		valSet, err := pre.Dataset(valTab)
		if err != nil {
			return nil, err
		}
		if eval, err = train.NewEvaluator(valSet, 1000, loss); err != nil {
			return nil, err
		}
		r.Patience = o.Patience
		if r.Patience == Auto {
			r.Patience = train.DefaultPatience(batches.BatchesPerEpoch())
		}
		patience := r.Patience
		if patience == 0 {
			patience = epochs + 1 // never stops, but keeps the best weights
		}
		r.Monitor = train.MonitorLoss
		if o.Monitor == MonitorMetric || o.Monitor == MonitorAuto && trainSet.Kind() == data.Classification && r.ClassWeights == nil {
			r.Monitor = train.MonitorPrimary
		}
		if early, err = train.NewEarlyStopping(r.Net.Params(), patience, 0, r.Monitor); err != nil {
			return nil, err
		}
		early.KeepLatest = r.Monitor == train.MonitorPrimary // accuracy is coarse: of equal epochs keep the later
	}
	if o.Hooks.Start != nil {
		o.Hooks.Start(r)
	}
	var follow *refitFollower
	if p != nil && early == nil {
		follow = newRefitFollower(p, r)
	}
	cfg := train.Config{
		Epochs: epochs,
		OnEpoch: func(e train.EpochResult) error {
			r.Last = e
			var stop error
			if early != nil {
				if plateau != nil {
					plateau.Observe(e.Eval.Loss)
				}
				stop = early.Observe(e)
				if p != nil {
					_, best := early.BestMetric()
					p.epochEnded(e.Epoch, best)
				}
			}
			if follow != nil {
				stop = follow.epochEnded(e)
			}
			if o.Hooks.Epoch != nil {
				o.Hooks.Epoch(r, e, stop != nil || e.Epoch == epochs)
			}
			return stop
		},
	}
	if o.Hooks.Batch != nil {
		cfg.OnBatch = func(_ float64, index, perEpoch int) { o.Hooks.Batch(r, index, perEpoch) }
	}
	if _, err := dist.Train(ctx, o.Comm, tr, batches, eval, cfg, afterSum...); err != nil {
		return nil, err
	}
	if early != nil {
		early.RestoreBest()
		_, r.BestEpoch = early.BestMetric()
		r.Best = eval.Evaluate(r.Net)
		chosen = r.BestEpoch
	}
	if follow != nil {
		if err := follow.finish(); err != nil {
			return nil, err
		}
	}
	if o.Hooks.End != nil {
		o.Hooks.End(r)
	}
	return r, nil
}

// alongsideValues bounds the tables whose refit runs beside the split's
// run, and whose cross-validation folds train concurrently: their
// datasets are in memory at once, about twice the table's values in
// float32 rather than once.
const alongsideValues = 1 << 24

// refitAlongside reports whether the refit runs beside the split's run:
// with more than one core, in one process, for a table of at most
// alongsideValues values, and not inside CrossValidate's concurrent
// folds (which use the cores already).
func (o *Options) refitAlongside(tab *data.Table) bool {
	return !o.sequential && runtime.GOMAXPROCS(0) > 1 && (o.Comm == nil || o.Comm.Size() == 1) &&
		tab.Len()*len(tab.Columns()) <= alongsideValues
}

// runBoth trains the split's run and the refit side by side, one
// goroutine each. A small table's products are too small to share a step
// between cores, so the refit would otherwise wait for the split's run
// with a core idle. The refit trains epoch e once the split's run has
// ended epoch e, keeps a copy of its weights whenever e is the split's
// best epoch so far, and stops at the epoch early stopping chose (or past
// it, back to the copy): its model is the sequential refit's, bit for bit.
func (o *Options) runBoth(ctx context.Context, tab, trainTab, valTab *data.Table) (split, final *Run, err error) {
	inner, cancel := context.WithCancel(ctx)
	defer cancel()
	p := newProgress()
	var refitErr error
	var wg sync.WaitGroup
	wg.Go(func() {
		if final, refitErr = o.run(inner, tab, nil, o.Epochs, p); refitErr != nil {
			cancel() // the split's run stops at its next step
		}
	})
	split, err = o.run(inner, trainTab, valTab, o.Epochs, p)
	wg.Wait()
	cancelledByRefit := refitErr != nil && ctx.Err() == nil && errors.Is(err, context.Canceled)
	if err != nil && !cancelledByRefit {
		return nil, nil, err // the split's run failed (and the refit stopped with errSplitFailed)
	}
	if refitErr != nil {
		return nil, nil, refitErr
	}
	return split, final, nil
}

// errSplitFailed ends a refit whose split's run failed.
var errSplitFailed = errors.New("tabular: the run on the split failed")

// progress is what the split's run tells the refit beside it: the last
// epoch it ended, its best epoch so far, and whether it has ended (then
// best is early stopping's choice) or failed.
type progress struct {
	mu           sync.Mutex
	cond         sync.Cond
	epoch, best  int
	done, failed bool
}

func newProgress() *progress {
	p := &progress{}
	p.cond.L = &p.mu
	return p
}

func (p *progress) epochEnded(epoch, best int) {
	p.mu.Lock()
	p.epoch, p.best = epoch, best
	p.mu.Unlock()
	p.cond.Broadcast()
}

// ended records the end of the split's run with early stopping's choice,
// or its failure.
func (p *progress) ended(best int, err error) {
	p.mu.Lock()
	p.best, p.done, p.failed = best, true, err != nil
	p.mu.Unlock()
	p.cond.Broadcast()
}

// await waits until the split's run has ended epoch e or has ended, and
// returns its best epoch so far and whether it has ended or failed.
func (p *progress) await(e int) (best int, done, failed bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for p.epoch < e && !p.done {
		p.cond.Wait()
	}
	return p.best, p.done, p.failed
}

// refitFollower steers a refit beside the split's run (see runBoth).
type refitFollower struct {
	p     *progress
	r     *Run
	saved [][]float32       // the weights after epoch at.Epoch
	at    train.EpochResult // the epoch whose weights saved holds
}

func newRefitFollower(p *progress, r *Run) *refitFollower {
	f := &refitFollower{p: p, r: r}
	for _, v := range r.Net.Params() {
		f.saved = append(f.saved, make([]float32, v.Data().Len()))
	}
	return f
}

// epochEnded decides, after the refit's epoch e, whether it goes on.
func (f *refitFollower) epochEnded(e train.EpochResult) error {
	best, done, failed := f.p.await(e.Epoch)
	switch {
	case failed:
		return train.ErrStop // finish says why
	case best == e.Epoch: // the split's best so far, or its choice
		for i, v := range f.r.Net.Params() {
			copy(f.saved[i], v.Data().Data())
		}
		f.at = e
		if done {
			return train.ErrStop
		}
	case done && best < e.Epoch:
		return train.ErrStop // past the choice: finish goes back to it
	}
	return nil
}

// finish waits for the split's run to end (so that the refit ends after
// it, its End hook too) and leaves the refit with the weights of the
// epoch it chose.
func (f *refitFollower) finish() error {
	best, _, failed := f.p.await(math.MaxInt)
	if failed {
		return errSplitFailed
	}
	if f.at.Epoch != best {
		panic(fmt.Sprintf("tabular: the refit kept epoch %d, but the split's run chose %d", f.at.Epoch, best))
	}
	if f.r.Last.Epoch != f.at.Epoch {
		for i, v := range f.r.Net.Params() {
			copy(v.Data().Data(), f.saved[i])
		}
	}
	f.r.Last, f.r.Epochs = f.at, f.at.Epoch
	return nil
}

// checkShares refuses, before any training, a batch size that the
// processes of a data-parallel run cannot share in the run on the split
// (of splitRows) or in the refit (of allRows): each minibatch, the short
// last one of an epoch too, needs a row for every process. It suggests
// the nearest B that both runs can share.
func (o *Options) checkShares(splitRows, allRows int) error {
	procs := 1
	if o.Comm != nil {
		procs = o.Comm.Size()
	}
	if procs == 1 {
		return nil
	}
	shared := func(b int) (run string, rows int, ok bool) {
		for _, r := range []struct {
			name string
			rows int
			used bool
		}{{"the run on the split", splitRows, true}, {"the refit on all rows", allRows, o.Refit}} {
			if !r.used {
				continue
			}
			bb := batchFor(b, r.rows)
			if tail := r.rows % bb; bb < procs || bb > r.rows || tail != 0 && tail < procs {
				return r.name, r.rows, false
			}
		}
		return "", 0, true
	}
	run, rows, ok := shared(o.Batch)
	b := batchFor(o.Batch, rows)
	if ok || b > rows {
		return nil // a batch larger than the rows: the run says so
	}
	msg := fmt.Sprintf("%d: %s has %d rows, and a minibatch of %d rows (its last one: %d) cannot give each of the %d processes a row", b, run, rows, b, rows%b, procs)
	for d := 1; d <= b; d++ {
		for _, c := range []int{b + d, b - d} {
			if _, _, ok := shared(c); c >= procs && ok {
				return &OptionError{Option: "Batch", Err: fmt.Errorf("%s; B = %d can", msg, c)}
			}
		}
	}
	return &OptionError{Option: "Batch", Err: errors.New(msg)}
}

// adam is the default optimiser: Adam with PyTorch's betas and ε.
func adam(params []*autograd.Value[float32], rate optim.Schedule, weightDecay float64) (optim.Optimizer[float32], error) {
	return optim.NewAdam(params, rate, optim.WithWeightDecay(weightDecay))
}

// shareEpochs returns the root rank's epochs on every rank (the refit's
// length, which the root's early stopping chose).
func (o *Options) shareEpochs(epochs int) (int, error) {
	if o.Comm == nil || o.Comm.Size() == 1 {
		return epochs, nil
	}
	buf := binary.LittleEndian.AppendUint64(nil, uint64(epochs))
	if err := o.Comm.Broadcast(buf, dist.Root); err != nil {
		return 0, err
	}
	return int(binary.LittleEndian.Uint64(buf)), nil
}

// FoldScore is one fold's score in CrossValidate.
type FoldScore struct {
	// Train and Test are the fold's training and test rows; Moved the rows
	// moved to training because their class or category is in no other
	// fold (see [data.Fold]).
	Train, Test, Moved int
	// Metrics are the model's on the test rows, in the target's units
	// (see [TargetUnits]).
	Metrics train.Metrics
	// MacroF1 is the mean of the classes' F1 scores ([train.MacroF1]) for
	// classes, NaN for regression; AUC the ROC AUC ([model.Prediction.AUC])
	// for two classes, NaN otherwise.
	MacroF1, AUC float64
}

// CrossValidate estimates how well Train does on rows it has not seen by
// k-fold cross-validation: the folds are seeded by opt.Seed and
// stratified by class ([data.KFold]), and for each fold it trains a model
// on the other folds exactly as Train trains on a whole table
// (validation split, early stopping, refit) and scores it on the fold.
// onFold, if not nil, is called with each fold's score in fold order (i
// counts from 0), on the caller's goroutine. It returns the k scores;
// opt nil means [Defaults].
//
// The folds train concurrently, up to GOMAXPROCS at a time (one at a
// time for a table of more than 2²⁴ values, whose folds' datasets would
// add up in memory): a small
// table's products are too small to share a step between cores, but the
// folds are independent, and each one's model is the same, bit for bit,
// as when they run one after another. The hooks of opt may therefore be
// called from several goroutines at once (each run's from one).
func CrossValidate(ctx context.Context, tab *data.Table, opt *Options, k int, onFold func(i int, s FoldScore)) ([]FoldScore, error) {
	o, err := resolve(tab, opt)
	if err != nil {
		return nil, err
	}
	folds, err := data.KFold(tab, o.Fit, k, rand.New(rand.NewPCG(o.Seed, 0xcf)))
	if err != nil {
		return nil, err
	}
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	scores, errs := make([]FoldScore, len(folds)), make([]error, len(folds))
	done := make([]chan struct{}, len(folds))
	for i := range done {
		done[i] = make(chan struct{})
	}
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }() // no fold outlives the call
	workers := runtime.GOMAXPROCS(0)
	if tab.Len()*len(tab.Columns()) > alongsideValues {
		workers = 1 // a large table's folds, one at a time: their datasets add up
	}
	slots := make(chan struct{}, workers)
	o.sequential = o.sequential || len(folds) > 1 && workers > 1
	wg.Go(func() {
		for i, fold := range folds {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done(): // an earlier fold failed
				for ; i < len(folds); i++ {
					errs[i] = ctx.Err()
					close(done[i])
				}
				return
			}
			wg.Go(func() {
				defer func() { <-slots; close(done[i]) }()
				if scores[i], errs[i] = score(ctx, fold, &o); errs[i] != nil {
					cancel()
				}
			})
		}
	})
	for i := range folds {
		<-done[i]
		if errs[i] != nil {
			wg.Wait()
			for j, err := range errs { // the fold that failed, not one it cancelled
				if err != nil && (parent.Err() != nil || !errors.Is(err, context.Canceled)) {
					return nil, fmt.Errorf("fold %d of %d: %w", j+1, k, err)
				}
			}
			return nil, fmt.Errorf("fold %d of %d: %w", i+1, k, errs[i])
		}
		if onFold != nil {
			onFold(i, scores[i])
		}
	}
	return scores, nil
}

// score trains on a fold's training rows and scores the model on its test
// rows.
func score(ctx context.Context, fold data.Fold, o *Options) (FoldScore, error) {
	s := FoldScore{Train: fold.Train.Len(), Test: fold.Test.Len(), Moved: fold.Moved, MacroF1: math.NaN(), AUC: math.NaN()}
	res, err := Train(ctx, fold.Train, o)
	if err != nil {
		return s, err
	}
	final := res.Final
	test, err := final.Pre.Dataset(fold.Test)
	if err != nil {
		return s, err
	}
	ev, err := train.NewEvaluator(test, 1000, train.LossFor[float32](test.Kind()))
	if err != nil {
		return s, err
	}
	s.Metrics = TargetUnits(ev.Evaluate(final.Net), final.Pre)
	if test.Kind() == data.Classification { // macro F1 and AUC: what accuracy hides on a rare class
		m, err := res.Model(nil)
		if err != nil {
			return s, err
		}
		pred, err := m.Predict(fold.Test)
		if err != nil {
			return s, err
		}
		s.MacroF1 = train.MacroF1(train.F1Scores(len(final.Pre.Classes), test.Labels(), pred.Class))
		if len(final.Pre.Classes) == 2 {
			s.AUC = pred.AUC(test.Labels())
		}
	}
	return s, nil
}
