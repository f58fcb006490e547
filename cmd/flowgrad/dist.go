package main

import (
	"io"

	"github.com/flowgrad/flowgrad/dist"
	"github.com/flowgrad/flowgrad/internal/cli"
)

// Data-parallel training on MPI. Built with -tags mpi and started by
// mpirun, `flowgrad train` runs on every rank:
//
//	mpirun -np 2 go run -tags mpi ./cmd/flowgrad train -data train.csv
//
// Every rank reads the table and makes the same split and preprocessing;
// -batch is the global minibatch, shared among the ranks, with one
// gradient allreduce per step (package dist), so the run follows the
// single-process one on the same minibatches. Rank 0 alone prints,
// evaluates, decides early stopping and writes the model file; the number
// of epochs it chose is broadcast for the refit. eval, predict and export
// run on rank 0 alone. The default build is one process.

// comm is the run's group of processes, set by main (nil in tests: one
// process).
var comm dist.Comm

// isRoot reports whether this process is rank 0 (or the only process).
func isRoot() bool { return comm == nil || comm.Rank() == dist.Root }

// ranks returns the number of processes of the run.
func ranks() int {
	if comm == nil {
		return 1
	}
	return comm.Size()
}

// rankWriters silences the ranks other than 0: their output and progress
// bars go nowhere (their errors are still printed, see run).
func rankWriters(stdout, stderr io.Writer) (io.Writer, io.Writer) {
	if isRoot() {
		return stdout, stderr
	}
	return io.Discard, io.Discard
}

// checkRanks refuses flags that need state every rank shares: the
// plateau's rate would change on rank 0 alone.
func (c *trainFlags) checkRanks() error {
	if ranks() > 1 && c.cv > 0 {
		return cli.Usagef("-cv is not supported on %d ranks: cross-validate in one process", ranks())
	}
	if ranks() > 1 && c.reg.Plateau > 0 {
		return cli.Usagef("-plateau is not supported on %d ranks: only rank 0 evaluates, and the ranks' rates would differ", ranks())
	}
	return nil
}
