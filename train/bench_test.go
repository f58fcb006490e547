package train

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/flowgrad/flowgrad/autograd"
	"github.com/flowgrad/flowgrad/data"
	"github.com/flowgrad/flowgrad/layers"
	"github.com/flowgrad/flowgrad/optim"
)

// mnistShaped returns n random examples of 784 byte features and 10 classes.
func mnistShaped(tb testing.TB, rng *rand.Rand, n int) *data.Dataset {
	tb.Helper()
	pixels, labels := make([]uint8, n*784), make([]uint8, n)
	for i := range pixels {
		pixels[i] = uint8(rng.IntN(256))
	}
	for i := range labels {
		labels[i] = uint8(rng.IntN(10))
	}
	ds, err := data.NewDataset(pixels, labels, 784, 10)
	if err != nil {
		tb.Fatal(err)
	}
	return ds
}

// imageShaped returns n examples of 784 byte features that look like MNIST
// to the kernels: about 80 % background zeros, ink in runs along each of
// 28 rows of 28 pixels, and 10 classes.
func imageShaped(tb testing.TB, rng *rand.Rand, n int) *data.Dataset {
	tb.Helper()
	pixels, labels := make([]uint8, n*784), make([]uint8, n)
	for i := range n {
		img := pixels[i*784 : (i+1)*784]
		for r := 3; r < 25; r++ { // one to three strokes across the middle rows
			for s := 1 + rng.IntN(3); s > 0; s-- {
				c0, w := 4+rng.IntN(16), 2+rng.IntN(4)
				for c := c0; c < min(c0+w, 28); c++ {
					img[r*28+c] = uint8(64 + rng.IntN(192))
				}
			}
		}
		labels[i] = uint8(rng.IntN(10))
	}
	ds, err := data.NewDataset(pixels, labels, 784, 10)
	if err != nil {
		tb.Fatal(err)
	}
	return ds
}

// newOptimizer builds an optimiser over a model's parameters.
type newOptimizer func(params []*autograd.Value[float32]) (optim.Optimizer[float32], error)

// heavyBall is the standard workload's optimiser: SGD, heavy ball 0.9.
func heavyBall(params []*autograd.Value[float32]) (optim.Optimizer[float32], error) {
	return optim.NewSGD(params, optim.Must(optim.Constant(0.01)), optim.WithMomentum(optim.HeavyBall, 0.9))
}

// standardStep returns one training step of the standard workload — batch
// conversion, forward, backward, update of MLP 784-256-256-10 — with the
// optimiser newOpt makes (heavyBall for the standard workload), over ds in
// batches of B, starting a new epoch whenever one ends.
func standardStep(tb testing.TB, rng *rand.Rand, ds *data.Dataset, B int, newOpt newOptimizer) func() {
	tb.Helper()
	model := layers.MLP[float32](rng, 784, 256, 256, 10)
	opt, err := newOpt(model.Params())
	if err != nil {
		tb.Fatal(err)
	}
	batches, err := data.NewBatcher(ds, B, rng, data.DropLast())
	if err != nil {
		tb.Fatal(err)
	}
	tr := NewTrainer(model, opt, CrossEntropy)
	return func() {
		if _, err := tr.Step(batches.Take()); err != nil {
			tb.Fatal(err)
		}
	}
}

// BenchmarkTrainStep times the standard workload's training step on
// MNIST-shaped random data (10 000 examples), for several B. Beside the
// time it reports the process's CPU time per step (cpu-ns/op, where the OS
// gives it): on a shared machine that is less disturbed than the wall
// time, and it counts what spinning and idle helpers cost.
func BenchmarkTrainStep(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	benchSteps(b, rng, mnistShaped(b, rng, 10000))
}

// benchSteps times the standard workload's step over ds at each B.
func benchSteps(b *testing.B, rng *rand.Rand, ds *data.Dataset) {
	for _, B := range []int{1, 10, 100, 256, 1000} {
		b.Run(fmt.Sprintf("B=%d", B), func(b *testing.B) {
			timeSteps(b, B, standardStep(b, rng, ds, B, heavyBall))
		})
	}
}

// BenchmarkTrainStepImages is BenchmarkTrainStep on image-like data
// (imageShaped: mostly background zeros, as MNIST is) instead of uniform
// random bytes: the input layer's products then take the sparse kernels
// where the path has them.
func BenchmarkTrainStepImages(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	benchSteps(b, rng, imageShaped(b, rng, 10000))
}

// BenchmarkTrainStepOptimizers is BenchmarkTrainStep with each optimiser
// at its usual rate, at B = 1, 100 and 1000: the optimiser's share of the
// step, beside SGD's (optim.BenchmarkStep times the update alone).
func BenchmarkTrainStepOptimizers(b *testing.B) {
	ds := mnistShaped(b, rand.New(rand.NewPCG(1, 2)), 10000)
	rate := func(r float64) optim.Schedule { return optim.Must(optim.Constant(r)) }
	for _, o := range []struct {
		name string
		make newOptimizer
	}{
		{"sgd-heavyball", heavyBall},
		{"adam", func(p []*autograd.Value[float32]) (optim.Optimizer[float32], error) {
			return optim.NewAdam(p, rate(1e-3))
		}},
		{"adamw", func(p []*autograd.Value[float32]) (optim.Optimizer[float32], error) {
			return optim.NewAdamW(p, rate(1e-3))
		}},
		{"rmsprop", func(p []*autograd.Value[float32]) (optim.Optimizer[float32], error) {
			return optim.NewRMSProp(p, rate(1e-3))
		}},
		{"adagrad", func(p []*autograd.Value[float32]) (optim.Optimizer[float32], error) {
			return optim.NewAdagrad(p, rate(1e-2))
		}},
	} {
		for _, B := range []int{1, 100, 1000} {
			b.Run(fmt.Sprintf("%s/B=%d", o.name, B), func(b *testing.B) {
				timeSteps(b, B, standardStep(b, rand.New(rand.NewPCG(3, 4)), ds, B, o.make))
			})
		}
	}
}

// timeSteps warms step up, then times it, reporting allocations, examples/s
// and the process's CPU time per step (where the OS gives it).
func timeSteps(b *testing.B, B int, step func()) {
	for range 3 {
		step() // warm up
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu := processCPU()
	for b.Loop() {
		step()
	}
	if cpu := processCPU() - cpu; cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
	b.ReportMetric(float64(B)*float64(b.N)/b.Elapsed().Seconds(), "examples/s")
}
