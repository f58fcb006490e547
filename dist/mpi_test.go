//go:build mpi

package dist

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flowgrad/flowgrad/tensor"
	"github.com/flowgrad/flowgrad/train"
)

// The MPI test: TestMPI starts this test binary under
//
//	mpirun --allow-run-as-root --oversubscribe -np 2 <binary> -test.run ^TestMPIWorker$
//
// once per scenario (the environment variable scenarioEnv), on loopback,
// with a deadline, and checks how mpirun ends. TestMPIWorker is the part
// each rank runs; it does nothing outside mpirun.
const scenarioEnv = "FLOWGRAD_MPI_SCENARIO"

// mpiDeadline bounds each mpirun: a job that hangs fails the test.
const mpiDeadline = 90 * time.Second

// TestMain ends MPI after the tests (and benchmarks) that started it: a
// rank that exits without MPI_Finalize counts as crashed.
func TestMain(m *testing.M) {
	code := m.Run()
	if err := Finalize(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.Exit(code)
}

func TestMPI(t *testing.T) {
	if os.Getenv(scenarioEnv) != "" {
		return // a rank: TestMPIWorker's job
	}
	mpirun, err := exec.LookPath("mpirun")
	if err != nil {
		t.Fatal("mpirun not found: install Open MPI (Debian: apt-get install openmpi-bin libopenmpi-dev pkg-config)")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	launch := func(t *testing.T, scenario string) (string, error, time.Duration) {
		ctx, cancel := context.WithTimeout(t.Context(), mpiDeadline)
		defer cancel()
		cmd := exec.CommandContext(ctx, mpirun, "--allow-run-as-root", "--oversubscribe", "-np", "2",
			"-x", scenarioEnv+"="+scenario, self, "-test.run", "^TestMPIWorker$", "-test.v")
		// On the deadline, SIGTERM: mpirun passes it to the ranks.
		cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
		cmd.WaitDelay = 10 * time.Second
		start := time.Now()
		out, err := cmd.CombinedOutput()
		if ctx.Err() != nil {
			t.Fatalf("mpirun (%s) did not end within %v: a rank waits forever\n%s", scenario, mpiDeadline, out)
		}
		return string(out), err, time.Since(start)
	}
	for _, scenario := range []string{"train", "diverge"} {
		t.Run(scenario, func(t *testing.T) {
			out, err, took := launch(t, scenario)
			if err != nil || strings.Count(out, "--- PASS: TestMPIWorker") != 2 {
				t.Fatalf("mpirun: %v (want both ranks to pass)\n%s", err, out)
			}
			t.Logf("2 ranks in %v:\n%s", took.Round(time.Millisecond), out)
		})
	}
	t.Run("die", func(t *testing.T) {
		out, err, took := launch(t, "die")
		var exit *exec.ExitError
		if !errors.As(err, &exit) || strings.Contains(out, "rank 0 finished") {
			t.Fatalf("mpirun: %v; want it to fail, rank 0 not finishing\n%s", err, out)
		}
		t.Logf("rank 1 died; mpirun ended the job in %v with %v", took.Round(time.Millisecond), err)
	})
}

// TestMPIWorker is one rank of a TestMPI scenario:
//
//   - train: two ranks, started from different weights, train float32 and
//     float64 for 3 epochs at B = 32 (a short last batch of 7, split 3 + 4):
//     both end bitwise identical, within rounding of one process on the
//     same global minibatches (see checkClose for the bound).
//   - diverge: rank 1's loss diverges at step 4: it stops with
//     train.ErrDiverged, rank 0 with ErrPeer, both after 3 steps.
//   - die: rank 1 exits in the middle of step 3; mpirun must end rank 0.
func TestMPIWorker(t *testing.T) {
	scenario := os.Getenv(scenarioEnv)
	if scenario == "" {
		t.Skip("a rank of TestMPI: runs under mpirun only")
	}
	comm, err := Init()
	if err != nil {
		t.Fatal(err)
	}
	if comm.Size() != 2 {
		t.Fatalf("%d ranks, want 2", comm.Size())
	}
	ds := testData(t)
	switch scenario {
	case "train":
		mpiTrain[float32](t, comm)
		mpiTrain[float64](t, comm)
	case "diverge":
		tr, batches := newRun[float32](t, ds, 32, 1)
		rep, err := New(comm, tr, batches)
		if err != nil {
			t.Fatal(err)
		}
		if comm.Rank() == 1 {
			tr.BeforeUpdate = append(tr.BeforeUpdate, func() error {
				if tr.Steps() == 2 {
					tr.MaxLoss = 1e-9 // step 4's loss counts as diverged
				}
				return nil
			})
		}
		_, err = rep.Run(t.Context(), nil, train.Config{Epochs: 3})
		if !errors.Is(err, train.ErrDiverged) || errors.Is(err, ErrPeer) != (comm.Rank() == 0) || tr.Steps() != 3 {
			t.Fatalf("rank %d: %v after %d steps; want ErrDiverged (and ErrPeer on rank 0) after 3", comm.Rank(), err, tr.Steps())
		}
		t.Logf("rank %d: %v", comm.Rank(), err)
	case "die":
		tr, batches := newRun[float32](t, ds, 32, 1)
		rep, err := New(comm, tr, batches)
		if err != nil {
			t.Fatal(err)
		}
		tr.BeforeUpdate = slices.Insert(tr.BeforeUpdate, 0, func() error {
			if comm.Rank() == 1 && tr.Steps() == 2 {
				os.Exit(3) // no Finalize: a crash
			}
			return nil
		})
		_, err = rep.Run(t.Context(), nil, train.Config{Epochs: 100})
		t.Fatalf("rank %d finished (%v): want mpirun to end it when rank 1 died", comm.Rank(), err)
	default:
		t.Fatalf("unknown scenario %q", scenario)
	}
}

func mpiTrain[T tensor.Float](t *testing.T, comm Comm) {
	const b, epochs = 32, 3
	ds := testData(t)
	start, want := reference[T](t, ds, b, 1, epochs)
	tr, batches := newRun[T](t, ds, b, uint64(1+10*comm.Rank()))
	rep, err := New(comm, tr, batches)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rep.Run(t.Context(), nil, train.Config{Epochs: epochs}); err != nil {
		t.Fatal(err)
	}
	got := flatten(tr.Model().Params())
	// Bitwise identical on every rank: rank 0's bytes broadcast.
	theirs := slices.Clone(got)
	if err := comm.Broadcast(bytesOf(theirs), Root); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, theirs) {
		t.Errorf("rank %d's parameters differ from rank 0's", comm.Rank())
	}
	checkClose(t, fmt.Sprintf("rank %d", comm.Rank()), got, want, start, epochs*batches.BatchesPerEpoch(), b)
}
