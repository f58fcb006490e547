package layers_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/flowgrad/flowgrad/autograd"
	"github.com/flowgrad/flowgrad/layers"
	"github.com/flowgrad/flowgrad/tensor"
)

// A Linear layer maps a batch of B examples at once: x (B×in) · W (in×out)
// + b.
func ExampleLinear() {
	rng := rand.New(rand.NewPCG(1, 2))
	fc := layers.NewLinear[float64](rng, "fc", 3, 2, layers.Glorot)
	copy(fc.W.Data().Data(), []float64{1, 0, 0, 1, 1, 1}) // set W by hand
	copy(fc.B.Data().Data(), []float64{0.5, -0.5})

	tape := autograd.NewTape[float64]()
	x := tensor.FromSlice(2, 3, []float64{1, 2, 3, 4, 5, 6}) // B = 2
	y := fc.Forward(tape.Input(x))
	fmt.Println(y.Data())
	tape.Backward(autograd.Sum(y))
	fmt.Println(fc.B.Name(), fc.B.Grad()) // each bias gets one 1 per example
	// Output:
	// [4.5 4.5]
	// [10.5 10.5]
	// fc.b [2 2]
}
