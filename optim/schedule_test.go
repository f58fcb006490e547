package optim

import (
	"math"
	"strings"
	"testing"
)

func TestInverseTimeIsTheFormula(t *testing.T) {
	for _, tc := range []struct{ eps0, tau float64 }{{0.05, 5000}, {1, 1}, {0.3, 0.5}, {0, 7}} {
		s := Must(InverseTime(tc.eps0, tc.tau))
		for _, k := range []int{0, 1, 2, 3, 10, 99, 1000, 5000, 123456, 1 << 40} {
			want := tc.eps0 * tc.tau / (tc.tau + float64(k))
			if got := s.Rate(k); got != want {
				t.Errorf("%v.Rate(%d) = %v, want ε0·τ/(τ+k) = %v", s, k, got, want)
			}
		}
	}
	// Round values: ε0 at k = 0, ε0/2 at k = τ, ε0/4 at k = 3τ.
	s := Must(InverseTime(0.1, 100))
	checkRates(t, s, map[int]float64{0: 0.1, 100: 0.05, 300: 0.025, 900: 0.01})
}

// checkRates compares s.Rate(k) with want[k] to 1e-15 (relative).
func checkRates(t *testing.T, s Schedule, want map[int]float64) {
	t.Helper()
	for k, w := range want {
		if got := s.Rate(k); math.Abs(got-w) > 1e-15*math.Max(1, math.Abs(w)) {
			t.Errorf("%v.Rate(%d) = %v, want %v", s, k, got, w)
		}
	}
}

func TestScheduleValues(t *testing.T) {
	checkRates(t, Must(Constant(0.05)), map[int]float64{0: 0.05, 1: 0.05, 1e6: 0.05})
	checkRates(t, Must(StepDecay(1, 0.5, 10)), map[int]float64{
		0: 1, 9: 1, 10: 0.5, 19: 0.5, 20: 0.25, 25: 0.25, 100: 1.0 / 1024,
	})
	checkRates(t, Must(StepDecay(0.2, 1, 3)), map[int]float64{0: 0.2, 1000: 0.2})
	checkRates(t, Must(Exponential(2, 0.5)), map[int]float64{0: 2, 1: 1, 3: 0.25, 10: 2.0 / 1024})
	checkRates(t, Must(Exponential(0.1, 0.99)), map[int]float64{100: 0.1 * math.Pow(0.99, 100)})
	checkRates(t, Must(Cosine(1, 0.1, 100)), map[int]float64{
		0: 1, 50: 0.55, 100: 0.1, 101: 0.1, 1e6: 0.1,
		25: 0.1 + 0.9*(1+math.Sqrt2/2)/2,
		75: 0.1 + 0.9*(1-math.Sqrt2/2)/2,
	})
	checkRates(t, Must(Cosine(0.5, 0, 4)), map[int]float64{0: 0.5, 2: 0.25, 4: 0})

	// Cosine decreases monotonically from ε0 to the floor.
	c := Must(Cosine(0.3, 0.01, 1000))
	for k := 1; k <= 1000; k++ {
		if c.Rate(k) > c.Rate(k-1) {
			t.Fatalf("Cosine rises at k=%d: %v > %v", k, c.Rate(k), c.Rate(k-1))
		}
	}
}

func TestWarmup(t *testing.T) {
	// A ramp of n equal increments that joins next at its start.
	checkRates(t, Must(Warmup(4, Must(Constant(1)))), map[int]float64{
		0: 0.2, 1: 0.4, 2: 0.6, 3: 0.8, 4: 1, 5: 1, 1000: 1,
	})
	// next is shifted by n: ε_k = next.Rate(k−n) for k ≥ n.
	inv := Must(InverseTime(0.1, 10))
	w := Must(Warmup(3, inv))
	checkRates(t, w, map[int]float64{0: 0.025, 1: 0.05, 2: 0.075, 3: 0.1, 13: 0.05, 33: 0.025})
	for k := 3; k < 100; k++ {
		if w.Rate(k) != inv.Rate(k-3) {
			t.Fatalf("Warmup(3, %v).Rate(%d) = %v, want next.Rate(%d) = %v", inv, k, w.Rate(k), k-3, inv.Rate(k-3))
		}
	}
	// Composition: warm-up into cosine, and nested warm-ups.
	cw := Must(Warmup(10, Must(Cosine(0.2, 0, 90))))
	checkRates(t, cw, map[int]float64{0: 0.2 / 11, 9: 0.2 * 10 / 11, 10: 0.2, 55: 0.1, 100: 0, 200: 0})
	ww := Must(Warmup(1, Must(Warmup(1, Must(Constant(1))))))
	checkRates(t, ww, map[int]float64{0: 0.25, 1: 0.5, 2: 1})
	// Warmup(0, s) is s.
	if s := Must(Warmup(0, inv)); s != inv {
		t.Errorf("Warmup(0, s) = %v, want s", s)
	}
}

func TestScheduleStrings(t *testing.T) {
	for _, tc := range []struct {
		s    Schedule
		want string
	}{
		{Must(Constant(0.05)), "Constant(0.05)"},
		{Must(InverseTime(0.05, 5000)), "InverseTime(eps0=0.05, tau=5000)"},
		{Must(StepDecay(0.1, 0.5, 1000)), "StepDecay(eps0=0.1, gamma=0.5, every=1000)"},
		{Must(Exponential(0.1, 0.999)), "Exponential(eps0=0.1, gamma=0.999)"},
		{Must(Cosine(0.1, 0.001, 10000)), "Cosine(eps0=0.1, floor=0.001, steps=10000)"},
		{Must(Warmup(100, Must(Constant(0.1)))), "Warmup(100, Constant(0.1))"},
	} {
		if got := tc.s.String(); got != tc.want {
			t.Errorf("String = %q, want %q", got, tc.want)
		}
	}
}

func TestScheduleValidation(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	c := Must(Constant(0.1))
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"Constant(-0.1)", second(Constant(-0.1)), "optim: rate -0.1 is negative"},
		{"Constant(NaN)", second(Constant(nan)), "optim: rate NaN is not finite"},
		{"Constant(+Inf)", second(Constant(inf)), "optim: rate +Inf is not finite"},
		{"InverseTime eps0", second(InverseTime(-1, 10)), "InverseTime: eps0 -1 is negative"},
		{"InverseTime tau 0", second(InverseTime(0.1, 0)), "InverseTime: tau 0 must be finite and > 0"},
		{"InverseTime tau -5", second(InverseTime(0.1, -5)), "tau -5 must be"},
		{"InverseTime tau NaN", second(InverseTime(0.1, nan)), "tau NaN must be"},
		{"InverseTime tau Inf", second(InverseTime(0.1, inf)), "tau +Inf must be"},
		{"StepDecay eps0", second(StepDecay(nan, 0.5, 10)), "StepDecay: eps0 NaN is not finite"},
		{"StepDecay gamma 1.5", second(StepDecay(0.1, 1.5, 10)), "StepDecay: gamma 1.5 outside (0, 1]"},
		{"StepDecay gamma 0", second(StepDecay(0.1, 0, 10)), "gamma 0 outside (0, 1]"},
		{"StepDecay every 0", second(StepDecay(0.1, 0.5, 0)), "StepDecay: every 0 must be ≥ 1"},
		{"Exponential gamma", second(Exponential(0.1, -0.5)), "Exponential: gamma -0.5 outside (0, 1]"},
		{"Exponential gamma NaN", second(Exponential(0.1, nan)), "gamma NaN outside"},
		{"Exponential eps0", second(Exponential(-2, 0.5)), "Exponential: eps0 -2 is negative"},
		{"Cosine eps0", second(Cosine(inf, 0, 10)), "Cosine: eps0 +Inf is not finite"},
		{"Cosine floor", second(Cosine(0.1, -0.01, 10)), "Cosine: floor -0.01 is negative"},
		{"Cosine floor > eps0", second(Cosine(0.1, 0.2, 10)), "Cosine: floor 0.2 above eps0 0.1"},
		{"Cosine steps", second(Cosine(0.1, 0, 0)), "Cosine: steps 0 must be ≥ 1"},
		{"Warmup n", second(Warmup(-3, c)), "Warmup: n -3 is negative"},
		{"Warmup nil", second(Warmup(5, nil)), "Warmup: next schedule is nil"},
	} {
		if tc.err == nil || !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, tc.err, tc.want)
		}
	}
	mustPanic(t, "tau 0 must be", func() { Must(InverseTime(0.1, 0)) })
}

func second(_ Schedule, err error) error { return err }
