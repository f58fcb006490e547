//go:build !purego

package vec

import (
	"os"

	"github.com/klauspost/cpuid/v2"
)

// hasAsm reports whether this CPU runs the AVX2+FMA kernels; useAsm whether
// they are in use.
var (
	hasAsm = cpuid.CPU.Supports(cpuid.AVX2, cpuid.FMA3)
	useAsm = hasAsm && os.Getenv("FLOWGRAD_KERNEL") != "generic"
)

// The AVX2+FMA kernels. Each computes exactly its Go twin's loop (in
// vec_generic.go), with fused multiply-adds.

//go:noescape
func biasReLUAVX2(x, b []float32)

//go:noescape
func addToAVX2(dst, src []float32)

//go:noescape
func reluBackwardAVX2(dz, dy, y, db []float32)

//go:noescape
func momentumStepAVX2(theta, grad, buf []float32, a, b, c, d, wd float32)

//go:noescape
func plainStepAVX2(theta, grad []float32, rate, wd float32)

//go:noescape
func bytesToFloatsAVX2(dst []float32, src []uint8)
