// Package dist trains one model on several processes at once: data-parallel
// minibatch SGD over MPI, as PyTorch's DistributedDataParallel and Horovod
// do. Every process (rank) holds a whole replica of the model; each global
// minibatch of B examples is cut into one shard per rank; each rank runs
// forward and backward on its shard only, then one allreduce per step sums
// the gradients of all ranks, weighted so that every rank applies the
// update that single-process training on the whole global minibatch would.
//
//	comm, err := dist.Init() // the MPI world under -tags mpi; else one rank
//	defer dist.Finalize()
//	...                      // model, optimizer, Trainer, Batcher of global B
//	results, err := dist.Train(ctx, comm, trainer, batches, eval, cfg)
//
// in place of train.Run(ctx, trainer, batches, eval, cfg); Train is
// New, which wraps the Trainer and Batcher, then Run.
//
// Built with -tags mpi (cgo, pkg-config ompi), Init starts MPI; run the
// program with mpirun. Without the tag, the default and pure-Go build,
// Init returns a single rank and the same code trains as one process,
// bit for bit as train.Run would.
//
// What a Replica guarantees:
//
//   - Parameters, optimizer state (momentum, step) and data position start
//     identical: New broadcasts rank 0's, as a checkpoint, and checks every
//     rank against it. So only rank 0 needs to read a checkpoint to resume,
//     and the other ranks' initial weights do not matter.
//   - The data order is the global sequence of minibatches of a Batcher of
//     size B with rank 0's seed (see data.Batcher.Shard); rank i reads only
//     its shard. The position saved in a checkpoint is that of the global
//     sequence, so a run saved on N ranks resumes on any M (with M ≤ B).
//   - One allreduce per step, over all gradients packed into one buffer.
//     Rank i's gradient, the mean over its n_i examples, is weighted
//     n_i/B before the sum: Σ n_i/B · mean_i = the mean over the global
//     batch. Shards may differ in size by one (B not a multiple of the
//     ranks, or the short last batch of an epoch); the weights make that
//     exact.
//   - Rank 0 alone evaluates and calls the Config's OnEpoch and OnBatch (so
//     it alone prints and writes checkpoints or model files), and decides
//     for all when training stops (epochs, target, ErrStop, an error).
//   - No rank is left waiting: a rank whose step fails (a diverged loss)
//     tells the others in the same allreduce, and they stop with an error
//     wrapping ErrPeer; an interrupt (the Run context cancelled) on any rank
//     stops every rank after the same step; after every epoch the ranks'
//     states are checked to be bitwise identical. A rank that dies is the
//     launcher's to handle: mpirun ends the job.
package dist

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"

	"github.com/flowgrad/flowgrad/autograd"
	"github.com/flowgrad/flowgrad/checkpoint"
	"github.com/flowgrad/flowgrad/data"
	"github.com/flowgrad/flowgrad/optim"
	"github.com/flowgrad/flowgrad/tensor"
	"github.com/flowgrad/flowgrad/train"
)

// ErrPeer is wrapped by the error a rank returns when it stops because
// another rank failed.
var ErrPeer = errors.New("another rank stopped")

// Root is the rank that evaluates, prints and writes files.
const Root = 0

// A rank's status in a step's allreduce (0: training on).
const (
	interrupted = 1 // its Run context is cancelled: stop after this step
	diverged    = 2 // its step failed with train.ErrDiverged
	failed      = 3 // its step failed otherwise
)

// Replica is one rank's part of a data-parallel run: its Trainer (model
// and optimizer) and its Batcher, sharded, with the gradient allreduce in
// the Trainer's BeforeUpdate hooks. Train it with [Replica.Run] only.
type Replica[T tensor.Float] struct {
	comm    Comm
	tr      *train.Trainer[T]
	opt     optim.Optimizer[T]
	batches *data.Batcher
	params  []*autograd.Value[T]
	nGrad   int // elements of all gradients
	buf     []T // the packed gradients, then one status per rank

	weight  T    // this rank's share of the current global batch
	inStep  bool // a batch was taken and its allreduce is not yet done
	ctx     context.Context
	stop    context.CancelFunc // ends train.Run on this rank before its next batch
	stopBy  int                // a rank that was interrupted, or -1
	scratch bytes.Buffer       // encoded state
}

// New makes tr and batches rank comm.Rank()'s part of a data-parallel run
// on comm: it shards batches (data.Batcher.Shard), copies rank 0's
// parameters, optimizer state and data position to every rank, checks that
// all ranks now hold the same state, and appends the gradient allreduce to
// tr.BeforeUpdate. Every rank must call New with the same model
// architecture, optimizer settings, dataset and batch size B (the global
// minibatch). Hooks appended to tr.BeforeUpdate after New see the summed
// gradients (the place for gradient clipping).
//
// New returns an error on every rank if any rank fails: B too small to
// give each rank at least one example (wrapping data.ErrBatchSize), or a
// rank's model that does not fit rank 0's state. It panics if tr's
// optimizer is not an optim.Optimizer[T] (every optimiser of package optim
// is).
func New[T tensor.Float](comm Comm, tr *train.Trainer[T], batches *data.Batcher) (*Replica[T], error) {
	opt, ok := tr.Optimizer().(optim.Optimizer[T])
	if !ok {
		panic(fmt.Sprintf("dist: New: the Trainer's optimizer, a %T, is not an optim.Optimizer (its state is copied between ranks as a checkpoint)", tr.Optimizer()))
	}
	r := &Replica[T]{comm: comm, tr: tr, opt: opt, batches: batches, params: tr.Model().Params(), stopBy: -1}
	for _, p := range r.params {
		r.nGrad += p.Data().Len()
	}
	r.buf = make([]T, r.nGrad+comm.Size())
	err := batches.Shard(comm.Rank(), comm.Size())
	if err = r.syncState(err); err != nil {
		return nil, err
	}
	tr.BeforeUpdate = append(tr.BeforeUpdate, r.allreduce)
	return r, nil
}

// Train is train.Run made data-parallel on comm, for programs that run
// with or without mpirun: on several ranks it is New then Run (see both:
// only rank 0's eval and cfg count); on one rank, or with a nil comm, it is
// train.Run itself. The hooks after, if any, join tr.BeforeUpdate after
// the gradients are summed across the ranks (gradient clipping, which
// must see the whole minibatch's gradient).
func Train[T tensor.Float](ctx context.Context, comm Comm, tr *train.Trainer[T], batches *data.Batcher, eval *train.Evaluator[T], cfg train.Config, after ...func() error) ([]train.EpochResult, error) {
	if comm == nil || comm.Size() == 1 {
		tr.BeforeUpdate = append(tr.BeforeUpdate, after...)
		return train.Run(ctx, tr, batches, eval, cfg)
	}
	rep, err := New(comm, tr, batches) // appends the allreduce to tr.BeforeUpdate
	if err != nil {
		return nil, err
	}
	tr.BeforeUpdate = append(tr.BeforeUpdate, after...)
	return rep.Run(ctx, eval, cfg)
}

// Comm returns the group the Replica trains on.
func (r *Replica[T]) Comm() Comm { return r.comm }

// Run is train.Run on every rank, with the same contract, over the
// Replica's Trainer and sharded Batcher; every rank must call it. Only
// rank 0's eval and cfg count: rank 0 evaluates,
// calls cfg.OnBatch and cfg.OnEpoch, and decides when to stop (cfg.Epochs,
// cfg.Target, OnEpoch's ErrStop or error); the other ranks follow it (they
// may pass nil and a zero Config). The EpochResults hold the training loss
// and examples of the global minibatches (all ranks'), rank 0's training
// time, and on rank 0 the held-out metrics.
//
// Run returns on every rank at the same step. When ctx is done on any
// rank, every rank stops after the step that notices it: that rank returns
// ctx.Err(), the others an error wrapping context.Canceled. When a rank's step fails, that rank
// returns its error and the others an error wrapping ErrPeer (and
// train.ErrDiverged if the failure was a divergence), with the parameters
// of the last completed step; when rank 0's OnEpoch fails, the others
// return an error wrapping ErrPeer.
func (r *Replica[T]) Run(ctx context.Context, eval *train.Evaluator[T], cfg train.Config) ([]train.EpochResult, error) {
	inner, stop := context.WithCancel(context.Background())
	defer stop()
	r.ctx, r.stop, r.stopBy = ctx, stop, -1
	defer func() { r.ctx = nil }()

	isRoot := r.comm.Rank() == Root
	run := cfg
	if !isRoot {
		eval = nil
		run = train.Config{Epochs: math.MaxInt}
	}
	epochs := max(cfg.Epochs, 1)
	var global [][2]float64 // per epoch: training loss, examples (all ranks)
	run.OnEpoch = func(res train.EpochResult) error {
		g, err := r.endEpoch(&res)
		if err != nil {
			return err
		}
		global = append(global, g)
		var decision byte // 0 continue, 1 stop, 2 rank 0 failed
		var rootErr error
		if isRoot {
			if cfg.OnEpoch != nil {
				rootErr = cfg.OnEpoch(res)
			}
			switch {
			case errors.Is(rootErr, train.ErrStop):
				decision = 1
			case rootErr != nil:
				decision = 2
			case len(global) >= epochs, cfg.Target > 0 && eval != nil && res.Eval.Primary() >= cfg.Target:
				decision = 1
			}
		}
		b := []byte{decision}
		if err := r.comm.Broadcast(b, Root); err != nil {
			return err
		}
		switch {
		case isRoot:
			return rootErr // train.Run stops by itself at its epochs or target
		case b[0] == 1:
			return train.ErrStop
		case b[0] == 2:
			return fmt.Errorf("dist: rank %d ended the run with an error after epoch %d (see its message): %w", Root, res.Epoch, ErrPeer)
		}
		return nil
	}
	results, err := train.Run(inner, r.tr, source[T]{r}, eval, run)
	for i := range results {
		if i < len(global) {
			results[i].TrainLoss, results[i].Examples = global[i][0], int(global[i][1])
		}
	}
	if err == nil {
		return results, nil
	}
	if r.inStep {
		// This rank's step failed before its allreduce, where the others
		// wait: tell them.
		r.inStep = false
		r.sendFailure(err)
	}
	if errors.Is(err, context.Canceled) && r.stopBy >= 0 {
		if cerr := ctx.Err(); cerr != nil {
			return results, cerr // this rank's own (a deadline, say)
		}
		return results, fmt.Errorf("dist: rank %d was interrupted: %w", r.stopBy, context.Canceled)
	}
	return results, err
}

// source is the Replica's Batcher as a train.Source, noting for each batch
// the rank's share of the global batch.
type source[T tensor.Float] struct{ r *Replica[T] }

func (s source[T]) Next() (data.Batch, bool) {
	b := s.r.batches
	pos := b.State()
	batch, ok := b.Next()
	if ok {
		global := min(b.Size(), pos.N-pos.Offset) // the global batch's examples
		s.r.weight = T(batch.Size()) / T(global)
		s.r.inStep = true
	}
	return batch, ok
}

func (s source[T]) BatchesPerEpoch() int { return s.r.batches.BatchesPerEpoch() }

// allreduce is the BeforeUpdate hook: it replaces every rank's gradients by
// the weighted sum over the ranks, in one allreduce that also carries each
// rank's status.
func (r *Replica[T]) allreduce() error {
	if r.ctx == nil {
		panic("dist: a step of a Replica's Trainer outside Replica.Run")
	}
	r.inStep = false
	if r.comm.Size() == 1 {
		if r.ctx.Err() != nil {
			r.stopBy = r.comm.Rank()
			r.stop()
		}
		return nil
	}
	grads, status := r.buf[:r.nGrad], r.buf[r.nGrad:]
	off := 0
	for _, p := range r.params {
		g := p.Grad().Data()
		scaleInto(grads[off:off+len(g)], g, r.weight)
		off += len(g)
	}
	clear(status)
	if r.ctx.Err() != nil {
		status[r.comm.Rank()] = interrupted
	}
	if err := sum(r.comm, r.buf); err != nil {
		return err
	}
	for rank, s := range status {
		switch s {
		case diverged:
			return fmt.Errorf("dist: step %d: rank %d diverged (see its message): %w; %w", r.tr.Steps()+1, rank, ErrPeer, train.ErrDiverged)
		case failed:
			return fmt.Errorf("dist: step %d: rank %d failed (see its message): %w", r.tr.Steps()+1, rank, ErrPeer)
		case interrupted:
			r.stopBy = rank
		}
	}
	off = 0
	for _, p := range r.params {
		g := p.Grad().Data()
		copy(g, grads[off:off+len(g)])
		off += len(g)
	}
	if r.stopBy >= 0 {
		r.stop() // after this step, on every rank
	}
	return nil
}

// sendFailure joins the allreduce the other ranks wait in with this rank's
// failure.
func (r *Replica[T]) sendFailure(err error) {
	clear(r.buf)
	code := T(failed)
	if errors.Is(err, train.ErrDiverged) {
		code = diverged
	}
	r.buf[r.nGrad+r.comm.Rank()] = code
	sum(r.comm, r.buf) // the error to report is err
}

// scaleInto sets dst[i] = w·src[i].
func scaleInto[T tensor.Float](dst, src []T, w T) {
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = w * v
	}
}

// endEpoch sums the epoch's training loss and examples over the ranks and
// checks that every rank holds rank 0's state. It sets res's TrainLoss and
// Examples to the global ones and returns them.
func (r *Replica[T]) endEpoch(res *train.EpochResult) ([2]float64, error) {
	g := [2]float64{res.TrainLoss * float64(res.Examples), float64(res.Examples)}
	if err := r.comm.SumFloat64(g[:]); err != nil {
		return g, err
	}
	g[0] /= g[1]
	res.TrainLoss, res.Examples = g[0], int(g[1])
	return g, r.checkSame(nil, fmt.Sprintf("after epoch %d", res.Epoch))
}

// syncState copies rank 0's state to every rank and checks it; localErr is
// this rank's failure so far, which every rank learns of.
func (r *Replica[T]) syncState(localErr error) error {
	head := make([]byte, 8)
	var payload []byte
	if r.comm.Rank() == Root && localErr == nil {
		payload, localErr = r.encode()
		binary.LittleEndian.PutUint64(head, uint64(len(payload)))
	}
	if err := r.comm.Broadcast(head, Root); err != nil {
		return err
	}
	n := binary.LittleEndian.Uint64(head)
	if r.comm.Rank() != Root {
		payload = make([]byte, n)
	}
	if err := r.comm.Broadcast(payload, Root); err != nil {
		return err
	}
	if r.comm.Rank() != Root && localErr == nil && n > 0 {
		localErr = r.restore(payload)
	}
	return r.checkSame(localErr, "at the start")
}

// checkSame checks that every rank's state (parameters, optimizer, data
// position) is bitwise rank 0's, by their CRC-32C, and tells every rank of
// any rank's failure: localErr, or a state that differs.
func (r *Replica[T]) checkSame(localErr error, when string) error {
	head := make([]byte, 5) // rank 0's CRC and whether it has one
	var mine uint32
	if localErr == nil {
		enc, err := r.encode()
		localErr = err
		mine = crc32.Checksum(enc, castagnoli)
		binary.LittleEndian.PutUint32(head, mine)
		head[4] = 1
	}
	if err := r.comm.Broadcast(head, Root); err != nil {
		return err
	}
	if localErr == nil && head[4] == 1 && binary.LittleEndian.Uint32(head) != mine {
		localErr = fmt.Errorf("dist: rank %d: the parameters, optimizer state or data position differ from rank %d's %s "+
			"(do all machines run the same build? FLOWGRAD_KERNEL=generic makes different CPUs compute alike)", r.comm.Rank(), Root, when)
	}
	status := make([]float64, r.comm.Size())
	if localErr != nil {
		status[r.comm.Rank()] = 1
	}
	if err := r.comm.SumFloat64(status); err != nil {
		return err
	}
	if localErr != nil {
		return localErr
	}
	for rank, s := range status {
		if s != 0 {
			return fmt.Errorf("dist: rank %d failed %s (see its message): %w", rank, when, ErrPeer)
		}
	}
	return nil
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// encode returns the rank's state as a checkpoint (valid until the next
// encode).
func (r *Replica[T]) encode() ([]byte, error) {
	r.scratch.Reset()
	if err := checkpoint.Write(&r.scratch, checkpoint.Capture(r.params, r.opt, r.batches)); err != nil {
		return nil, fmt.Errorf("dist: rank %d: %w", r.comm.Rank(), err)
	}
	return r.scratch.Bytes(), nil
}

// restore sets the rank's state from rank 0's encoded state.
func (r *Replica[T]) restore(payload []byte) error {
	st, err := checkpoint.Read[T](bytes.NewReader(payload))
	if err == nil {
		err = st.Restore(r.params, r.opt, r.batches)
	}
	if err != nil {
		return fmt.Errorf("dist: rank %d cannot take rank %d's state (same model and flags on every rank?): %w", r.comm.Rank(), Root, err)
	}
	return nil
}
