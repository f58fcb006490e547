// Package kernel provides flowgrad's float32 GEMM behind gonum's blas
// interfaces. (Placeholder: gonum's native Sgemm until the fast kernels land.)
package kernel

import "gonum.org/v1/gonum/blas/gonum"

// Implementation is gonum's BLAS with Sgemm replaced by flowgrad's kernel.
type Implementation struct {
	gonum.Implementation
}

// Path names the Sgemm kernel in use.
func Path() string { return "gonum" }
