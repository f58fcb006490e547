package train

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/flowgrad/flowgrad/autograd"
	"github.com/flowgrad/flowgrad/data"
	"github.com/flowgrad/flowgrad/layers"
	"github.com/flowgrad/flowgrad/optim"
)

// clipRun is a trainer of a small MLP with the given momentum (0: plain
// SGD) at rate 0.5 on blobs, and its batches; the same for the same seed.
func clipRun(t *testing.T, momentum float64) (*Trainer[float32], *data.Batcher) {
	t.Helper()
	rng := rand.New(rand.NewPCG(3, 4))
	model := layers.MLP[float32](rng, 12, 16, 3)
	var opts []optim.Option
	if momentum > 0 {
		opts = append(opts, optim.WithMomentum(optim.HeavyBall, momentum))
	}
	opt, err := optim.NewSGD(model.Params(), optim.Must(optim.Constant(0.5)), opts...)
	if err != nil {
		t.Fatal(err)
	}
	batches, err := data.NewBatcher(blobs(t, rng, 200), 20, rng)
	if err != nil {
		t.Fatal(err)
	}
	return NewTrainer(model, opt, CrossEntropy), batches
}

// globalNorm is √(Σ g²) over every parameter's gradient, in float64.
func globalNorm(params []*autograd.Value[float32]) float64 {
	var s float64
	for _, p := range params {
		for _, g := range p.Grad().Data() {
			s += float64(g) * float64(g)
		}
	}
	return math.Sqrt(s)
}

// Gradient clipping by global norm as a BeforeUpdate hook inside a
// training step: plain SGD moves each weight by −ε·g·c/‖g‖ (the formula,
// from the step's raw gradients), the clipped gradients have norm c, and
// over several steps with momentum the run equals one whose hook scales
// the gradients by c/‖g‖ computed here.
func TestClipInsideStep(t *testing.T) {
	const c, rate = 0.05, 0.5
	tr, batches := clipRun(t, 0)
	params := tr.Model().Params()
	var raw [][]float64
	var rawNorm, clippedNorm float64
	tr.BeforeUpdate = []func() error{
		func() error { // record the step's raw gradients
			rawNorm, raw = globalNorm(params), nil
			for _, p := range params {
				g := make([]float64, p.Grad().Len())
				for i, x := range p.Grad().Data() {
					g[i] = float64(x)
				}
				raw = append(raw, g)
			}
			return nil
		},
		func() error { optim.ClipGlobalNorm(params, c); return nil },
		func() error { clippedNorm = globalNorm(params); return nil },
	}
	before := make([][]float32, len(params))
	for i, p := range params {
		before[i] = append([]float32(nil), p.Data().Data()...)
	}
	if _, err := tr.Step(batches.Take()); err != nil {
		t.Fatal(err)
	}
	if !(rawNorm > 10*c) || math.Abs(clippedNorm-c) > 1e-6 {
		t.Fatalf("gradient norm %g before clipping (want > %g), %g after (want %g)", rawNorm, 10*c, clippedNorm, c)
	}
	for i, p := range params {
		for j, got := range p.Data().Data() {
			want := float64(before[i][j]) - rate*raw[i][j]*c/rawNorm
			if math.Abs(float64(got)-want) > 1e-6*math.Max(1, math.Abs(want)) {
				t.Fatalf("%s[%d] = %v after the clipped step, want θ − ε·g·c/‖g‖ = %v", p.Name(), j, got, want)
			}
		}
	}

	// With momentum, over several steps: the hook equals clipping by hand.
	a, batchesA := clipRun(t, 0.9)
	b, batchesB := clipRun(t, 0.9)
	pa, pb := a.Model().Params(), b.Model().Params()
	a.BeforeUpdate = []func() error{func() error { optim.ClipGlobalNorm(pa, c); return nil }}
	b.BeforeUpdate = []func() error{func() error {
		if n := globalNorm(pb); n > c {
			s := float32(c / n)
			for _, p := range pb {
				g := p.Grad().Data()
				for i := range g {
					g[i] *= s
				}
			}
		}
		return nil
	}}
	for range 15 {
		if _, err := a.Step(batchesA.Take()); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Step(batchesB.Take()); err != nil {
			t.Fatal(err)
		}
	}
	for i := range pa {
		for j, x := range pa[i].Data().Data() {
			if y := pb[i].Data().Data()[j]; math.Float32bits(x) != math.Float32bits(y) {
				t.Fatalf("%s[%d]: %v with ClipGlobalNorm, %v clipped by hand", pa[i].Name(), j, x, y)
			}
		}
	}
}
