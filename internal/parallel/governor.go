package parallel

import (
	"os"
	"runtime"
	"time"
)

// Governor decides, from the measured times of a repeated piece of work
// (a training step), whether the pool's jobs in it share their parts
// between the cores or run them all on the calling goroutine.
//
// Sharing a step between cores pays only while the cores pass data to
// each other quickly. On the project's 2-vCPU VM the host now and then
// places the two vCPUs far apart for seconds to minutes: a cache line's
// round trip between them grows from about 100 ns to 500–600 ns, two
// independent threads still run at twice one thread's speed, but a shared
// training step — whose cores hand activations, gradients and halves of
// weights to each other — runs at one core's speed or below (MNIST demo:
// 3.6 s of training against 2.4 s on one core and 1.7 s in the fast
// phase). Nothing inside one job can tell: each still speeds up, and the
// cost lands on the next pass that reads what the other core wrote.
//
// So a Governor times windows of steps (each at least 10 ms and 2 steps)
// and now and then runs one window the other way (a probe), keeping the
// other mode if it was at least a tenth faster. It probes at once when
// two windows in a row in the current mode are a quarter slower than the
// best window in that mode since the last switch (the machine changed),
// and otherwise every 32 windows, backing off to every 512 while the
// current mode keeps winning: on a steady machine about one window in 500
// runs the slower way. Before each probe window, and after it when the Governor goes
// back, one short window (1 ms and 2 steps) is not scored while the caches
// follow the new split. A change in the rows per step (another batch
// size) starts the comparison afresh. The Governor does nothing with
// GOMAXPROCS < 2, or when the environment variable FLOWGRAD_GOVERNOR is
// "off" (jobs then always share, as before).
//
// Use: start := g.Start(); the step; g.Done(start, rows). Between Start
// and Done the pool follows the Governor's choice ([SetSerial]); Done
// turns sharing back on, so work outside the steps (evaluation, other
// code) is not affected. Results never depend on the choice. The zero
// value is ready; a Governor must not be used by two goroutines at once,
// and one goroutine at a time should run governed steps (the switch is
// process-wide while a step runs).
type Governor struct {
	serial bool          // the mode in use: jobs run serially
	rows   int           // rows per step of the windows compared
	sum    time.Duration // of the current window's steps
	steps  int
	phase  govPhase
	best   time.Duration // per step: the best scored window in the mode in use (0: none yet)
	ref    time.Duration // per step: the last scored window in the mode in use
	scored int           // windows scored in the mode in use since the last probe
	slower int           // consecutive scored windows a quarter slower than best
	every  int           // windows between periodic probes (0: govFirstEvery)
}

type govPhase int

const (
	govSteady    govPhase = iota // scoring windows in the mode in use
	govWarmProbe                 // first window in the other mode: not scored
	govProbe                     // the probe window
	govWarmBack                  // first window back in the mode in use: not scored
)

const (
	govWindow     = 10 * time.Millisecond
	govMinSteps   = 2
	govWarm       = time.Millisecond // a warm-up window, not scored
	govWarmSteps  = 2
	govFirstEvery = 32
	govMaxEvery   = 512
)

// governorOff is FLOWGRAD_GOVERNOR=off, read once.
var governorOff = os.Getenv("FLOWGRAD_GOVERNOR") == "off"

// Start applies the Governor's choice to the pool for one step and
// returns the step's start time, for Done.
func (g *Governor) Start() time.Time {
	if governorOff {
		return time.Time{}
	}
	SetSerial(g.serial)
	return time.Now()
}

// Done ends the step that Start began, a step over rows examples: it turns
// sharing back on, records the step's time and, at the end of a window,
// may change the choice.
func (g *Governor) Done(start time.Time, rows int) {
	if governorOff {
		return
	}
	SetSerial(false)
	g.observe(time.Since(start), rows)
}

// observe records one step of rows examples that took d.
func (g *Governor) observe(d time.Duration, rows int) {
	if rows != g.rows { // another batch size: compare afresh
		if g.phase == govWarmProbe || g.phase == govProbe {
			g.serial = !g.serial // abandon the probe
		}
		*g = Governor{serial: g.serial, rows: rows, every: g.every}
	}
	g.sum += d
	g.steps++
	if g.phase == govWarmProbe || g.phase == govWarmBack {
		if g.sum < govWarm || g.steps < govWarmSteps {
			return
		}
	} else if g.sum < govWindow || g.steps < govMinSteps {
		return
	}
	per := g.sum / time.Duration(g.steps)
	g.sum, g.steps = 0, 0
	if g.every == 0 {
		g.every = govFirstEvery
	}
	switch g.phase {
	case govSteady:
		g.ref = per
		if g.best == 0 || per < g.best {
			g.best = per
		}
		g.scored++
		if per > g.best*5/4 {
			g.slower++
		} else {
			g.slower = 0
		}
		if (g.slower >= 2 || g.scored >= g.every) && runtime.GOMAXPROCS(0) >= 2 {
			g.serial = !g.serial
			g.phase, g.scored, g.slower = govWarmProbe, 0, 0
		}
	case govWarmProbe:
		g.phase = govProbe
	case govProbe:
		if per <= g.ref*9/10 { // the other mode is faster: keep it
			g.every, g.best = govFirstEvery, per
			g.phase = govSteady
		} else {
			g.serial = !g.serial
			g.every = min(2*g.every, govMaxEvery)
			g.best = g.ref // compare with the machine as it is now
			g.phase = govWarmBack
		}
	case govWarmBack:
		g.phase = govSteady
	}
}

// Force sets the mode of the coming steps: serial (each job's parts all on
// the calling goroutine) or shared. The Governor keeps timing steps and
// may change the mode again at its next probe.
func (g *Governor) Force(serial bool) { g.serial = serial }
