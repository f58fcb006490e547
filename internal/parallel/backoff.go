package parallel

import (
	"sync/atomic"
	"time"
)

// backoff turns sharing off for a while when it does not pay. On a machine
// whose cores are busy with other processes, helpers often start too late
// to take a part (waking one costs microseconds, and its spinning pushes
// the other processes onto the caller's core), or take one and are
// descheduled, making the caller wait for a whole OS time slice: shared
// GEMM calls were then measured slower on average than serial ones (XW
// B=20: 77 vs 105 GFLOP/s at load average 7–17). So each [Group.Share]
// call that a helper joined is scored by its speed-up, the time the caller
// alone would have taken (its time per part times the parts) over the
// call's time, and the score's moving average (over about eight calls)
// decides: below minGain, every job runs on its caller for the next 2, 4,
// … 128 ms, and the probes after that pause start from a neutral average.
// A single late helper on a quiet machine (a worker woken from sleep, say)
// therefore does not stop sharing: that cost 18 % of the step at B = 100
// on a quiet machine (85 000 against 103 000 examples/s). A call that no
// helper joined changes nothing. Results do not depend on this (the
// callers' rule in the package comment).
//
// It complements the [Governor], which compares whole training steps run
// shared and serial; the back-off reacts within milliseconds to the
// products' own timings.
var backoff = newShareBackoff()

// Speed-ups are kept in fixed point, gainOne = 1×.
const (
	gainOne     = 1024
	minGain     = gainOne * 11 / 10 // sharing must average at least 1.1×
	neutralGain = gainOne * 13 / 10 // the average a fresh probe starts from
	maxGain     = 4 * gainOne       // one call's score is capped here
)

type shareBackoff struct {
	until atomic.Int64 // jobs run on their callers until this time (Unix ns)
	level atomic.Int32
	gain  atomic.Int32 // moving average of shared calls' speed-ups (gainOne = 1×)
}

func newShareBackoff() *shareBackoff {
	b := new(shareBackoff)
	b.gain.Store(neutralGain)
	return b
}

// paused reports whether jobs should run on their callers now.
func (b *shareBackoff) paused() bool {
	u := b.until.Load()
	return u != 0 && time.Now().UnixNano() < u
}

// ResumeSharing ends a pause of sharing that the back-off started (it
// pauses when shared calls do not pay, as on a machine busy with other
// processes). For tests and benchmarks that must exercise the shared path.
func ResumeSharing() { backoff.until.Store(0) }

// observe records one shared call: its total time, the caller's own
// compute time, the parts the caller computed and all the parts. Calls
// may race; a lost update of the average only delays a verdict.
func (b *shareBackoff) observe(total, own time.Duration, ownParts, parts int) {
	if ownParts == parts {
		return // no helper arrived in time (say, woken cold): no verdict
	}
	score := int64(maxGain) // the helpers did everything: sharing paid
	if ownParts > 0 && total > 0 {
		serial := own * time.Duration(parts) / time.Duration(ownParts)
		score = min(int64(maxGain), int64(serial)*gainOne/int64(total))
	}
	g := b.gain.Load()
	g += (int32(score) - g) / 8
	if g < minGain {
		lvl := min(b.level.Load()+1, 7)
		b.level.Store(lvl)
		b.gain.Store(neutralGain)
		b.until.Store(time.Now().UnixNano() + int64(time.Millisecond)<<lvl)
		return
	}
	b.gain.Store(g)
	if lvl := b.level.Load(); lvl > 0 && score >= minGain {
		b.level.Store(lvl - 1)
	}
}
