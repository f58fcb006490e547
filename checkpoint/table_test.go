package checkpoint_test

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/flowgrad/flowgrad/checkpoint"
	"github.com/flowgrad/flowgrad/data"
	"github.com/flowgrad/flowgrad/layers"
	"github.com/flowgrad/flowgrad/optim"
	"github.com/flowgrad/flowgrad/tensor"
	"github.com/flowgrad/flowgrad/train"
)

// A float64 regression run on a float32 table, with Adam, stopped after
// k steps (mid-epoch), written, read into a fresh run and continued ends
// with exactly the parameters of a run that never stopped: checkpoints
// serve tables as they serve images.
func TestExactResumeRegressionTable(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	x, y := tensor.New[float32](53, 3), tensor.New[float32](53, 2)
	for i := range x.Data() {
		x.Data()[i] = float32(rng.NormFloat64())
	}
	for i := range 53 {
		y.Set(i, 0, x.At(i, 0)*x.At(i, 1))
		y.Set(i, 1, float32(math.Sin(float64(x.At(i, 2)))))
	}
	ds, err := data.NewRegressionTable(x, y)
	if err != nil {
		t.Fatal(err)
	}
	type run struct {
		net     *layers.Sequential[float64]
		opt     optim.Optimizer[float64]
		batches *data.Batcher
		tr      *train.Trainer[float64]
	}
	newRun := func(seed uint64) run {
		r := rand.New(rand.NewPCG(seed, 1))
		net := layers.MLP[float64](r, 3, 8, 2)
		opt, err := optim.NewAdam(net.Params(), optim.Must(optim.Constant(0.01)))
		if err != nil {
			t.Fatal(err)
		}
		b, err := data.NewBatcher(ds, 10, r)
		if err != nil {
			t.Fatal(err)
		}
		return run{net, opt, b, train.NewTrainer(net, opt, train.SquaredError)}
	}
	steps := func(r run, n int) {
		for range n {
			if _, err := r.tr.Step(r.batches.Take()); err != nil {
				t.Fatal(err)
			}
		}
	}
	const total = 40
	straight := newRun(1)
	steps(straight, total)
	for _, k := range []int{0, 3, 6, 17, 39} {
		a := newRun(1)
		steps(a, k)
		var file bytes.Buffer
		if err := checkpoint.Write(&file, checkpoint.Capture(a.net.Params(), a.opt, a.batches)); err != nil {
			t.Fatal(err)
		}
		st, err := checkpoint.Read[float64](&file)
		if err != nil {
			t.Fatal(err)
		}
		b := newRun(2) // other weights and order until restored
		if err := st.Restore(b.net.Params(), b.opt, b.batches); err != nil {
			t.Fatal(err)
		}
		steps(b, total-k)
		for i, p := range straight.net.Params() {
			for j, v := range p.Data().Data() {
				if w := b.net.Params()[i].Data().Data()[j]; math.Float64bits(v) != math.Float64bits(w) {
					t.Fatalf("stopped after %d steps: %s[%d] = %v after resume, %v straight", k, p.Name(), j, w, v)
				}
			}
		}
	}
}
