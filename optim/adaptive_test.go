package optim

import (
	"errors"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/flowgrad/flowgrad/autograd"
	"github.com/flowgrad/flowgrad/tensor"
)

// gradSeq is a fixed gradient sequence: n steps of a d-element gradient,
// some entries exactly zero (as a dead unit's are).
func gradSeq(n, d int) [][]float64 {
	rng := rand.New(rand.NewPCG(11, 12))
	gs := make([][]float64, n)
	for t := range gs {
		gs[t] = make([]float64, d)
		for j := range gs[t] {
			if j != 2 || t%5 != 0 {
				gs[t][j] = rng.NormFloat64() * math.Pow(10, float64(j%3-1))
			}
		}
	}
	return gs
}

// The independent recurrences, written out from PyTorch's documentation of
// each algorithm (see the optimisers' doc comments) one step at a time.
// Every product that is added is converted, float64(x*y) + z, so that Go
// does not fuse it into an FMA on arm64: the recurrence rounds every
// operation on every architecture. β^t is math.Pow, as Python's ** is.

// adamRef is torch.optim.Adam (decoupled = false) or AdamW (true).
func adamRef(th0 []float64, gs [][]float64, lr Schedule, b1, b2, eps, wd float64, decoupled bool) [][]float64 {
	th := append([]float64(nil), th0...)
	m, v := make([]float64, len(th)), make([]float64, len(th))
	var out [][]float64
	for k, graw := range gs {
		t := float64(k + 1)
		gamma := lr.Rate(k)
		for i := range th {
			g := graw[i]
			if decoupled {
				th[i] = th[i] - float64(gamma*wd*th[i])
			} else if wd != 0 {
				g = g + float64(wd*th[i])
			}
			m[i] = float64(b1*m[i]) + float64((1-b1)*g)
			v[i] = float64(b2*v[i]) + float64((1-b2)*(g*g))
			mhat := m[i] / (1 - math.Pow(b1, t))
			vhat := v[i] / (1 - math.Pow(b2, t))
			th[i] = th[i] - gamma*mhat/(math.Sqrt(vhat)+eps)
		}
		out = append(out, append([]float64(nil), th...))
	}
	return out
}

// rmspropRef is torch.optim.RMSprop.
func rmspropRef(th0 []float64, gs [][]float64, lr Schedule, alpha, eps, wd, mu float64, centered bool) [][]float64 {
	th := append([]float64(nil), th0...)
	v, gave, b := make([]float64, len(th)), make([]float64, len(th)), make([]float64, len(th))
	var out [][]float64
	for k, graw := range gs {
		gamma := lr.Rate(k)
		for i := range th {
			g := graw[i]
			if wd != 0 {
				g = g + float64(wd*th[i])
			}
			v[i] = float64(alpha*v[i]) + float64((1-alpha)*(g*g))
			vt := v[i]
			if centered {
				gave[i] = float64(gave[i]*alpha) + float64((1-alpha)*g)
				vt = vt - float64(gave[i]*gave[i])
			}
			if mu > 0 {
				b[i] = float64(mu*b[i]) + g/(math.Sqrt(vt)+eps)
				th[i] = th[i] - float64(gamma*b[i])
			} else {
				th[i] = th[i] - gamma*g/(math.Sqrt(vt)+eps)
			}
		}
		out = append(out, append([]float64(nil), th...))
	}
	return out
}

// adagradRef is torch.optim.Adagrad with lr_decay 0 and
// initial_accumulator_value 0 (the decay is the schedule here).
func adagradRef(th0 []float64, gs [][]float64, lr Schedule, eps, wd float64) [][]float64 {
	th := append([]float64(nil), th0...)
	sum := make([]float64, len(th))
	var out [][]float64
	for k, graw := range gs {
		gamma := lr.Rate(k)
		for i := range th {
			g := graw[i]
			if wd != 0 {
				g = g + float64(wd*th[i])
			}
			sum[i] = sum[i] + float64(g*g)
			th[i] = th[i] - gamma*g/(math.Sqrt(sum[i])+eps)
		}
		out = append(out, append([]float64(nil), th...))
	}
	return out
}

// TestAdaptiveTrajectoriesMatchRecurrence feeds each optimiser a fixed
// gradient sequence and checks every step's θ against the recurrence of
// the published definition, bit for bit, with and without weight decay,
// at a constant rate and under a schedule.
func TestAdaptiveTrajectoriesMatchRecurrence(t *testing.T) {
	const n, d = 300, 7
	gs := gradSeq(n, d)
	th0 := []float64{0.5, -1, 0.25, 2, -0.125, 1e-3, 3}
	scheds := map[string]Schedule{"constant": Must(Constant(0.01)), "invtime": Must(InverseTime(0.02, 40))}
	for _, wd := range []float64{0, 0.05} {
		for sname, sched := range scheds {
			for _, tc := range []struct {
				name string
				make func(ps []*autograd.Value[float64]) (Optimizer[float64], error)
				ref  [][]float64
			}{
				{"adam", func(ps []*autograd.Value[float64]) (Optimizer[float64], error) {
					return NewAdam(ps, sched, WithWeightDecay(wd))
				}, adamRef(th0, gs, sched, 0.9, 0.999, 1e-8, wd, false)},
				{"adam/betas", func(ps []*autograd.Value[float64]) (Optimizer[float64], error) {
					return NewAdam(ps, sched, WithWeightDecay(wd), WithBetas(0.5, 0.75), WithEps(1e-3))
				}, adamRef(th0, gs, sched, 0.5, 0.75, 1e-3, wd, false)},
				{"adamw", func(ps []*autograd.Value[float64]) (Optimizer[float64], error) {
					return NewAdamW(ps, sched, WithWeightDecay(wd))
				}, adamRef(th0, gs, sched, 0.9, 0.999, 1e-8, wd, true)},
				{"rmsprop", func(ps []*autograd.Value[float64]) (Optimizer[float64], error) {
					return NewRMSProp(ps, sched, WithWeightDecay(wd))
				}, rmspropRef(th0, gs, sched, 0.99, 1e-8, wd, 0, false)},
				{"rmsprop/centered", func(ps []*autograd.Value[float64]) (Optimizer[float64], error) {
					return NewRMSProp(ps, sched, WithWeightDecay(wd), WithCentered(), WithAlpha(0.9))
				}, rmspropRef(th0, gs, sched, 0.9, 1e-8, wd, 0, true)},
				{"rmsprop/momentum", func(ps []*autograd.Value[float64]) (Optimizer[float64], error) {
					return NewRMSProp(ps, sched, WithWeightDecay(wd), WithMomentum(HeavyBall, 0.8), WithEps(1e-6))
				}, rmspropRef(th0, gs, sched, 0.99, 1e-6, wd, 0.8, false)},
				{"rmsprop/centered+momentum", func(ps []*autograd.Value[float64]) (Optimizer[float64], error) {
					return NewRMSProp(ps, sched, WithWeightDecay(wd), WithMomentum(HeavyBall, 0.8), WithCentered())
				}, rmspropRef(th0, gs, sched, 0.99, 1e-8, wd, 0.8, true)},
				{"adagrad", func(ps []*autograd.Value[float64]) (Optimizer[float64], error) {
					return NewAdagrad(ps, sched, WithWeightDecay(wd))
				}, adagradRef(th0, gs, sched, 1e-10, wd)},
			} {
				t.Run(tc.name+"/"+sname+"/wd="+ftoa(wd), func(t *testing.T) {
					p := autograd.NewParam("theta", tensor.FromSlice(1, d, append([]float64(nil), th0...)))
					opt, err := tc.make([]*autograd.Value[float64]{p})
					if err != nil {
						t.Fatal(err)
					}
					for k := range n {
						copy(p.Grad().Data(), gs[k])
						opt.Step()
						for j, got := range p.Data().Data() {
							if want := tc.ref[k][j]; math.Float64bits(got) != math.Float64bits(want) {
								t.Fatalf("step %d: θ[%d] = %v, recurrence gives %v (not the same bits)", k+1, j, got, want)
							}
						}
					}
					if last := p.Data().Data(); math.IsNaN(last[0]) || last[0] == th0[0] {
						t.Fatalf("θ did not move sensibly: %v", last)
					}
				})
			}
		}
	}
}

func ftoa(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

// AdamW's decay is decoupled: with zero gradients its moments stay zero
// and θ ← θ − γλθ exactly (Adam's coupled decay would feed λθ through the
// moments instead).
func TestAdamWDecayIsDecoupled(t *testing.T) {
	p := autograd.NewParam("w", tensor.FromSlice(1, 1, []float64{2}))
	opt, err := NewAdamW([]*autograd.Value[float64]{p}, Must(Constant(0.1)), WithWeightDecay(0.5))
	if err != nil {
		t.Fatal(err)
	}
	want := 2.0
	for range 5 {
		opt.Step() // Grad is zero
		want = want - float64(0.1*0.5*want)
		if got := p.Data().Data()[0]; got != want {
			t.Fatalf("θ = %v, want %v", got, want)
		}
	}
	if m := opt.State().Buffers["w"][0][0]; m != 0 {
		t.Fatalf("exp_avg = %v with zero gradients, want 0", m)
	}
}

func TestAdaptiveValidation(t *testing.T) {
	ps := []*autograd.Value[float64]{newQuadParam([2]float64{1, 1})}
	c := Must(Constant(0.01))
	adam := func(opts ...Option) error { _, err := NewAdam(ps, c, opts...); return err }
	adamw := func(opts ...Option) error { _, err := NewAdamW(ps, c, opts...); return err }
	rms := func(opts ...Option) error { _, err := NewRMSProp(ps, c, opts...); return err }
	ada := func(opts ...Option) error { _, err := NewAdagrad(ps, c, opts...); return err }
	sgd := func(opts ...Option) error { _, err := NewSGD(ps, c, opts...); return err }
	for _, tc := range []struct {
		err  error
		want string
	}{
		{adam(WithBetas(1, 0.999)), "optim: beta1 1 outside [0, 1)"},
		{adam(WithBetas(0.9, -0.1)), "optim: beta2 -0.1 outside [0, 1)"},
		{adamw(WithBetas(0.9, math.NaN())), "optim: beta2 NaN outside [0, 1)"},
		{adam(WithEps(0)), "optim: eps 0 must be finite and > 0"},
		{adam(WithEps(math.Inf(1))), "optim: eps +Inf must be finite and > 0"},
		{adamw(WithWeightDecay(-0.01)), "optim: weight decay -0.01 is negative"},
		{adam(WithMomentum(HeavyBall, 0.9)), "optim: NewAdam: option WithMomentum does not apply"},
		{adamw(WithAlpha(0.9)), "optim: NewAdamW: option WithAlpha does not apply"},
		{rms(WithAlpha(1)), "optim: alpha 1 outside [0, 1)"},
		{rms(WithMomentum(HeavyBall, 1.5)), "optim: momentum 1.5 outside [0, 1)"},
		{rms(WithMomentum(Nesterov, 0.9)), "momentum form nesterov (RMSProp's momentum is heavyball"},
		{rms(WithEps(-1)), "optim: eps -1 must be finite and > 0"},
		{rms(WithBetas(0.9, 0.9)), "optim: NewRMSProp: option WithBetas does not apply"},
		{ada(WithEps(math.NaN())), "optim: eps NaN must be finite and > 0"},
		{ada(WithCentered()), "optim: NewAdagrad: option WithCentered does not apply"},
		{ada(WithWeightDecay(math.Inf(1))), "optim: weight decay +Inf is not finite"},
		{sgd(WithBetas(0.9, 0.99)), "optim: NewSGD: option WithBetas does not apply"},
	} {
		if tc.err == nil || !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("error %v, want one containing %q", tc.err, tc.want)
		}
	}
	if _, err := NewAdam(ps, nil); err == nil || !strings.Contains(err.Error(), "NewAdam: nil schedule") {
		t.Errorf("nil schedule: %v", err)
	}
	if _, err := NewRMSProp(ps, badSchedule(math.NaN())); err == nil || !strings.Contains(err.Error(), "rate NaN is not finite") {
		t.Errorf("NaN rate: %v", err)
	}
	for _, err := range []error{adam(), adamw(WithWeightDecay(0)), rms(WithMomentum(None, 0)), ada(WithEps(1e-3))} {
		if err != nil {
			t.Errorf("valid configuration rejected: %v", err)
		}
	}
	a, _ := NewAdamW(ps, c)
	if want := "AdamW(rate=Constant(0.01), betas=(0.9, 0.999), eps=1e-08, weight decay=0.01)"; a.String() != want {
		t.Errorf("String = %q, want %q", a.String(), want)
	}
	mustPanic(t, `NewAdagrad: two parameters named "theta"`, func() { NewAdagrad(append(ps, newQuadParam([2]float64{})), c) })
}

// TestEveryStepAllocatesNothing checks every optimiser, with weight decay
// and a schedule, in both precisions, and split across cores.
func TestEveryStepAllocatesNothing(t *testing.T) {
	defer func(v int) { minParallel = v }(minParallel)
	sched := Must(Warmup(10, Must(Cosine(0.01, 0.001, 1000))))
	for _, name := range optimisers {
		minParallel = 1 << 21
		o64, err := newOptimiser(name, mlpParams[float64](rand.New(rand.NewPCG(1, 2)), []int{20, 30, 5}), sched, 1e-4)
		if err != nil {
			t.Fatal(err)
		}
		if a := testing.AllocsPerRun(100, o64.Step); a != 0 {
			t.Errorf("float64 %s: Step allocates %v times per call", name, a)
		}
		o32, _ := newOptimiser(name, mlpParams[float32](rand.New(rand.NewPCG(1, 2)), []int{20, 30, 5}), sched, 1e-4)
		if a := testing.AllocsPerRun(100, o32.Step); a != 0 {
			t.Errorf("float32 %s: Step allocates %v times per call", name, a)
		}
		minParallel = 1 << 15
		big, _ := newOptimiser(name, mlpParams[float32](rand.New(rand.NewPCG(1, 2)), []int{784, 256, 256, 10}), Must(Constant(1e-6)), 1e-4)
		if a := testing.AllocsPerRun(20, big.Step); a != 0 {
			t.Errorf("float32 %s, 784-256-256-10 split: Step allocates %v times per call", name, a)
		}
	}
}

// TestEveryStateResumes stops each optimiser halfway, restores its state
// into a fresh one, and checks the two continue bit-identically; a state
// of another kind or shape is refused.
func TestEveryStateResumes(t *testing.T) {
	gs := gradSeq(30, 6)
	for _, name := range optimisers {
		t.Run(name, func(t *testing.T) {
			sched := Must(InverseTime(0.01, 5))
			mk := func() (*autograd.Value[float64], Optimizer[float64]) {
				p := autograd.NewParam("w", tensor.FromSlice(2, 3, []float64{1, -2, 3, 0.5, 0, -1}))
				o, err := newOptimiser(name, []*autograd.Value[float64]{p}, sched, 0.01)
				if err != nil {
					t.Fatal(err)
				}
				return p, o
			}
			a, oa := mk()
			for k := range 10 {
				copy(a.Grad().Data(), gs[k])
				oa.Step()
			}
			st := oa.State()
			b, ob := mk()
			copy(b.Data().Data(), a.Data().Data())
			if err := ob.SetState(st); err != nil {
				t.Fatal(err)
			}
			for _, bufs := range st.Buffers {
				bufs[0][0] = 1e9 // State and SetState copy
			}
			for k := 10; k < 30; k++ {
				copy(a.Grad().Data(), gs[k])
				copy(b.Grad().Data(), gs[k])
				oa.Step()
				ob.Step()
			}
			for j, x := range a.Data().Data() {
				if y := b.Data().Data()[j]; math.Float64bits(x) != math.Float64bits(y) {
					t.Fatalf("resumed θ[%d] = %v, uninterrupted %v", j, y, x)
				}
			}
			if ob.StepCount() != 30 {
				t.Errorf("resumed StepCount = %d, want 30", ob.StepCount())
			}
			// Another kind's state is refused, naming both.
			other := "adam"
			if name == "adam" {
				other = "adagrad"
			}
			p := autograd.NewParam("w", tensor.New[float64](2, 3))
			oo, _ := newOptimiser(other, []*autograd.Value[float64]{p}, sched, 0.01)
			if err := oo.SetState(st); err == nil || !strings.Contains(err.Error(), `state of a "`+st.Kind+`" optimiser, this one is "`+other+`"`) {
				t.Errorf("%s state into %s: %v", name, other, err)
			}
			// A state for a parameter of another size is refused.
			if len(st.Slots) > 0 {
				small := autograd.NewParam("w", tensor.New[float64](1, 3))
				os, _ := newOptimiser(name, []*autograd.Value[float64]{small}, sched, 0.01)
				if err := os.SetState(st); err == nil || !strings.Contains(err.Error(), `of "w" has 6 elements, parameter has 3`) {
					t.Errorf("state of a 2×3 parameter into a 1×3 one: %v", err)
				}
			}
		})
	}
}

func TestStabilityBoundRefusesAdaptive(t *testing.T) {
	ps := []*autograd.Value[float64]{newQuadParam([2]float64{1, 1})}
	for _, name := range optimisers {
		o, _ := newOptimiser(name, ps, Must(Constant(0.01)), 0)
		bound, err := StabilityBound(o, 10)
		if s, ok := o.(*SGD[float64]); ok {
			if want := MaxStableRate(s.form, s.momentum, 10); err != nil || bound != want {
				t.Errorf("%s: StabilityBound = %v, %v; want %v", name, bound, err, want)
			}
			continue
		}
		if !errors.Is(err, ErrNoStabilityBound) || !strings.Contains(err.Error(), "per-coordinate rate") {
			t.Errorf("%s: StabilityBound error %v, want ErrNoStabilityBound with the reason", name, err)
		}
	}
}
