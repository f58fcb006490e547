package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/flowgrad/flowgrad/data"
	"github.com/flowgrad/flowgrad/dist"
	"github.com/flowgrad/flowgrad/train"
)

// Data-parallel training on MPI. Built with -tags mpi and started by
// mpirun, the demo runs on every rank:
//
//	mpirun -np 2 go run -tags mpi ./cmd/mnistdemo
//
// -batch is the global minibatch, shared among the ranks; every rank
// trains its shard and one allreduce per step sums the gradients (see
// package dist), so the run follows the single-process one on the same
// minibatches. Rank 0 alone prints, evaluates and reads and writes
// -checkpoint and -resume files: a run resumes on any number of ranks.
// The default build is one rank and trains as before.

// comm is the run's group of processes, set by initDist (nil when the
// program does not run main, as in tests: one process).
var comm dist.Comm

// initDist starts MPI (a no-op without -tags mpi) and returns the function
// that ends it.
func initDist() (func(), error) {
	var err error
	if comm, err = dist.Init(); err != nil {
		return nil, err
	}
	return func() { dist.Finalize() }, nil
}

// rankOutput returns the writer for the run's output: stdout on rank 0,
// nothing on the others, which also drop the file flags -checkpoint and
// -resume that rank 0 alone serves. It reports idle on the ranks other
// than 0 when there is nothing for them to do: -find-lr and -graph, tools
// that rank 0 runs alone.
func rankOutput(c *config, stdout io.Writer) (out io.Writer, idle bool) {
	if isRoot() {
		return stdout, false
	}
	c.checkpoint, c.resume = "", ""
	return io.Discard, c.lrt.find || c.graph != ""
}

// distBanner is the header line's note on the ranks ("" on one).
func distBanner() string {
	if comm == nil || comm.Size() == 1 {
		return ""
	}
	return fmt.Sprintf(", %d ranks (MPI, data-parallel)", comm.Size())
}

// isRoot reports whether this process is rank 0, the one that calls the
// run's OnBatch and OnEpoch (or the only process).
func isRoot() bool { return comm == nil || comm.Rank() == dist.Root }

// ranks returns the number of processes of the run.
func ranks() int {
	if comm == nil {
		return 1
	}
	return comm.Size()
}

// runTraining is train.Run, data-parallel over comm when there are
// several ranks (dist.Train). The hook, if not nil, runs before every
// update, after the ranks' gradients are summed (gradient clipping).
func runTraining(ctx context.Context, tr *train.Trainer[float32], batches *data.Batcher, eval *train.Evaluator[float32], cfg train.Config, hook func() error) ([]train.EpochResult, error) {
	var after []func() error
	if hook != nil {
		after = append(after, hook)
	}
	return dist.Train(ctx, comm, tr, batches, eval, cfg, after...)
}

// reportError prints a run's error: every rank its own, and only rank 0
// an error that merely says another rank stopped.
func reportError(stderr io.Writer, err error) {
	switch {
	case comm == nil || comm.Rank() == dist.Root:
		fmt.Fprintln(stderr, "mnistdemo:", err)
	case !errors.Is(err, dist.ErrPeer):
		fmt.Fprintf(stderr, "mnistdemo: rank %d: %v\n", comm.Rank(), err)
	}
}
