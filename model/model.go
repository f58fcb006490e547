package model

import (
	"fmt"
	"maps"

	"github.com/flowgrad/flowgrad/autograd"
	"github.com/flowgrad/flowgrad/data"
	"github.com/flowgrad/flowgrad/layers"
	"github.com/flowgrad/flowgrad/tensor"
	"github.com/flowgrad/flowgrad/train"
)

// Model is a trained network with the preprocessing of its inputs: what a
// model file holds. Its fields must not be changed after [New] or [Load].
type Model struct {
	Spec layers.Spec                 // the architecture of Net
	Net  *layers.Sequential[float32] // the trained network
	Pre  *data.Preprocessor          // from table rows to Net's inputs, and back to targets
	Meta map[string]string           // free-form: how it was trained, scores, …

	// Prediction buffers, not shared by Clone.
	tape    *autograd.Tape[float32]
	x       []float32                      // rows×inputs
	targets []string                       // Pre.Targets(), made once
	xs      map[int]*tensor.Dense[float32] // matrices over x by rows
}

// New returns the model of a trained network and the preprocessing its
// training rows were fitted with. It keeps net, pre and a copy of meta
// (which may be nil). It returns an error if net has a layer that a
// [layers.Spec] cannot describe, or if its inputs or outputs do not match
// pre's.
func New(net *layers.Sequential[float32], pre *data.Preprocessor, meta map[string]string) (*Model, error) {
	spec, err := layers.SpecOf(net)
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	if err := fits(spec, pre); err != nil {
		return nil, err
	}
	return &Model{Spec: spec, Net: net, Pre: pre, Meta: maps.Clone(meta)}, nil
}

// fits returns an error unless the network's inputs and outputs are the
// preprocessing's.
func fits(spec layers.Spec, pre *data.Preprocessor) error {
	if spec.Inputs != pre.Inputs() || spec.Outputs() != pre.Outputs() {
		return fmt.Errorf("model: the network maps %d inputs to %d outputs, the preprocessing makes %d inputs and needs %d outputs",
			spec.Inputs, spec.Outputs(), pre.Inputs(), pre.Outputs())
	}
	return nil
}

// Clone returns a model that shares m's network, preprocessing and
// metadata but has buffers of its own, so that it can predict in another
// goroutine at the same time as m.
func (m *Model) Clone() *Model {
	return &Model{Spec: m.Spec, Net: m.Net, Pre: m.Pre, Meta: m.Meta}
}

// Kind returns the task: classification or regression.
func (m *Model) Kind() data.Kind { return m.Pre.Kind }

// Prediction is what a model predicts for a batch of rows.
type Prediction struct {
	Kind   data.Kind
	Target string // the (first) target column's name
	// Classification: the most probable class of each row (an index into
	// Classes; the first one on a tie), the class names (the model's: do
	// not modify them), and the rows×C class probabilities.
	Class   []int
	Classes []string
	Prob    *tensor.Dense[float32]
	// Regression: the rows×targets predicted values in the targets'
	// units, and the targets' names (the model's: do not modify them),
	// Target first.
	Value   *tensor.Dense[float32]
	Targets []string
}

// Len returns the number of rows predicted.
func (p *Prediction) Len() int {
	if p.Kind == data.Classification {
		return len(p.Class)
	}
	return p.Value.Rows()
}

// AUC returns the ROC AUC of a two-class prediction's probability of the
// second class against the true classes labels ([train.AUC]). It panics
// unless the prediction is of two classes and of len(labels) rows.
func (p *Prediction) AUC(labels []int32) float64 {
	if p.Kind != data.Classification || len(p.Classes) != 2 || len(labels) != len(p.Class) {
		panic(fmt.Sprintf("model: Prediction.AUC of %d labels for %d rows of %d classes", len(labels), p.Len(), len(p.Classes)))
	}
	scores, positive := make([]float64, len(labels)), make([]bool, len(labels))
	for i, y := range labels {
		scores[i], positive[i] = float64(p.Prob.At(i, 1)), y == 1
	}
	return train.AUC(scores, positive)
}

// Predict returns the prediction for every row of t, which must have the
// columns of the training table (the target and ignored columns may be
// missing; see [data.Preprocessor.Match]). It returns an error naming the
// file, line and column for columns that do not match or a category the
// training rows did not have. The result is new; see [Model.PredictInto]
// to reuse one.
func (m *Model) Predict(t *data.Table) (*Prediction, error) {
	p := new(Prediction)
	if err := m.PredictInto(p, t); err != nil {
		return nil, err
	}
	return p, nil
}

// maxSizes bounds the batch sizes whose buffers a Model keeps.
const maxSizes = 8

// predictBlock is the most rows PredictInto puts through the network at
// once: a larger table goes through in blocks of this many rows, so that
// its inputs and activations need not all be in memory together.
const predictBlock = 4096

// PredictInto is [Model.Predict] writing into p, whose buffers it reuses
// when they have the right size (a Prediction of as many rows from the same
// model), so that predicting batches of a fixed size allocates nothing once
// warm. The model keeps buffers for up to 8 batch sizes at a time. A table
// of more than 4096 rows goes through the network in blocks of 4096
// (views of it, [data.Table.Subset]), all checked before any is predicted,
// so memory beyond the result stays bounded. A table without rows is an
// error wrapping [data.ErrEmpty]. On error p is unchanged.
func (m *Model) PredictInto(p *Prediction, t *data.Table) error {
	n := t.Len()
	if n == 0 {
		return fmt.Errorf("model: %s: %w: no rows to predict", t.Name(), data.ErrEmpty)
	}
	blocks := []*data.Table{t}
	if n > predictBlock {
		blocks = blocks[:0]
		idx := make([]int, 0, predictBlock)
		for lo := 0; lo < n; lo += predictBlock {
			idx = idx[:0]
			for i := lo; i < min(lo+predictBlock, n); i++ {
				idx = append(idx, i)
			}
			b := t.Subset(idx)
			if _, err := m.inputs(b); err != nil {
				return err
			}
			blocks = append(blocks, b)
		}
	}
	x, err := m.inputs(blocks[0])
	if err != nil {
		return err
	}
	m.reuse(p, n)
	for k, b := range blocks {
		if k > 0 {
			x, _ = m.inputs(b) // checked above
		}
		m.tape.Reset()
		out := m.Net.Forward(m.tape.Input(x)).Data() // rows×outputs
		m.write(p, k*predictBlock, out)
	}
	return nil
}

// inputs returns the model inputs of t's rows in the model's buffers, or
// Transform's error.
func (m *Model) inputs(t *data.Table) (*tensor.Dense[float32], error) {
	n, in := t.Len(), m.Pre.Inputs()
	if cap(m.x) < n*in {
		m.x = make([]float32, n*in)
		clear(m.xs) // views of the old buffer
	}
	if err := m.Pre.Transform(m.x[:n*in], t); err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	x := m.xs[n]
	if x == nil {
		if len(m.xs) >= maxSizes || m.xs == nil {
			// The tape keeps buffers for every batch size it has seen: a
			// server with requests of many sizes starts afresh now and then.
			m.xs = make(map[int]*tensor.Dense[float32])
			m.tape = nil
		}
		x = tensor.FromSlice(n, in, m.x[:n*in])
		m.xs[n] = x
	}
	if m.tape == nil {
		m.tape = autograd.NewTape[float32]()
		m.tape.SetTraining(false) // dropout off
	}
	return x, nil
}

// reuse makes p a prediction of n rows of m, reusing its buffers.
func (m *Model) reuse(p *Prediction, n int) {
	p.Kind, p.Target = m.Pre.Kind, m.Pre.Target
	if m.targets == nil {
		m.targets = m.Pre.Targets()
	}
	if m.Pre.Kind == data.Classification {
		p.Value, p.Targets = nil, nil
		p.Classes = m.Pre.Classes
		p.Prob = reuse(p.Prob, n, m.Pre.Outputs())
		if cap(p.Class) < n {
			p.Class = make([]int, n)
		}
		p.Class = p.Class[:n]
		return
	}
	p.Class, p.Classes, p.Prob = nil, nil, nil
	p.Value = reuse(p.Value, n, m.Pre.Outputs())
	p.Targets = m.targets
}

// write puts the network's outputs out for rows from, from+1, … into p:
// class probabilities and classes, or values in the target's units.
func (m *Model) write(p *Prediction, from int, out *tensor.Dense[float32]) {
	for i := range out.Rows() {
		if m.Pre.Kind == data.Classification {
			p.Class[from+i] = softmax(p.Prob.Row(from+i), out.Row(i))
			continue
		}
		v := p.Value.Row(from + i)
		copy(v, out.Row(i))
		m.Pre.Unscale(v)
	}
}

// reuse returns d if it is rows×cols, else a new rows×cols matrix.
func reuse(d *tensor.Dense[float32], rows, cols int) *tensor.Dense[float32] {
	if d != nil && d.Rows() == rows && d.Cols() == cols {
		return d
	}
	return tensor.New[float32](rows, cols)
}

// softmax writes softmax(z) into p (autograd.SoftmaxRow, the training
// loss's own) and returns the index of the largest z (the first on a tie).
func softmax(p, z []float32) int {
	autograd.SoftmaxRow(p, z)
	best := 0
	for j, v := range z {
		if v > z[best] {
			best = j
		}
	}
	return best
}
