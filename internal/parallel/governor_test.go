package parallel

import (
	"runtime"
	"slices"
	"testing"
	"time"
)

// SetSerial(true) runs every part on the caller; the results are those of
// a shared run.
func TestSetSerialRunsOnCaller(t *testing.T) {
	var g Group
	want := make([]int32, 1000)
	for i := range 4 {
		lo, hi := Range(i, 4, len(want), 4)
		for j := lo; j < hi; j++ {
			want[j] = int32(i + 1)
		}
	}
	for _, on := range []bool{true, false} {
		SetSerial(on)
		f := &fill{out: make([]int32, len(want))}
		st := g.Share(f, 4, 3)
		if on && st.Own != 4 {
			t.Errorf("serial: the caller computed %d of 4 parts", st.Own)
		}
		if !slices.Equal(f.out, want) {
			t.Errorf("serial %v: wrong result", on)
		}
	}
	SetSerial(false)
}

// govern runs steps of a Governor whose step times cost(serial) gives,
// and returns the fraction of steps run serially.
func govern(g *Governor, steps int, cost func(serial bool) time.Duration) float64 {
	n := 0
	for range steps {
		if g.serial {
			n++
		}
		g.observe(cost(g.serial), 100)
	}
	return float64(n) / float64(steps)
}

// twoProcs makes GOMAXPROCS at least 2 for the test: the Governor does
// nothing on one.
func twoProcs(t *testing.T) {
	if p := runtime.GOMAXPROCS(0); p < 2 {
		runtime.GOMAXPROCS(2)
		t.Cleanup(func() { runtime.GOMAXPROCS(p) })
	}
}

// stepsUntil runs steps until the Governor has settled (not probing) on
// mode serial, and returns how many it took (-1: not within max).
func stepsUntil(g *Governor, serial bool, max int, cost func(serial bool) time.Duration) int {
	for i := range max {
		if g.serial == serial && g.phase == govSteady {
			return i
		}
		g.observe(cost(g.serial), 100)
	}
	return -1
}

// costs returns step times: sharing takes shared, serial takes alone.
func costs(shared, alone time.Duration) func(bool) time.Duration {
	return func(serial bool) time.Duration {
		if serial {
			return alone
		}
		return shared
	}
}

func TestGovernorKeepsTheFasterMode(t *testing.T) {
	twoProcs(t)
	ms := time.Millisecond
	// The longest wait for a switch: a probe interval and the probe
	// windows, of at most 17 steps each at these costs.
	wait := (govMaxEvery + 3) * 17
	var g Governor
	// Sharing is faster (1 ms against 1.6 ms a step): probes only.
	if f := govern(&g, 20000, costs(ms, 16*ms/10)); f > 0.03 {
		t.Errorf("sharing faster: %.1f%% of steps serial, want ≤ 3%%", 100*f)
	}
	// The cores drift apart: serial is faster (0.6 ms against 1 ms).
	if n := stepsUntil(&g, true, wait, costs(ms, 6*ms/10)); n < 0 {
		t.Fatalf("serial faster: no switch to serial within %d steps", wait)
	}
	if f := govern(&g, 20000, costs(ms, 6*ms/10)); f < 0.97 {
		t.Errorf("serial faster: %.1f%% of steps serial, want ≥ 97%%", 100*f)
	}
	// And back.
	if n := stepsUntil(&g, false, wait, costs(ms/2, ms)); n < 0 {
		t.Fatalf("sharing faster again: no switch back within %d steps", wait)
	}
	// Within the 10 % margin it keeps what it has.
	var h Governor
	if f := govern(&h, 20000, costs(ms, 95*ms/100)); f > 0.03 {
		t.Errorf("5 %% apart: %.1f%% of steps serial, want ≤ 3%%", 100*f)
	}
}

// Two windows a quarter slower than the best in their mode start a probe
// at once, long before the periodic one; when both modes are as slow, the
// Governor does not keep probing.
func TestGovernorProbesWhenSlower(t *testing.T) {
	twoProcs(t)
	ms := time.Millisecond
	var g Governor
	govern(&g, 20000, costs(ms, 16*ms/10)) // probes backed off to every govMaxEvery windows
	if n := stepsUntil(&g, true, 6*17, costs(2*ms, 16*ms/10)); n < 0 {
		t.Fatalf("sharing became 2× slower: no switch to serial within 6 windows")
	}
	var h Governor
	govern(&h, 20000, costs(ms, 16*ms/10))
	if f := govern(&h, 20000, costs(17*ms/10, 16*ms/10)); f > 0.03 {
		t.Errorf("both slow: %.1f%% of steps serial, want ≤ 3%%", 100*f)
	}
}

// Another batch size is compared afresh, not against the old one's times.
func TestGovernorNewBatchSize(t *testing.T) {
	twoProcs(t)
	ms := time.Millisecond
	var g Governor
	for range 5000 {
		g.observe(ms, 100)
	}
	// The B = 1000 steps are 8× slower than the B = 100 ones but no
	// slower than each other: no probe until the periodic one.
	for i := range 500 {
		if g.serial {
			t.Fatalf("B = 100 then 1000: step %d of B = 1000 probed serial", i)
		}
		g.observe(8*ms, 1000)
	}
}

func TestGovernorNeedsTwoProcs(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	var g Governor
	if f := govern(&g, 5000, costs(time.Millisecond, time.Microsecond)); f != 0 {
		t.Errorf("GOMAXPROCS 1: %.1f%% of steps serial, want 0", 100*f)
	}
}

// Start and Done switch the pool for the step only.
func TestGovernorStartDone(t *testing.T) {
	if governorOff {
		t.Skip("FLOWGRAD_GOVERNOR=off")
	}
	g := Governor{serial: true}
	start := g.Start()
	if !serial.Load() {
		t.Error("in a serial step: the pool shares")
	}
	g.Done(start, 100)
	if serial.Load() {
		t.Error("after the step: the pool is still serial")
	}
}
