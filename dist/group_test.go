package dist

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowgrad/flowgrad/autograd"
	"github.com/flowgrad/flowgrad/checkpoint"
	"github.com/flowgrad/flowgrad/data"
	"github.com/flowgrad/flowgrad/layers"
	"github.com/flowgrad/flowgrad/optim"
	"github.com/flowgrad/flowgrad/tensor"
	"github.com/flowgrad/flowgrad/train"
)

// group is an in-process Comm of n ranks, one goroutine each: the
// multi-rank logic tested without MPI (and under the race detector). A
// collective is two barriers: every rank deposits its buffer, reads all
// of them, and only writes its own after the second barrier. Sums go in
// rank order, so every rank gets the same bits.
type group struct {
	n       int
	mu      sync.Mutex
	cond    *sync.Cond
	arrived int
	gen     int
	// The ranks' buffers in the collective under way, and each rank's
	// sum buffer, reused (typed, so that a collective allocates nothing).
	bytes      [][]byte
	f32, sum32 [][]float32
	f64, sum64 [][]float64
}

type member struct {
	g    *group
	rank int
}

func newGroup(n int) []Comm {
	g := &group{n: n, bytes: make([][]byte, n),
		f32: make([][]float32, n), sum32: make([][]float32, n),
		f64: make([][]float64, n), sum64: make([][]float64, n)}
	g.cond = sync.NewCond(&g.mu)
	comms := make([]Comm, n)
	for i := range comms {
		comms[i] = member{g, i}
	}
	return comms
}

func (g *group) barrier() {
	g.mu.Lock()
	defer g.mu.Unlock()
	gen := g.gen
	if g.arrived++; g.arrived == g.n {
		g.arrived, g.gen = 0, g.gen+1
		g.cond.Broadcast()
		return
	}
	for gen == g.gen {
		g.cond.Wait()
	}
}

func (m member) Rank() int { return m.rank }
func (m member) Size() int { return m.g.n }

func (m member) SumFloat32(buf []float32) error { return groupSum(m, buf, m.g.f32, m.g.sum32) }
func (m member) SumFloat64(buf []float64) error { return groupSum(m, buf, m.g.f64, m.g.sum64) }

func groupSum[T tensor.Float](m member, buf []T, slots, sums [][]T) error {
	slots[m.rank] = buf
	m.g.barrier()
	total := sums[m.rank]
	if len(total) != len(buf) {
		total = make([]T, len(buf))
		sums[m.rank] = total
	}
	clear(total)
	for _, s := range slots {
		if len(s) != len(buf) {
			panic(fmt.Sprintf("group: sum of %d and %d elements", len(s), len(buf)))
		}
		for i, v := range s {
			total[i] += v
		}
	}
	m.g.barrier()
	copy(buf, total)
	return nil
}

func (m member) Broadcast(buf []byte, root int) error {
	checkRoot(root, m.g.n)
	m.g.bytes[m.rank] = buf
	m.g.barrier()
	src := m.g.bytes[root]
	if len(src) != len(buf) {
		panic(fmt.Sprintf("group: broadcast of %d bytes into %d", len(src), len(buf)))
	}
	if m.rank != root {
		copy(buf, src)
	}
	m.g.barrier()
	return nil
}

// onRanks runs f on every rank of a new group of n in its own goroutine
// and returns their errors; it fails t if the ranks have not all returned
// within a minute (a rank left waiting).
func onRanks(t *testing.T, n int, f func(c Comm) error) []error {
	t.Helper()
	return onComms(t, newGroup(n), f)
}

// onComms is onRanks on the ranks of an existing group.
func onComms(t *testing.T, comms []Comm, f func(c Comm) error) []error {
	t.Helper()
	n := len(comms)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, c := range comms {
		wg.Go(func() { errs[i] = f(c) })
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("the ranks did not all return within a minute: one waits for the others")
	}
	return errs
}

// TestSingleRankIsPlainTraining: on the stand-in (one rank), a Replica's
// Run gives bit for bit what train.Run gives, results and parameters.
func TestSingleRankIsPlainTraining(t *testing.T) {
	ds := testData(t)
	eval, err := train.NewEvaluator(ds, 50, train.CrossEntropy[float32])
	if err != nil {
		t.Fatal(err)
	}
	tr, batches := newRun[float32](t, ds, 10, 3)
	want, err := train.Run(t.Context(), tr, batches, eval, train.Config{Epochs: 3})
	if err != nil {
		t.Fatal(err)
	}
	comm, err := Init()
	if err != nil || comm.Size() != 1 || comm.Rank() != 0 {
		t.Fatalf("Init: %v, %v (want one rank without -tags mpi)", comm, err)
	}
	tr2, batches2 := newRun[float32](t, ds, 10, 3)
	rep, err := New(comm, tr2, batches2)
	if err != nil {
		t.Fatal(err)
	}
	got, err := rep.Run(t.Context(), eval, train.Config{Epochs: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d epochs, want %d", len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.TrainLoss != w.TrainLoss || g.Eval.Loss != w.Eval.Loss || g.Eval.Accuracy != w.Eval.Accuracy || g.Examples != w.Examples || g.Steps != w.Steps {
			t.Errorf("epoch %d: %+v, want %+v", i+1, g, w)
		}
	}
	if !slices.Equal(flatten(tr2.Model().Params()), flatten(tr.Model().Params())) {
		t.Error("the parameters differ from train.Run's")
	}
}

// TestRanksEqualOneProcess: n ranks, started from different weights and
// seeds (rank 0's are broadcast), end bitwise identical and within
// rounding of one process on the same global minibatches — with B a
// multiple of n and not, and a short last batch split unevenly.
func TestRanksEqualOneProcess(t *testing.T) {
	ds := testData(t)
	for _, c := range []struct{ n, b int }{{2, 32}, {3, 32}, {4, 11}} {
		t.Run(fmt.Sprintf("n=%d,B=%d/float32", c.n, c.b), func(t *testing.T) { ranksEqualOneProcess[float32](t, ds, c.n, c.b) })
		t.Run(fmt.Sprintf("n=%d,B=%d/float64", c.n, c.b), func(t *testing.T) { ranksEqualOneProcess[float64](t, ds, c.n, c.b) })
	}
	// Regression: squared error, a mean over B×outputs, weighted alike.
	reg := testRegression(t, 90) // B = 16: a last batch of 10, split 3+3+4
	t.Run("regression,n=3,B=16/float32", func(t *testing.T) { ranksEqualOneProcess[float32](t, reg, 3, 16) })
	t.Run("regression,n=3,B=16/float64", func(t *testing.T) { ranksEqualOneProcess[float64](t, reg, 3, 16) })
}

func ranksEqualOneProcess[T tensor.Float](t *testing.T, ds *data.Dataset, n, b int) {
	const epochs = 3
	start, want := reference[T](t, ds, b, 1, epochs)
	_, ref := newRun[T](t, ds, b, 1)
	steps := epochs * ref.BatchesPerEpoch()
	params := make([][]T, n)
	results := make([][]train.EpochResult, n)
	errs := onRanks(t, n, func(c Comm) error {
		tr, batches := newRun[T](t, ds, b, uint64(1+10*c.Rank()))
		var err error
		results[c.Rank()], err = Train(context.Background(), c, tr, batches, nil, train.Config{Epochs: epochs})
		params[c.Rank()] = flatten(tr.Model().Params())
		return err
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("rank %d: %v", i, err)
		}
	}
	for i := 1; i < n; i++ {
		if !slices.Equal(params[i], params[0]) {
			t.Errorf("rank %d's parameters differ from rank 0's", i)
		}
	}
	if r := results[0]; len(r) != epochs || r[epochs-1].Steps != steps || r[0].Examples != ds.Len() || !(r[0].TrainLoss > r[epochs-1].TrainLoss) {
		t.Errorf("results %+v: want %d epochs, %d steps, %d examples per epoch, a falling training loss", r, epochs, steps, ds.Len())
	}
	checkClose(t, "rank 0", params[0], want, start, steps, b)
}

// TestFailingRankStopsAll: a rank whose loss diverges stops with
// ErrDiverged; the others stop at the same step with ErrPeer and
// ErrDiverged instead of waiting for it, the update not applied.
func TestFailingRankStopsAll(t *testing.T) {
	ds := testData(t)
	const n = 3
	steps := make([]int, n)
	errs := onRanks(t, n, func(c Comm) error {
		tr, batches := newRun[float32](t, ds, 12, 1)
		rep, err := New(c, tr, batches)
		if err != nil {
			return err
		}
		var step int
		tr.BeforeUpdate = append(tr.BeforeUpdate, func() error {
			if step++; step == 4 && c.Rank() == 1 {
				tr.MaxLoss = 1e-9 // its next loss counts as diverged
			}
			return nil
		})
		_, err = rep.Run(context.Background(), nil, train.Config{Epochs: 2})
		steps[c.Rank()] = tr.Steps()
		return err
	})
	for i, err := range errs {
		if !errors.Is(err, train.ErrDiverged) || errors.Is(err, ErrPeer) != (i != 1) {
			t.Errorf("rank %d: %v, want ErrDiverged and, except rank 1, ErrPeer", i, err)
		}
		if steps[i] != 4 {
			t.Errorf("rank %d stopped after %d steps, want 4", i, steps[i])
		}
	}
}

// TestInterruptStopsAllAtOneStep: cancelling one rank's context stops
// every rank after the same step, with context.Canceled, the ranks'
// parameters and data positions identical — and a checkpoint taken then on
// rank 0 resumes the run on another number of ranks to the result of the
// uninterrupted run (N = 2 → M = 3 here).
func TestInterruptStopsAllAtOneStep(t *testing.T) {
	ds := testData(t)
	const b, epochs = 12, 2
	start, want := reference[float64](t, ds, b, 1, epochs)
	var saved []byte
	states := make([]data.BatcherState, 2)
	params := make([][]float64, 2)
	errs := onRanks(t, 2, func(c Comm) error {
		tr, batches := newRun[float64](t, ds, b, 1)
		rep, err := New(c, tr, batches)
		if err != nil {
			return err
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		tr.BeforeUpdate = append(tr.BeforeUpdate, func() error {
			if tr.Steps() == 5 && c.Rank() == 1 {
				cancel() // noticed in the next step's allreduce
			}
			return nil
		})
		_, err = rep.Run(ctx, nil, train.Config{Epochs: epochs})
		states[c.Rank()], params[c.Rank()] = batches.State(), flatten(tr.Model().Params())
		if c.Rank() == Root {
			var buf bytes.Buffer
			if err := checkpoint.Write(&buf, checkpoint.Capture(tr.Model().Params(), rep.opt, batches)); err != nil {
				t.Error(err)
			}
			saved = buf.Bytes()
		}
		return err
	})
	for i, err := range errs {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("rank %d: %v, want context.Canceled", i, err)
		}
	}
	if states[0] != states[1] || !slices.Equal(params[0], params[1]) || states[0].Offset != 7*b {
		t.Fatalf("the ranks stopped at %+v and %+v (want offset %d), parameters equal: %v", states[0], states[1], 7*b, slices.Equal(params[0], params[1]))
	}

	// Resume on three ranks from other seeds; only rank 0 reads the
	// checkpoint, and only its Config counts.
	got := make([][]float64, 3)
	errs = onRanks(t, 3, func(c Comm) error {
		tr, batches := newRun[float64](t, ds, b, uint64(50+c.Rank()))
		cfg := train.Config{}
		if c.Rank() == Root {
			st, err := checkpoint.Read[float64](bytes.NewReader(saved))
			if err == nil {
				err = st.Restore(tr.Model().Params(), tr.Optimizer().(optim.Optimizer[float64]), batches)
			}
			if err != nil {
				return err
			}
			cfg.Epochs = epochs - st.Batcher.Epoch
		}
		rep, err := New(c, tr, batches)
		if err != nil {
			return err
		}
		_, err = rep.Run(context.Background(), nil, cfg)
		got[c.Rank()] = flatten(tr.Model().Params())
		return err
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("resumed rank %d: %v", i, err)
		}
	}
	for i := 1; i < 3; i++ {
		if !slices.Equal(got[i], got[0]) {
			t.Errorf("resumed rank %d's parameters differ from rank 0's", i)
		}
	}
	_, ref := newRun[float64](t, ds, b, 1)
	checkClose(t, "2 ranks, interrupted, resumed on 3", got[0], want, start, epochs*ref.BatchesPerEpoch(), b)
}

// TestRootStopsAll: rank 0's OnEpoch decides for every rank: ErrStop ends
// the run without error everywhere; an error ends it with that error on
// rank 0 and ErrPeer elsewhere.
func TestRootStopsAll(t *testing.T) {
	ds := testData(t)
	boom := errors.New("disk full")
	for _, c := range []struct {
		ret  error
		want func(rank int, err error) bool
	}{
		{train.ErrStop, func(_ int, err error) bool { return err == nil }},
		{boom, func(rank int, err error) bool {
			return errors.Is(err, boom) == (rank == Root) && errors.Is(err, ErrPeer) == (rank != Root)
		}},
	} {
		epochs := make([]int, 2)
		errs := onRanks(t, 2, func(comm Comm) error {
			tr, batches := newRun[float32](t, ds, 20, 1)
			rep, err := New(comm, tr, batches)
			if err != nil {
				return err
			}
			cfg := train.Config{Epochs: 5, OnEpoch: func(r train.EpochResult) error {
				if comm.Rank() != Root {
					t.Error("OnEpoch called on a rank other than 0")
				}
				if r.Epoch == 2 {
					return c.ret
				}
				return nil
			}}
			res, err := rep.Run(context.Background(), nil, cfg)
			epochs[comm.Rank()] = len(res)
			return err
		})
		for i, err := range errs {
			if !c.want(i, err) || epochs[i] != 2 {
				t.Errorf("OnEpoch returning %v: rank %d ran %d epochs (want 2) and returned %v", c.ret, i, epochs[i], err)
			}
		}
	}
}

// TestStartChecks: New fails on every rank, naming the cause, when one
// rank's model does not fit rank 0's state, or B is too small to give
// every rank an example.
func TestStartChecks(t *testing.T) {
	ds := testData(t)
	errs := onRanks(t, 2, func(c Comm) error {
		tr, batches := newRun[float32](t, ds, 20, 1)
		if c.Rank() == 1 {
			model := layers.MLP[float32](rand.New(rand.NewPCG(1, 1)), testFeatures, 17, testClasses)
			opt, _ := optim.NewSGD(model.Params(), optim.Must(optim.Constant(testRate)))
			tr = train.NewTrainer(model, opt, train.CrossEntropy[float32])
		}
		_, err := New(c, tr, batches)
		return err
	})
	if errs[1] == nil || !strings.Contains(errs[1].Error(), "cannot take rank 0's state") || !errors.Is(errs[0], ErrPeer) {
		t.Errorf("mismatched models: rank 0: %v; rank 1: %v", errs[0], errs[1])
	}
	errs = onRanks(t, 4, func(c Comm) error {
		tr, batches := newRun[float32](t, ds, 3, 1)
		_, err := New(c, tr, batches)
		return err
	})
	for i, err := range errs {
		if !errors.Is(err, data.ErrBatchSize) {
			t.Errorf("B = 3 on 4 ranks: rank %d: %v, want data.ErrBatchSize", i, err)
		}
	}
}

// TestWarmStepsAllocateNothing: a warm Run on two ranks allocates no more
// for 20 steps per epoch than for 4, counting the fewest of three Runs (its allocations are per Run and per
// epoch: the state check, the results).
func TestWarmStepsAllocateNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop items; counted in the non-race run")
	}
	mallocs := func(n int) uint64 {
		ds := testDataN(t, n)
		comms := newGroup(2)
		reps := make([]*Replica[float32], 2)
		warm := func(c Comm) error {
			tr, batches := newRun[float32](t, ds, 10, 1)
			rep, err := New(c, tr, batches)
			if err == nil {
				reps[c.Rank()] = rep
				_, err = rep.Run(context.Background(), nil, train.Config{Epochs: 1})
			}
			return err
		}
		again := func(c Comm) error {
			_, err := reps[c.Rank()].Run(context.Background(), nil, train.Config{Epochs: 1})
			return err
		}
		for _, err := range onComms(t, comms, warm) {
			if err != nil {
				t.Fatal(err)
			}
		}
		// The fewest of three warm Runs: the goroutines and the pools
		// around the ranks allocate a few times at random (71–79 for
		// either size under qemu; the runtime starting a thread for a
		// woken worker counts too), per-step allocations would add at
		// least 32 (16 more steps on each of 2 ranks).
		fewest := uint64(math.MaxUint64)
		for range 3 {
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			errs := onComms(t, comms, again)
			runtime.ReadMemStats(&m1)
			for _, err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			fewest = min(fewest, m1.Mallocs-m0.Mallocs)
		}
		return fewest
	}
	few, many := mallocs(40), mallocs(200)
	t.Logf("allocations of a warm one-epoch Run on 2 ranks: %d for 4 steps, %d for 20", few, many)
	if many >= few+16 {
		t.Errorf("%d allocations for 20 steps per rank, %d for 4: the steps allocate", many, few)
	}
}

// TestAdamOnRanks: an optimiser with two state buffers per parameter
// (Adam's moments) trains on 2 ranks, started from different states, to
// within rounding of one process, the ranks bitwise identical.
func TestAdamOnRanks(t *testing.T) {
	ds := testData(t)
	const b, epochs = 32, 3
	adam := func(params []*autograd.Value[float64]) (optim.Optimizer[float64], error) {
		return optim.NewAdam(params, optim.Must(optim.Constant(0.01)))
	}
	one, batches := newRunWith(t, ds, b, 1, adam)
	start := flatten(one.Model().Params())
	if _, err := train.Run(t.Context(), one, batches, nil, train.Config{Epochs: epochs}); err != nil {
		t.Fatal(err)
	}
	want := flatten(one.Model().Params())
	params := make([][]float64, 2)
	errs := onRanks(t, 2, func(c Comm) error {
		tr, batches := newRunWith(t, ds, b, uint64(1+c.Rank()), adam)
		_, err := Train(context.Background(), c, tr, batches, nil, train.Config{Epochs: epochs})
		params[c.Rank()] = flatten(tr.Model().Params())
		return err
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("rank %d: %v", i, err)
		}
	}
	if !slices.Equal(params[0], params[1]) {
		t.Error("rank 1's parameters differ from rank 0's")
	}
	checkClose(t, "Adam, 2 ranks", params[0], want, start, epochs*batches.BatchesPerEpoch(), b)
}
