package autograd

import (
	"github.com/flowgrad/flowgrad/tensor"
)

// InputFloat32 records x, a float32 matrix such as a minibatch from package
// data, as an input of the tape's precision T: x itself when T is float32
// (used, not copied: it must not change until Backward is done), else a
// pooled T copy of it, so that a float64 tape trains on float32 data and
// allocates nothing once warm.
func InputFloat32[T tensor.Float](t *Tape[T], x *tensor.Dense[float32]) *Value[T] {
	if x32, ok := any(x).(*tensor.Dense[T]); ok {
		return t.Input(x32)
	}
	v := t.node(opInput, x.Rows(), x.Cols(), nil, nil)
	dst := v.data.Data()
	for i, e := range x.Data() {
		dst[i] = T(e)
	}
	return v
}

// Tape returns the tape v was recorded on, or nil for a parameter.
func (v *Value[T]) Tape() *Tape[T] { return v.tape }
