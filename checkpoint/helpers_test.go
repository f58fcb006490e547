package checkpoint

import (
	"math"
	"math/rand/v2"
	"testing"

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
	opt     *optim.SGD[float32]
	batches *data.Batcher
	tr      *train.Trainer[float32]
}

// newRun builds a run whose weights and data order come from seed.
func newRun(t testing.TB, ds *data.Dataset, B int, seed uint64, sched optim.Schedule, form optim.MomentumForm, sizes ...int) *run {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 3))
	model := layers.MLP[float32](rng, sizes...)
	var opts []optim.Option
	if form != optim.None {
		opts = append(opts, optim.WithMomentum(form, 0.9))
	}
	opts = append(opts, optim.WithWeightDecay(1e-4))
	opt, err := optim.NewSGD(model.Params(), sched, opts...)
	if err != nil {
		t.Fatal(err)
	}
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
	if sa.Step != sb.Step {
		t.Fatalf("%s: step %d, want %d", what, sb.Step, sa.Step)
	}
	for name, x := range sa.Buffers {
		y := sb.Buffers[name]
		for j := range x {
			if math.Float32bits(x[j]) != math.Float32bits(y[j]) {
				t.Fatalf("%s: buffer %s[%d] = %v, want %v (bitwise)", what, name, j, y[j], x[j])
			}
		}
	}
	if a.batches.State() != b.batches.State() {
		t.Fatalf("%s: batcher at %+v, want %+v", what, b.batches.State(), a.batches.State())
	}
}
