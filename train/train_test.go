package train

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/flowgrad/flowgrad/autograd"
	"github.com/flowgrad/flowgrad/data"
	"github.com/flowgrad/flowgrad/layers"
	"github.com/flowgrad/flowgrad/optim"
)

// blobs returns n examples of 3 classes over 12 features: class c is
// bright in features 4c..4c+3 and dim elsewhere, with noise.
func blobs(t *testing.T, rng *rand.Rand, n int) *data.Dataset {
	t.Helper()
	const features, classes = 12, 3
	pixels := make([]uint8, n*features)
	labels := make([]uint8, n)
	for i := range labels {
		c := rng.IntN(classes)
		labels[i] = uint8(c)
		for j := 0; j < features; j++ {
			v := 40 + rng.IntN(60)
			if j/4 == c {
				v += 100
			}
			pixels[i*features+j] = uint8(v)
		}
	}
	ds, err := data.NewDataset(pixels, labels, features, classes)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func setup(t *testing.T, rate float64, B int) (*Trainer[float32], *data.Batcher, *Evaluator[float32], *optim.SGD[float32]) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	train, test := blobs(t, rng, 600), blobs(t, rng, 200)
	model := layers.MLP[float32](rng, 12, 16, 3)
	sched, err := optim.Constant(rate)
	if err != nil {
		t.Fatal(err)
	}
	opt, err := optim.NewSGD(model.Params(), sched, optim.WithMomentum(optim.HeavyBall, 0.9))
	if err != nil {
		t.Fatal(err)
	}
	batches, err := data.NewBatcher(train, B, rng)
	if err != nil {
		t.Fatal(err)
	}
	eval, err := NewEvaluator(test, 1000, CrossEntropy[float32])
	if err != nil {
		t.Fatal(err)
	}
	return NewTrainer(model, opt, CrossEntropy), batches, eval, opt
}

func TestRunLearnsAndReports(t *testing.T) {
	tr, batches, eval, _ := setup(t, 0.05, 32)
	var seen []EpochResult
	res, err := Run(context.Background(), tr, batches, eval, Config{
		Epochs:  8,
		OnEpoch: func(r EpochResult) error { seen = append(seen, r); return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 8 || len(seen) != 8 {
		t.Fatalf("%d results, %d hook calls; want 8", len(res), len(seen))
	}
	for i, r := range res {
		if r.Epoch != i+1 || r.Examples != 600 || r.Steps != (i+1)*19 || r.TrainTime <= 0 || r.Elapsed < r.TrainTime {
			t.Fatalf("epoch %d: %+v", i+1, r)
		}
	}
	first, last := res[0], res[len(res)-1]
	if !(last.TrainLoss < first.TrainLoss/2) {
		t.Fatalf("training loss did not fall: %g → %g", first.TrainLoss, last.TrainLoss)
	}
	if last.Eval.Accuracy < 0.95 {
		t.Fatalf("held-out accuracy %g after 8 epochs, want ≥ 0.95", last.Eval.Accuracy)
	}
}

func TestRunStopsAtTarget(t *testing.T) {
	tr, batches, eval, _ := setup(t, 0.05, 16)
	res, err := Run(context.Background(), tr, batches, eval, Config{Epochs: 50, Target: 0.9})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) == 50 || res[len(res)-1].Eval.Accuracy < 0.9 {
		t.Fatalf("ran %d epochs, last accuracy %g: want an early stop at ≥ 0.9", len(res), res[len(res)-1].Eval.Accuracy)
	}
	for _, r := range res[:len(res)-1] {
		if r.Eval.Accuracy >= 0.9 {
			t.Fatalf("did not stop at the first epoch reaching the target: %+v", res)
		}
	}
}

func TestDivergenceNamesStepLossAndRate(t *testing.T) {
	tr, batches, eval, _ := setup(t, 1e20, 32)
	res, err := Run(context.Background(), tr, batches, eval, Config{Epochs: 5})
	if !errors.Is(err, ErrDiverged) {
		t.Fatalf("err = %v after %d epochs, want ErrDiverged", err, len(res))
	}
	for _, want := range []string{"train: step ", "loss is ", "learning rate 1e+20", "lower it"} {
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("error %q does not mention %q", err, want)
		}
	}
	if steps := tr.Steps(); strings.Contains(err.Error(), "step 1:") || !strings.Contains(err.Error(), "step "+strconv.Itoa(steps+1)+":") {
		t.Fatalf("error %q after %d good steps", err, steps)
	}
}

func TestRunHonoursCancellation(t *testing.T) {
	tr, batches, eval, _ := setup(t, 0.05, 8)
	ctx, cancel := context.WithCancel(context.Background())
	steps := 0
	_, err := Run(ctx, tr, batches, eval, Config{Epochs: 3, OnBatch: func(float64, int, int) {
		steps++
		if steps == 5 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) || tr.Steps() != 5 {
		t.Fatalf("err %v after %d steps; want context.Canceled after 5", err, tr.Steps())
	}
	// The Batcher stands right after the 5 batches trained, not one ahead.
	if st := batches.State(); st.Epoch != 0 || st.Offset != 5*8 {
		t.Fatalf("Batcher at epoch %d offset %d after 5 steps of 8; want 0, 40", st.Epoch, st.Offset)
	}
}

func TestMaxLossStopsBeforeTheUpdate(t *testing.T) {
	tr, batches, eval, _ := setup(t, 0.05, 32)
	before := tr.model.Params()[0].Data().Clone()
	tr.MaxLoss = 0.01 // below any untrained loss
	_, err := Run(context.Background(), tr, batches, eval, Config{Epochs: 1})
	if !errors.Is(err, ErrDiverged) || !strings.Contains(err.Error(), "train: step 1: loss ") ||
		!strings.Contains(err.Error(), "is above the limit 0.01 at learning rate 0.05") {
		t.Fatalf("err = %v", err)
	}
	for i, v := range tr.model.Params()[0].Data().Data() {
		if v != before.Data()[i] {
			t.Fatal("the parameters changed in the step that diverged")
		}
	}
}

func TestWarmStepAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop items; counted in the non-race run")
	}
	tr, batches, _, _ := setup(t, 0.05, 32)
	b, _ := batches.Next()
	if _, err := tr.Step(b); err != nil {
		t.Fatal(err)
	}
	if a := testing.AllocsPerRun(20, func() { tr.Step(b) }); a != 0 {
		t.Fatalf("warm step allocates %v times, want 0", a)
	}
}

// The standard workload's step — MLP 784-256-256-10, heavy-ball momentum,
// batch conversion included — allocates nothing once warm, at every B,
// including the sizes that run on several cores.
func TestMNISTSizedStepAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop items; counted in the non-race run")
	}
	rng := rand.New(rand.NewPCG(3, 4))
	ds := mnistShaped(t, rng, 2000)
	for _, B := range []int{1, 10, 100, 1000} {
		step := standardStep(t, rng, ds, B, heavyBall)
		step()
		step()
		if a := testing.AllocsPerRun(5, step); a != 0 {
			t.Errorf("B=%d: a warm step allocates %v times, want 0", B, a)
		}
	}
}

// MeanLoss is the mean of the batches' losses.
func TestMeanLoss(t *testing.T) {
	tr, batches, _, _ := setup(t, 0.05, 50)
	var bs []data.Batch
	var want float64
	for i := 0; i < 3; i++ {
		b, _ := batches.Next()
		bs = append(bs, data.Batch{X: b.X.Clone(), Labels: append([]int(nil), b.Labels...)})
	}
	tape := autograd.NewTape[float32]()
	for _, b := range bs {
		tape.Reset()
		want += float64(autograd.SoftmaxCrossEntropy(tr.model.Forward(tape.Input(b.X)), b.Labels).Scalar()) / 3
	}
	tape.Reset()
	got := float64(MeanLoss(tr.model, tr.loss, bs)(tape).Scalar())
	if math.Abs(got-want) > 1e-6 {
		t.Fatalf("MeanLoss = %v, mean of the batches' losses %v", got, want)
	}
}

// A step gives the same bits whether the Governor shares it between the
// cores or runs it on one: the standard model at a batch size that uses
// the row halves (8) and one that shares products by blocks (100).
func TestGovernedStepsSameBits(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(max(2, runtime.GOMAXPROCS(0))))
	rng := rand.New(rand.NewPCG(5, 6))
	ds := mnistShaped(t, rng, 400)
	for _, B := range []int{8, 100} {
		var models [2]*layers.Sequential[float32]
		for i, serial := range []bool{false, true} {
			rng := rand.New(rand.NewPCG(7, 8))
			models[i] = layers.MLP[float32](rng, 784, 256, 256, 10)
			opt, err := heavyBall(models[i].Params())
			if err != nil {
				t.Fatal(err)
			}
			batches, err := data.NewBatcher(ds, B, rng, data.DropLast())
			if err != nil {
				t.Fatal(err)
			}
			tr := NewTrainer(models[i], opt, CrossEntropy)
			for range 12 {
				tr.gov.Force(serial)
				if _, err := tr.Step(batches.Take()); err != nil {
					t.Fatal(err)
				}
			}
		}
		for j, p := range models[0].Params() {
			if !slices.Equal(p.Data().Data(), models[1].Params()[j].Data().Data()) {
				t.Errorf("B=%d: %s differs between shared and serial steps", B, p.Name())
			}
		}
	}
}
