// Package parallel is flowgrad's one worker pool: persistent goroutines
// that help with a job's numbered parts, without allocating. The GEMM
// kernels (tensor/internal/kernel) and the memory-bound passes of the
// training step (optimizer updates, bias and activation passes, minibatch
// conversion) all share it.
//
// A job's parts are taken first come, first served, by the calling
// goroutine and by the workers that arrive in time, so a worker the OS has
// descheduled delays a call by at most the part it holds. Results stay
// bitwise identical for every GOMAXPROCS as long as each output element is
// computed by one part in a fixed order and what a part computes depends on
// its number only — the callers' rule: they split by output element, never
// reduce across parts.
//
// Two things make jobs run all their parts on their callers instead: a
// [Governor], when whole training steps run faster that way, and the
// back-off of [Group.Share], for a while after shared calls stop paying
// (as on a machine busy with other processes).
package parallel

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Parter is work divided into parts 0..n−1 that may run concurrently.
type Parter interface {
	Part(i, n int)
}

// Group runs jobs. Keep one per job site (for example in the struct that
// owns the job); the zero value is ready. A Group must not be used by two
// goroutines at once.
type Group struct {
	p Parter
	// state is gen<<32 | parts<<16 | next part, so that a worker arriving
	// late from an earlier call (an older gen) takes nothing.
	state atomic.Uint64
	done  atomic.Int32 // parts finished
	gen   uint32
}

// MaxParts is the most parts a job may have.
const MaxParts = 1<<16 - 1

// The pool: it grows to the most helpers any call asked for (at most
// GOMAXPROCS−1 in practice) and never shrinks. An idle worker polls for
// work for a while (see worker), then blocks on the channel and costs
// nothing.
var pool struct {
	mu      sync.Mutex
	started atomic.Int32
	jobs    chan token
}

// token asks a worker to help with call gen of a Group.
type token struct {
	g   *Group
	gen uint32
}

func init() {
	pool.jobs = make(chan token, 256)
}

// An idle worker polls for its next job for about twice as long as its
// last job took, between minSpin and maxSpin, and then blocks. Waking a
// blocked goroutine on another P can take as long as a mid-sized product,
// and training calls back to back with gaps (the update, the small layers)
// of tens to hundreds of microseconds; polling through them pays when the
// jobs are large, and costs at most twice their time in idle polling. With
// small jobs the spin stays short, so an oversubscribed machine loses
// little. Measured on the 2-core Zen 4 VM (train.BenchmarkTrainStep,
// -cpu 2, quiet): a fixed 20 µs spin let the worker fall asleep between the
// B = 100 step's products (88 000–97 000 examples/s); a fixed ~280 µs spin
// gave 132 000 there but cost B = 10 about 10 % (49 500 against 54 000–
// 61 000), where it keeps the worker polling through the update.
const (
	minSpin = 20 * time.Microsecond
	maxSpin = 500 * time.Microsecond
)

func worker() {
	spin := minSpin
	for {
		var t token
		got := false
		deadline := time.Now().Add(spin)
		for i := 1; !got; i++ {
			select {
			case t = <-pool.jobs:
				got = true
			default:
				if i%64 == 0 && time.Now().After(deadline) {
					t, got = <-pool.jobs, true
				}
			}
		}
		start := time.Now()
		t.g.work(t.gen)
		spin = min(max(2*time.Since(start), minSpin), maxSpin)
	}
}

// Run calls p.Part(i, parts) for every i in [0, parts), on the calling
// goroutine and up to parts−1 pool workers, and returns when all are done.
// With parts ≤ 1 it just calls p.Part(0, 1). A Part must not call Run or
// Share. It panics if parts > MaxParts.
func (g *Group) Run(p Parter, parts int) {
	if parts <= 1 {
		p.Part(0, 1)
		return
	}
	g.share(p, parts, parts-1, false)
}

// Stats describes one Share call.
type Stats struct {
	Own     int           // parts the caller computed
	OwnTime time.Duration // the caller's time computing them
	Total   time.Duration // the whole call
}

// Share is Run with at most helpers pool workers (helpers < parts − 1
// leaves several parts to each, which lets the caller absorb a helper that
// starts late), and reports how the call went. The call is scored for the
// back-off, which pauses sharing for a while when shared calls do not pay
// (see [ResumeSharing]). It panics if parts is not in [1, MaxParts].
func (g *Group) Share(p Parter, parts, helpers int) Stats {
	st := g.share(p, parts, helpers, true)
	backoff.observe(st.Total, st.OwnTime, st.Own, parts)
	return st
}

func (g *Group) share(p Parter, parts, helpers int, timed bool) (st Stats) {
	if parts < 1 || parts > MaxParts {
		panic("parallel: parts out of range")
	}
	helpers = min(helpers, parts-1)
	if serial.Load() || backoff.paused() {
		helpers = 0
	}
	if need := int32(helpers); pool.started.Load() < need {
		pool.mu.Lock()
		for pool.started.Load() < need {
			go worker()
			pool.started.Add(1)
		}
		pool.mu.Unlock()
	}
	var start time.Time
	if timed {
		start = time.Now()
	}
	g.p = p
	g.gen++
	g.done.Store(0)
	g.state.Store(uint64(g.gen)<<32 | uint64(parts)<<16)
	for h := 0; h < helpers; h++ {
		select {
		case pool.jobs <- token{g, g.gen}:
		default: // pool busy with other calls: the caller does more itself
		}
	}
	var t0 time.Time
	if timed {
		t0 = time.Now()
	}
	st.Own = g.work(g.gen)
	if timed {
		st.OwnTime = time.Since(t0)
	}
	// Wait by polling rather than parking: a parked caller is woken onto
	// the finishing worker's P, where it can sit behind the worker's spin.
	for i := 1; int(g.done.Load()) != parts; i++ {
		if i%64 == 0 {
			runtime.Gosched()
		}
	}
	g.p = nil
	if timed {
		st.Total = time.Since(start)
	}
	return st
}

// work takes and computes parts of call gen until none is left, and
// returns how many it computed.
func (g *Group) work(gen uint32) (n int) {
	for {
		v := g.state.Load()
		next, parts := int(v&0xffff), int(v>>16&0xffff)
		if uint32(v>>32) != gen || next >= parts {
			return n
		}
		if g.state.CompareAndSwap(v, v+1) {
			g.p.Part(next, parts)
			g.done.Add(1)
			n++
		}
	}
}

// serial makes every job run all its parts on the calling goroutine.
var serial atomic.Bool

// SetSerial makes every job run all its parts on its calling goroutine
// (on) or share them with the pool's workers as usual (off, the default).
// Results do not change: what a part computes depends on its number only
// (the callers' rule above). A [Governor] sets it from measured times.
func SetSerial(on bool) { serial.Store(on) }

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

// Row halves. A training step at small batch sizes (B ≤ 16) is too short
// for its products to be shared the usual way: each product cut anew
// sends half of a weight, its gradient and its momentum buffer from one
// core's cache to the other's every step, which cost more than the second
// core gave (docs/benchmarks.md). Instead each large weight is cut once,
// by rows, into two halves, and every pass over it keeps to them: the
// forward product sums each half of K on its own core, the weight gradient
// and the input gradient are cut at the same row, and the optimiser
// updates each half where it was computed. Then only the small activations
// and gradients of the batch cross between the cores.
const (
	// HalvesMinElems is the least rows·cols of a weight cut into halves.
	HalvesMinElems = 1 << 15
	// HalvesMinRows is the least rows of a weight cut into halves.
	HalvesMinRows = 64
	// HalvesMaxBatch is the most rows of the minibatch side of a product
	// (B) for which the products follow the halves.
	HalvesMaxBatch = 16
)

// RowHalves reports whether a rows×cols weight is cut into row halves (see
// above), and where: rows [0, cut) are the first core's and [cut, rows)
// the second's. The cut depends on the shape only (it is about rows/2,
// rounded up to a multiple of 16, so that where a product splits K at the
// cut the second half starts 64 bytes into a float32 row, aligned as the
// first); it never depends on GOMAXPROCS.
func RowHalves(rows, cols int) (cut int, ok bool) {
	if rows < HalvesMinRows || rows*cols < HalvesMinElems {
		return 0, false
	}
	return min(rows, (rows/2+15)&^15), true
}
