package kernel

import (
	"testing"

	"gonum.org/v1/gonum/blas"
)

// TestSgemmNoAllocs checks warm calls allocate nothing, serial and split.
func TestSgemmNoAllocs(t *testing.T) {
	forEachPath(t, func(t *testing.T) {
		shapes := [][3]int{{1, 256, 784}, {1000, 256, 784}, {100, 784, 256}}
		if emulated || raceEnabled { // still serial and split, but cheaper
			shapes = [][3]int{{1, 256, 784}, {20, 256, 784}, {100, 300, 40}}
		}
		for _, sh := range shapes {
			m, n, k := sh[0], sh[1], sh[2]
			a := make([]float32, m*k)
			b := make([]float32, k*n)
			c := make([]float32, m*n)
			for _, tB := range transes {
				f := func() {
					Implementation{}.Sgemm(blas.NoTrans, tB, m, n, k, 1, a, k, b, n, 0, c, n)
				}
				if tB == blas.Trans {
					f = func() {
						Implementation{}.Sgemm(blas.NoTrans, tB, m, n, k, 1, a, k, b, k, 0, c, n)
					}
				}
				f()
				if allocs := testing.AllocsPerRun(5, f); allocs > 0 {
					t.Errorf("%v tB=%c: %v allocs per call", sh, tB, allocs)
				}
			}
		}
	})
}
