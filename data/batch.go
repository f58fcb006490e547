package data

import (
	"errors"
	"fmt"
	"github.com/flowgrad/flowgrad/internal/vec"
	"iter"
	"math/rand/v2"

	"github.com/flowgrad/flowgrad/tensor"
)

// ErrBatchSize is wrapped by the error a [Batcher] or [Stream] constructor
// returns for a batch size that does not fit: B < 1, or for a Batcher
// B > N.
var ErrBatchSize = errors.New("bad batch size")

// Batch is one minibatch: B examples as a B×Features float32 matrix (for
// images, values pixel/255 in [0, 1]), and their targets: B class labels
// for a classification dataset, or a B×Outputs matrix of real values for a
// regression dataset.
//
// A Batch's X, Labels and Targets are buffers owned by the Batcher or
// Stream that produced it: they are valid until the next batch is
// requested, which overwrites them. Copy what must live longer.
type Batch struct {
	X       *tensor.Dense[float32] // B×Features
	Labels  []int                  // classification: len B, each in 0..Classes−1; else nil
	Targets *tensor.Dense[float32] // regression: B×Outputs; else nil
	// Epoch is the epoch the batch belongs to (0 for the first; always 0
	// for a Stream) and Index its position in it: 0 for the first batch of
	// an epoch, 1 for the next, … (for a Stream: batches served so far).
	Epoch, Index int
}

// Size returns B, the number of examples in the batch (0 for the zero
// Batch).
func (b Batch) Size() int {
	if b.X == nil {
		return 0
	}
	return b.X.Rows()
}

// Clone returns a copy of the batch that owns its matrices and labels, so
// it stays valid after the next batch is requested (for a fixed set of
// batches, as curvature estimates and gradient checks take).
func (b Batch) Clone() Batch {
	c := b
	if b.X != nil {
		c.X = b.X.Clone()
	}
	if b.Labels != nil {
		c.Labels = append([]int(nil), b.Labels...)
	}
	if b.Targets != nil {
		c.Targets = b.Targets.Clone()
	}
	return c
}

// Batcher serves a dataset's examples as minibatches of B, in a new random
// order each epoch. With N = Len of the dataset, an epoch is ⌈N/B⌉ batches:
// B examples each, except that the last holds the N mod B that remain
// (unless [DropLast] asks to skip it). B = 1 is online SGD; B = N is batch
// gradient descent.
//
// The order of epoch e is a pure function of the Batcher's seed (drawn from
// the rng given to [NewBatcher]) and e, so a Batcher can be saved and
// restored ([Batcher.State], [Batcher.Restore]) exactly.
//
// A Batcher fills float32 buffers that it allocates once (converting images
// from uint8 on the fly): serving batches allocates nothing. It is not safe for
// concurrent use; give each goroutine its own.
type Batcher struct {
	ds       *Dataset
	size     int
	dropLast bool
	shuffle  bool

	shard, shards int // this Batcher serves shard of shards parts of each batch (0 of 1 unless Shard)

	seed      uint64
	epoch     int // the epoch in progress
	offset    int // examples of it already served
	permEpoch int // the epoch perm holds, or -1
	perm      []int
	pcg       *rand.PCG
	rng       *rand.Rand // over pcg, reseeded each epoch

	x       batchBuf // size×features
	targets batchBuf // size×outputs, regression only
	labels  []int    // classification only
}

// batchBuf is a B×cols matrix buffer with a view of its first rows for a
// short last batch.
type batchBuf struct {
	buf  []float32
	full *tensor.Dense[float32] // size×cols over buf
	tail *tensor.Dense[float32] // rows×cols over buf, for a short last batch
}

func newBatchBuf(size, cols, tail int) batchBuf {
	b := batchBuf{buf: make([]float32, size*cols)}
	b.full = tensor.FromSlice(size, cols, b.buf)
	if tail != 0 {
		b.tail = tensor.FromSlice(tail, cols, b.buf[:tail*cols])
	}
	return b
}

// rows returns the matrix of the first n rows (n ≤ size).
func (b *batchBuf) rows(n int) *tensor.Dense[float32] {
	if n == b.full.Rows() {
		return b.full
	}
	if b.tail == nil || b.tail.Rows() != n {
		// Only a Restore to an offset that is not a multiple of B
		// gets here with an unexpected size: allocate once.
		b.tail = tensor.FromSlice(n, b.full.Cols(), b.buf[:n*b.full.Cols()])
	}
	return b.tail
}

// BatchOption configures a Batcher.
type BatchOption func(*Batcher)

// DropLast makes each epoch skip its last batch when that batch would hold
// fewer than B examples, so every batch has exactly B.
func DropLast() BatchOption { return func(b *Batcher) { b.dropLast = true } }

// NewBatcher returns a Batcher that serves ds in batches of size examples,
// shuffled each epoch from a seed drawn once from rng. A nil rng means no
// shuffling: every epoch serves the examples in dataset order, as for
// evaluation.
//
// NewBatcher returns an error wrapping [ErrBatchSize] if size < 1 or
// size > ds.Len(), so a batch size from a flag needs no checks of its own.
// It panics if ds is nil.
func NewBatcher(ds *Dataset, size int, rng *rand.Rand, opts ...BatchOption) (*Batcher, error) {
	if ds == nil {
		panic("data: NewBatcher: nil dataset")
	}
	n := ds.Len()
	if size < 1 || size > n {
		return nil, fmt.Errorf("data: %w: B = %d, want 1 ≤ B ≤ %d (the number of examples)", ErrBatchSize, size, n)
	}
	b := &Batcher{ds: ds, size: size, permEpoch: -1, shuffle: rng != nil, shards: 1}
	for _, o := range opts {
		o(b)
	}
	if b.shuffle {
		b.seed = rng.Uint64()
		b.pcg = rand.NewPCG(0, 0)
		b.rng = rand.New(b.pcg)
	}
	b.perm = make([]int, n)
	b.allocBuffers()
	return b, nil
}

// allocBuffers allocates the batch buffers for this Batcher's share of a
// batch: a whole batch, and the short last batch of an epoch.
func (b *Batcher) allocBuffers() {
	n := b.ds.Len()
	tail := n % b.size
	if b.dropLast {
		tail = 0
	}
	lo, hi := shardRange(b.size, b.shard, b.shards)
	full := hi - lo
	if tail != 0 {
		lo, hi = shardRange(tail, b.shard, b.shards)
		tail = hi - lo
	}
	b.x = newBatchBuf(full, b.ds.Features(), tail)
	if b.ds.Kind() == Regression {
		b.targets = newBatchBuf(full, b.ds.Outputs(), tail)
	} else {
		b.labels = make([]int, full)
	}
}

// shardRange returns the rows [lo, hi) of a batch of rows examples that
// shard i of n serves: contiguous, in order, sizes differing by at most one.
func shardRange(rows, i, n int) (lo, hi int) { return i * rows / n, (i + 1) * rows / n }

// Shard makes the Batcher serve only part i of n of every batch, for
// data-parallel training with one Batcher per process: n Batchers with the
// same seed, B and dataset, sharded 0 … n−1, walk the same sequence of
// batches of B (the global minibatches), and together serve each global
// batch's examples exactly once. Part i of a batch of rows examples is its
// rows ⌊i·rows/n⌋ … ⌊(i+1)·rows/n⌋−1 (sizes differ by at most one; equal
// when n divides rows). The Batcher's position (State, Restore, Index,
// BatchesPerEpoch) stays that of the global sequence, independent of n, so
// a state saved from a run sharded n ways restores into one sharded m ways.
// Batch.Size() is the shard's size.
//
// Shard returns an error wrapping [ErrBatchSize] if a part would be empty:
// B < n, or a short last batch (N mod B examples, without DropLast) of
// fewer than n. It panics unless 0 ≤ i < n.
func (b *Batcher) Shard(i, n int) error {
	if n < 1 || i < 0 || i >= n {
		panic(fmt.Sprintf("data: Shard(%d, %d): want 0 ≤ i < n", i, n))
	}
	if b.size < n {
		return fmt.Errorf("data: %w: B = %d cannot be shared among %d processes (want B ≥ %d)", ErrBatchSize, b.size, n, n)
	}
	if tail := b.ds.Len() % b.size; tail != 0 && tail < n && !b.dropLast {
		return fmt.Errorf("data: %w: the last batch of each epoch holds %d examples (N = %d mod B = %d), fewer than the %d processes: choose another B or drop the last batch (DropLast)",
			ErrBatchSize, tail, b.ds.Len(), b.size, n)
	}
	b.shard, b.shards = i, n
	b.allocBuffers()
	return nil
}

// Dataset returns the dataset the Batcher serves.
func (b *Batcher) Dataset() *Dataset { return b.ds }

// Size returns B.
func (b *Batcher) Size() int { return b.size }

// BatchesPerEpoch returns the number of batches in a whole epoch: ⌈N/B⌉,
// or ⌊N/B⌋ with [DropLast].
func (b *Batcher) BatchesPerEpoch() int {
	n := b.ds.Len()
	if b.dropLast {
		return n / b.size
	}
	return (n + b.size - 1) / b.size
}

// Epoch returns an iterator over the batches that remain in the current
// epoch: a whole epoch for a new Batcher, and after an epoch has ended the
// whole next one. So
//
//	for epoch := 0; epoch < 10; epoch++ {
//		for batch := range batcher.Epoch() {
//			...
//		}
//	}
//
// trains ten epochs. A batch counts as served once the loop body has it, so
// after a break the next Epoch call continues with the batch that follows.
// Each batch is valid until the next one is requested.
func (b *Batcher) Epoch() iter.Seq[Batch] {
	return func(yield func(Batch) bool) {
		b.rollover()
		for {
			batch, ok := b.next()
			if !ok || !yield(batch) {
				return
			}
		}
	}
}

// Next returns the next batch of the current epoch and true, or a zero
// Batch and false once the epoch has no batches left; the call after that
// starts the next epoch. The batch is valid until the next call.
func (b *Batcher) Next() (Batch, bool) {
	batch, ok := b.next()
	if !ok {
		b.rollover()
	}
	return batch, ok
}

// Take returns the next batch, starting the next epoch first if the
// current one has no batch left: a source of batches without end, for
// loops that count steps rather than epochs (warm-up, range tests,
// benchmarks). The batch is valid until the next call.
func (b *Batcher) Take() Batch {
	b.rollover()
	batch, _ := b.next() // after rollover an epoch always has a batch
	return batch
}

// ended reports whether the current epoch has no batch left.
func (b *Batcher) ended() bool {
	left := b.ds.Len() - b.offset
	return left == 0 || (b.dropLast && left < b.size)
}

// rollover starts the next epoch if the current one has ended.
func (b *Batcher) rollover() {
	if b.ended() {
		b.epoch++
		b.offset = 0
	}
}

func (b *Batcher) next() (Batch, bool) {
	if b.ended() {
		return Batch{}, false
	}
	if b.permEpoch != b.epoch {
		b.permute()
	}
	start := b.offset
	rows := min(b.size, b.ds.Len()-start)
	lo, hi := shardRange(rows, b.shard, b.shards)
	idx := b.perm[start+lo : start+hi]
	batch := Batch{X: b.x.rows(hi - lo), Epoch: b.epoch, Index: start / b.size}
	b.ds.gather(batch.X.Data(), idx)
	if b.labels != nil {
		batch.Labels = b.labels[:hi-lo]
	} else {
		batch.Targets = b.targets.rows(hi - lo)
	}
	b.ds.gatherTargets(batch.Labels, batch.Targets, idx)
	b.offset += rows
	return batch, true
}

// permute sets perm to the order of the current epoch: the identity
// shuffled by a Fisher–Yates pass whose generator is seeded with (seed,
// epoch), or the identity when the Batcher does not shuffle.
func (b *Batcher) permute() {
	for i := range b.perm {
		b.perm[i] = i
	}
	if b.shuffle {
		b.pcg.Seed(b.seed, uint64(b.epoch))
		for i := len(b.perm) - 1; i > 0; i-- {
			j := b.rng.IntN(i + 1)
			b.perm[i], b.perm[j] = b.perm[j], b.perm[i]
		}
	}
	b.permEpoch = b.epoch
}

// BatcherState is a Batcher's position: the examples it has served of epoch
// Epoch (0-based) and the seed that fixes every epoch's order (Shuffle is
// false, and Seed 0, for a Batcher that serves in dataset order). N, the
// dataset's size, guards against restoring onto another dataset. Saved in a
// checkpoint, it resumes the run exactly (see [Batcher.Restore]).
type BatcherState struct {
	Seed    uint64
	Shuffle bool
	Epoch   int
	Offset  int // examples of epoch Epoch served, 0..N
	N       int
}

// State returns the Batcher's position. After the last batch of an epoch it
// reports the start of the next one (Offset 0).
func (b *Batcher) State() BatcherState {
	s := BatcherState{Seed: b.seed, Shuffle: b.shuffle, Epoch: b.epoch, Offset: b.offset, N: b.ds.Len()}
	if b.ended() {
		s.Epoch++
		s.Offset = 0
	}
	return s
}

// Restore sets the Batcher's position to s, which an earlier [Batcher.State]
// returned, possibly in another process: the next batch is the one that
// would have followed then, with the same examples in the same order. The
// Batcher must serve a dataset of the same size; the order of examples is
// reproducible with the same Go version (it depends on math/rand/v2's
// PCG and IntN).
//
// Restore returns an error, leaving the Batcher unchanged, if s does not fit:
// a different N, a shuffled state for an unshuffled Batcher or the reverse,
// Epoch < 0 or Offset outside 0..N.
func (b *Batcher) Restore(s BatcherState) error {
	n := b.ds.Len()
	switch {
	case s.N != n:
		return fmt.Errorf("data: Restore: the state is for a dataset of %d examples, this one has %d", s.N, n)
	case s.Shuffle != b.shuffle:
		return fmt.Errorf("data: Restore: the state is for a Batcher with shuffling %v, this one has %v (a nil rng means no shuffling)", s.Shuffle, b.shuffle)
	case s.Epoch < 0 || s.Offset < 0 || s.Offset > n:
		return fmt.Errorf("data: Restore: bad position epoch %d, offset %d (want epoch ≥ 0, offset 0..%d)", s.Epoch, s.Offset, n)
	}
	b.seed = s.Seed
	b.epoch, b.offset = s.Epoch, s.Offset
	b.permEpoch = -1
	return nil
}

// convert sets dst[i] = src[i]/255 for all i, correctly rounded (so 255 ↦
// 1); len(dst) must be ≥ len(src). It runs vec's AVX2 kernel where the CPU
// has one.
func convert(dst []float32, src []uint8) { vec.BytesToFloats(dst, src) }
