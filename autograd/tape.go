package autograd

import (
	"fmt"
	"sync/atomic"

	"github.com/flowgrad/flowgrad/tensor"
)

// Tape records operations as they run (define-by-run) so that Backward can
// differentiate them. A tape owns the matrices its values hold: Reset
// recycles them, so a training loop that runs the same computation every
// step on one tape allocates nothing once warm.
//
// The zero value is not usable; use NewTape.
type Tape[T tensor.Float] struct {
	gen   uint64
	eval  bool        // evaluation mode: see SetTraining
	nodes []*Value[T] // node slab: nodes[:used] are live
	used  int
	bufs  map[tensor.Shape]*slab[T]

	ew ewJob[T] // the fused ops' elementwise pass, reused

	stack     []frame[T] // Backward's scratch, kept to avoid reallocation
	order     []*Value[T]
	visits    int
	lastEpoch uint64 // the epoch of the last Backward since Reset (0: none)
}

// slab is a pool of same-shaped matrices: bufs[:next] are in use.
type slab[T tensor.Float] struct {
	bufs []*tensor.Dense[T]
	next int
}

type frame[T tensor.Float] struct {
	v    *Value[T]
	next int
}

// backwardEpoch numbers Backward calls, so that a gradient or a search mark
// left by an earlier call is recognised as stale without clearing it.
var backwardEpoch atomic.Uint64

// NewTape returns an empty tape.
func NewTape[T tensor.Float]() *Tape[T] {
	return &Tape[T]{gen: 1, bufs: make(map[tensor.Shape]*slab[T])}
}

// Reset forgets every value recorded on t and recycles their matrices.
// Values and matrices obtained from t before Reset must not be used after
// it. Parameters and their gradients are unaffected.
func (t *Tape[T]) Reset() {
	t.gen++
	t.used = 0
	t.lastEpoch = 0
	for _, s := range t.bufs {
		s.next = 0
	}
}

// SetTraining sets whether t records training computations (the default
// for a new tape) or evaluation ones. Operations that differ between the
// two, such as Dropout, ask the tape of their operand. Reset keeps the
// mode. The mode lives on the tape rather than in the model so that one
// model can train on one tape while being evaluated, or serve predictions,
// on others (each set to false) at the same time.
func (t *Tape[T]) SetTraining(training bool) { t.eval = !training }

// Training reports whether t records training computations.
func (t *Tape[T]) Training() bool { return !t.eval }

// Len returns the number of values recorded since the last Reset.
func (t *Tape[T]) Len() int { return t.used }

// Visits returns how many nodes the last Backward applied a derivative rule
// to (or seeded): the nodes the loss depends on that need a gradient.
func (t *Tape[T]) Visits() int { return t.visits }

// buffer returns a matrix of shape s from the pool. Its contents are
// whatever the previous user left.
func (t *Tape[T]) buffer(s tensor.Shape) *tensor.Dense[T] {
	sl := t.bufs[s]
	if sl == nil {
		sl = &slab[T]{}
		t.bufs[s] = sl
	}
	if sl.next == len(sl.bufs) {
		sl.bufs = append(sl.bufs, tensor.New[T](s.Rows, s.Cols))
	}
	b := sl.bufs[sl.next]
	sl.next++
	return b
}

// record returns a new value computed by op from the inputs, with no data
// yet. Node structs are recycled across Resets.
func (t *Tape[T]) record(op opKind, a, b *Value[T]) *Value[T] {
	if t.used == len(t.nodes) {
		t.nodes = append(t.nodes, new(Value[T]))
	}
	v := t.nodes[t.used]
	t.used++
	*v = Value[T]{tape: t, gen: t.gen, op: op, in: [3]*Value[T]{a, b, nil}}
	v.needsGrad = a != nil && a.needsGrad || b != nil && b.needsGrad
	return v
}

// node records a new value computed by op from the inputs; its data is a
// pooled rows×cols matrix for the forward function to fill.
func (t *Tape[T]) node(op opKind, rows, cols int, a, b *Value[T]) *Value[T] {
	v := t.record(op, a, b)
	v.data = t.buffer(tensor.Shape{Rows: rows, Cols: cols})
	return v
}

// Input records x as a value that needs no gradient (a minibatch, a
// target). x is used, not copied: it must not change until Backward is done.
func (t *Tape[T]) Input(x *tensor.Dense[T]) *Value[T] { return t.leaf(opInput, x) }

func (t *Tape[T]) leaf(op opKind, x *tensor.Dense[T]) *Value[T] {
	v := t.record(op, nil, nil)
	v.data = x
	v.needsGrad = op == opVar
	return v
}

// Var records x as a variable whose gradient Backward computes (for
// differentiating with respect to inputs, as the tutorial's examples do).
// x is used, not copied.
func (t *Tape[T]) Var(x *tensor.Dense[T]) *Value[T] { return t.leaf(opVar, x) }

// Param records parameter p on t, for operations whose other operands are
// not on a tape either (a weight-decay term Sum(Square(W)), a loss that is
// a function of the parameters alone). The result shares p's data;
// Backward adds its gradient into p's. An operation that already has an
// operand on t can take p directly.
func (t *Tape[T]) Param(p *Value[T]) *Value[T] {
	if !p.IsParam() {
		panic(fmt.Sprintf("autograd: Param: %v is not a parameter", p))
	}
	v := t.record(opParam, p, nil)
	v.data = p.data
	return v
}

// Scalar records a 1×1 variable holding x: shorthand for Var of a scalar.
func (t *Tape[T]) Scalar(x T) *Value[T] { return t.scalar(opVar, x) }

// Const records a 1×1 constant holding x (no gradient).
func (t *Tape[T]) Const(x T) *Value[T] { return t.scalar(opConst, x) }

func (t *Tape[T]) scalar(op opKind, x T) *Value[T] {
	m := t.buffer(tensor.Shape{Rows: 1, Cols: 1})
	m.Data()[0] = x
	return t.leaf(op, m)
}

// tapeOf returns the tape that an operation on a and b records on, and
// panics if they belong to different tapes, to a Reset tape, or both are
// parameters.
func tapeOf[T tensor.Float](op string, a, b *Value[T]) *Tape[T] {
	t := a.tape
	if t == nil && b != nil {
		t = b.tape
	}
	if t == nil {
		panic(fmt.Sprintf("autograd: %s: no operand is on a tape (parameters only); record an input with Tape.Input or Tape.Var", op))
	}
	for _, v := range [2]*Value[T]{a, b} {
		if v == nil || v.tape == nil {
			continue
		}
		if v.tape != t {
			panic(fmt.Sprintf("autograd: %s: operands %v and %v belong to different tapes", op, a.Shape(), b.Shape()))
		}
		if v.gen != t.gen {
			panic(fmt.Sprintf("autograd: %s: operand %v was recorded before the tape's last Reset", op, v.Shape()))
		}
	}
	return t
}

// Backward computes the gradient of the scalar loss with respect to every
// value it depends on that needs one (parameters, Vars and the operations
// between them), leaving each in that value's Grad.
//
// One explicit-stack depth-first search from loss orders the values
// topologically; one reverse sweep then applies each value's derivative rule
// once. The cost is O(nodes + edges) of the part of the graph loss depends
// on. It panics if loss is not 1×1 or not on t.
func (t *Tape[T]) Backward(loss *Value[T]) {
	if loss.tape != t || loss.gen != t.gen {
		panic("autograd: Backward: the loss was not recorded on this tape (or was recorded before its last Reset)")
	}
	if loss.Shape() != (tensor.Shape{Rows: 1, Cols: 1}) {
		panic(fmt.Sprintf("autograd: Backward: loss %v is not a scalar (want 1×1); reduce it with Sum or Mean", loss.Shape()))
	}
	epoch := backwardEpoch.Add(1)
	t.visits, t.lastEpoch = 0, epoch
	if !loss.needsGrad {
		return // nothing it depends on needs a gradient
	}

	// Post-order depth-first search: a value is appended after all the
	// values it depends on, so order is topological.
	order := t.order[:0]
	stack := append(t.stack[:0], frame[T]{v: loss})
	loss.mark = epoch
	for len(stack) > 0 {
		f := &stack[len(stack)-1]
		if f.next < len(f.v.in) {
			c := f.v.in[f.next]
			f.next++
			if c != nil && c.needsGrad && c.mark != epoch {
				c.mark = epoch
				stack = append(stack, frame[T]{v: c})
			}
			continue
		}
		order = append(order, f.v)
		stack = stack[:len(stack)-1]
	}
	t.order, t.stack = order, stack

	t.grad(loss, epoch).Data()[0] = 1
	for i := len(order) - 1; i >= 0; i-- {
		v := order[i]
		t.visits++
		if !v.op.leaf() {
			backward(t, v, epoch)
		}
	}
}

// grad returns v's gradient matrix for this Backward call, zeroed if it
// holds an older call's sum (or allocated from the pool for a new node).
func (t *Tape[T]) grad(v *Value[T], epoch uint64) *tensor.Dense[T] {
	g, fresh := t.gradForWrite(v, epoch)
	if fresh {
		g.Zero()
	}
	return g
}

// gradForWrite returns v's gradient matrix for this Backward call and
// whether it is fresh: then its contents are stale and the caller must
// overwrite rather than add (GEMM with beta = 0).
func (t *Tape[T]) gradForWrite(v *Value[T], epoch uint64) (g *tensor.Dense[T], fresh bool) {
	if v.grad == nil {
		v.grad = t.buffer(v.Shape())
		fresh = true
	}
	if v.gradEpoch != epoch {
		v.gradEpoch = epoch
		fresh = true
	}
	return v.grad, fresh
}
