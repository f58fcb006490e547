package optim_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/flowgrad/flowgrad/data"
	"github.com/flowgrad/flowgrad/layers"
	"github.com/flowgrad/flowgrad/optim"
	"github.com/flowgrad/flowgrad/train"
)

// BenchmarkFullStep times a whole training step of the standard workload
// (batch conversion, forward, backward and the update of MLP
// 784-256-256-10, float32) with each optimiser at its usual rate, on
// MNIST-shaped random data (10 000 examples), at B = 1, 100 and 1000: the
// optimiser's share of the step, beside SGD's. (BenchmarkStep times the
// update alone.)
func BenchmarkFullStep(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	pixels, labels := make([]uint8, 10000*784), make([]uint8, 10000)
	for i := range pixels {
		pixels[i] = uint8(rng.IntN(256))
	}
	for i := range labels {
		labels[i] = uint8(rng.IntN(10))
	}
	ds, err := data.NewDataset(pixels, labels, 784, 10)
	if err != nil {
		b.Fatal(err)
	}
	for _, o := range []struct {
		name string
		make func(*layers.Sequential[float32]) (optim.Optimizer[float32], error)
	}{
		{"sgd-heavyball", func(m *layers.Sequential[float32]) (optim.Optimizer[float32], error) {
			return optim.NewSGD(m.Params(), optim.Must(optim.Constant(0.01)), optim.WithMomentum(optim.HeavyBall, 0.9))
		}},
		{"adam", func(m *layers.Sequential[float32]) (optim.Optimizer[float32], error) {
			return optim.NewAdam(m.Params(), optim.Must(optim.Constant(1e-3)))
		}},
		{"adamw", func(m *layers.Sequential[float32]) (optim.Optimizer[float32], error) {
			return optim.NewAdamW(m.Params(), optim.Must(optim.Constant(1e-3)))
		}},
		{"rmsprop", func(m *layers.Sequential[float32]) (optim.Optimizer[float32], error) {
			return optim.NewRMSProp(m.Params(), optim.Must(optim.Constant(1e-3)))
		}},
		{"adagrad", func(m *layers.Sequential[float32]) (optim.Optimizer[float32], error) {
			return optim.NewAdagrad(m.Params(), optim.Must(optim.Constant(1e-2)))
		}},
	} {
		for _, B := range []int{1, 100, 1000} {
			b.Run(fmt.Sprintf("%s/B=%d", o.name, B), func(b *testing.B) {
				model := layers.MLP[float32](rand.New(rand.NewPCG(3, 4)), 784, 256, 256, 10)
				opt, err := o.make(model)
				if err != nil {
					b.Fatal(err)
				}
				batches, err := data.NewBatcher(ds, B, rand.New(rand.NewPCG(5, 6)), data.DropLast())
				if err != nil {
					b.Fatal(err)
				}
				tr := train.NewTrainer(model, opt, train.CrossEntropy)
				step := func() {
					if _, err := tr.Step(batches.Take()); err != nil {
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
}
