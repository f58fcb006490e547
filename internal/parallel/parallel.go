// Package parallel runs a job's numbered parts on a persistent pool of
// worker goroutines, without allocating, so that memory-bound passes of the
// training step (optimizer updates, bias and activation passes, minibatch
// conversion) can use every core.
//
// Results stay bitwise identical for every GOMAXPROCS as long as each output
// element is computed by one part in a fixed order — the callers' rule: they
// split by output element, never reduce across parts.
package parallel

import (
	"runtime"
	"sync"
)

// Parter is work divided into parts 0..n−1 that may run concurrently.
type Parter interface {
	Part(i, n int)
}

// Group runs jobs. Keep one per job site (for example in the struct that
// owns the job); the zero value is ready. A Group must not be used by two
// goroutines at once.
type Group struct {
	wg sync.WaitGroup
}

type task struct {
	p    Parter
	i, n int
	g    *Group
}

var (
	mu      sync.Mutex
	workers int
	tasks   = make(chan task, 64)
)

// Run calls p.Part(i, parts) for i in [0, parts): part 0 on the calling
// goroutine, the others on pool workers, and returns when all are done.
// With parts ≤ 1 it just calls p.Part(0, 1). A Part must not call Run.
func (g *Group) Run(p Parter, parts int) {
	if parts <= 1 {
		p.Part(0, 1)
		return
	}
	ensureWorkers(parts - 1)
	g.wg.Add(parts - 1)
	for i := 1; i < parts; i++ {
		tasks <- task{p, i, parts, g}
	}
	p.Part(0, parts)
	g.wg.Wait()
}

func ensureWorkers(n int) {
	mu.Lock()
	for workers < n {
		workers++
		go func() {
			for t := range tasks {
				t.p.Part(t.i, t.n)
				t.g.wg.Done()
			}
		}()
	}
	mu.Unlock()
}

// Parts returns how many parts to split work of size n into so that each
// has at least minPerPart units: between 1 and GOMAXPROCS.
func Parts(n, minPerPart int) int {
	p := runtime.GOMAXPROCS(0)
	if minPerPart > 0 {
		p = min(p, n/minPerPart)
	}
	return max(p, 1)
}

// Range returns part i of n of [0, size), in units of align (the last part
// takes the remainder): parts differ in size by at most align.
func Range(i, n, size, align int) (lo, hi int) {
	units := (size + align - 1) / align
	lo = min(i*units/n*align, size)
	hi = min((i+1)*units/n*align, size)
	return lo, hi
}
