package checkpoint

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/flowgrad/flowgrad/autograd"
	"github.com/flowgrad/flowgrad/data"
	"github.com/flowgrad/flowgrad/layers"
	"github.com/flowgrad/flowgrad/optim"
	"github.com/flowgrad/flowgrad/train"
)

// synthetic returns n examples of classes classes over features features:
// class c is bright in its own band of features, with noise.
func synthetic(t testing.TB, seed uint64, n, features, classes int) *data.Dataset {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 7))
	pixels := make([]uint8, n*features)
	labels := make([]uint8, n)
	band := max(features/classes, 1)
	for i := range labels {
		c := rng.IntN(classes)
		labels[i] = uint8(c)
		for j := 0; j < features; j++ {
			v := rng.IntN(100)
			if j/band == c {
				v += 120
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

// run is one training run: a model, its optimizer, a Batcher and a Trainer.
type run struct {
	model   *layers.Sequential[float32]
	opt     optim.Optimizer[float32]
	batches *data.Batcher
	tr      *train.Trainer[float32]
}

// newRun builds a run of SGD with the given momentum form whose weights and
// data order come from seed.
func newRun(t testing.TB, ds *data.Dataset, B int, seed uint64, sched optim.Schedule, form optim.MomentumForm, sizes ...int) *run {
	t.Helper()
	return newRunWith(t, ds, B, seed, sched, "sgd/"+form.String(), sizes...)
}

// newOptimizer builds the optimizer named kind ("sgd/<form>", "adam",
// "adamw", "rmsprop", "rmsprop/centered+momentum", "adagrad"), with weight
// decay.
func newOptimizer(t testing.TB, kind string, params []*autograd.Value[float32], sched optim.Schedule) optim.Optimizer[float32] {
	t.Helper()
	wd := optim.WithWeightDecay(1e-4)
	var opt optim.Optimizer[float32]
	var err error
	switch kind {
	case "adam":
		opt, err = optim.NewAdam(params, sched, wd)
	case "adamw":
		opt, err = optim.NewAdamW(params, sched, wd)
	case "rmsprop":
		opt, err = optim.NewRMSProp(params, sched, wd)
	case "rmsprop/centered+momentum":
		opt, err = optim.NewRMSProp(params, sched, wd, optim.WithCentered(), optim.WithMomentum(optim.HeavyBall, 0.5))
	case "adagrad":
		opt, err = optim.NewAdagrad(params, sched, wd)
	default:
		form, perr := optim.ParseMomentumForm(strings.TrimPrefix(kind, "sgd/"))
		if perr != nil {
			t.Fatal(perr)
		}
		opts := []optim.Option{wd}
		if form != optim.None {
			opts = append(opts, optim.WithMomentum(form, 0.9))
		}
		opt, err = optim.NewSGD(params, sched, opts...)
	}
	if err != nil {
		t.Fatal(err)
	}
	return opt
}

// newRunWith builds a run of the optimizer named kind (see newOptimizer)
// whose weights and data order come from seed.
func newRunWith(t testing.TB, ds *data.Dataset, B int, seed uint64, sched optim.Schedule, kind string, sizes ...int) *run {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 3))
	model := layers.MLP[float32](rng, sizes...)
	opt := newOptimizer(t, kind, model.Params(), sched)
	batches, err := data.NewBatcher(ds, B, rng)
	if err != nil {
		t.Fatal(err)
	}
	return &run{model, opt, batches, train.NewTrainer(model, opt, train.CrossEntropy)}
}

// steps trains n steps, crossing epoch boundaries as needed.
func (r *run) steps(t testing.TB, n int) {
	t.Helper()
	for range n {
		if _, err := r.tr.Step(r.batches.Take()); err != nil {
			t.Fatal(err)
		}
	}
}

// sameBits reports the first parameter or buffer that differs bitwise.
func sameBits(t testing.TB, what string, a, b *run) {
	t.Helper()
	pa, pb := a.model.Params(), b.model.Params()
	for i := range pa {
		x, y := pa[i].Data().Data(), pb[i].Data().Data()
		for j := range x {
			if math.Float32bits(x[j]) != math.Float32bits(y[j]) {
				t.Fatalf("%s: %s[%d] = %v, want %v (bitwise)", what, pa[i].Name(), j, y[j], x[j])
			}
		}
	}
	sa, sb := a.opt.State(), b.opt.State()
	if sa.Step != sb.Step || sa.Kind != sb.Kind {
		t.Fatalf("%s: %s step %d, want %s step %d", what, sb.Kind, sb.Step, sa.Kind, sa.Step)
	}
	if (sa.Plateau == nil) != (sb.Plateau == nil) || sa.Plateau != nil && *sa.Plateau != *sb.Plateau {
		t.Fatalf("%s: plateau state %+v, want %+v", what, sb.Plateau, sa.Plateau)
	}
	for name, xs := range sa.Buffers {
		for s, x := range xs {
			y := sb.Buffers[name][s]
			for j := range x {
				if math.Float32bits(x[j]) != math.Float32bits(y[j]) {
					t.Fatalf("%s: %s buffer of %s[%d] = %v, want %v (bitwise)", what, sa.Slots[s], name, j, y[j], x[j])
				}
			}
		}
	}
	if a.batches.State() != b.batches.State() {
		t.Fatalf("%s: batcher at %+v, want %+v", what, b.batches.State(), a.batches.State())
	}
}
