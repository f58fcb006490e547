package optim

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/flowgrad/flowgrad/autograd"
	"github.com/flowgrad/flowgrad/tensor"
)

// The float32 fast path (assembly kernels, parallel ranges) agrees with the
// forms' plain update functions, for a model large enough to be split
// across cores and with a parameter boundary inside a part.
func TestFloat32FastPathMatchesUpdateFunctions(t *testing.T) {
	defer func(v int) { minParallel = v }(minParallel)
	minParallel = 1 << 12 // split this small model across the cores
	rng := rand.New(rand.NewPCG(21, 22))
	mk := func(name string, r, c int) *autograd.Value[float32] {
		p := autograd.NewParam(name, tensor.New[float32](r, c))
		for i := range p.Data().Data() {
			p.Data().Data()[i] = float32(rng.NormFloat64())
			p.Grad().Data()[i] = float32(rng.NormFloat64())
		}
		return p
	}
	for _, form := range []MomentumForm{None, EMA, HeavyBall, Nesterov} {
		params := []*autograd.Value[float32]{mk("a", 300, 129), mk("b", 1, 7), mk("c", 61, 300)}
		mom := 0.9
		if form == None {
			mom = 0
		}
		opt, err := NewSGD(params, Must(InverseTime(0.05, 10)), WithMomentum(form, mom), WithWeightDecay(1e-3))
		if err != nil {
			t.Fatal(err)
		}
		// The reference: the same steps with the plain update function.
		ref := make([][]float32, len(params))
		bufs := make([][]float32, len(params))
		for i, p := range params {
			ref[i] = append([]float32(nil), p.Data().Data()...)
			bufs[i] = make([]float32, p.Data().Len())
		}
		update := updateFor[float32](form)
		for k := 0; k < 3; k++ {
			rate := float32(opt.Rate())
			for i, p := range params {
				update(ref[i], p.Grad().Data(), bufs[i], rate, float32(mom), 1e-3)
			}
			opt.Step()
		}
		for i, p := range params {
			for j, got := range p.Data().Data() {
				if want := ref[i][j]; math.Abs(float64(got-want)) > 1e-5*(1+math.Abs(float64(want))) {
					t.Fatalf("%v: %s[%d] = %g, plain update %g", form, p.Name(), j, got, want)
				}
			}
		}
	}
}
