package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestEveryVariant calls every micro-kernel of every supported path
// directly, with masked and unmasked widths, and compares it with its Go
// twin, including the cells around the tile.
func TestEveryVariant(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, ks := range sets {
		if !ks.supported {
			continue
		}
		for mr := 1; mr <= max(ks.rowsWide, ks.rowsNarrow); mr++ {
			for nv := 1; nv <= ks.nvMax(mr); nv++ {
				for _, nr := range tileWidths(ks.w, nv) {
					kern := ks.outer(mr, nv, nr%ks.w)
					for _, kc := range []int{1, 7, 13} {
						for _, trans := range []bool{false, true} {
							name := fmt.Sprintf("%s outer mr=%d nr=%d kc=%d trans=%v", ks.name, mr, nr, kc, trans)
							rsa, csa := kc+1, 1
							if trans {
								rsa, csa = 1, mr+2
							}
							a := randSlice(rng, (mr-1)*rsa+(kc-1)*csa+1)
							ldb := nr + 3
							b := randSlice(rng, (kc-1)*ldb+nr)
							for _, load := range []int{0, 1} {
								ldc := nr + 5
								c := randSlice(rng, mr*ldc+8)
								want := append([]float32(nil), c...)
								kern(kc, &a[0], rsa, csa, &b[0], ldb, &c[4], ldc, nr, 1.5, -0.5, load, 1)
								outerGo(mr, kc, &a[0], rsa, csa, &b[0], ldb, &want[4], ldc, nr, 1.5, -0.5, load, 1)
								compareTile(t, name, c, want, kc)
								if nr == nv*ks.w { // several tiles in one call
									const tiles = 3
									bt := randSlice(rng, (kc-1)*(tiles*nr+2)+tiles*nr)
									ct := randSlice(rng, mr*(tiles*nr+1)+8)
									want := append([]float32(nil), ct...)
									kern(kc, &a[0], rsa, csa, &bt[0], tiles*nr+2, &ct[4], tiles*nr+1, nr, 1.5, -0.5, load, tiles)
									outerGo(mr, kc, &a[0], rsa, csa, &bt[0], tiles*nr+2, &want[4], tiles*nr+1, nr, 1.5, -0.5, load, tiles)
									compareTile(t, name+" tiles=3", ct, want, kc)
								}
							}
						}
					}
				}
			}
		}
		for mr := 1; mr <= ks.dotRows; mr++ {
			for nr := 1; nr <= ks.dotNRMax(mr); nr++ {
				kern := ks.dot(mr, nr)
				for _, k := range []int{1, 2, ks.w, ks.w + 2, 2*ks.w + 3, 5*ks.w - 1} {
					name := fmt.Sprintf("%s dot mr=%d nr=%d k=%d", ks.name, mr, nr, k)
					lda, ldb := k+2, k+1
					a := randSlice(rng, (mr-1)*lda+k)
					b := randSlice(rng, (nr-1)*ldb+k)
					for _, load := range []int{0, 1} {
						ldc := nr + 5
						c := randSlice(rng, mr*ldc+8)
						want := append([]float32(nil), c...)
						kern(k, &a[0], lda, &b[0], ldb, &c[4], ldc, 1.5, -0.5, load)
						dotGo(mr, nr, k, &a[0], lda, &b[0], ldb, &want[4], ldc, 1.5, -0.5, load)
						compareTile(t, name, c, want, k)
					}
				}
			}
		}
	}
}

func compareTile(t *testing.T, name string, got, want []float32, k int) {
	t.Helper()
	for i := range got {
		d := math.Abs(float64(got[i] - want[i]))
		if d > 1e-5*math.Sqrt(float64(k))*(1+math.Abs(float64(want[i]))) {
			t.Fatalf("%s: element %d = %v, want %v", name, i, got[i], want[i])
		}
	}
}

// tileWidths lists the tile widths that exercise every kernel of nv
// vectors of w lanes: full, and every remainder of the last vector.
func tileWidths(w, nv int) []int {
	widths := []int{nv * w}
	for rem := 1; rem < w; rem++ {
		if w > 4 && rem != 1 && rem != w/2+1 { // wide vectors: a sample
			continue
		}
		widths = append(widths, (nv-1)*w+rem)
	}
	return widths
}
