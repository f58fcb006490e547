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
// and free-form metadata. Save writes it atomically: a crash mid-write
// leaves the previous checkpoint intact.
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
// Reading validates the file completely (magic, version, checksum, lengths,
// names, shapes) before anything is used, and Restore checks that the
// checkpoint fits the model parameter by parameter; a bad or foreign file
// is an error naming what is wrong, never a panic.
package checkpoint

import (
	"fmt"

	"github.com/flowgrad/flowgrad/autograd"
	"github.com/flowgrad/flowgrad/data"
	"github.com/flowgrad/flowgrad/optim"
	"github.com/flowgrad/flowgrad/tensor"
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
	// Meta is free-form metadata, written and read back as is (say the
	// flags of the run, to check on resume that they agree).
	Meta map[string]string
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
func (st State[T]) Restore(params []*autograd.Value[T], opt optim.Optimizer[T], batches *data.Batcher) error {
	if err := st.Match(params); err != nil {
		return err
	}
	old := opt.State()
	if err := opt.SetState(st.Optim); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if err := batches.Restore(st.Batcher); err != nil {
		if err2 := opt.SetState(old); err2 != nil {
			panic("checkpoint: Restore: cannot roll back the optimizer: " + err2.Error())
		}
		return fmt.Errorf("checkpoint: %w", err)
	}
	byName := st.byName()
	for _, p := range params {
		p.Data().CopyFrom(byName[p.Name()])
	}
	return nil
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
