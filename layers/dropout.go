package layers

import (
	"fmt"
	"math/rand/v2"

	"github.com/flowgrad/flowgrad/autograd"
	"github.com/flowgrad/flowgrad/tensor"
)

// Dropout is inverted dropout as a layer without parameters
// (autograd.Dropout): on a training tape it zeroes each element with
// probability P and scales the others by 1/(1−P), so the expected output
// is the input; on an evaluation tape (autograd.Tape.SetTraining(false))
// it is the identity. The mode belongs to the tape, not to the layer, so
// a model with dropout can be evaluated on several tapes at once. Masks
// are drawn from Rng, so training is reproducible from a seed; Rng is not
// safe for concurrent use, so train on one tape at a time. A rand.Rand
// holds no state but its source's: to resume a run bit-exactly, build Rng
// as rand.New(pcg) and checkpoint pcg (rand.PCG.MarshalBinary).
type Dropout[T tensor.Float] struct {
	P   float64    // drop probability in [0, 1)
	Rng *rand.Rand // the masks' generator
}

// NewDropout returns a dropout layer with drop probability p whose masks
// are drawn from rng. It panics if p is not in [0, 1) or rng is nil.
func NewDropout[T tensor.Float](rng *rand.Rand, p float64) *Dropout[T] {
	if !(p >= 0 && p < 1) {
		panic(fmt.Sprintf("layers: NewDropout: drop probability p = %v outside [0, 1)", p))
	}
	if rng == nil {
		panic("layers: NewDropout: nil *rand.Rand (pass an explicit generator)")
	}
	return &Dropout[T]{P: p, Rng: rng}
}

// WithDropout puts a Dropout layer of probability p, drawing its masks
// from rng, after each layer of net but the last — after each hidden
// layer of an MLP — and returns net (changed in place; unchanged for
// p = 0). Creating the layers draws nothing from rng. It panics as
// NewDropout does.
func WithDropout[T tensor.Float](net *Sequential[T], rng *rand.Rand, p float64) *Sequential[T] {
	if p == 0 {
		return net
	}
	var ls []Layer[T]
	for i, l := range net.Layers {
		ls = append(ls, l)
		if i < len(net.Layers)-1 {
			ls = append(ls, NewDropout[T](rng, p))
		}
	}
	net.Layers = ls
	return net
}

// Forward returns autograd.Dropout(x, P, Rng): x with a fresh mask on a
// training tape, x itself on an evaluation tape.
func (d *Dropout[T]) Forward(x *autograd.Value[T]) *autograd.Value[T] {
	return autograd.Dropout(x, d.P, d.Rng)
}

// Params returns nil: dropout has no parameters.
func (d *Dropout[T]) Params() []*autograd.Value[T] { return nil }
