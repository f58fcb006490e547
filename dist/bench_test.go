package dist

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/flowgrad/flowgrad/data"
	"github.com/flowgrad/flowgrad/layers"
	"github.com/flowgrad/flowgrad/optim"
	"github.com/flowgrad/flowgrad/train"
)

// BenchmarkStep times data-parallel training steps of the standard
// workload (MLP 784-256-256-10, float32, heavy-ball SGD; random pixels,
// which cost what MNIST's do) at global batch sizes B, on the ranks this
// process runs on: one without -tags mpi, or under
//
//	mpirun -np 2 ./dist.test -test.bench Step -test.benchtime 200x
//
// (a fixed count: every rank must run the same number of steps). It
// reports examples/s of the whole group and the time per step in the
// allreduce hook (packing, the MPI allreduce including any wait for the
// slower rank, unpacking).
func BenchmarkStep(b *testing.B) {
	comm, err := Init()
	if err != nil {
		b.Fatal(err)
	}
	for _, size := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("B=%d", size), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 2))
			n := size * b.N // one epoch of b.N steps
			pix := make([]uint8, n*784)
			labels := make([]uint8, n)
			for i := range pix {
				pix[i] = uint8(rng.IntN(256))
			}
			for i := range labels {
				labels[i] = uint8(rng.IntN(10))
			}
			ds, err := data.NewDataset(pix, labels, 784, 10)
			if err != nil {
				b.Fatal(err)
			}
			model := layers.MLP[float32](rng, 784, 256, 256, 10)
			opt, err := optim.NewSGD(model.Params(), optim.Must(optim.Constant(0.05)), optim.WithMomentum(optim.HeavyBall, 0.9))
			if err != nil {
				b.Fatal(err)
			}
			batches, err := data.NewBatcher(ds, size, rng)
			if err != nil {
				b.Fatal(err)
			}
			tr := train.NewTrainer(model, opt, train.CrossEntropy[float32])
			rep, err := New(comm, tr, batches)
			if err != nil {
				b.Fatal(err)
			}
			var hook time.Duration
			var start time.Time
			tr.BeforeUpdate = slices.Insert(tr.BeforeUpdate, 0, func() error { start = time.Now(); return nil })
			tr.BeforeUpdate = append(tr.BeforeUpdate, func() error { hook += time.Since(start); return nil })
			b.ReportAllocs()
			b.ResetTimer()
			if _, err := rep.Run(b.Context(), nil, train.Config{Epochs: 1}); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "examples/s")
			b.ReportMetric(float64(hook.Microseconds())/float64(b.N), "µs-allreduce/step")
			b.ReportMetric(float64(comm.Size()), "ranks")
		})
	}
}

// BenchmarkPackUnpack times the allreduce hook's own work for the standard
// workload's 269 322 parameters without the MPI call: weighting the
// gradients into the buffer and copying the sum back.
func BenchmarkPackUnpack(b *testing.B) {
	const n = 784*256 + 256 + 256*256 + 256 + 256*10 + 10
	grad, buf := make([]float32, n), make([]float32, n)
	b.SetBytes(4 * n)
	for b.Loop() {
		scaleInto(buf, grad, 0.5)
		copy(grad, buf)
	}
}

// BenchmarkAllreduce times the MPI allreduce alone of the standard
// workload's gradients (269 322 float32, 1.08 MB), back to back on every
// rank: the communication part of a step without waiting for a slower
// rank. Run it under mpirun with a fixed -test.benchtime Nx.
func BenchmarkAllreduce(b *testing.B) {
	comm, err := Init()
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]float32, 784*256+256+256*256+256+256*10+10)
	b.SetBytes(int64(4 * len(buf)))
	for range b.N {
		if err := comm.SumFloat32(buf); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(comm.Size()), "ranks")
}
