package train

import (
	"fmt"
	"math/rand/v2"
	"testing"

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

// standardStep returns one training step of the standard workload — batch
// conversion, forward, backward, heavy-ball update of MLP 784-256-256-10 —
// over ds in batches of B, starting a new epoch whenever one ends.
func standardStep(tb testing.TB, rng *rand.Rand, ds *data.Dataset, B int) func() {
	tb.Helper()
	model := layers.MLP[float32](rng, 784, 256, 256, 10)
	opt, err := optim.NewSGD(model.Params(), optim.Must(optim.Constant(0.01)), optim.WithMomentum(optim.HeavyBall, 0.9))
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
	ds := mnistShaped(b, rng, 10000)
	for _, B := range []int{1, 10, 100, 256, 1000} {
		b.Run(fmt.Sprintf("B=%d", B), func(b *testing.B) {
			step := standardStep(b, rng, ds, B)
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
		})
	}
}
