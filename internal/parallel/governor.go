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
// phase). A Governor therefore times windows of steps in the current mode
// and, every so often, a window in the other mode, and keeps whichever is
// faster by at least a tenth. Probes start every 8 windows and back off to
// every 128 while the current mode keeps winning, so on a steady machine
// about one window in 65 runs in the slower mode.
//
// A window is at least 10 ms and 4 steps; after each switch a shorter one
// (1 ms and 2 steps) is not scored, while the caches follow the new split. The Governor
// does nothing with GOMAXPROCS < 2, or when the environment variable
// FLOWGRAD_GOVERNOR is "off" (jobs then always share, as before).
//
// Use: start := g.Start(); the step; g.Done(start). Between Start and Done
// the pool follows the Governor's choice ([SetSerial]); Done turns sharing
// back on, so work outside the steps (evaluation, other code) is not
// affected. Results never depend on the choice. The zero value is ready;
// a Governor must not be used by two goroutines at once, and one
// goroutine at a time should run governed steps (the switch is
// process-wide while a step runs).
type Governor struct {
	serial bool          // the mode in use: jobs run serially
	sum    time.Duration // of the current window's steps
	steps  int
	phase  govPhase
	ref    time.Duration // time per step of the last scored window in the kept mode
	scored int           // windows scored in the kept mode since the last probe
	every  int           // windows between probes
}

type govPhase int

const (
	govSteady    govPhase = iota // scoring windows in the kept mode
	govWarmProbe                 // first window in the other mode: not scored
	govProbe                     // the probe window
	govWarmBack                  // first window back in the kept mode: not scored
)

const (
	govWindow    = 10 * time.Millisecond
	govMinSteps  = 4
	govWarm      = time.Millisecond // a warm-up window, not scored
	govWarmSteps = 2
	govMinEvery  = 8
	govMaxEvery  = 128
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

// Done ends the step that Start began: it turns sharing back on, records
// the step's time and, at the end of a window, may change the choice.
func (g *Governor) Done(start time.Time) {
	if governorOff {
		return
	}
	SetSerial(false)
	g.observe(time.Since(start))
}

// observe records one step that took d.
func (g *Governor) observe(d time.Duration) {
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
		g.every = govMinEvery
	}
	switch g.phase {
	case govSteady:
		g.ref = per
		if g.scored++; g.scored >= g.every && runtime.GOMAXPROCS(0) >= 2 {
			g.serial = !g.serial
			g.phase, g.scored = govWarmProbe, 0
		}
	case govWarmProbe:
		g.phase = govProbe
	case govProbe:
		if per <= g.ref*9/10 { // the other mode is faster: keep it
			g.every = govMinEvery
			g.phase = govSteady
		} else {
			g.serial = !g.serial
			g.every = min(2*g.every, govMaxEvery)
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

// Serial reports whether the Governor currently runs steps serially.
func (g *Governor) Serial() bool { return g.serial }
