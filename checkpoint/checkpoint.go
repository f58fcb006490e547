// Package checkpoint saves and restores a training run — the model's
// parameters, the optimizer's state and the minibatch order — so that a run
// stopped after k steps and resumed continues bit for bit as if it had never
// stopped.
//
// A checkpoint is one file in a small binary format (see Write): a header
// with a version number and a CRC-32C checksum of the payload, then the
// parameters by name with their shapes and element type, the optimizer's
// kind, step counter and state buffers (any number per parameter: SGD's
// momentum, Adam's two moments, …) and its Plateau state, the Batcher's seed, epoch and offset,
// and free-form metadata; optionally (see Extras) an early stopping's
// position and best weights and the states of random generators (the
// masks of dropout). Save writes it atomically: a crash mid-write leaves
// the previous checkpoint intact.
//
// Saving and resuming:
//
//	st := checkpoint.Capture(model.Params(), opt, batches)
//	st.Meta = map[string]string{"model": "784-256-256-10"}
//	err := checkpoint.Save("run.ckpt", st)
//	…
//	st, err := checkpoint.Load[float32]("run.ckpt")
//	err = st.Restore(model.Params(), opt, batches) // all or nothing
//
// With early stopping and dropout, CaptureWith and RestoreWith carry them
// too:
//
//	pcg := rand.NewPCG(seed, 1) // the dropout layers' rand.New(pcg)
//	x := checkpoint.Extras[float32]{Early: es, RNG: map[string]checkpoint.Generator{"dropout": pcg}}
//	st, err := checkpoint.CaptureWith(model.Params(), opt, batches, x)
//	…
//	err = st.RestoreWith(model.Params(), opt, batches, x)
//
// Reading validates the file completely (magic, version, checksum, lengths,
// names, shapes) before anything is used, and Restore checks that the
// checkpoint fits the model parameter by parameter; a bad or foreign file
// is an error naming what is wrong, never a panic.
package checkpoint

import (
	"encoding"
	"fmt"
	"maps"
	"slices"

	"github.com/flowgrad/flowgrad/autograd"
	"github.com/flowgrad/flowgrad/data"
	"github.com/flowgrad/flowgrad/optim"
	"github.com/flowgrad/flowgrad/tensor"
	"github.com/flowgrad/flowgrad/train"
)

// Param is one named parameter matrix of a checkpoint.
type Param[T tensor.Float] struct {
	Name string // the dotted path, e.g. "fc1.W"
	Data *tensor.Dense[T]
}

// State is the contents of a checkpoint: everything needed to continue a
// training run exactly.
type State[T tensor.Float] struct {
	// Params are the model's parameters in the model's order.
	Params []Param[T]
	// Optim is the optimizer's kind, step counter and state buffers (by
	// parameter name, one per slot) and its Plateau state if any. The
	// schedule's rate follows from the step (and the Plateau state).
	Optim optim.State[T]
	// Batcher is the data order: seed, epoch and offset in it.
	Batcher data.BatcherState
	// Early is the run's early stopping (nil for a run without): its
	// position and the best epoch's weights.
	Early *Early[T]
	// RNG holds the states of the run's random generators by name, as
	// their MarshalBinary gives them (nil for none). The bytes are opaque
	// to the checkpoint.
	RNG map[string][]byte
	// Meta is free-form metadata, written and read back as is (say the
	// flags of the run, to check on resume that they agree).
	Meta map[string]string
}

// Early is an early stopping's state in a checkpoint: its position, and
// for BestEpoch > 0 the best epoch's weights by parameter name
// (train.EarlyStopping.State and Best).
type Early[T tensor.Float] struct {
	State   train.EarlyState
	Weights map[string]*tensor.Dense[T]
}

// Generator is a random generator whose state a checkpoint can carry:
// *rand.PCG and *rand.ChaCha8 of math/rand/v2 are. (A rand.Rand has no
// state but its source's: checkpoint the source.)
type Generator interface {
	encoding.BinaryMarshaler
	encoding.BinaryUnmarshaler
}

// Extras are the optional parts of a run that CaptureWith and RestoreWith
// carry besides the parameters, the optimizer and the data order: its
// early stopping (nil for none) and its random generators by name, such
// as the source of the dropout masks.
type Extras[T tensor.Float] struct {
	Early *train.EarlyStopping[T]
	RNG   map[string]Generator
}

// Capture returns the state of a run: params' current matrices (shared,
// not copied: write the state before the next step), opt.State() and
// batches.State(). Meta is left nil.
func Capture[T tensor.Float](params []*autograd.Value[T], opt optim.Optimizer[T], batches *data.Batcher) State[T] {
	st := State[T]{Optim: opt.State(), Batcher: batches.State()}
	st.Params = make([]Param[T], len(params))
	for i, p := range params {
		st.Params[i] = Param[T]{Name: p.Name(), Data: p.Data()}
	}
	return st
}

// CaptureWith is Capture plus the extras: the early stopping's State and
// Best (sharing memory, as the parameters do) and each generator's
// MarshalBinary. Its error is a generator's.
func CaptureWith[T tensor.Float](params []*autograd.Value[T], opt optim.Optimizer[T], batches *data.Batcher, x Extras[T]) (State[T], error) {
	st := Capture(params, opt, batches)
	if x.Early != nil {
		st.Early = &Early[T]{State: x.Early.State(), Weights: x.Early.Best()}
	}
	for _, name := range slices.Sorted(maps.Keys(x.RNG)) {
		b, err := x.RNG[name].MarshalBinary()
		if err != nil {
			return State[T]{}, fmt.Errorf("checkpoint: generator %q: %w", name, err)
		}
		if st.RNG == nil {
			st.RNG = make(map[string][]byte, len(x.RNG))
		}
		st.RNG[name] = b
	}
	return st, nil
}

// Restore copies the state into a run: the parameter values into params
// (matched by name), the optimizer state into opt and the position into
// batches. It is all or nothing: on error params, opt and batches are
// unchanged.
//
// It returns an error naming the parameter if a parameter of params is
// missing from the checkpoint, the checkpoint has a parameter that params
// lacks, or a parameter has another shape (both shapes are named), and the
// error of opt.SetState or batches.Restore if the optimizer state or the
// position does not fit (another optimizer kind or momentum form, another
// dataset size).
//
// A checkpoint with early-stopping state or generator states (see
// CaptureWith) does not fit a run without them: restore it with
// RestoreWith.
func (st State[T]) Restore(params []*autograd.Value[T], opt optim.Optimizer[T], batches *data.Batcher) error {
	return st.RestoreWith(params, opt, batches, Extras[T]{})
}

// RestoreWith is Restore plus the extras: it sets x.Early's position and
// best weights and each generator's state (UnmarshalBinary). It is all or
// nothing too. Besides Restore's errors it returns an error if the
// checkpoint has early-stopping state and x.Early is nil or the reverse,
// if the checkpoint's generators and x.RNG do not have the same names
// (the first difference is named), or with the error of the early
// stopping's SetState or of a generator's UnmarshalBinary.
func (st State[T]) RestoreWith(params []*autograd.Value[T], opt optim.Optimizer[T], batches *data.Batcher, x Extras[T]) error {
	if err := st.Match(params); err != nil {
		return err
	}
	if err := st.matchExtras(x); err != nil {
		return err
	}
	// Each step that changes the run pushes its undo.
	var undo []func() error
	fail := func(err error) error {
		for i := len(undo) - 1; i >= 0; i-- {
			if err2 := undo[i](); err2 != nil {
				panic("checkpoint: Restore: cannot roll back: " + err2.Error())
			}
		}
		return fmt.Errorf("checkpoint: %w", err)
	}
	oldOpt := opt.State()
	if err := opt.SetState(st.Optim); err != nil {
		return fail(err)
	}
	undo = append(undo, func() error { return opt.SetState(oldOpt) })
	oldPos := batches.State()
	if err := batches.Restore(st.Batcher); err != nil {
		return fail(err)
	}
	undo = append(undo, func() error { return batches.Restore(oldPos) })
	if es := x.Early; es != nil {
		oldSt, oldBest := es.State(), cloneWeights(es.Best())
		if err := es.SetState(st.Early.State, st.Early.Weights); err != nil {
			return fail(err)
		}
		undo = append(undo, func() error { return es.SetState(oldSt, oldBest) })
	}
	for _, name := range slices.Sorted(maps.Keys(x.RNG)) {
		g := x.RNG[name]
		old, err := g.MarshalBinary()
		if err != nil {
			return fail(fmt.Errorf("generator %q: %w", name, err))
		}
		if err := g.UnmarshalBinary(st.RNG[name]); err != nil {
			return fail(fmt.Errorf("generator %q: %w", name, err))
		}
		undo = append(undo, func() error { return g.UnmarshalBinary(old) })
	}
	byName := st.byName()
	for _, p := range params {
		p.Data().CopyFrom(byName[p.Name()])
	}
	return nil
}

// matchExtras returns an error if the checkpoint's extras and x do not
// have the same parts.
func (st State[T]) matchExtras(x Extras[T]) error {
	switch {
	case st.Early != nil && x.Early == nil:
		return fmt.Errorf("checkpoint: the checkpoint has early-stopping state, the run has no early stopping")
	case st.Early == nil && x.Early != nil:
		return fmt.Errorf("checkpoint: the run stops early, the checkpoint has no early-stopping state")
	}
	for _, name := range slices.Sorted(maps.Keys(st.RNG)) {
		if x.RNG[name] == nil {
			return fmt.Errorf("checkpoint: the checkpoint has the state of generator %q, the run has no such generator", name)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(x.RNG)) {
		if _, ok := st.RNG[name]; !ok {
			return fmt.Errorf("checkpoint: the run's generator %q has no state in the checkpoint", name)
		}
	}
	return nil
}

// cloneWeights returns a deep copy of m.
func cloneWeights[T tensor.Float](m map[string]*tensor.Dense[T]) map[string]*tensor.Dense[T] {
	if m == nil {
		return nil
	}
	c := make(map[string]*tensor.Dense[T], len(m))
	for k, d := range m {
		c[k] = tensor.FromSlice(d.Rows(), d.Cols(), slices.Clone(d.Data()))
	}
	return c
}

// Match returns nil if the checkpoint's parameters are exactly params: the
// same names with the same shapes (in any order). Otherwise its error names
// the first difference, in params' order, and counts the others.
func (st State[T]) Match(params []*autograd.Value[T]) error {
	byName := make(map[string]*tensor.Dense[T], len(st.Params))
	for _, q := range st.Params {
		if q.Data == nil {
			return fmt.Errorf("checkpoint: parameter %q has no matrix", q.Name)
		}
		if byName[q.Name] != nil {
			return fmt.Errorf("checkpoint: two parameters named %q", q.Name)
		}
		byName[q.Name] = q.Data
	}
	var diffs []string
	model := make(map[string]bool, len(params))
	for _, p := range params {
		model[p.Name()] = true
		d, ok := byName[p.Name()]
		switch {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("the model's parameter %q (%v) is missing from the checkpoint", p.Name(), p.Shape()))
		case d.Shape() != p.Shape():
			diffs = append(diffs, fmt.Sprintf("parameter %q is %v in the checkpoint but %v in the model", p.Name(), d.Shape(), p.Shape()))
		}
	}
	for _, q := range st.Params {
		if !model[q.Name] {
			diffs = append(diffs, fmt.Sprintf("the checkpoint's parameter %q (%v) is not in the model", q.Name, q.Data.Shape()))
		}
	}
	switch len(diffs) {
	case 0:
		return nil
	case 1:
		return fmt.Errorf("checkpoint: the model does not match: %s", diffs[0])
	}
	return fmt.Errorf("checkpoint: the model does not match: %s (and %d more differences)", diffs[0], len(diffs)-1)
}

func (st State[T]) byName() map[string]*tensor.Dense[T] {
	m := make(map[string]*tensor.Dense[T], len(st.Params))
	for _, p := range st.Params {
		m[p.Name] = p.Data
	}
	return m
}
