package tutorial

import (
	"io"
	"math/rand/v2"

	"github.com/flowgrad/flowgrad/autograd"
	"github.com/flowgrad/flowgrad/data"
	"github.com/flowgrad/flowgrad/layers"
)

// FlowGraph writes the tutorial's flow graph L = sin(a² + b/a) at a = 1.5,
// b = 0.5 as Graphviz DOT, after Backward: every node with its value and
// ∂L/∂node.
func FlowGraph(w io.Writer) error {
	tape := autograd.NewTape[float64]()
	a, b := tape.Scalar(1.5).Named("a"), tape.Scalar(0.5).Named("b")
	L := autograd.Sin(autograd.Add(autograd.Square(a), autograd.Div(b, a))).Named("L")
	tape.Backward(L)
	return tape.WriteDot(w, L, &autograd.DotOptions{Title: "L = sin(a² + b/a)"})
}

// MLPGraph writes, as Graphviz DOT, the flow graph of one training step of
// the MLP 784-256-10 (He initialisation, seed 1) on the first 100 MNIST
// training images, after Backward.
func MLPGraph(w io.Writer) error {
	train, _, err := MNIST(100, 1)
	if err != nil {
		return err
	}
	batches, err := data.NewBatcher(train, 100, nil)
	if err != nil {
		return err
	}
	b := batches.Take()
	model := layers.MLP[float64](rand.New(rand.NewPCG(1, 2)), 784, 256, 10)
	tape := autograd.NewTape[float64]()
	x := autograd.InputFloat32(tape, b.X).Named("x")
	L := autograd.SoftmaxCrossEntropy(model.Forward(x), b.Labels).Named("L")
	tape.Backward(L)
	return tape.WriteDot(w, L, &autograd.DotOptions{Title: "MLP 784-256-10, one minibatch of 100 MNIST images"})
}
