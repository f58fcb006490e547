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
	sgemm := gonum.Implementation{}.Sgemm
	if impl != "gonum" {
		restore, err := ForcePath(impl)
		if err != nil {
			b.Fatal(err)
		}
		defer restore()
		sgemm = Implementation{}.Sgemm
	}
	runGFLOPs(b, mlpOp(sgemm, op, bs, in, out), bs*in*out)
}

// BenchmarkSgemmSparse times the input layer's two products, X·W and
// Xᵀ·dY (784×256), with X image-like (81 % zeros, in runs along each row,
// as MNIST) on this CPU's best path, with the sparse kernels ("sparse=on",
// where the path has them) and without ("sparse=off"); GFLOP/s counts the
// dense product's flops. Compare with benchstat -col /sparse.
func BenchmarkSgemmSparse(b *testing.B) {
	for _, op := range []string{"XW", "XtdY"} {
		for _, bs := range []int{1, 100, 1000} {
			for _, on := range []bool{false, true} {
				b.Run(fmt.Sprintf("%s_784x256/B=%d/sparse=%v", op, bs, on), func(b *testing.B) {
					defer func(v bool) { sparseOff = v }(sparseOff)
					sparseOff = !on
					rng := rand.New(rand.NewPCG(3, 3))
					x, w, dy := imageRows(rng, bs, 784), randSlice(rng, 784*256), randSlice(rng, bs*256)
					var f func()
					if op == "XW" {
						c := make([]float32, bs*256)
						f = func() { Implementation{}.Sgemm(blas.NoTrans, blas.NoTrans, bs, 256, 784, 1, x, 784, w, 256, 0, c, 256) }
					} else {
						c := make([]float32, 784*256)
						f = func() { Implementation{}.Sgemm(blas.Trans, blas.NoTrans, 784, 256, bs, 1, x, 784, dy, 256, 0, c, 256) }
					}
					runGFLOPs(b, f, bs*784*256)
				})
			}
		}
	}
}

// imageRows returns rows×cols values in [0, 1] that are zero in runs
// along each row, 81 % of them, like MNIST's pixels.
func imageRows(rng *rand.Rand, rows, cols int) []float32 {
	x := make([]float32, rows*cols)
	for p := 0; p < len(x); {
		run := 1 + rng.IntN(12)
		ink := rng.Float64() < 0.19
		for ; run > 0 && p < len(x); run, p = run-1, p+1 {
			if ink {
				x[p] = rng.Float32()
			}
		}
	}
	return x
}
