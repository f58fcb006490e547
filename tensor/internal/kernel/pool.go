package kernel

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// The worker pool: persistent goroutines that help with chunks of Sgemm
// calls. It grows to GOMAXPROCS-1 workers (the caller works too) and never
// shrinks; an idle worker spins briefly (spinPolls), then blocks on the
// channel and costs nothing.
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
// most the chunk it holds (but by all of it: see backoff).
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
	start := time.Now()
	g.gen++
	g.done.Store(0)
	g.state.Store(uint64(g.gen)<<32 | uint64(g.chunks)<<16)
	for h := 0; h < g.helpers; h++ {
		select {
		case pool.jobs <- job{g, g.gen}:
		default: // pool busy with other calls: the caller does more itself
		}
	}
	t0 := time.Now()
	own := g.work(g.gen)
	t1 := time.Now()
	// Wait by polling rather than parking: a parked caller is woken onto
	// the finishing worker's P, where it can sit behind the worker's spin.
	for i := 1; int(g.done.Load()) != g.chunks; i++ {
		if i%64 == 0 {
			runtime.Gosched()
		}
	}
	backoff.observe(time.Since(start), t1.Sub(t0), own, g.chunks)
}

// backoff turns sharing off for a while when it does not pay. On a machine
// whose cores are busy with other processes, helpers often start too late
// to take a chunk (waking one costs microseconds, and its spinning pushes
// the other processes onto the caller's core), or take one and are
// descheduled, making the caller wait for a whole OS time slice: shared
// calls were then measured slower on average than serial ones (XW B=20:
// 77 vs 105 GFLOP/s). So a shared call in which helpers took chunks but
// that was not clearly faster than the caller alone would have been (its
// time per chunk times the chunks) raises the level by one and makes calls
// serial for the next 2, 4, … 128 ms; each shared call that paid lowers
// the level by one, and one that no helper joined (a cold worker, say)
// changes nothing. A bad probe then costs at most a few per cent. Results do not depend on this: any
// cut of C gives the same bits.
var backoff shareBackoff

type shareBackoff struct {
	until atomic.Int64 // calls are serial until this time (Unix ns)
	level atomic.Int32
}

// serialNext reports whether a shareable call should run serially now.
func serialNext() bool {
	u := backoff.until.Load()
	return u != 0 && time.Now().UnixNano() < u
}

// observe records one shared call: its total time, the caller's own
// compute time, the chunks the caller computed and all the chunks.
func (b *shareBackoff) observe(total, own time.Duration, ownChunks, chunks int) {
	if ownChunks == chunks {
		return // no helper arrived in time (say, woken cold): no verdict
	}
	serial := own * time.Duration(chunks) / time.Duration(max(ownChunks, 1))
	if ownChunks > 0 && total*10 > serial*9 {
		lvl := min(b.level.Load()+1, 7)
		b.level.Store(lvl)
		b.until.Store(time.Now().UnixNano() + int64(time.Millisecond)<<lvl)
		return
	}
	if lvl := b.level.Load(); lvl > 0 {
		b.level.Store(lvl - 1)
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
