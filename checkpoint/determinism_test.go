package checkpoint

import (
	"math"
	"runtime"
	"testing"
	"time"

	"github.com/flowgrad/flowgrad/optim"
	"github.com/flowgrad/flowgrad/tensor"
)

// Training is deterministic: the same seed gives bit-identical parameters
// whatever GOMAXPROCS, on the standard model (784-256-256-10, B = 100,
// heavy-ball momentum) over a few hundred steps. This is what makes a run
// reproducible and a resumed run exact on another machine size; it relies
// on the GEMM kernel computing each output element in one fixed order.
func TestDeterministicAcrossGOMAXPROCS(t *testing.T) {
	steps := 300
	if testing.Short() || raceEnabled || tensor.KernelPath() == "generic" {
		steps = 20 // the race detector and the generic kernel are 10–30× slower
	}
	ds := synthetic(t, 11, 2000, 784, 10) // 20 batches of 100 per epoch
	sched := optim.Must(optim.InverseTime(0.05, 100))
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	var runs []*run
	for _, procs := range []int{2, 1, 2} {
		runtime.GOMAXPROCS(procs)
		start := time.Now()
		r := newRun(t, ds, 100, 42, sched, optim.HeavyBall, 784, 256, 256, 10)
		r.steps(t, steps)
		t.Logf("GOMAXPROCS=%d: %d steps in %v", procs, steps, time.Since(start))
		for _, p := range r.model.Params() {
			for _, x := range p.Data().Data() {
				if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
					t.Fatalf("GOMAXPROCS=%d: %s diverged", procs, p.Name())
				}
			}
		}
		runs = append(runs, r)
	}
	sameBits(t, "GOMAXPROCS=1 vs 2", runs[0], runs[1])
	sameBits(t, "GOMAXPROCS=2 twice", runs[0], runs[2])
}
