package optim

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/flowgrad/flowgrad/autograd"
	"github.com/flowgrad/flowgrad/tensor"
)

// quad is the 2-D quadratic L(θ) = ½θᵀHθ with a symmetric H (row-major).
type quad struct{ h [4]float64 }

func (q quad) grad(th []float64) [2]float64 {
	return [2]float64{float64(q.h[0]*th[0]) + float64(q.h[1]*th[1]), float64(q.h[2]*th[0]) + float64(q.h[3]*th[1])}
}

func (q quad) loss(th []float64) float64 {
	g := q.grad(th)
	return (th[0]*g[0] + th[1]*g[1]) / 2
}

// reference runs n steps of form's recurrence on q from th0, written out
// independently of the package, and returns θ after each step. Every
// product that is added is converted, float64(x*y) + z: Go may fuse
// x*y + z into one FMA on arm64, and the conversion forbids it, so the
// recurrence rounds every operation on every architecture.
func reference(q quad, form MomentumForm, rate Schedule, m, wd float64, th0 [2]float64, n int) [][2]float64 {
	th, buf := th0, [2]float64{}
	out := make([][2]float64, n)
	for k := range n {
		eps := rate.Rate(k)
		raw := q.grad(th[:])
		var g [2]float64
		for j := range 2 {
			g[j] = raw[j] + float64(wd*th[j])
		}
		for j := range 2 {
			switch form {
			case None:
				th[j] = th[j] - float64(eps*g[j])
			case EMA: // Δ ← αΔ + (1−α)g; θ ← θ − εΔ
				buf[j] = float64(m*buf[j]) + float64((1-m)*g[j])
				th[j] = th[j] - float64(eps*buf[j])
			case HeavyBall: // v ← μv + g; θ ← θ − εv
				buf[j] = float64(m*buf[j]) + g[j]
				th[j] = th[j] - float64(eps*buf[j])
			case Nesterov: // v ← μv + g; θ ← θ − ε(g + μv)
				buf[j] = float64(m*buf[j]) + g[j]
				th[j] = th[j] - float64(eps*(g[j]+float64(m*buf[j])))
			}
		}
		out[k] = th
	}
	return out
}

// newQuadParam returns θ as a 1×2 parameter holding th0.
func newQuadParam(th0 [2]float64) *autograd.Value[float64] {
	return autograd.NewParam("theta", tensor.FromSlice(1, 2, []float64{th0[0], th0[1]}))
}

// setGrad writes ∇L(θ) = Hθ into p's Grad.
func setGrad(q quad, p *autograd.Value[float64]) {
	g := q.grad(p.Data().Data())
	copy(p.Grad().Data(), g[:])
}

var forms = []MomentumForm{None, EMA, HeavyBall, Nesterov}

func momentumFor(f MomentumForm, m float64) float64 {
	if f == None {
		return 0
	}
	return m
}

func TestTrajectoryMatchesRecurrence(t *testing.T) {
	q := quad{[4]float64{3, 1, 1, 2}} // eigenvalues (5 ± √5)/2
	th0 := [2]float64{1, -2}
	const n = 200
	inv := Must(InverseTime(0.1, 50))
	for _, form := range forms {
		for _, tc := range []struct {
			name  string
			sched Schedule
			wd    float64
		}{
			{"constant", Must(Constant(0.1)), 0},
			{"inverse-time", inv, 0},
			{"weight-decay", Must(Constant(0.1)), 0.05},
		} {
			t.Run(form.String()+"/"+tc.name, func(t *testing.T) {
				m := momentumFor(form, 0.8)
				p := newQuadParam(th0)
				opt, err := NewSGD([]*autograd.Value[float64]{p}, tc.sched, WithMomentum(form, m), WithWeightDecay(tc.wd))
				if err != nil {
					t.Fatal(err)
				}
				want := reference(q, form, tc.sched, m, tc.wd, th0, n)
				for k := range n {
					setGrad(q, p)
					opt.Step()
					got := p.Data().Data()
					for j := range 2 {
						if math.Float64bits(got[j]) != math.Float64bits(want[k][j]) {
							t.Fatalf("step %d: θ[%d] = %v, recurrence gives %v (not the same bits)", k+1, j, got[j], want[k][j])
						}
					}
				}
				if opt.StepCount() != n {
					t.Errorf("StepCount = %d, want %d", opt.StepCount(), n)
				}
			})
		}
	}
}

// TestTrajectoryThroughAutograd takes the gradient from a tape: the loss
// ½θᵀHθ is built as Sum((θ·½H) ⊙ θ), whose gradient θ(½H + ½Hᵀ) = Hθ for
// symmetric H, up to rounding in the sum of the two contributions.
func TestTrajectoryThroughAutograd(t *testing.T) {
	q := quad{[4]float64{3, 1, 1, 2}}
	halfH := tensor.FromSlice(2, 2, []float64{1.5, 0.5, 0.5, 1})
	th0 := [2]float64{1, -2}
	const n = 100
	for _, form := range forms {
		t.Run(form.String(), func(t *testing.T) {
			m := momentumFor(form, 0.7)
			sched := Must(Constant(0.1))
			p := newQuadParam(th0)
			opt, err := NewSGD([]*autograd.Value[float64]{p}, sched, WithMomentum(form, m))
			if err != nil {
				t.Fatal(err)
			}
			want := reference(q, form, sched, m, 0, th0, n)
			tape := autograd.NewTape[float64]()
			worst := 0.0
			for k := range n {
				tape.Reset()
				loss := autograd.Sum(autograd.Mul(autograd.MatMul(p, tape.Input(halfH)), p))
				if l, w := loss.Scalar(), q.loss(p.Data().Data()); math.Abs(l-w) > 1e-14*math.Max(1, math.Abs(w)) {
					t.Fatalf("step %d: tape loss %v, ½θᵀHθ = %v", k, l, w)
				}
				tape.Backward(loss)
				opt.Step()
				for j, got := range p.Data().Data() {
					d := math.Abs(got - want[k][j])
					worst = math.Max(worst, d)
					if d > 1e-12 {
						t.Fatalf("step %d: θ[%d] = %v, recurrence gives %v", k+1, j, got, want[k][j])
					}
				}
			}
			t.Logf("largest |θ − recurrence| over %d steps: %.3g", n, worst)
		})
	}
}

// TestEMAIsRescaledHeavyBall checks EMA at rate ε against HeavyBall with
// the same momentum at rate ε(1−α), under a decaying schedule.
func TestEMAIsRescaledHeavyBall(t *testing.T) {
	q := quad{[4]float64{3, 1, 1, 2}}
	th0 := [2]float64{1, -2}
	const alpha = 0.9
	ema := reference(q, EMA, Must(InverseTime(1, 30)), alpha, 0, th0, 300)
	hb := reference(q, HeavyBall, Must(InverseTime(1-alpha, 30)), alpha, 0, th0, 300)
	for k := range ema {
		for j := range 2 {
			if d := math.Abs(ema[k][j] - hb[k][j]); d > 1e-13 {
				t.Fatalf("step %d: EMA θ[%d] = %v, heavy ball %v", k+1, j, ema[k][j], hb[k][j])
			}
		}
	}
}

// run does up to n steps of form on q at a constant rate and reports
// whether the loss fell below 1e-8 of its start (converged) or rose above
// 1e8 of it (diverged).
func run(t *testing.T, q quad, form MomentumForm, m, rate float64, n int) (converged, diverged bool, steps int) {
	t.Helper()
	th0 := [2]float64{1, 1}
	p := newQuadParam(th0)
	opt, err := NewSGD([]*autograd.Value[float64]{p}, Must(Constant(rate)), WithMomentum(form, m))
	if err != nil {
		t.Fatal(err)
	}
	l0 := q.loss(th0[:])
	for k := range n {
		setGrad(q, p)
		opt.Step()
		l := q.loss(p.Data().Data())
		switch {
		case l < 1e-8*l0:
			return true, false, k + 1
		case !(l < 1e8*l0): // includes NaN and +Inf
			return false, true, k + 1
		}
	}
	return false, false, n
}

// TestStabilityBound checks MaxStableRate on H = diag(1, 10), λmax = 10:
// 1 % below the bound the loss falls, 1 % above it rises.
func TestStabilityBound(t *testing.T) {
	q := quad{[4]float64{1, 0, 0, 10}}
	const lambdaMax = 10
	for _, form := range forms {
		for _, m := range []float64{0, 0.5, 0.9} {
			if form == None && m != 0 {
				continue
			}
			bound := MaxStableRate(form, m, lambdaMax)
			conv, _, sc := run(t, q, form, m, 0.99*bound, 5000)
			_, div, sd := run(t, q, form, m, 1.01*bound, 5000)
			if !conv {
				t.Errorf("%v μ=%v: rate 0.99×%.6g did not converge in %d steps", form, m, bound, sc)
			}
			if !div {
				t.Errorf("%v μ=%v: rate 1.01×%.6g did not diverge in %d steps", form, m, bound, sd)
			}
			t.Logf("%-9v μ=%-3v bound %.6g: 0.99× converged in %d steps, 1.01× diverged in %d", form, m, bound, sc, sd)
		}
	}
}

func TestMaxStableRate(t *testing.T) {
	for _, tc := range []struct {
		form    MomentumForm
		m, want float64
	}{
		{None, 0, 0.2},
		{None, 0.9, 0.2}, // momentum ignored
		{HeavyBall, 0, 0.2},
		{HeavyBall, 0.9, 0.38},
		{EMA, 0, 0.2},
		{EMA, 0.9, 3.8},
		{Nesterov, 0, 0.2},
		{Nesterov, 0.9, 0.38 / 2.8},
	} {
		if got := MaxStableRate(tc.form, tc.m, 10); math.Abs(got-tc.want) > 1e-15 {
			t.Errorf("MaxStableRate(%v, %v, 10) = %v, want %v", tc.form, tc.m, got, tc.want)
		}
	}
	if got := MaxStableRate(HeavyBall, 0.5, 0); !math.IsInf(got, 1) {
		t.Errorf("MaxStableRate with λmax 0 = %v, want +Inf", got)
	}
	mustPanic(t, "momentum 1 outside [0, 1)", func() { MaxStableRate(EMA, 1, 10) })
	mustPanic(t, "unknown momentum form", func() { MaxStableRate(MomentumForm(9), 0, 10) })
}

func mustPanic(t *testing.T, want string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if r == nil {
			t.Errorf("no panic, want one containing %q", want)
			return
		}
		var msg string
		switch r := r.(type) {
		case error:
			msg = r.Error()
		case string:
			msg = r
		}
		if !strings.Contains(msg, want) || !strings.HasPrefix(msg, "optim: ") {
			t.Errorf("panic %q, want one starting with \"optim: \" containing %q", msg, want)
		}
	}()
	f()
}

func TestNewSGDValidation(t *testing.T) {
	params := []*autograd.Value[float64]{newQuadParam([2]float64{1, 1})}
	c := Must(Constant(0.1))
	for _, tc := range []struct {
		sched Schedule
		opts  []Option
		want  string
	}{
		{c, []Option{WithMomentum(EMA, 1.5)}, "optim: momentum 1.5 outside [0, 1)"},
		{c, []Option{WithMomentum(HeavyBall, 1)}, "optim: momentum 1 outside [0, 1)"},
		{c, []Option{WithMomentum(Nesterov, -0.1)}, "optim: momentum -0.1 outside [0, 1)"},
		{c, []Option{WithMomentum(EMA, math.NaN())}, "optim: momentum NaN outside [0, 1)"},
		{c, []Option{WithMomentum(None, 0.9)}, "momentum 0.9 given with form none"},
		{c, []Option{WithMomentum(MomentumForm(7), 0.9)}, "unknown momentum form MomentumForm(7)"},
		{c, []Option{WithWeightDecay(-1e-4)}, "optim: weight decay -0.0001 is negative"},
		{c, []Option{WithWeightDecay(math.Inf(1))}, "optim: weight decay +Inf is not finite"},
		{nil, nil, "nil schedule"},
		{badSchedule(-0.5), nil, "optim: rate -0.5 is negative"},
	} {
		_, err := NewSGD(params, tc.sched, tc.opts...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewSGD(%v, %d options) error %v, want one containing %q", tc.sched, len(tc.opts), err, tc.want)
		}
	}
	// Valid edge cases.
	for _, opts := range [][]Option{
		{WithMomentum(EMA, 0)},
		{WithMomentum(None, 0), WithWeightDecay(0)},
		{WithMomentum(Nesterov, 0.999)},
	} {
		if _, err := NewSGD(params, Must(Constant(0)), opts...); err != nil {
			t.Errorf("valid configuration rejected: %v", err)
		}
	}
}

// badSchedule is a custom schedule that returns a fixed, possibly invalid,
// rate.
type badSchedule float64

func (b badSchedule) Rate(int) float64 { return float64(b) }
func (b badSchedule) String() string   { return "bad" }

func TestNewSGDMisusePanics(t *testing.T) {
	a := newQuadParam([2]float64{1, 1})
	b := newQuadParam([2]float64{2, 2}) // also named "theta"
	c := Must(Constant(0.1))
	mustPanic(t, `two parameters named "theta"`, func() { NewSGD([]*autograd.Value[float64]{a, b}, c) })
	mustPanic(t, "parameter 1 is nil", func() { NewSGD([]*autograd.Value[float64]{a, nil}, c) })
}

func TestStepPanicsOnBadRate(t *testing.T) {
	p := newQuadParam([2]float64{1, 1})
	var s switchable
	s.rate = 0.1
	opt, err := NewSGD([]*autograd.Value[float64]{p}, &s)
	if err != nil {
		t.Fatal(err)
	}
	opt.Step()
	s.rate = math.NaN()
	mustPanic(t, "gave rate NaN at step 1", opt.Step)
	s.rate = -1
	mustPanic(t, "gave rate -1 at step 1", opt.Step)
}

type switchable struct{ rate float64 }

func (s *switchable) Rate(int) float64 { return s.rate }
func (s *switchable) String() string   { return "switchable" }

func TestParseMomentumForm(t *testing.T) {
	for _, f := range forms {
		got, err := ParseMomentumForm(f.String())
		if err != nil || got != f {
			t.Errorf("ParseMomentumForm(%q) = %v, %v", f.String(), got, err)
		}
	}
	if _, err := ParseMomentumForm("adam"); err == nil || !strings.Contains(err.Error(), `"adam"`) {
		t.Errorf("ParseMomentumForm(adam) error %v, want one naming it", err)
	}
	if s := MomentumForm(-1).String(); s != "MomentumForm(-1)" {
		t.Errorf("String of an invalid form = %q", s)
	}
}

func TestRateAndStepCount(t *testing.T) {
	p := newQuadParam([2]float64{1, 1})
	sched := Must(InverseTime(0.5, 10))
	opt, err := NewSGD([]*autograd.Value[float64]{p}, sched, WithMomentum(EMA, 0.9), WithWeightDecay(1e-4))
	if err != nil {
		t.Fatal(err)
	}
	for k := range 25 {
		if opt.StepCount() != k {
			t.Fatalf("StepCount = %d, want %d", opt.StepCount(), k)
		}
		if got, want := opt.Rate(), 0.5*10/(10+float64(k)); got != want {
			t.Fatalf("Rate at k=%d = %v, want %v", k, got, want)
		}
		opt.Step()
	}
	want := "SGD(rate=InverseTime(eps0=0.5, tau=10), momentum=ema 0.9, weight decay=0.0001)"
	if opt.String() != want {
		t.Errorf("String = %q, want %q", opt.String(), want)
	}
}

// TestStateResume stops one optimiser halfway, restores its state into a
// fresh one over copies of the parameters, and checks the two continue
// bit-identically.
func TestStateResume(t *testing.T) {
	q := quad{[4]float64{3, 1, 1, 2}}
	for _, form := range forms {
		t.Run(form.String(), func(t *testing.T) {
			sched := Must(InverseTime(0.2, 5))
			m := momentumFor(form, 0.8)
			a := newQuadParam([2]float64{1, -2})
			optA, _ := NewSGD([]*autograd.Value[float64]{a}, sched, WithMomentum(form, m), WithWeightDecay(0.01))
			for range 10 {
				setGrad(q, a)
				optA.Step()
			}
			st := optA.State()
			if st.Step != 10 || st.Kind != "sgd/"+form.String() || (form == None) != (st.Buffers == nil) {
				t.Fatalf("State = %+v", st)
			}
			b := autograd.NewParam("theta", a.Data().Clone())
			optB, _ := NewSGD([]*autograd.Value[float64]{b}, sched, WithMomentum(form, m), WithWeightDecay(0.01))
			if err := optB.SetState(st); err != nil {
				t.Fatal(err)
			}
			if form != None {
				st.Buffers["theta"][0][0] = 1e9 // State and SetState copy
			}
			for range 20 {
				setGrad(q, a)
				setGrad(q, b)
				optA.Step()
				optB.Step()
			}
			for j := range 2 {
				if a.Data().Data()[j] != b.Data().Data()[j] {
					t.Fatalf("resumed θ = %v, uninterrupted %v", b.Data().Data(), a.Data().Data())
				}
			}
			if optB.StepCount() != 30 {
				t.Errorf("resumed StepCount = %d, want 30", optB.StepCount())
			}
		})
	}
}

func TestSetStateErrors(t *testing.T) {
	p := newQuadParam([2]float64{1, 1})
	opt, _ := NewSGD([]*autograd.Value[float64]{p}, Must(Constant(0.1)), WithMomentum(HeavyBall, 0.9))
	good := opt.State()
	mb := []string{"momentum_buffer"}
	for _, tc := range []struct {
		st   State[float64]
		want string
	}{
		{State[float64]{Kind: "sgd/heavyball", Step: -1, Slots: mb, Buffers: good.Buffers}, "step -1 is negative"},
		{State[float64]{Kind: "sgd/ema", Step: 3, Slots: mb, Buffers: good.Buffers}, `state of a "sgd/ema" optimiser, this one is "sgd/heavyball"`},
		{State[float64]{Kind: "sgd/heavyball", Step: 3, Slots: []string{"exp_avg"}, Buffers: good.Buffers}, `state buffers ["exp_avg"], this SGD keeps ["momentum_buffer"]`},
		{State[float64]{Kind: "sgd/heavyball", Step: 3, Slots: mb}, "buffers for 0 parameters, the optimiser has 1"},
		{State[float64]{Kind: "sgd/heavyball", Step: 3, Slots: mb, Buffers: map[string][][]float64{"fc1.W": {{0, 0}}}}, `no buffer for parameter "theta"`},
		{State[float64]{Kind: "sgd/heavyball", Step: 3, Slots: mb, Buffers: map[string][][]float64{"theta": {{0, 0, 0}}}}, `buffer momentum_buffer of "theta" has 3 elements, parameter has 2`},
		{State[float64]{Kind: "sgd/heavyball", Step: 3, Slots: mb, Buffers: map[string][][]float64{"theta": {{0, 0}, {0, 0}}}}, `parameter "theta" has 2 buffers, want 1`},
		{State[float64]{Kind: "sgd/heavyball", Step: 3, Slots: mb, Buffers: good.Buffers, Plateau: &PlateauState{Scale: 1}}, "the schedule Constant(0.1) is not a Plateau"},
	} {
		err := opt.SetState(tc.st)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("SetState(%+v) error %v, want one containing %q", tc.st, err, tc.want)
		}
		if opt.StepCount() != 0 {
			t.Fatalf("a failed SetState changed the step count to %d", opt.StepCount())
		}
	}
	plain, _ := NewSGD([]*autograd.Value[float64]{p}, Must(Constant(0.1)))
	err := plain.SetState(State[float64]{Kind: "sgd/none", Step: 3, Buffers: map[string][][]float64{"theta": {{0, 0}}}})
	if err == nil || !strings.Contains(err.Error(), "1 buffers for an optimiser without state buffers") {
		t.Errorf("SetState of buffers into form none: error %v", err)
	}
}

// mlpParams returns the parameters of an MLP with the given layer sizes
// (fc1.W, fc1.b, fc2.W, …), with small random weights and gradients.
func mlpParams[T tensor.Float](rng *rand.Rand, sizes []int) []*autograd.Value[T] {
	var ps []*autograd.Value[T]
	fill := func(d *tensor.Dense[T], scale float64) {
		for i := range d.Data() {
			d.Data()[i] = T(scale * rng.NormFloat64())
		}
	}
	for l := 1; l < len(sizes); l++ {
		w := tensor.New[T](sizes[l-1], sizes[l])
		b := tensor.New[T](1, sizes[l])
		fill(w, 0.05)
		for _, p := range []*autograd.Value[T]{
			autograd.NewParam("fc"+string(rune('0'+l))+".W", w),
			autograd.NewParam("fc"+string(rune('0'+l))+".b", b),
		} {
			fill(p.Grad(), 1e-3)
			ps = append(ps, p)
		}
	}
	return ps
}

// BenchmarkStep measures one Step — the update alone — of every optimiser
// over the parameters of the MLP 784-256-256-10 (269,322 float32
// parameters), with weight decay. The MB/s figure counts parameter bytes
// updated per second.
func BenchmarkStep(b *testing.B) {
	for _, name := range optimisers {
		b.Run("784-256-256-10/"+name, func(b *testing.B) {
			ps := mlpParams[float32](rand.New(rand.NewPCG(1, 2)), []int{784, 256, 256, 10})
			n := 0
			for _, p := range ps {
				n += p.Data().Len()
			}
			// A tiny rate keeps the weights finite over many iterations.
			opt, err := newOptimiser(name, ps, Must(Constant(1e-6)), 1e-4)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(n * 4))
			b.ReportAllocs()
			for b.Loop() {
				opt.Step()
			}
		})
	}
}

// TestStepLeavesGradAlone checks that weight decay and momentum do not
// write into the parameters' Grad.
func TestStepLeavesGradAlone(t *testing.T) {
	for _, form := range forms {
		ps := mlpParams[float64](rand.New(rand.NewPCG(3, 4)), []int{4, 3})
		var before [][]float64
		for _, p := range ps {
			before = append(before, append([]float64(nil), p.Grad().Data()...))
		}
		opt, err := NewSGD(ps, Must(Constant(0.1)), WithMomentum(form, momentumFor(form, 0.5)), WithWeightDecay(0.1))
		if err != nil {
			t.Fatal(err)
		}
		opt.Step()
		opt.Step()
		for i, p := range ps {
			for j, g := range p.Grad().Data() {
				if g != before[i][j] {
					t.Fatalf("%v: Step changed %s's Grad[%d] from %v to %v", form, p.Name(), j, before[i][j], g)
				}
			}
		}
	}
}

// TestEMAVersusPyTorchDampening checks the documented difference from
// PyTorch's SGD(momentum=α, dampening=α), whose buffer starts at g₁: fed
// the same gradients, PyTorch's buffer minus Δ is α^k·g₁ after step k.
func TestEMAVersusPyTorchDampening(t *testing.T) {
	const alpha = 0.75 // a power of two apart from 1, so α^k is exact
	p := autograd.NewParam("w", tensor.New[float64](1, 1))
	opt, err := NewSGD([]*autograd.Value[float64]{p}, Must(Constant(0.1)), WithMomentum(EMA, alpha))
	if err != nil {
		t.Fatal(err)
	}
	grads := []float64{2, -1, 0.5, 3, -2, 1, 0.25, -0.5}
	var torchBuf float64
	for k, g := range grads {
		p.Grad().Data()[0] = g
		opt.Step()
		if k == 0 {
			torchBuf = g // PyTorch: buf ← g at the first step
		} else {
			torchBuf = alpha*torchBuf + (1-alpha)*g
		}
		delta := opt.State().Buffers["w"][0][0]
		want := math.Pow(alpha, float64(k+1)) * grads[0]
		if d := torchBuf - delta; math.Abs(d-want) > 1e-15 {
			t.Errorf("step %d: PyTorch buffer − Δ = %v, want α^k·g₁ = %v", k+1, d, want)
		}
	}
}
