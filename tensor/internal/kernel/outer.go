package kernel

import "unsafe"

// outerFn is the signature shared by every micro-kernel: it computes the
// mr×nr tile
//
//	C[i,j] = alpha·Σ_{p<kc} A[i,p]·B[p,j]  (+ beta·C[i,j] when load ≠ 0)
//
// where A[i,p] = a[i·rsa + p·csa], B[p,j] = b[p·ldb + j] and
// C[i,j] = c[i·ldc + j]. The row count mr is fixed by the kernel; nr is an
// argument. kc, mr and nr are at least 1. When load is 0, C is only written.
type outerFn func(kc int, a *float32, rsa, csa int, b *float32, ldb int, c *float32, ldc int, nr int, alpha, beta float32, load int)

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
// nr must not exceed genericCols.
func outerGo(mr, kc int, a *float32, rsa, csa int, b *float32, ldb int, c *float32, ldc int, nr int, alpha, beta float32, load int) {
	as := unsafe.Slice(a, (mr-1)*rsa+(kc-1)*csa+1)
	bs := unsafe.Slice(b, (kc-1)*ldb+nr)
	cs := unsafe.Slice(c, (mr-1)*ldc+nr)
	var buf [genericCols]float32
	acc := buf[:nr]
	for i := 0; i < mr; i++ {
		clear(acc)
		for p := 0; p < kc; p++ {
			av := as[i*rsa+p*csa]
			brow := bs[p*ldb : p*ldb+nr]
			for j, bv := range brow {
				acc[j] += av * bv
			}
		}
		crow := cs[i*ldc : i*ldc+nr]
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

// genericRows is the panel height of the generic path.
const genericRows = 4

// genericOuter[mr] is outerGo for mr rows.
var genericOuter [genericRows + 1]outerFn

func init() {
	for mr := 1; mr <= genericRows; mr++ {
		genericOuter[mr] = func(kc int, a *float32, rsa, csa int, b *float32, ldb int, c *float32, ldc int, nr int, alpha, beta float32, load int) {
			outerGo(mr, kc, a, rsa, csa, b, ldb, c, ldc, nr, alpha, beta, load)
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
	outer:      func(mr, nv int, masked bool) outerFn { return genericOuter[mr] },
	supported:  true,
}
