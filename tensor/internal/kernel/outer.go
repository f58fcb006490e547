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

// genericCols is the width of outerGo's accumulator buffer.
const genericCols = 64

// outerGo is the pure-Go twin of every micro-kernel, and the generic
// path's kernel for short K-blocks:
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
				brow = brow[:len(acc)] // no bounds checks below
				for j := range acc {
					acc[j] += av * brow[j]
				}
			}
			crow := cs[i*ldc+j0 : i*ldc+j0+len(acc)]
			crow = crow[:len(acc)]
			if load != 0 {
				for j := range acc {
					crow[j] = alpha*acc[j] + beta*crow[j]
				}
			} else {
				for j := range acc {
					crow[j] = alpha * acc[j]
				}
			}
		}
	}
}

// outer1 is outerGo for kc = 1 (the weight gradient Xᵀ·dY at B = 1), in
// one pass over C: s = 0 + A[i,0]·B[0,j], as outerGo sums it, then
// alpha·s (+ beta·C).
func outer1(mr int, a *float32, rsa int, b *float32, c *float32, ldc int, nr int, alpha, beta float32, load int) {
	as := unsafe.Slice(a, (mr-1)*rsa+1)
	brow := unsafe.Slice(b, nr)
	cs := unsafe.Slice(c, (mr-1)*ldc+nr)
	for i := 0; i < mr; i++ {
		av := as[i*rsa]
		crow := cs[i*ldc : i*ldc+nr]
		crow = crow[:len(brow)]
		if load != 0 {
			for j, bv := range brow {
				var s float32
				s += av * bv
				crow[j] = alpha*s + beta*crow[j]
			}
			continue
		}
		for j, bv := range brow {
			var s float32
			s += av * bv
			crow[j] = alpha * s
		}
	}
}

// rowFn is the signature of the generic path's row kernels
// (generic_kernels.go, written by the generator): one row of an outer tile
// of fixed width, with csa and ldb in bytes.
type rowFn func(kc int, a unsafe.Pointer, csa uintptr, b unsafe.Pointer, ldb uintptr, c unsafe.Pointer, alpha, beta float32, load int)

// The generic path: row kernels genericW columns wide (the widest whose
// accumulators Go keeps in registers), panels of genericRows rows, and
// below genericMinK terms per element the plain loop of outerGo, whose
// per-call cost is lower. Both sum each element in increasing p, so an
// element gets the same bits from either.
const (
	genericW    = 6
	genericRows = 8
	genericMinK = 8
)

// genericOuter[mr][nr] is the generic outer kernel for mr rows and tiles
// nr columns wide.
var genericOuter [genericRows + 1][genericW + 1]outerFn

func init() {
	for mr := 1; mr <= genericRows; mr++ {
		for nr := 1; nr <= genericW; nr++ {
			genericOuter[mr][nr] = func(kc int, a *float32, rsa, csa int, b *float32, ldb int, c *float32, ldc int, nr int, alpha, beta float32, load, tiles int) {
				outerRows(mr, kc, a, rsa, csa, b, ldb, c, ldc, nr, alpha, beta, load, tiles)
			}
		}
	}
}

// outerRows is the generic outer kernel: row kernels over each tile's rows.
func outerRows(mr, kc int, a *float32, rsa, csa int, b *float32, ldb int, c *float32, ldc int, nr int, alpha, beta float32, load, tiles int) {
	if kc == 1 {
		outer1(mr, a, rsa, b, c, ldc, nr*tiles, alpha, beta, load)
		return
	}
	if kc < genericMinK {
		outerGo(mr, kc, a, rsa, csa, b, ldb, c, ldc, nr, alpha, beta, load, tiles)
		return
	}
	row := genericRow[nr]
	for t := 0; t < tiles; t++ {
		bt := unsafe.Add(unsafe.Pointer(b), 4*t*nr)
		ct := unsafe.Add(unsafe.Pointer(c), 4*t*nr)
		for i := 0; i < mr; i++ {
			row(kc, unsafe.Add(unsafe.Pointer(a), 4*i*rsa), uintptr(4*csa), bt, uintptr(4*ldb), unsafe.Add(ct, 4*i*ldc), alpha, beta, load)
		}
	}
}

// genericSet is the pure-Go path, available everywhere.
var genericSet = &kset{
	name:       "generic",
	w:          genericW,
	rowsWide:   genericRows,
	rowsNarrow: genericRows,
	nvMax:      func(mr int) int { return 1 },
	outer: func(mr, nv, rem int) outerFn {
		if rem == 0 {
			return genericOuter[mr][genericW]
		}
		return genericOuter[mr][rem]
	},
	dotRows:   2,
	dotNRMax:  func(mr int) int { return 3 },
	dot:       func(mr, nr int) dotFn { return genericDot[mr][nr] },
	parShift:  2, // 10–20× slower than the SIMD kernels: sharing pays from 1M multiply-adds
	supported: true,
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
