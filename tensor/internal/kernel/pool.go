package kernel

import (
	"runtime"
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
	g   *gemm
	gen uint32
}

func init() {
	pool.jobs = make(chan job, 256)
}

// runShared computes g's chunks on the caller and up to g.helpers pool
// workers, and returns when all are done. Chunks are taken first come,
// first served, so a worker the OS has descheduled delays the call by at
// most the chunk it holds.
func runShared(g *gemm) {
	need := int32(g.helpers)
	if pool.started.Load() < need {
		pool.mu.Lock()
		for pool.started.Load() < need {
			go worker()
			pool.started.Add(1)
		}
		pool.mu.Unlock()
	}
	g.gen++
	g.done.Store(0)
	g.state.Store(uint64(g.gen)<<32 | uint64(g.chunks)<<16)
	for h := 0; h < g.helpers; h++ {
		select {
		case pool.jobs <- job{g, g.gen}:
		default: // pool busy with other calls: the caller does more itself
		}
	}
	g.work(g.gen)
	// Wait by polling rather than parking: a parked caller is woken onto
	// the finishing worker's P, where it can sit behind the worker's spin.
	for i := 1; int(g.done.Load()) != g.chunks; i++ {
		if i%64 == 0 {
			runtime.Gosched()
		}
	}
}

// spinPolls is how many times an idle worker polls for a job before it
// blocks (about 7 ns a poll, so ~20 µs). Waking a blocked goroutine on
// another P can take as long as a mid-sized product, and training calls
// Sgemm back to back; but on an oversubscribed machine spinning only
// burns the time slice, so the spin is short.
const spinPolls = 3000

func worker() {
	for {
		var j job
		got := false
		for i := 0; i < spinPolls && !got; i++ {
			select {
			case j = <-pool.jobs:
				got = true
			default:
			}
		}
		if !got {
			j = <-pool.jobs
		}
		j.g.work(j.gen)
	}
}
