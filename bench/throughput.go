package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/flowgrad/flowgrad/data"
	"github.com/flowgrad/flowgrad/layers"
	"github.com/flowgrad/flowgrad/optim"
	"github.com/flowgrad/flowgrad/train"
)

// Section 2: training throughput of the standard workload (DESIGN.md)
// against B, on 1 and 2 threads.

// standardSizes is the standard workload's MLP.
var standardSizes = []int{784, 256, 256, 10}

// newTrainer builds the standard MLP (weights from seed) with SGD at
// schedule sched, the given momentum form (momentum 0.9 unless None), and a
// Batcher of B over ds shuffled from seed.
func newTrainer(ds *data.Dataset, b int, form optim.MomentumForm, sched optim.Schedule, seed uint64) (*train.Trainer[float32], train.Model[float32], *data.Batcher, error) {
	model := layers.MLP[float32](rand.New(rand.NewPCG(seed, 1)), standardSizes...)
	var opts []optim.Option
	if form != optim.None {
		opts = append(opts, optim.WithMomentum(form, 0.9))
	}
	opt, err := optim.NewSGD(model.Params(), sched, opts...)
	if err != nil {
		return nil, nil, nil, err
	}
	batches, err := data.NewBatcher(ds, b, rand.New(rand.NewPCG(seed, 2)))
	if err != nil {
		return nil, nil, nil, err
	}
	return train.NewTrainer(model, opt, train.CrossEntropy), model, batches, nil
}

// tpResult is one throughput measurement.
type tpResult struct {
	Batch, Threads int
	Examples       int
	Steps          int
	Passes         int     // timed passes; Seconds is their median
	Seconds        float64 // in Trainer.Step only
	MedianStepSec  float64 // the median Trainer.Step, in seconds
	PassAllocs     float64 // runtime.MemStats mallocs per step over the pass (batching included)
	PassBytes      float64 // bytes allocated per step over the pass
	StepAllocs     float64 // testing.AllocsPerRun of Trainer.Step on one batch; NaN if not measured
	Kernel         string
}

func (r tpResult) ExamplesPerSecond() float64 { return float64(r.Examples) / r.Seconds }

// MedianExamplesPerSecond is B over the median step time: the throughput
// without the bursts of other jobs on a shared machine.
func (r tpResult) MedianExamplesPerSecond() float64 { return float64(r.Batch) / r.MedianStepSec }

// runThroughput measures every B on every thread count; thread counts
// alternate for each B so that drifts of a shared machine hit both alike.
func runThroughput(ctx context.Context, c *config, trainSet *data.Dataset, kernel string, stderr io.Writer) ([]tpResult, error) {
	prev := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(prev)
	var out []tpResult
	for _, b := range c.tpBatches {
		for _, th := range c.tpThreads {
			if err := ctx.Err(); err != nil {
				return out, err
			}
			runtime.GOMAXPROCS(th)
			r, err := measureThroughput(c, trainSet, b, c.tpFraction, 1)
			if err != nil {
				return out, fmt.Errorf("throughput: B=%d, %d threads: %w", b, th, err)
			}
			r.Threads, r.Kernel = th, kernel
			fmt.Fprintf(stderr, "bench: throughput B=%-5d threads=%d  %8.0f examples/s  %.1f allocs/step\n",
				b, th, r.ExamplesPerSecond(), r.PassAllocs)
			out = append(out, r)
		}
	}
	return out, nil
}

// measureThroughput times passes of the standard workload at batch size
// b — over the whole training set, or its first 10 000 examples at B = 1,
// times fraction — and keeps the median pass. It times at least minPasses
// passes, and c.tpLargePasses when a pass has fewer than 10 steps. Only
// Trainer.Step is timed; the Batcher's conversion of the next batch is not.
// A separate Batcher serves the warm-up steps, so the timed pass is whole.
func measureThroughput(c *config, trainSet *data.Dataset, b int, fraction float64, minPasses int) (tpResult, error) {
	ds := trainSet
	if b == 1 {
		ds = trainSet.Head(10000)
	}
	sched := optim.Must(optim.Constant(0.05))
	tr, _, batches, err := newTrainer(ds, b, optim.HeavyBall, sched, c.seed)
	if err != nil {
		return tpResult{}, err
	}
	warm, err := data.NewBatcher(ds, b, rand.New(rand.NewPCG(c.seed, 3)), data.DropLast())
	if err != nil {
		return tpResult{}, err
	}
	for range max(1, min(c.tpWarmup, 20000/b)) {
		if _, err := tr.Step(warm.Take()); err != nil {
			return tpResult{}, fmt.Errorf("warm-up: %w", err)
		}
	}
	limit := int(math.Ceil(fraction * float64(ds.Len())))
	// A pass of fewer than 10 steps (B = 60000: one) is timed tpLargePasses
	// times and its median kept, so one disturbed step does not decide it.
	passes := max(minPasses, 1)
	if limit/b < 10 {
		passes = max(passes, c.tpLargePasses)
	}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	r := tpResult{Batch: b, Passes: passes}
	var passSec, steps []float64
	totalSteps := 0
	for range passes {
		var elapsed time.Duration
		r.Steps, r.Examples = 0, 0
		for bt := range batches.Epoch() {
			t0 := time.Now()
			_, err := tr.Step(bt)
			d := time.Since(t0)
			elapsed += d
			if err != nil {
				return r, err
			}
			if bt.Size() == b {
				steps = append(steps, d.Seconds())
			}
			r.Steps++
			r.Examples += bt.Size()
			if r.Examples >= limit {
				break
			}
		}
		// Finish a partial epoch untimed so the next pass starts a new one.
		if batches.State().Offset != 0 {
			for range batches.Epoch() {
			}
		}
		passSec = append(passSec, elapsed.Seconds())
		totalSteps += r.Steps
	}
	runtime.ReadMemStats(&after)
	r.Seconds = median(passSec)
	r.MedianStepSec = median(steps)
	r.PassAllocs = float64(after.Mallocs-before.Mallocs) / float64(totalSteps)
	r.PassBytes = float64(after.TotalAlloc-before.TotalAlloc) / float64(totalSteps)
	r.StepAllocs = math.NaN()
	if b <= 1000 && c.tpAllocsRuns > 0 {
		bt := warm.Take()
		var stepErr error
		r.StepAllocs = testing.AllocsPerRun(c.tpAllocsRuns, func() {
			if _, err := tr.Step(bt); err != nil {
				stepErr = err
			}
		})
		if stepErr != nil {
			return r, stepErr
		}
	}
	return r, nil
}

// throughputTable is the CSV/markdown form of section 2.
func throughputTable(rs []tpResult) *table {
	t := newTable("B", "threads", "kernel", "examples", "steps", "passes", "seconds", "examples_per_s", "median_step_s", "median_examples_per_s", "allocs_per_step", "bytes_per_step", "step_allocs")
	for _, r := range rs {
		t.add(r.Batch, r.Threads, r.Kernel, r.Examples, r.Steps, r.Passes, r.Seconds, r.ExamplesPerSecond(), r.MedianStepSec, r.MedianExamplesPerSecond(), r.PassAllocs, r.PassBytes, r.StepAllocs)
	}
	return t
}
