package train

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/flowgrad/flowgrad/data"
	"github.com/flowgrad/flowgrad/layers"
	"github.com/flowgrad/flowgrad/optim"
)

// BenchmarkTrainStep times the standard workload's training step — batch
// conversion, forward, backward, heavy-ball update — of MLP 784-256-256-10
// on MNIST-shaped random data (10 000 examples), for several B.
func BenchmarkTrainStep(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n, features = 10000, 784
	pixels := make([]uint8, n*features)
	labels := make([]uint8, n)
	for i := range pixels {
		pixels[i] = uint8(rng.IntN(256))
	}
	for i := range labels {
		labels[i] = uint8(rng.IntN(10))
	}
	ds, err := data.NewDataset(pixels, labels, features, 10)
	if err != nil {
		b.Fatal(err)
	}
	for _, B := range []int{1, 10, 100, 1000} {
		b.Run(fmt.Sprintf("B=%d", B), func(b *testing.B) {
			model := layers.MLP[float32](rng, 784, 256, 256, 10)
			opt, err := optim.NewSGD(model.Params(), optim.Must(optim.Constant(0.01)), optim.WithMomentum(optim.HeavyBall, 0.9))
			if err != nil {
				b.Fatal(err)
			}
			batches, err := data.NewBatcher(ds, B, rng, data.DropLast())
			if err != nil {
				b.Fatal(err)
			}
			tr := NewTrainer(model, opt)
			step := func() {
				batch, ok := batches.Next()
				if !ok {
					batch, _ = batches.Next()
				}
				if _, err := tr.Step(batch); err != nil {
					b.Fatal(err)
				}
			}
			for range 3 {
				step() // warm up
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				step()
			}
			b.ReportMetric(float64(B)*float64(b.N)/b.Elapsed().Seconds(), "examples/s")
		})
	}
}
