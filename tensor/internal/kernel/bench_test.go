package kernel

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// mlpLayers are the layers of the standard 784-256-256-10 MLP.
var mlpLayers = [][2]int{{784, 256}, {256, 256}, {256, 10}}

var benchBatches = []int{1, 10, 20, 100, 256, 1000}

// BenchmarkSgemm times the MLP's products for every batch size B, on every
// path and on gonum's native Sgemm: the forward X·W (B×in · in×out), the
// weight gradient Xᵀ·dY (Sgemm(Trans, NoTrans), in×out) and the input
// gradient dY·Wᵀ (Sgemm(NoTrans, Trans), B×in). W is in×out, row-major.
// gonum runs first so that benchstat -col /impl compares against it.
func BenchmarkSgemm(b *testing.B) {
	impls := append([]string{"gonum"}, Available()...)
	for _, l := range mlpLayers {
		in, out := l[0], l[1]
		for _, op := range []string{"XW", "XtdY", "dYWt"} {
			for _, bs := range benchBatches {
				for _, impl := range impls {
					name := fmt.Sprintf("%s_%dx%d/B=%d/impl=%s", op, in, out, bs, impl)
					b.Run(name, func(b *testing.B) { benchOp(b, impl, op, bs, in, out) })
				}
			}
		}
	}
}

func benchOp(b *testing.B, impl, op string, bs, in, out int) {
	rng := rand.New(rand.NewPCG(1, 1))
	x := randSlice(rng, bs*in)  // B×in
	w := randSlice(rng, in*out) // in×out
	dy := randSlice(rng, bs*out)
	var sgemm func(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)
	if impl == "gonum" {
		sgemm = gonum.Implementation{}.Sgemm
	} else {
		restore, err := ForcePath(impl)
		if err != nil {
			b.Fatal(err)
		}
		defer restore()
		sgemm = Implementation{}.Sgemm
	}
	var f func()
	switch op {
	case "XW":
		c := make([]float32, bs*out)
		f = func() { sgemm(blas.NoTrans, blas.NoTrans, bs, out, in, 1, x, in, w, out, 0, c, out) }
	case "XtdY":
		c := make([]float32, in*out)
		f = func() { sgemm(blas.Trans, blas.NoTrans, in, out, bs, 1, x, in, dy, out, 0, c, out) }
	case "dYWt":
		c := make([]float32, bs*in)
		f = func() { sgemm(blas.NoTrans, blas.Trans, bs, in, out, 1, dy, out, w, out, 0, c, in) }
	}
	f()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		f()
	}
	b.ReportMetric(2*float64(bs*in*out)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
