package kernel

import (
	"fmt"
	"testing"

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
