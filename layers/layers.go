// Package layers composes autograd operations into the building blocks of
// a multilayer perceptron: Linear layers, activations, Sequential stacks and
// the MLP constructor. Parameters are named with dotted paths ("fc1.W",
// "fc1.b") and listed in a stable order, so optimizers and checkpoints can
// refer to them.
package layers

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/flowgrad/flowgrad/autograd"
	"github.com/flowgrad/flowgrad/tensor"
)

// Layer maps a minibatch (B rows) to a minibatch.
type Layer[T tensor.Float] interface {
	// Forward records the layer's computation on x's tape.
	Forward(x *autograd.Value[T]) *autograd.Value[T]
	// Params returns the layer's parameters in a stable order (nil if none).
	Params() []*autograd.Value[T]
}

// Init chooses how Linear weights are drawn.
type Init int

const (
	// He draws W from N(0, 2/in): keeps activations' variance through ReLU
	// layers.
	He Init = iota
	// Glorot draws W uniformly from [−√(6/(in+out)), √(6/(in+out))]: for
	// tanh and sigmoid layers.
	Glorot
)

// String names the initialiser.
func (i Init) String() string {
	switch i {
	case He:
		return "He"
	case Glorot:
		return "Glorot"
	}
	return fmt.Sprintf("Init(%d)", int(i))
}

// Linear is the affine map x·W + b for x of shape B×In: W is In×Out and b a
// 1×Out row added to every example. With ReLU set it computes
// max(x·W + b, 0) in one fused operation (autograd.LinearReLU), which is
// faster than a separate ReLU layer.
type Linear[T tensor.Float] struct {
	W, B *autograd.Value[T]
	ReLU bool
}

// NewLinear returns a Linear layer from in to out features whose
// parameters are named name+".W" and name+".b". W is drawn from rng with
// init; b starts at zero. It panics if in or out < 1 or init is unknown.
func NewLinear[T tensor.Float](rng *rand.Rand, name string, in, out int, init Init) *Linear[T] {
	if in < 1 || out < 1 {
		panic(fmt.Sprintf("layers: NewLinear %s: sizes %d→%d must be ≥ 1", name, in, out))
	}
	w := tensor.New[T](in, out)
	switch init {
	case He:
		std := math.Sqrt(2 / float64(in))
		for i := range w.Data() {
			w.Data()[i] = T(rng.NormFloat64() * std)
		}
	case Glorot:
		a := math.Sqrt(6 / float64(in+out))
		for i := range w.Data() {
			w.Data()[i] = T((2*rng.Float64() - 1) * a)
		}
	default:
		panic(fmt.Sprintf("layers: NewLinear %s: unknown %v", name, init))
	}
	return &Linear[T]{
		W: autograd.NewParam(name+".W", w),
		B: autograd.NewParam(name+".b", tensor.New[T](1, out)),
	}
}

// Forward returns x·W + b, or max(x·W + b, 0) with ReLU set. It panics if
// x's columns differ from W's rows.
func (l *Linear[T]) Forward(x *autograd.Value[T]) *autograd.Value[T] {
	if l.ReLU {
		return autograd.LinearReLU(x, l.W, l.B)
	}
	return autograd.Linear(x, l.W, l.B)
}

// Params returns W and b.
func (l *Linear[T]) Params() []*autograd.Value[T] { return []*autograd.Value[T]{l.W, l.B} }

// Activation is an elementwise function as a layer without parameters.
type Activation[T tensor.Float] struct {
	Name string
	F    func(*autograd.Value[T]) *autograd.Value[T]
}

// Forward returns F(x).
func (a Activation[T]) Forward(x *autograd.Value[T]) *autograd.Value[T] { return a.F(x) }

// Params returns nil: activations have no parameters.
func (a Activation[T]) Params() []*autograd.Value[T] { return nil }

// ReLU returns the max(x, 0) activation layer.
func ReLU[T tensor.Float]() Activation[T] { return Activation[T]{"ReLU", autograd.ReLU[T]} }

// Tanh returns the tanh activation layer.
func Tanh[T tensor.Float]() Activation[T] { return Activation[T]{"Tanh", autograd.Tanh[T]} }

// Sigmoid returns the logistic activation layer.
func Sigmoid[T tensor.Float]() Activation[T] { return Activation[T]{"Sigmoid", autograd.Sigmoid[T]} }

// Sequential applies its layers in order.
type Sequential[T tensor.Float] struct {
	Layers []Layer[T]
}

// NewSequential returns the composition of layers, first to last.
func NewSequential[T tensor.Float](layers ...Layer[T]) *Sequential[T] {
	return &Sequential[T]{Layers: layers}
}

// Forward applies every layer in order.
func (s *Sequential[T]) Forward(x *autograd.Value[T]) *autograd.Value[T] {
	for _, l := range s.Layers {
		x = l.Forward(x)
	}
	return x
}

// Params returns every layer's parameters, layer by layer.
func (s *Sequential[T]) Params() []*autograd.Value[T] {
	var ps []*autograd.Value[T]
	for _, l := range s.Layers {
		ps = append(ps, l.Params()...)
	}
	return ps
}

// MLP returns a multilayer perceptron with the given layer sizes, input
// first: Linear layers named fc1, fc2, … with ReLU between them (fused into
// the layers) and none after the last (its outputs are logits). Weights use
// He initialisation drawn from rng. For example
// MLP[float32](rng, 784, 256, 256, 10). It panics with fewer than two sizes
// or a size < 1.
func MLP[T tensor.Float](rng *rand.Rand, sizes ...int) *Sequential[T] {
	if len(sizes) < 2 {
		panic(fmt.Sprintf("layers: MLP needs at least an input and an output size, got %v", sizes))
	}
	var ls []Layer[T]
	for i := 1; i < len(sizes); i++ {
		l := NewLinear[T](rng, fmt.Sprintf("fc%d", i), sizes[i-1], sizes[i], He)
		l.ReLU = i < len(sizes)-1
		ls = append(ls, l)
	}
	return NewSequential(ls...)
}
