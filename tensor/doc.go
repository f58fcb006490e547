// Package tensor holds flowgrad's numbers: dense row-major matrices of
// float32 or float64 stored in gorgonia.org/tensor, and the matrix products
// that backpropagation needs.
//
// Every flowgrad tensor is a matrix (rank 2). A scalar is 1×1 and a vector is
// 1×n, so a minibatch of B examples with K features is B×K and the tutorial's
// scalar flow graphs and a whole MLP use the same type.
//
// This is the only package that imports gorgonia.org/tensor; the rest of
// flowgrad sees the concrete generic type [Dense]. Matrix products go through
// one seam, a gonum blas.Float32 / blas.Float64 implementation chosen once at
// start-up (see [KernelPath]) and also installed into gorgonia with
// gorgonia's tensor.Use, so gorgonia's own operations use the same kernels.
//
// Misuse in code (shapes that do not fit) panics with a message that starts
// with "tensor:" and names the operation and both shapes.
package tensor
