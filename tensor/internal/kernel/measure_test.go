package kernel

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
)

// mlpOp returns one of the MLP's products for batch size bs, as a closure
// over fresh operands, computed with sgemm: "XW" (B×in · in×out), "XtdY"
// (Sgemm(Trans, NoTrans), in×out) or "dYWt" (Sgemm(NoTrans, Trans), B×in).
func mlpOp(sgemm func(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int), op string, bs, in, out int) func() {
	rng := rand.New(rand.NewPCG(1, 1))
	x := randSlice(rng, bs*in)  // B×in
	w := randSlice(rng, in*out) // in×out
	dy := randSlice(rng, bs*out)
	switch op {
	case "XW":
		c := make([]float32, bs*out)
		return func() { sgemm(blas.NoTrans, blas.NoTrans, bs, out, in, 1, x, in, w, out, 0, c, out) }
	case "XtdY":
		c := make([]float32, in*out)
		return func() { sgemm(blas.Trans, blas.NoTrans, in, out, bs, 1, x, in, dy, out, 0, c, out) }
	case "dYWt":
		c := make([]float32, bs*in)
		return func() { sgemm(blas.NoTrans, blas.Trans, bs, in, out, 1, dy, out, w, out, 0, c, in) }
	}
	panic("unknown op " + op)
}

// runGFLOPs times f in the benchmark loop and reports GFLOP/s for a
// product of macs multiply-adds.
func runGFLOPs(b *testing.B, f func(), macs int) {
	f()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		f()
	}
	b.ReportMetric(2*float64(macs)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkThreshold times 256×256 products near the parallel threshold
// serially and split over the pool regardless of size (mode=split), to
// place parMin: compare the modes with benchstat -col /mode.
func BenchmarkThreshold(b *testing.B) {
	for _, op := range []string{"XW", "XtdY", "dYWt"} {
		for _, bs := range []int{2, 4, 8, 16, 32, 64} {
			for _, mode := range []string{"serial", "split"} {
				b.Run(fmt.Sprintf("%s_256x256/B=%d/mode=%s", op, bs, mode), func(b *testing.B) {
					defer func(a, c int) { parMin, chunkMin = a, c }(parMin, chunkMin)
					parMin = 1 << 40
					if mode == "split" {
						parMin, chunkMin = 1, 1<<16
					}
					runGFLOPs(b, mlpOp(Implementation{}.Sgemm, op, bs, 256, 256), bs*256*256)
				})
			}
		}
	}
}

// BenchmarkSharing times products above the threshold serially and shared
// with the pool (with the backoff in force, as in training), to check that
// sharing pays: compare the modes with benchstat -col /mode.
func BenchmarkSharing(b *testing.B) {
	for _, c := range []struct {
		op          string
		bs, in, out int
	}{{"XW", 20, 784, 256}, {"XW", 100, 784, 256}, {"dYWt", 20, 784, 256}, {"dYWt", 100, 784, 256}, {"XW", 1000, 784, 256}} {
		for _, mode := range []string{"serial", "shared"} {
			b.Run(fmt.Sprintf("%s_%dx%d/B=%d/mode=%s", c.op, c.in, c.out, c.bs, mode), func(b *testing.B) {
				defer func(a int) { parMin = a }(parMin)
				if mode == "serial" {
					parMin = 1 << 40
				}
				runGFLOPs(b, mlpOp(Implementation{}.Sgemm, c.op, c.bs, c.in, c.out), c.bs*c.in*c.out)
			})
		}
	}
}
