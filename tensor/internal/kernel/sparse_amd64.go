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
