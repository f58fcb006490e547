package tabular_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flowgrad/flowgrad/autograd"
	"github.com/flowgrad/flowgrad/data"
	"github.com/flowgrad/flowgrad/layers"
	"github.com/flowgrad/flowgrad/model"
	"github.com/flowgrad/flowgrad/optim"
	"github.com/flowgrad/flowgrad/tabular"
	"github.com/flowgrad/flowgrad/train"
)

const irisPath = "../data/testdata/tables/iris.csv"

func loadIris(t *testing.T) *data.Table {
	t.Helper()
	tab, err := loadIrisB(t)
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

func loadIrisB(testing.TB) (*data.Table, error) { return data.LoadCSV(irisPath, nil) }

// byHand is the recipe written out with the pieces it is made of (data,
// layers, optim, train), as a program would without package tabular:
// the reference Train must equal bit for bit.
func byHand(t *testing.T, tab *data.Table, fit data.FitOptions, seed uint64, epochs int) *model.Model {
	t.Helper()
	fit, err := data.ResolveTask(tab, fit)
	if err != nil {
		t.Fatal(err)
	}
	trainRows, valRows, err := data.Split(tab, fit, 0.2, rand.New(rand.NewPCG(seed, 0x5b1)))
	if err != nil {
		t.Fatal(err)
	}
	run := func(rows, valRows *data.Table, epochs int) (*layers.Sequential[float32], *data.Preprocessor, int) {
		rng := rand.New(rand.NewPCG(seed, 0xf10))
		pre, err := data.Fit(rows, fit)
		if err != nil {
			t.Fatal(err)
		}
		ds, err := pre.Dataset(rows)
		if err != nil {
			t.Fatal(err)
		}
		net := layers.WithDropout(layers.MLP[float32](rng, pre.Inputs(), 64, 64, pre.Outputs()), rng, 0.1)
		adam, err := optim.NewAdam(net.Params(), optim.Must(optim.Constant(0.001)),
			optim.WithWeightDecay(train.DefaultWeightDecay(ds.Kind(), ds.Len())))
		if err != nil {
			t.Fatal(err)
		}
		batches, err := data.NewBatcher(ds, min(32, ds.Len()), rng)
		if err != nil {
			t.Fatal(err)
		}
		loss := train.LossFor[float32](ds.Kind())
		cfg := train.Config{Epochs: epochs}
		var eval *train.Evaluator[float32]
		var early *train.EarlyStopping[float32]
		if valRows != nil {
			valSet, err := pre.Dataset(valRows)
			if err != nil {
				t.Fatal(err)
			}
			if eval, err = train.NewEvaluator(valSet, 1000, loss); err != nil {
				t.Fatal(err)
			}
			monitor := train.MonitorLoss
			if ds.Kind() == data.Classification {
				monitor = train.MonitorPrimary
			}
			early, err = train.NewEarlyStopping(net.Params(), train.DefaultPatience(batches.BatchesPerEpoch()), 0, monitor)
			if err != nil {
				t.Fatal(err)
			}
			early.KeepLatest = monitor == train.MonitorPrimary
			cfg.OnEpoch = early.Observe
		}
		if _, err := train.Run(context.Background(), train.NewTrainer(net, adam, loss), batches, eval, cfg); err != nil {
			t.Fatal(err)
		}
		if early == nil {
			return net, pre, epochs
		}
		early.RestoreBest()
		_, best := early.BestMetric()
		return net, pre, best
	}
	_, _, best := run(trainRows, valRows, epochs)
	net, pre, _ := run(tab, nil, best)
	m, err := model.New(net, pre, nil)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// Train with the defaults is the recipe written out by hand, bit for bit,
// for classes (accuracy watched) and for regression (loss watched, the
// target standardised).
func TestTrainIsTheRecipe(t *testing.T) {
	tab := loadIris(t)
	for _, target := range []string{"species", "petal_width"} {
		t.Run(target, func(t *testing.T) {
			opt := tabular.Defaults()
			opt.Fit.Target, opt.Seed, opt.Epochs = target, 3, 150
			res, err := tabular.Train(context.Background(), tab, &opt)
			if err != nil {
				t.Fatal(err)
			}
			got, err := res.Model(nil)
			if err != nil {
				t.Fatal(err)
			}
			want := byHand(t, tab, data.FitOptions{Target: target, ScaleTarget: true}, 3, 150)
			pg, err := got.Predict(tab)
			if err != nil {
				t.Fatal(err)
			}
			pw, err := want.Predict(tab)
			if err != nil {
				t.Fatal(err)
			}
			g, w := pg.Value, pw.Value
			if pg.Kind == data.Classification {
				g, w = pg.Prob, pw.Prob
			}
			if !slices.Equal(g.Data(), w.Data()) {
				t.Fatalf("Train's predictions differ from the recipe by hand: %v… against %v…", g.Data()[:6], w.Data()[:6])
			}
			if res.Split.BestEpoch < 1 || res.Final.Epochs != res.Split.BestEpoch || res.Final.Train != tab {
				t.Errorf("refit %d epochs on %d rows; want the split's best epoch %d on all %d rows",
					res.Final.Epochs, res.Final.Train.Len(), res.Split.BestEpoch, tab.Len())
			}
		})
	}
}

// The hooks see each run start, end each epoch and end, in that order;
// the refit (which may run beside the split's run, from another
// goroutine) ends after the split's run; the last epoch of each is
// flagged once; Batch counts every step.
func TestHooks(t *testing.T) {
	tab := loadIris(t)
	opt := tabular.Defaults()
	opt.Epochs, opt.Patience = 30, 5
	var mu sync.Mutex
	events := map[bool][]string{}
	var order []string
	batches := map[bool]int{}
	add := func(r *tabular.Run, ev string) {
		mu.Lock()
		defer mu.Unlock()
		events[r.Refit] = append(events[r.Refit], ev)
		if ev == "end" {
			order = append(order, fmt.Sprintf("end refit=%v", r.Refit))
		}
	}
	opt.Hooks = tabular.Hooks{
		Start: func(r *tabular.Run) { add(r, "start") },
		Batch: func(r *tabular.Run, index, perEpoch int) {
			if index >= perEpoch || perEpoch != (r.Train.Len()+r.Batch-1)/r.Batch {
				t.Errorf("batch %d of %d for %d rows at B=%d", index, perEpoch, r.Train.Len(), r.Batch)
			}
			mu.Lock()
			batches[r.Refit]++
			mu.Unlock()
		},
		Epoch: func(r *tabular.Run, e train.EpochResult, last bool) {
			if last {
				add(r, "last")
			}
		},
		End: func(r *tabular.Run) { add(r, "end") },
	}
	res, err := tabular.Train(context.Background(), tab, &opt)
	if err != nil {
		t.Fatal(err)
	}
	for _, refit := range []bool{false, true} {
		if got := strings.Join(events[refit], " "); got != "start last end" {
			t.Errorf("refit=%v: hooks saw %q, want start, last, end", refit, got)
		}
	}
	if strings.Join(order, ", ") != "end refit=false, end refit=true" {
		t.Errorf("runs ended in the order %v", order)
	}
	split, refit := res.Split, res.Final
	if batches[false] != 4*split.Last.Epoch || batches[true] < 5*refit.Epochs || batches[true] > 5*split.Last.Epoch { // 120 and 150 rows at B=32
		t.Errorf("%d and %d batch hooks, want %d and from %d to %d", batches[false], batches[true], 4*split.Last.Epoch, 5*refit.Epochs, 5*split.Last.Epoch)
	}
}

// The refit beside the split's run (two cores) ends with the model of the
// refit after it (one core), bit for bit, also when it ran past the
// chosen epoch; its Last is the chosen epoch's.
func TestRefitAlongside(t *testing.T) {
	tab := loadIris(t)
	ranPast := false
	for _, target := range []string{"species", "petal_width"} {
		opt := tabular.Defaults()
		opt.Fit.Target, opt.Epochs, opt.Patience, opt.Monitor = target, 60, 10, tabular.MonitorLoss // stops past its best
		results := map[int]*tabular.Result{}
		for _, procs := range []int{1, 2} {
			old := runtime.GOMAXPROCS(procs)
			res, err := tabular.Train(context.Background(), tab, &opt)
			runtime.GOMAXPROCS(old)
			if err != nil {
				t.Fatal(err)
			}
			results[procs] = res
		}
		one, two := results[1], results[2]
		if one.Final.Epochs != one.Split.BestEpoch || two.Final.Epochs != one.Final.Epochs ||
			two.Final.Last.Epoch != one.Final.Last.Epoch || two.Final.Last.TrainLoss != one.Final.Last.TrainLoss {
			t.Errorf("%s: refit %d epochs (last %+v) beside, %d (last %+v) after; chosen %d", target,
				two.Final.Epochs, two.Final.Last.Epoch, one.Final.Epochs, one.Final.Last.Epoch, one.Split.BestEpoch)
		}
		if one.Split.Last.Epoch > one.Split.BestEpoch {
			ranPast = true
		}
		for i, p := range one.Final.Net.Params() {
			if !slices.Equal(p.Data().Data(), two.Final.Net.Params()[i].Data().Data()) {
				t.Fatalf("%s: parameter %s differs between the refit beside and after the split's run", target, p.Name())
			}
		}
	}
	if !ranPast {
		t.Error("every split's run stopped at its best epoch; the test wants a refit that ran past it")
	}
}

// A run that fails stops the other, and its error — not the other's
// cancellation — is the one returned.
func TestRefitAlongsideErrors(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2)) // the refit beside the split's run, even on one core
	bad := errors.New("no optimiser for this run")
	for _, failing := range []string{"split", "refit"} {
		opt := tabular.Defaults()
		opt.Epochs, opt.Plateau = 40, &optim.PlateauConfig{Factor: 0.5, Patience: 5}
		opt.NewOptimizer = func(params []*autograd.Value[float32], rate optim.Schedule, wd float64) (optim.Optimizer[float32], error) {
			if _, split := rate.(*optim.Plateau); split == (failing == "split") { // only the split's run has a plateau
				return nil, bad
			}
			return optim.NewAdam(params, rate, optim.WithWeightDecay(wd))
		}
		_, err := tabular.Train(context.Background(), loadIris(t), &opt)
		var oe *tabular.OptionError
		if !errors.Is(err, bad) || !errors.As(err, &oe) {
			t.Errorf("%s failing: error %v, want its OptionError %v", failing, err, bad)
		}
	}
}

func TestNoRefit(t *testing.T) {
	opt := tabular.Defaults()
	opt.Refit, opt.Epochs = false, 20
	res, err := tabular.Train(context.Background(), loadIris(t), &opt)
	if err != nil {
		t.Fatal(err)
	}
	if res.Final != res.Split || res.Split.Validation == nil {
		t.Errorf("without Refit the final run is the split's: %p, %p", res.Final, res.Split)
	}
}

// Patience 0 trains every epoch but still ends with the best epoch's
// weights; SplitLast validates on the table's last rows.
func TestPatienceZeroAndSplitLast(t *testing.T) {
	tab := loadIris(t)
	opt := tabular.Defaults()
	opt.Fit.Target, opt.Patience, opt.Epochs, opt.SplitLast, opt.Refit = "petal_width", 0, 40, true, false
	res, err := tabular.Train(context.Background(), tab, &opt)
	if err != nil {
		t.Fatal(err)
	}
	if res.Split.Last.Epoch != 40 {
		t.Errorf("patience 0 stopped at epoch %d of 40", res.Split.Last.Epoch)
	}
	if res.Split.Validation.Len() != 30 || res.Split.Validation.Line(0) != 122 {
		t.Errorf("SplitLast validates on %d rows from line %d, want the last 30 from line 122", res.Split.Validation.Len(), res.Split.Validation.Line(0))
	}
	if v := res.Validation(); v.RMSE != res.Split.Best.RMSE*res.Split.Pre.TargetStd {
		t.Errorf("Validation RMSE %v, want the standardised %v times the target's sd %v", v.RMSE, res.Split.Best.RMSE, res.Split.Pre.TargetStd)
	}
}

// Options at fault are *OptionError naming the field; the data's errors
// pass through as they are.
func TestOptionErrors(t *testing.T) {
	tab := loadIris(t)
	for _, c := range []struct {
		option string
		change func(o *tabular.Options)
		want   string
	}{
		{"Batch", func(o *tabular.Options) { o.Batch = 200 }, "at most the 120 training rows left after holding out 30 for validation"},
		{"Batch", func(o *tabular.Options) { o.Batch = 0 }, "want at least 1, or Auto"},
		{"BalanceClasses", func(o *tabular.Options) { o.Fit.Target, o.BalanceClasses = "petal_width", true }, "class weights need classes"},
		{"Dropout", func(o *tabular.Options) { o.Dropout = 1 }, "[0, 1)"},
		{"Hidden", func(o *tabular.Options) { o.Hidden = []int{8, 0} }, "a layer of 0 units"},
		{"Val", func(o *tabular.Options) { o.Val = 1 }, "(0, 1)"},
		{"WeightDecay", func(o *tabular.Options) { o.WeightDecay = -0.5 }, "want λ ≥ 0"},
		{"Plateau", func(o *tabular.Options) { o.Plateau = &optim.PlateauConfig{Factor: 2} }, "factor 2"},
	} {
		opt := tabular.Defaults()
		c.change(&opt)
		_, err := tabular.Train(context.Background(), tab, &opt)
		var oe *tabular.OptionError
		if !errors.As(err, &oe) || oe.Option != c.option || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want an OptionError of %s saying %q", c.option, err, c.option, c.want)
		}
	}
	opt := tabular.Defaults()
	opt.Fit.Target = "no_such_column"
	if _, err := tabular.Train(context.Background(), tab, &opt); err == nil || errors.As(err, new(*tabular.OptionError)) || !strings.Contains(err.Error(), "no_such_column") {
		t.Errorf("a missing target column: %v, want the data's error naming it", err)
	}
}

func TestCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := tabular.Train(ctx, loadIris(t), nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v, want context.Canceled", err)
	}
}

// CrossValidate scores each fold as a model trained by Train on the
// fold's training rows and scored by hand on its test rows: accuracy,
// macro F1 and (two classes) AUC; R² and RMSE in the target's units for
// regression.
func TestCrossValidate(t *testing.T) {
	iris := loadIris(t)
	var two []int // versicolor and virginica: a two-class table
	for i := range iris.Len() {
		if iris.Column("species").Value(i) != "setosa" {
			two = append(two, i)
		}
	}
	for _, c := range []struct {
		name   string
		tab    *data.Table
		target string
	}{{"three classes", iris, "species"}, {"two classes", iris.Subset(two), "species"}, {"regression", iris, "petal_width"}} {
		t.Run(c.name, func(t *testing.T) {
			opt := tabular.Defaults()
			opt.Fit.Target, opt.Epochs, opt.Seed = c.target, 60, 5
			var seen []int
			scores, err := tabular.CrossValidate(context.Background(), c.tab, &opt, 3, func(i int, _ tabular.FoldScore) { seen = append(seen, i) })
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(seen, []int{0, 1, 2}) || len(scores) != 3 {
				t.Fatalf("onFold saw %v and %d scores; want folds 0, 1, 2", seen, len(scores))
			}
			fit, err := data.ResolveTask(c.tab, opt.Fit)
			if err != nil {
				t.Fatal(err)
			}
			folds, err := data.KFold(c.tab, fit, 3, rand.New(rand.NewPCG(5, 0xcf)))
			if err != nil {
				t.Fatal(err)
			}
			tested := 0
			for i, fold := range folds {
				s := scores[i]
				tested += s.Test
				res, err := tabular.Train(context.Background(), fold.Train, &opt)
				if err != nil {
					t.Fatal(err)
				}
				m, err := res.Model(nil)
				if err != nil {
					t.Fatal(err)
				}
				pred, err := m.Predict(fold.Test)
				if err != nil {
					t.Fatal(err)
				}
				col := fold.Test.Column(c.target)
				if fit.Task == data.RegressionTask {
					var se, ss, mean float64
					for r := range fold.Test.Len() {
						mean += float64(col.Float(r)) / float64(fold.Test.Len())
					}
					for r := range fold.Test.Len() {
						d, y := float64(pred.Value.At(r, 0))-float64(col.Float(r)), float64(col.Float(r))
						se, ss = se+d*d, ss+(y-mean)*(y-mean)
					}
					rmse, r2 := math.Sqrt(se/float64(fold.Test.Len())), 1-se/ss
					if math.Abs(s.Metrics.RMSE-rmse) > 1e-5*rmse || math.Abs(s.Metrics.R2-r2) > 1e-5 || !math.IsNaN(s.MacroF1) || !math.IsNaN(s.AUC) {
						t.Errorf("fold %d: RMSE %v, R² %v, F1 %v, AUC %v; by hand %v, %v, NaN, NaN", i, s.Metrics.RMSE, s.Metrics.R2, s.MacroF1, s.AUC, rmse, r2)
					}
					continue
				}
				right := 0
				labels := make([]int32, fold.Test.Len())
				for r := range fold.Test.Len() {
					labels[r] = int32(slices.Index(pred.Classes, col.Value(r)))
					if pred.Classes[pred.Class[r]] == col.Value(r) {
						right++
					}
				}
				if acc := float64(right) / float64(fold.Test.Len()); s.Metrics.Accuracy != acc {
					t.Errorf("fold %d: accuracy %v, by hand %v", i, s.Metrics.Accuracy, acc)
				}
				if f1 := train.MacroF1(train.F1Scores(len(pred.Classes), labels, pred.Class)); s.MacroF1 != f1 {
					t.Errorf("fold %d: macro F1 %v, by hand %v", i, s.MacroF1, f1)
				}
				if len(pred.Classes) == 2 {
					if auc := pred.AUC(labels); s.AUC != auc || !(auc > 0.5) {
						t.Errorf("fold %d: AUC %v, by hand %v (want > 0.5)", i, s.AUC, auc)
					}
				} else if !math.IsNaN(s.AUC) {
					t.Errorf("fold %d: AUC %v of %d classes, want NaN", i, s.AUC, len(pred.Classes))
				}
			}
			if tested != c.tab.Len() {
				t.Errorf("the folds tested %d rows of %d", tested, c.tab.Len())
			}
		})
	}
}

// A fold that fails stops the others, and its error — not the
// cancellation of the folds beside it — is the one returned.
func TestCrossValidateError(t *testing.T) {
	opt := tabular.Defaults()
	opt.Epochs = 50
	var calls atomic.Int32
	bad := errors.New("no optimiser for this run")
	opt.NewOptimizer = func(params []*autograd.Value[float32], rate optim.Schedule, wd float64) (optim.Optimizer[float32], error) {
		if calls.Add(1) == 3 {
			return nil, bad
		}
		return optim.NewAdam(params, rate, optim.WithWeightDecay(wd))
	}
	folded := 0
	_, err := tabular.CrossValidate(context.Background(), loadIris(t), &opt, 5, func(int, tabular.FoldScore) { folded++ })
	if !errors.Is(err, bad) || !strings.HasPrefix(err.Error(), "fold ") {
		t.Errorf("error %v, want the failing fold's: %v", err, bad)
	}
	if folded > 3 {
		t.Errorf("%d folds reported before the error of the third run", folded)
	}
}

// ranks is a dist.Comm of that many processes that must not be used:
// Train refuses the batch size before any training.
type ranks int

func (ranks) Rank() int                   { return 0 }
func (n ranks) Size() int                 { return int(n) }
func (ranks) SumFloat32([]float32) error  { panic("unused") }
func (ranks) SumFloat64([]float64) error  { panic("unused") }
func (ranks) Broadcast([]byte, int) error { panic("unused") }

// On several processes a minibatch size that leaves a process without a
// row — in the split's run (120 rows) or the refit (150) — is refused
// before any training, with the nearest size that works.
func TestSharesChecked(t *testing.T) {
	for _, c := range []struct {
		procs, batch int
		refit        bool
		want         string
	}{
		{2, 7, true, "the run on the split has 120 rows, and a minibatch of 7 rows (its last one: 1) cannot give each of the 2 processes a row; B = 8 can"},
		{2, 7, false, "the run on the split has 120 rows"},
		{3, 37, true, "the refit on all rows has 150 rows, and a minibatch of 37 rows (its last one: 2) cannot give each of the 3 processes a row; B = 38 can"},
		{3, 2, true, "a minibatch of 2 rows (its last one: 0) cannot give each of the 3 processes a row; B = 3 can"},
	} {
		opt := tabular.Defaults()
		opt.Batch, opt.Refit, opt.Comm = c.batch, c.refit, ranks(c.procs)
		_, err := tabular.Train(context.Background(), loadIris(t), &opt)
		var oe *tabular.OptionError
		if !errors.As(err, &oe) || oe.Option != "Batch" || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%d processes, B = %d: %v, want an OptionError of Batch saying %q", c.procs, c.batch, err, c.want)
		}
	}
}

// The refit beside the split's run ends after it even when it has
// trained all its epochs first (here the split's run dawdles over its
// last epoch): a program printing from the hooks prints in order.
func TestRefitEndsAfterSplit(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	opt := tabular.Defaults()
	opt.Epochs, opt.Patience = 5, 0 // both train all 5
	var mu sync.Mutex
	var ends []bool
	opt.Hooks.Epoch = func(r *tabular.Run, e train.EpochResult, last bool) {
		if !r.Refit && last {
			time.Sleep(100 * time.Millisecond)
		}
	}
	opt.Hooks.End = func(r *tabular.Run) {
		mu.Lock()
		ends = append(ends, r.Refit)
		mu.Unlock()
	}
	res, err := tabular.Train(context.Background(), loadIris(t), &opt)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ends, []bool{false, true}) || res.Final.Epochs != res.Split.BestEpoch {
		t.Errorf("End hooks of refit = %v in that order (want false, true); refit %d epochs, chosen %d", ends, res.Final.Epochs, res.Split.BestEpoch)
	}
}
