package optim

import (
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/flowgrad/flowgrad/autograd"
	"github.com/flowgrad/flowgrad/internal/parallel"
	"github.com/flowgrad/flowgrad/internal/vec"
	"github.com/flowgrad/flowgrad/tensor"
)

// optimisers names every optimiser configuration the shared tests run.
var optimisers = []string{
	"sgd/none", "sgd/ema", "sgd/heavyball", "sgd/nesterov",
	"adam", "adamw", "rmsprop", "rmsprop/centered", "rmsprop/momentum", "rmsprop/centered+momentum", "adagrad",
}

// newOptimiser builds the configuration named name, with weight decay wd
// (and a non-default β, α or ε where there is one, so that the tests see
// the option used).
func newOptimiser[T tensor.Float](name string, ps []*autograd.Value[T], sched Schedule, wd float64) (Optimizer[T], error) {
	d := WithWeightDecay(wd)
	switch name {
	case "sgd/none":
		return NewSGD(ps, sched, d)
	case "sgd/ema":
		return NewSGD(ps, sched, d, WithMomentum(EMA, 0.9))
	case "sgd/heavyball":
		return NewSGD(ps, sched, d, WithMomentum(HeavyBall, 0.9))
	case "sgd/nesterov":
		return NewSGD(ps, sched, d, WithMomentum(Nesterov, 0.9))
	case "adam":
		return NewAdam(ps, sched, d, WithBetas(0.8, 0.99), WithEps(1e-6))
	case "adamw":
		return NewAdamW(ps, sched, d, WithBetas(0.8, 0.99), WithEps(1e-6))
	case "rmsprop":
		return NewRMSProp(ps, sched, d, WithAlpha(0.9))
	case "rmsprop/centered":
		return NewRMSProp(ps, sched, d, WithAlpha(0.9), WithCentered())
	case "rmsprop/momentum":
		return NewRMSProp(ps, sched, d, WithAlpha(0.9), WithMomentum(HeavyBall, 0.5))
	case "rmsprop/centered+momentum":
		return NewRMSProp(ps, sched, d, WithAlpha(0.9), WithMomentum(HeavyBall, 0.5), WithCentered())
	case "adagrad":
		return NewAdagrad(ps, sched, d, WithEps(1e-8))
	}
	panic("unknown optimiser " + name)
}

// The float32 fast path (assembly kernels, parallel parts) agrees with the
// generic loops on one core, for every optimiser, for a model split across
// two cores both ways: by element ranges with a parameter boundary inside
// a part (steps 1 and 3), and by row halves, with a weight cut in halves
// and two that are not (step 2 and 4). The tolerance (1e-5 relative)
// covers the kernels' fused multiply-adds over four steps.
func TestFloat32FastPathMatchesGenericLoops(t *testing.T) {
	defer func(v int) { minParallel = v }(minParallel)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(max(2, runtime.GOMAXPROCS(0))))
	for _, name := range optimisers {
		t.Run(name, func(t *testing.T) {
			mk := func(seed uint64) []*autograd.Value[float32] {
				rng := rand.New(rand.NewPCG(21, seed))
				var ps []*autograd.Value[float32]
				for _, s := range []struct {
					name string
					r, c int
				}{{"a", 300, 129}, {"b", 1, 7}, {"c", 61, 300}} {
					p := autograd.NewParam(s.name, tensor.New[float32](s.r, s.c))
					for i := range p.Data().Data() {
						p.Data().Data()[i] = float32(rng.NormFloat64())
						p.Grad().Data()[i] = float32(rng.NormFloat64())
					}
					ps = append(ps, p)
				}
				return ps
			}
			fast, ref := mk(22), mk(22)
			sched := Must(InverseTime(0.05, 10))
			of, err := newOptimiser(name, fast, sched, 1e-3)
			if err != nil {
				t.Fatal(err)
			}
			or, _ := newOptimiser(name, ref, sched, 1e-3)
			if _, ok := parallel.RowHalves(300, 129); !ok {
				t.Fatal("parameter a is not cut in row halves: the test needs one that is")
			}
			for step := range 4 {
				minParallel = 1 << 12 // split this small model into element ranges…
				if step%2 == 1 {
					minParallel = 1 << 30 // …or by row halves
				}
				of.Step()
				minParallel = 1 << 30
				restore := vec.SetGeneric(true)
				or.Step()
				restore()
			}
			for i, p := range fast {
				for j, got := range p.Data().Data() {
					if want := ref[i].Data().Data()[j]; math.Abs(float64(got-want)) > 1e-5*(1+math.Abs(float64(want))) {
						t.Fatalf("%s[%d] = %g, generic loop %g", p.Name(), j, got, want)
					}
				}
			}
		})
	}
}

// BenchmarkStepSplit is BenchmarkStep's heavy-ball SGD over the same
// 269,322 parameters on one core ("split=none"), split by the row halves
// of the two large weights ("split=halves", what Step does on two cores or
// more for models below 2M parameters) and split into GOMAXPROCS element
// ranges ("split=ranges", what it does for larger models). Run it with
// -cpu 2. Alone, with data private to the pass, both splits scale; inside
// a training step only the halves do (docs/benchmarks.md).
func BenchmarkStepSplit(b *testing.B) {
	for _, split := range []string{"none", "halves", "ranges"} {
		b.Run("split="+split, func(b *testing.B) {
			switch split {
			case "none":
				defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
			case "ranges":
				defer func(m int) { minParallel = m }(minParallel)
				minParallel = 1 << 12
			}
			ps := mlpParams[float32](rand.New(rand.NewPCG(1, 2)), []int{784, 256, 256, 10})
			opt, err := newOptimiser("sgd/heavyball", ps, Must(Constant(1e-6)), 0)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(269322 * 4)
			b.ReportAllocs()
			for b.Loop() {
				opt.Step()
			}
		})
	}
}
