package optim

import (
	"math"
	"strings"
	"testing"

	"github.com/flowgrad/flowgrad/autograd"
	"github.com/flowgrad/flowgrad/tensor"
)

func TestPlateau(t *testing.T) {
	inner := Must(InverseTime(0.1, 10))
	pl, err := NewPlateau(inner, PlateauConfig{Factor: 0.5, Patience: 2, Threshold: 0.01, MinScale: 0.2})
	if err != nil {
		t.Fatal(err)
	}
	// metric, reduced?, scale after
	for i, c := range []struct {
		metric  float64
		reduced bool
		scale   float64
	}{
		{1.0, false, 1},    // first: improves on +Inf
		{0.995, false, 1},  // < 1% better: bad 1
		{0.999, false, 1},  // bad 2
		{0.998, true, 0.5}, // bad 3 > patience 2: reduce, count restarts
		{0.5, false, 0.5},  // improves
		{math.NaN(), false, 0.5},
		{0.6, false, 0.5},
		{0.7, true, 0.25},
		{0.7, false, 0.25},
		{0.7, false, 0.25},
		{0.7, true, 0.2}, // not below MinScale
		{0.7, false, 0.2},
		{0.7, false, 0.2},
		{0.7, false, 0.2}, // at the floor: no further reduction reported
	} {
		if got := pl.Observe(c.metric); got != c.reduced || pl.State().Scale != c.scale {
			t.Fatalf("observation %d (%v): reduced %v scale %v, want %v %v", i, c.metric, got, pl.State().Scale, c.reduced, c.scale)
		}
		for _, k := range []int{0, 7, 100} {
			if got, want := pl.Rate(k), c.scale*inner.Rate(k); got != want {
				t.Fatalf("Rate(%d) = %v, want scale × inner = %v", k, got, want)
			}
		}
	}
	st := pl.State()
	if st.Best != 0.5 || st.Bad != 0 { // the count restarts at a (floored) reduction
		t.Errorf("state %+v", st)
	}
	// Restoring a state into a fresh Plateau continues it.
	fresh, _ := NewPlateau(Must(InverseTime(0.1, 10)), PlateauConfig{Factor: 0.5, Patience: 2, Threshold: 0.01, MinScale: 0.2})
	if err := fresh.SetState(st); err != nil || fresh.Rate(3) != pl.Rate(3) {
		t.Fatalf("SetState: %v, rate %v want %v", err, fresh.Rate(3), pl.Rate(3))
	}
	for _, bad := range []struct {
		st   PlateauState
		want string
	}{
		{PlateauState{Scale: 0, Best: 1}, "scale 0 outside (0, 1]"},
		{PlateauState{Scale: 2, Best: 1}, "scale 2 outside (0, 1]"},
		{PlateauState{Scale: 1, Best: math.NaN()}, "best metric is NaN"},
		{PlateauState{Scale: 1, Best: 1, Bad: -1}, "-1 bad observations"},
	} {
		if err := fresh.SetState(bad.st); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("SetState(%+v): %v, want %q", bad.st, err, bad.want)
		}
	}
	if fresh.State() != st {
		t.Errorf("a refused SetState changed the state to %+v", fresh.State())
	}
}

func TestPlateauMaximize(t *testing.T) {
	pl, _ := NewPlateau(Must(Constant(1)), PlateauConfig{Factor: 0.1, Maximize: true})
	pl.Observe(0.9)
	if pl.Observe(0.95) || pl.Rate(0) != 1 {
		t.Fatal("a higher accuracy counted as no improvement")
	}
	if !pl.Observe(0.94) || math.Abs(pl.Rate(0)-0.1) > 1e-16 {
		t.Fatalf("a lower accuracy with patience 0 did not reduce: rate %v", pl.Rate(0))
	}
}

func TestPlateauValidation(t *testing.T) {
	c := Must(Constant(1))
	for _, tc := range []struct {
		next Schedule
		cfg  PlateauConfig
		want string
	}{
		{nil, PlateauConfig{Factor: 0.5}, "next schedule is nil"},
		{c, PlateauConfig{}, "factor 0 outside (0, 1)"},
		{c, PlateauConfig{Factor: 1}, "factor 1 outside (0, 1)"},
		{c, PlateauConfig{Factor: 0.5, Patience: -1}, "patience -1 is negative"},
		{c, PlateauConfig{Factor: 0.5, Threshold: -0.1}, "threshold -0.1 is negative"},
		{c, PlateauConfig{Factor: 0.5, MinScale: 1.5}, "min scale 1.5 outside [0, 1]"},
	} {
		if _, err := NewPlateau(tc.next, tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewPlateau(%+v): %v, want %q", tc.cfg, err, tc.want)
		}
	}
}

// An optimiser over a Plateau asks it for the rate at every step, and its
// State carries the Plateau's state.
func TestOptimizerUsesPlateau(t *testing.T) {
	pl, _ := NewPlateau(Must(Constant(0.1)), PlateauConfig{Factor: 0.5})
	p := newQuadParam([2]float64{1, 1})
	opt, err := NewAdam([]*autograd.Value[float64]{p}, pl)
	if err != nil {
		t.Fatal(err)
	}
	pl.Observe(1)
	pl.Observe(2)
	if opt.Rate() != 0.05 {
		t.Fatalf("Rate = %v after a reduction, want 0.05", opt.Rate())
	}
	if st := opt.State(); st.Plateau == nil || *st.Plateau != pl.State() {
		t.Fatalf("State().Plateau = %+v, want %+v", st.Plateau, pl.State())
	}
}

func gradParams(gs ...[]float32) []*autograd.Value[float32] {
	var ps []*autograd.Value[float32]
	for i, g := range gs {
		p := autograd.NewParam(string(rune('a'+i)), tensor.New[float32](1, len(g)))
		copy(p.Grad().Data(), g)
		ps = append(ps, p)
	}
	return ps
}

func TestClipGlobalNorm(t *testing.T) {
	ps := gradParams([]float32{3, 0}, []float32{0, -4, 0}) // ‖g‖ = 5
	if n := ClipGlobalNorm(ps, 10); n != 5 || ps[0].Grad().Data()[0] != 3 {
		t.Fatalf("below the limit: norm %v, grad %v (want 5, unchanged)", n, ps[0].Grad().Data())
	}
	if n := ClipGlobalNorm(ps, 1); n != 5 {
		t.Fatalf("norm before clipping = %v, want 5", n)
	}
	if a, b := ps[0].Grad().Data()[0], ps[1].Grad().Data()[1]; a != 0.6 || b != -0.8 {
		t.Fatalf("clipped to %v, %v, want 0.6, -0.8 (the direction kept)", a, b)
	}
	if n := ClipGlobalNorm(ps, 1); math.Abs(n-1) > 1e-6 {
		t.Fatalf("norm after clipping = %v, want 1", n)
	}
	inf := gradParams([]float32{float32(math.Inf(1)), 1})
	if n := ClipGlobalNorm(inf, 1); !math.IsInf(n, 1) || inf[0].Grad().Data()[1] != 1 {
		t.Fatalf("infinite norm: %v, grads %v (want +Inf, unchanged)", n, inf[0].Grad().Data())
	}
	mustPanic(t, "max norm 0 must be finite and > 0", func() { ClipGlobalNorm(ps, 0) })
	if a := testing.AllocsPerRun(10, func() { ClipGlobalNorm(ps, 0.5) }); a != 0 {
		t.Errorf("ClipGlobalNorm allocates %v times", a)
	}
}

func TestClipValue(t *testing.T) {
	ps := gradParams([]float32{3, -0.5, -7, float32(math.NaN())})
	ClipValue(ps, 1)
	g := ps[0].Grad().Data()
	if g[0] != 1 || g[1] != -0.5 || g[2] != -1 || !math.IsNaN(float64(g[3])) {
		t.Fatalf("clipped to %v, want [1 -0.5 -1 NaN]", g)
	}
	mustPanic(t, "limit NaN must be finite and > 0", func() { ClipValue(ps, math.NaN()) })
}
