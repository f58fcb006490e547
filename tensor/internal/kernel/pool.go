package kernel

import (
	"sync/atomic"
	"time"
)

// runShared computes g's chunks on the caller and up to g.helpers workers
// of the one worker pool (internal/parallel), and returns when all are
// done. Chunks are taken first come, first served, so a worker the OS has
// descheduled delays the call by at most the chunk it holds (but by all of
// it: see backoff).
func runShared(g *gemm) {
	st := g.grp.Share(g, g.chunks, g.helpers)
	backoff.observe(st.Total, st.OwnTime, st.Own, g.chunks)
}

// Part computes chunk i of the n = g.chunks chunks of C, for the pool.
func (g *gemm) Part(i, n int) { g.chunk(i) }

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
