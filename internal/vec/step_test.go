package vec

import (
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"
)

// The assembly kernels read their coefficients at fixed offsets.
func TestCoefficientLayout(t *testing.T) {
	var m Momentum[float32]
	var a Adam[float32]
	var r RMSProp[float32]
	var g Adagrad[float32]
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"Momentum.WD", unsafe.Offsetof(m.WD), 20},
		{"Momentum.E", unsafe.Offsetof(m.E), 16},
		{"Adam.DecayRate", unsafe.Offsetof(a.DecayRate), 36},
		{"Adam.Rate", unsafe.Offsetof(a.Rate), 24},
		{"RMSProp.WD", unsafe.Offsetof(r.WD), 20},
		{"RMSProp.Centered", unsafe.Offsetof(r.Centered), 24},
		{"RMSProp.Momentum", unsafe.Offsetof(r.Momentum), 25},
		{"Adagrad.WD", unsafe.Offsetof(g.WD), 8},
	} {
		if c.got != c.want {
			t.Errorf("offset of %s = %d, the assembly reads %d", c.name, c.got, c.want)
		}
	}
}

// stepCase is one optimiser update over nbuf state slices, called through
// the dispatching function.
type stepCase struct {
	name string
	nbuf int
	bufs func(b [][]float32) [][]float32 // the slices the kernel is given (nil where unused)
	run  func(theta, grad []float32, b [][]float32)
}

func stepCases() []stepCase {
	all := func(b [][]float32) [][]float32 { return b }
	var cases []stepCase
	cases = append(cases,
		stepCase{"plain", 0, all, func(th, g []float32, _ [][]float32) { PlainStep(th, g, 0.05, 1e-3) }},
	)
	for _, f := range []struct {
		name string
		k    Momentum[float32]
	}{
		{"ema", Momentum[float32]{0.9, 0.1, 0.05, 0, 1, 1e-3}},
		{"heavyball", Momentum[float32]{0.9, 1, 0.05, 0, 1, 1e-3}},
		{"nesterov", Momentum[float32]{0.9, 1, 0.05, 1, 0.9, 0}},
	} {
		cases = append(cases, stepCase{f.name, 1, all, func(th, g []float32, b [][]float32) { MomentumStep(th, g, b[0], &f.k) }})
	}
	for _, wd := range []struct {
		name      string
		wd, decay float32
	}{{"adam", 1e-2, 0}, {"adamw", 0, 1e-3 * 1e-2}} {
		cases = append(cases, stepCase{wd.name, 2, all, func(th, g []float32, b [][]float32) {
			// step t = 3 of β = (0.9, 0.999)
			k := Adam[float32]{0.9, 0.1, 0.999, 1 - 0.999, float32(1 - math.Pow(0.9, 3)), float32(1 - math.Pow(0.999, 3)), 1e-3, 1e-8, wd.wd, wd.decay}
			AdamStep(th, g, b[0], b[1], &k)
		}})
	}
	for _, v := range []struct {
		name               string
		centered, momentum bool
	}{{"rmsprop", false, false}, {"rmsprop-centered", true, false}, {"rmsprop-momentum", false, true}, {"rmsprop-centered-momentum", true, true}} {
		cases = append(cases, stepCase{v.name, 3, func(b [][]float32) [][]float32 {
			out := []([]float32){b[0], nil, nil}
			if v.centered {
				out[1] = b[1]
			}
			if v.momentum {
				out[2] = b[2]
			}
			return out
		}, func(th, g []float32, b [][]float32) {
			k := RMSProp[float32]{0.99, 1 - 0.99, 0.9, 1e-2, 1e-8, 1e-3, v.centered, v.momentum}
			RMSPropStep(th, g, b[0], b[1], b[2], &k)
		}})
	}
	cases = append(cases, stepCase{"adagrad", 1, all, func(th, g []float32, b [][]float32) {
		AdagradStep(th, g, b[0], &Adagrad[float32]{1e-2, 1e-10, 1e-3})
	}})
	return cases
}

// TestStepKernelsMatchTheirLoops runs every optimiser update for several
// steps on the assembly path and on the generic loop (the definition), from
// the same start, and compares parameters and state. A path that gives the
// twins' bits (NEON) must match bit for bit; for AVX2 the tolerance, 2e-6
// relative (about 16 float32 ulps) plus 1e-6 absolute, covers the fused
// multiply-adds compounding over the steps; a wrong operation or
// coefficient is off by far more. A NaN gradient (in the vector part and
// in the tail) must give NaN on both. Guard cells catch writes past the
// end.
func TestStepKernelsMatchTheirLoops(t *testing.T) {
	if !hasAsm {
		t.Skip("no assembly path on this CPU and build: the generic loops are the only path (tested by package optim)")
	}
	for _, c := range stepCases() {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			for _, n := range lengths {
				theta, grad := randSlice(rng, n), randSlice(rng, n)
				if n > 2 {
					grad[1], grad[n-1] = float32(math.NaN()), float32(math.NaN())
				}
				bufs := make([][]float32, c.nbuf)
				for i := range bufs {
					bufs[i] = randSlice(rng, n)
					if c.name != "nesterov" && c.name != "ema" && c.name != "heavyball" {
						for j := range bufs[i] { // second-moment sums are ≥ 0
							bufs[i][j] = float32(math.Abs(float64(bufs[i][j])))
						}
					}
				}
				if c.nbuf == 3 { // RMSProp: avg² ≤ sq keeps the centred variance ≥ 0
					for j := range bufs[1] {
						bufs[1][j] *= float32(math.Sqrt(float64(bufs[0][j])))
					}
				}
				gen, genBufs := clone(theta), make([][]float32, c.nbuf)
				for i := range bufs {
					genBufs[i] = clone(bufs[i])
				}
				for range 5 {
					func() {
						defer SetGeneric(true)()
						c.run(gen, grad, c.bufs(genBufs))
					}()
					c.run(theta, grad, c.bufs(bufs))
				}
				match := func(a, b float32) bool { return same(a, b) || near(a, b, 2e-6) }
				if asmImpl.twinBits {
					match = sameBits
				}
				for i := range theta {
					if !match(theta[i], gen[i]) {
						t.Fatalf("n=%d i=%d: θ = %g (%s), %g (generic)", n, i, theta[i], asmImpl.name, gen[i])
					}
					for b := range bufs {
						if !match(bufs[b][i], genBufs[b][i]) {
							t.Fatalf("n=%d i=%d: buffer %d = %g (%s), %g (generic)", n, i, b, bufs[b][i], asmImpl.name, genBufs[b][i])
						}
					}
				}
				checkGuards(t, "θ", theta)
				for b := range bufs {
					checkGuards(t, "buffer", bufs[b])
				}
			}
		})
	}
}

// TestStepKernelsFloat32FollowFloat64 checks the generic loops in float32
// against the same loops in float64, from the same start: the float32
// path is the definition rounded to float32 at each operation.
func TestStepKernelsFloat32FollowFloat64(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const n = 100
	th32, g32, m32, v32 := randSlice(rng, n), randSlice(rng, n), randSlice(rng, n), randSlice(rng, n)
	for i := range v32 {
		v32[i] = float32(math.Abs(float64(v32[i])))
	}
	wide := func(s []float32) []float64 {
		out := make([]float64, len(s))
		for i, x := range s {
			out[i] = float64(x)
		}
		return out
	}
	th64, g64, m64, v64 := wide(th32), wide(g32), wide(m32), wide(v32)
	k32 := Adam[float32]{0.9, 0.1, 0.999, 1 - 0.999, 0.1, 0.001, 1e-3, 1e-8, 0, 0}
	k64 := Adam[float64]{0.9, 0.1, 0.999, 1 - 0.999, 0.1, 0.001, 1e-3, 1e-8, 0, 0}
	defer SetGeneric(true)()
	AdamStep(th32, g32, m32, v32, &k32)
	AdamStep(th64, g64, m64, v64, &k64)
	for i := range th32 {
		if !near(th32[i], float32(th64[i]), 1e-6) || !near(v32[i], float32(v64[i]), 1e-6) {
			t.Fatalf("i=%d: float32 θ %g v %g, float64 %g %g", i, th32[i], v32[i], th64[i], v64[i])
		}
	}
}

func TestShortSlicesPanic(t *testing.T) {
	defer func() {
		if r := recover(); r != "vec: MomentumStep: slice of length 2, want at least 3" {
			t.Fatalf("panic %v", r)
		}
	}()
	MomentumStep(make([]float32, 3), make([]float32, 3), make([]float32, 2), &Momentum[float32]{})
}

// BenchmarkStepKernels measures each update over the weights of MLP
// 784-256-256-10 on both paths.
func BenchmarkStepKernels(b *testing.B) {
	const n = 784*256 + 256*256 + 256*10
	// Realistic values (the divider's speed can depend on its operands):
	// weights ~0.05, gradients ~1e-3, moment buffers of their scale.
	rng := rand.New(rand.NewPCG(7, 8))
	theta, grad := make([]float32, n), make([]float32, n)
	bufs := [][]float32{make([]float32, n), make([]float32, n), make([]float32, n)}
	for i := range theta {
		theta[i] = float32(0.05 * rng.NormFloat64())
		grad[i] = float32(1e-3 * rng.NormFloat64())
		bufs[0][i] = float32(1e-6 * rng.ExpFloat64()) // a second moment: sq, v or sum
		bufs[1][i] = float32(1e-4 * rng.NormFloat64())
		bufs[2][i] = float32(1e-4 * rng.NormFloat64())
	}
	for _, c := range stepCases() {
		for _, p := range benchPaths() {
			b.Run(c.name+"/"+p, func(b *testing.B) {
				defer SetGeneric(p == "generic")()
				b.SetBytes(int64(4 * n * (2 + c.nbuf)))
				for b.Loop() {
					c.run(theta, grad, c.bufs(bufs))
				}
			})
		}
	}
}
