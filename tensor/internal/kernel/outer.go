package kernel

import "unsafe"

// outerFn is the signature shared by every micro-kernel: it computes the
// mr×(tiles·nr) block
//
//	C[i,j] = alpha·Σ_{p<kc} A[i,p]·B[p,j]  (+ beta·C[i,j] when load ≠ 0)
//
// where A[i,p] = a[i·rsa + p·csa], B[p,j] = b[p·ldb + j] and
// C[i,j] = c[i·ldc + j], one mr×nr tile at a time. The row count mr is
// fixed by the kernel, and so is its widest tile, nv vectors; nr is an
// argument, and must be the widest tile when tiles > 1. kc, mr, nr and
// tiles are at least 1. When load is 0, C is only written.
type outerFn func(kc int, a *float32, rsa, csa int, b *float32, ldb int, c *float32, ldc int, nr int, alpha, beta float32, load, tiles int)

// genericCols is the widest tile of the generic kernels.
const genericCols = 64

// outerGo is the pure-Go twin of every assembly micro-kernel, and the
// generic path's kernel:
//
//	for i := 0; i < mr; i++ {
//		for j := 0; j < nr; j++ {
//			var s float32
//			for p := 0; p < kc; p++ {
//				s += A[i,p] · B[p,j]
//			}
//			if load != 0 {
//				C[i,j] = alpha·s + beta·C[i,j]
//			} else {
//				C[i,j] = alpha·s
//			}
//		}
//	}
//
// Each element is summed in increasing p, whichever tile it lies in. The
// assembly kernels use one fused multiply-add per term and per beta update.
func outerGo(mr, kc int, a *float32, rsa, csa int, b *float32, ldb int, c *float32, ldc int, nr int, alpha, beta float32, load, tiles int) {
	nr *= tiles
	as := unsafe.Slice(a, (mr-1)*rsa+(kc-1)*csa+1)
	bs := unsafe.Slice(b, (kc-1)*ldb+nr)
	cs := unsafe.Slice(c, (mr-1)*ldc+nr)
	var buf [genericCols]float32
	for j0 := 0; j0 < nr; j0 += genericCols {
		acc := buf[:min(genericCols, nr-j0)]
		for i := 0; i < mr; i++ {
			clear(acc)
			for p := 0; p < kc; p++ {
				av := as[i*rsa+p*csa]
				brow := bs[p*ldb+j0 : p*ldb+j0+len(acc)]
				for j, bv := range brow {
					acc[j] += av * bv
				}
			}
			crow := cs[i*ldc+j0 : i*ldc+j0+len(acc)]
			if load != 0 {
				for j := range crow {
					crow[j] = alpha*acc[j] + beta*crow[j]
				}
			} else {
				for j := range crow {
					crow[j] = alpha * acc[j]
				}
			}
		}
	}
}

// genericRows is the panel height of the generic path.
const genericRows = 4

// genericOuter[mr] is outerGo for mr rows.
var genericOuter [genericRows + 1]outerFn

func init() {
	for mr := 1; mr <= genericRows; mr++ {
		genericOuter[mr] = func(kc int, a *float32, rsa, csa int, b *float32, ldb int, c *float32, ldc int, nr int, alpha, beta float32, load, tiles int) {
			outerGo(mr, kc, a, rsa, csa, b, ldb, c, ldc, nr, alpha, beta, load, tiles)
		}
	}
}

// genericSet is the pure-Go path, available everywhere.
var genericSet = &kset{
	name:       "generic",
	w:          8,
	rowsWide:   genericRows,
	rowsNarrow: genericRows,
	nvMax:      func(mr int) int { return genericCols / 8 },
	outer:      func(mr, nv, rem int) outerFn { return genericOuter[mr] },
	supported:  true,
}

// dotFn is the signature of the dot kernels: for the mr×nr tile
//
//	C[i,j] = alpha·Σ_{p<k} A[i,p]·B[j,p]  (+ beta·C[i,j] when load ≠ 0)
//
// with A[i,p] = a[i·lda + p], B[j,p] = b[j·ldb + p], C[i,j] = c[i·ldc + j]:
// the Sgemm(NoTrans, Trans) product read in place. mr is fixed by the
// kernel; k ≥ 1.
type dotFn func(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32, load int)

// dotGo is the pure-Go twin of the dot kernels:
//
//	for i := 0; i < mr; i++ {
//		for j := 0; j < nr; j++ {
//			var s float32
//			for p := 0; p < k; p++ {
//				s += A[i,p] · B[j,p]
//			}
//			C[i,j] = alpha·s (+ beta·C[i,j] when load ≠ 0)
//		}
//	}
//
// The assembly sums each element in w lanes (lane l takes the terms with
// p ≡ l mod w), then adds the lanes pairwise, halving each time; the result
// differs from dotGo's by rounding only.
func dotGo(mr, nr, k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32, load int) {
	as := unsafe.Slice(a, (mr-1)*lda+k)
	bs := unsafe.Slice(b, (nr-1)*ldb+k)
	cs := unsafe.Slice(c, (mr-1)*ldc+nr)
	for i := 0; i < mr; i++ {
		arow := as[i*lda : i*lda+k]
		for j := 0; j < nr; j++ {
			brow := bs[j*ldb : j*ldb+k]
			var s float32
			for p, av := range arow {
				s += av * brow[p]
			}
			t := alpha * s
			if load != 0 {
				t += beta * cs[i*ldc+j]
			}
			cs[i*ldc+j] = t
		}
	}
}
