package autograd

import (
	"fmt"

	"github.com/flowgrad/flowgrad/tensor"
)

// Value is a node of the flow graph: a matrix computed by an operation on a
// tape (or a parameter, which belongs to no tape), and after
// [Tape.Backward] the gradient of the loss with respect to it.
type Value[T tensor.Float] struct {
	tape *Tape[T] // nil for parameters
	gen  uint64   // the tape generation (Reset count) that made this value

	data *tensor.Dense[T]
	grad *tensor.Dense[T]
	// gradEpoch is the Backward call whose sum grad holds; a grad from an
	// older call is treated as zero (so nothing needs zeroing between steps).
	gradEpoch uint64
	mark      uint64 // depth-first search marker: the epoch that reached it

	op        opKind
	in        [3]*Value[T] // operands: at most three (Linear's x, W, b)
	needsGrad bool
	k         float64          // the operation's constant (Pow's exponent)
	aux       *tensor.Dense[T] // saved for backward (softmax probabilities)
	labels    []int
	weights   []float64 // per-class weights of a weighted cross-entropy; nil: all 1
	weightSum float64   // Σ weights[label] over the rows
	name      string
}

// NewParam returns a trainable parameter named name (a dotted path such as
// "fc1.W") holding data. Parameters belong to no tape: every tape can use
// them, and Backward leaves dL/dθ in Grad. data is used, not copied.
func NewParam[T tensor.Float](name string, data *tensor.Dense[T]) *Value[T] {
	return &Value[T]{
		data:      data,
		grad:      tensor.New[T](data.Rows(), data.Cols()),
		needsGrad: true,
		name:      name,
	}
}

// Name returns the name of a parameter, or of a value on a tape given one
// by Named or by the operation that made it ("" otherwise).
func (v *Value[T]) Name() string { return v.name }

// Named names v, a value on a tape, for String and WriteDot (the
// tutorial's a, b and L), and returns v. The name lasts until the tape's
// next Reset. It panics for a parameter, whose name NewParam fixed.
func (v *Value[T]) Named(name string) *Value[T] {
	if v.IsParam() {
		panic(fmt.Sprintf("autograd: Named(%q): %v is a parameter; NewParam fixed its name", name, v))
	}
	v.name = name
	return v
}

// Data returns the value's matrix. For values on a tape it is valid until
// the tape's next Reset.
func (v *Value[T]) Data() *tensor.Dense[T] { return v.data }

// Shape returns the shape of Data.
func (v *Value[T]) Shape() tensor.Shape { return v.data.Shape() }

// Scalar returns the value of a 1×1 value; it panics for other shapes.
func (v *Value[T]) Scalar() T { return v.data.Scalar() }

// Grad returns dL/dv from the most recent Backward whose loss depends on v,
// or nil if v needs no gradient (an input or constant) or no Backward has
// reached it. For a parameter it is a matrix of Data's shape that Backward
// overwrites (it does not accumulate across Backward calls; to sum the
// gradients of several losses, add the losses).
func (v *Value[T]) Grad() *tensor.Dense[T] {
	if v.grad == nil || v.gradEpoch == 0 {
		if v.tape == nil {
			return v.grad // parameters: zeros before the first Backward
		}
		return nil
	}
	return v.grad
}

// IsParam reports whether v is a parameter (made by NewParam).
func (v *Value[T]) IsParam() bool { return v.tape == nil }

// String describes the value for debugging: its op, shape and name.
func (v *Value[T]) String() string {
	if v.name != "" {
		return fmt.Sprintf("%s %v", v.name, v.Shape())
	}
	return fmt.Sprintf("%v %v", v.op, v.Shape())
}
