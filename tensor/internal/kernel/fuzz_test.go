package kernel

import (
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
)

// FuzzSgemm compares Sgemm on every path with the float64 reference, for
// fuzzed shapes, transposes, scalars and leading-dimension padding.
func FuzzSgemm(f *testing.F) {
	f.Add(false, false, uint8(1), uint8(1), uint8(1), uint8(0), uint8(1), uint8(0), uint64(1))
	f.Add(false, true, uint8(10), uint8(10), uint8(70), uint8(1), uint8(0), uint8(3), uint64(2))
	f.Add(true, false, uint8(70), uint8(33), uint8(1), uint8(2), uint8(2), uint8(1), uint64(3))
	f.Add(true, true, uint8(29), uint8(47), uint8(17), uint8(1), uint8(1), uint8(7), uint64(4))
	f.Add(false, false, uint8(255), uint8(40), uint8(200), uint8(1), uint8(2), uint8(0), uint64(5))
	f.Fuzz(func(t *testing.T, transA, transB bool, m, n, k, ai, bi, pad uint8, seed uint64) {
		if m == 0 || n == 0 || k == 0 {
			return
		}
		tA, tB := blas.NoTrans, blas.NoTrans
		if transA {
			tA = blas.Trans
		}
		if transB {
			tB = blas.Trans
		}
		alpha := []float32{0, 1, -0.7, 2.5}[ai%4]
		beta := []float32{0, 1, -0.7, 0.25}[bi%4]
		for _, name := range Available() {
			restore, err := ForcePath(name)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(seed, 9))
			g := newCase(rng, tA, tB, int(m), int(n), int(k), alpha, beta, int(pad%9))
			g.run()
			restore()
			g.check(t)
		}
	})
}
