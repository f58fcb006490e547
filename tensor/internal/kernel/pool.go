package kernel

import (
	"sync"
	"sync/atomic"
)

// The worker pool: persistent goroutines that run parts of Sgemm calls. It
// grows to GOMAXPROCS-1 workers (the caller runs one part itself) and never
// shrinks; idle workers block on the channel and cost nothing.
var pool struct {
	mu      sync.Mutex
	started atomic.Int32
	jobs    chan job
}

type job struct {
	g    *gemm
	part int
}

func init() {
	pool.jobs = make(chan job, 256)
}

// runParts runs g's parts 1… on the pool and part 0 on the caller, and
// returns when all are done.
func runParts(g *gemm) {
	need := int32(g.parts - 1)
	if pool.started.Load() < need {
		pool.mu.Lock()
		for pool.started.Load() < need {
			go worker()
			pool.started.Add(1)
		}
		pool.mu.Unlock()
	}
	g.wg.Add(g.parts - 1)
	for p := 1; p < g.parts; p++ {
		pool.jobs <- job{g, p}
	}
	g.part(0)
	g.wg.Wait()
}

func worker() {
	for j := range pool.jobs {
		j.g.part(j.part)
		j.g.wg.Done()
	}
}
