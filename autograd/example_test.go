package autograd_test

import (
	"fmt"
	"os"

	"github.com/flowgrad/flowgrad/autograd"
	"github.com/flowgrad/flowgrad/tensor"
)

// The tutorial's flow graph L = sin(a² + b/a), written as the maths reads.
func Example_tutorial() {
	tape := autograd.NewTape[float64]()
	a, b := tape.Scalar(1.5), tape.Scalar(0.5)
	L := autograd.Sin(autograd.Add(autograd.Square(a), autograd.Div(b, a)))
	tape.Backward(L)
	fmt.Printf("L = %.6f\n", L.Scalar())
	fmt.Printf("∂L/∂a = %.6f  (cos(a²+b/a)·(2a − b/a²))\n", a.Grad().Scalar())
	fmt.Printf("∂L/∂b = %.6f  (cos(a²+b/a)/a)\n", b.Grad().Scalar())
	// Output:
	// L = 0.529711
	// ∂L/∂a = -2.356051  (cos(a²+b/a)·(2a − b/a²))
	// ∂L/∂b = -0.565452  (cos(a²+b/a)/a)
}

// One tape, reset every step: record a minibatch computation, then
// Backward fills each parameter's Grad.
func ExampleTape() {
	w := autograd.NewParam("w", tensor.FromSlice(2, 1, []float64{0.5, -1}))
	x := tensor.FromSlice(3, 2, []float64{1, 2, 3, 4, 5, 6}) // a batch of 3
	y := tensor.FromSlice(3, 1, []float64{1, 1, 1})

	tape := autograd.NewTape[float64]()
	for step := 0; step < 2; step++ {
		tape.Reset()
		loss := autograd.MSE(autograd.MatMul(tape.Input(x), w), tape.Input(y))
		tape.Backward(loss)
		g := w.Grad()
		fmt.Printf("step %d: loss %.4f, dL/dw = [%.4f %.4f]\n", step, loss.Scalar(), g.At(0, 0), g.At(1, 0))
		for i, g := range w.Grad().Data() { // plain gradient descent
			w.Data().Data()[i] -= 0.01 * g
		}
	}
	// Output:
	// step 0: loss 12.9167, dL/dw = [-23.6667 -30.6667]
	// step 1: loss 2.4490, dL/dw = [-9.1489 -12.2756]
}

// GradCheck compares backprop with central differences, the gradient as
// a limit.
func ExampleGradCheck() {
	w := autograd.NewParam("w", tensor.FromSlice(1, 3, []float64{0.3, -1.2, 2}))
	res, err := autograd.GradCheck(func(t *autograd.Tape[float64]) *autograd.Value[float64] {
		return autograd.Sum(autograd.Tanh(autograd.Square(t.Param(w))))
	}, []*autograd.Value[float64]{w}, nil)
	fmt.Println(err, res[0].Name, res[0].MaxRel < 1e-6)
	// Output:
	// <nil> w true
}

// WriteDot draws the tutorial's flow graph with each node's value and
// ∂L/∂node, for Graphviz: go run … | dot -Tsvg > graph.svg.
func ExampleTape_WriteDot() {
	tape := autograd.NewTape[float64]()
	a, b := tape.Scalar(1.5).Named("a"), tape.Scalar(0.5).Named("b")
	L := autograd.Sin(autograd.Add(autograd.Square(a), autograd.Div(b, a))).Named("L")
	tape.Backward(L)
	if err := tape.WriteDot(os.Stdout, L, nil); err != nil {
		fmt.Println(err)
	}
	// Output:
	// digraph flowgraph {
	// 	rankdir=LR;
	// 	n0 [label="a\nVar 1×1\na = 1.5\n∂L/∂a = -2.35605", shape=box, style=filled, fillcolor="#b3d4f5"];
	// 	n1 [label="Square 1×1\nv = 2.25\n∂L/∂v = -0.848178", shape=ellipse];
	// 	n2 [label="b\nVar 1×1\nb = 0.5\n∂L/∂b = -0.565452", shape=box, style=filled, fillcolor="#b3d4f5"];
	// 	n3 [label="Pow(-1) 1×1\nv = 0.666667\n∂L/∂v = -0.424089", shape=ellipse];
	// 	n4 [label="Mul 1×1\nv = 0.333333\n∂L/∂v = -0.848178", shape=ellipse];
	// 	n5 [label="Add 1×1\nv = 2.58333\n∂L/∂v = -0.848178", shape=ellipse];
	// 	n6 [label="L\nSin 1×1\nL = 0.529711\n∂L/∂L = 1", shape=ellipse, peripheries=2];
	// 	n0 -> n1;
	// 	n0 -> n3;
	// 	n2 -> n4;
	// 	n3 -> n4;
	// 	n1 -> n5;
	// 	n4 -> n5;
	// 	n5 -> n6;
	// }
}
