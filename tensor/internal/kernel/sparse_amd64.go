//go:build !purego

package kernel

// sparseRowAVX512 computes one row of a K-block of C = alpha·A·B + beta·C
// from the nonzero entries of A's row only:
//
//	C[j] = alpha·s_j (+ beta·C[j] when load ≠ 0),  s_j = Σ_{p<kc, a[p]≠0} a[p]·B[p·ldb+j]
//
// with s_j summed in increasing p by fused multiply-adds and the same
// epilogue as the outer kernels, so that it equals their result whenever
// the skipped terms are exact zeros (see sparseMin). n must be a multiple
// of 16; idx is scratch for kc+16 int32s. It returns the number of
// nonzero entries.
//
//go:noescape
func sparseRowAVX512(kc int, a *float32, b *float32, ldb int, c *float32, n int, alpha, beta float32, load int, idx *int32) int

// sparseColsAVX512 computes rows [0, rows) of a K-block of C = alpha·Aᵀ·B +
// beta·C (rows ≤ 16; the weight gradient Xᵀ·dY) from the nonzero entries
// of A only, where Aᵀ[r, p] = a[p·lda + r]:
//
//	C[r, j] = alpha·s_rj (+ beta·C[r, j] when load ≠ 0),  s_rj = Σ_{p<kc, A[p,r]≠0} A[p, r]·B[p·ldb+j]
//
// each s_rj summed in increasing p by fused multiply-adds in t (scratch
// for 16×64 floats, 64-byte aligned), with the outer kernels' epilogue.
// n must be a multiple of 16.
//
//go:noescape
func sparseColsAVX512(kc int, a *float32, lda int, rows int, b *float32, ldb int, c *float32, ldc int, n int, alpha, beta float32, load int, t *float32)

// sparseRowAVX2 is sparseRowAVX512 for AVX2+FMA: n must be a multiple of 8.
//
//go:noescape
func sparseRowAVX2(kc int, a *float32, b *float32, ldb int, c *float32, n int, alpha, beta float32, load int, idx *int32) int

// sparseColsAVX2 is sparseColsAVX512 for AVX2+FMA: rows ≤ 8, n a multiple
// of 8, t scratch for 8×32 floats.
//
//go:noescape
func sparseColsAVX2(kc int, a *float32, lda int, rows int, b *float32, ldb int, c *float32, ldc int, n int, alpha, beta float32, load int, t *float32)
