package layers

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/flowgrad/flowgrad/autograd"
	"github.com/flowgrad/flowgrad/tensor"
)

// BenchmarkMLPForwardBackward times one forward and backward pass of the
// standard workload's MLP 784-256-256-10 (float32, softmax cross-entropy)
// on one reused tape, for several batch sizes B.
func BenchmarkMLPForwardBackward(b *testing.B) {
	benchForwardBackward(b, func(rng *rand.Rand) Layer[float32] { return MLP[float32](rng, 784, 256, 256, 10) })
}

// BenchmarkMLPDropout is BenchmarkMLPForwardBackward with dropout
// (p = 0.5) after each hidden layer: the cost of drawing and applying two
// masks per step.
func BenchmarkMLPDropout(b *testing.B) {
	benchForwardBackward(b, func(rng *rand.Rand) Layer[float32] {
		m := MLP[float32](rng, 784, 256, 256, 10)
		d := NewDropout[float32](rand.New(rand.NewPCG(3, 4)), 0.5)
		return NewSequential(m.Layers[0], d, m.Layers[1], d, m.Layers[2])
	})
}

// benchForwardBackward times forward and backward of the model newModel
// returns on random MNIST-shaped batches of B = 1, 100, 1000.
func benchForwardBackward(b *testing.B, newModel func(*rand.Rand) Layer[float32]) {
	for _, B := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("B=%d", B), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 2))
			model := newModel(rng)
			x := tensor.New[float32](B, 784)
			for i := range x.Data() {
				x.Data()[i] = rng.Float32()
			}
			labels := make([]int, B)
			for i := range labels {
				labels[i] = rng.IntN(10)
			}
			tape := autograd.NewTape[float32]()
			step := func() {
				tape.Reset()
				tape.Backward(autograd.SoftmaxCrossEntropy(model.Forward(tape.Input(x)), labels))
			}
			step() // warm the tape's buffers
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				step()
			}
			b.ReportMetric(float64(B)*float64(b.N)/b.Elapsed().Seconds(), "examples/s")
		})
	}
}
