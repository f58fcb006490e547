package tensor

import (
	"fmt"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
	gt "gorgonia.org/tensor"

	"github.com/flowgrad/flowgrad/tensor/internal/kernel"
)

// impl is the BLAS seam: every matrix product in flowgrad goes through it.
// float32 uses flowgrad's kernel package (CPU-feature-detected Sgemm);
// float64 uses gonum's native implementation.
var impl = kernel.Implementation{}

func init() {
	gt.Use(impl)
}

// BLAS returns the gonum BLAS implementation flowgrad uses, the same one it
// installed into gorgonia.org/tensor. Its Sgemm is flowgrad's kernel; the
// other routines are gonum's.
func BLAS() interface {
	blas.Float32
	blas.Float64
} {
	return impl
}

// KernelPath names the float32 GEMM kernel chosen at start-up, for example
// "avx512", "avx2", "neon" (arm64) or "generic".
func KernelPath() string { return kernel.Path() }

// KernelError reports why the path asked for with the environment variable
// FLOWGRAD_KERNEL could not be used (an unknown name, or a path this CPU or
// build lacks); the generic path is then in use. It is nil when
// FLOWGRAD_KERNEL is unset or was honoured.
func KernelError() error { return kernel.InitError() }

var _ blas.Float64 = gonum.Implementation{}

// Gemm computes C = alpha·op(A)·op(B) + beta·C, where op(X) is X, or Xᵀ when
// the matching trans flag is set. Transposes are handled by the BLAS
// routine's flags; no transposed copy is made. When beta is 0, C's previous
// contents are ignored (NaNs in C do not propagate).
//
// It panics if op(A) is not m×k, op(B) k×n and C m×n for some m, n, k.
func Gemm[T Float](transA, transB bool, alpha T, a, b *Dense[T], beta T, c *Dense[T]) {
	m, ka := a.shape.Rows, a.shape.Cols
	if transA {
		m, ka = ka, m
	}
	kb, n := b.shape.Rows, b.shape.Cols
	if transB {
		kb, n = n, kb
	}
	if ka != kb || c.shape.Rows != m || c.shape.Cols != n {
		panic(fmt.Sprintf("tensor: Gemm: op(A) %d×%d · op(B) %d×%d does not fit C %v", m, ka, kb, n, c.shape))
	}
	tA, tB := blas.NoTrans, blas.NoTrans
	if transA {
		tA = blas.Trans
	}
	if transB {
		tB = blas.Trans
	}
	switch cd := any(c.data).(type) {
	case []float32:
		impl.Sgemm(tA, tB, m, n, ka, float32(alpha), any(a.data).([]float32), a.shape.Cols,
			any(b.data).([]float32), b.shape.Cols, float32(beta), cd, n)
	case []float64:
		impl.Dgemm(tA, tB, m, n, ka, float64(alpha), any(a.data).([]float64), a.shape.Cols,
			any(b.data).([]float64), b.shape.Cols, float64(beta), cd, n)
	}
}

// MatMul returns the new matrix A·B. It panics if A's columns differ from
// B's rows.
func MatMul[T Float](a, b *Dense[T]) *Dense[T] {
	if a.shape.Cols != b.shape.Rows {
		panic(fmt.Sprintf("tensor: MatMul: shapes %v and %v do not fit", a.shape, b.shape))
	}
	c := New[T](a.shape.Rows, b.shape.Cols)
	Gemm(false, false, 1, a, b, 0, c)
	return c
}
