//go:build !purego

package vec

import (
	"os"

	"github.com/klauspost/cpuid/v2"
)

// hasAsm reports whether this CPU runs the AVX2+FMA kernels; useAsm whether
// they are in use: unless FLOWGRAD_KERNEL names another path than avx2 or
// avx512 (the GEMM kernel's names; an unknown name means generic there too).
var (
	hasAsm = cpuid.CPU.Supports(cpuid.AVX2, cpuid.FMA3)
	useAsm = hasAsm && asmAllowed(os.Getenv("FLOWGRAD_KERNEL"))
)

func asmAllowed(env string) bool { return env == "" || env == "avx2" || env == "avx512" }

// The AVX2+FMA kernels. Each computes exactly its Go twin's loop (in
// vec_generic.go), with fused multiply-adds.

//go:noescape
func biasReLUAVX2(x, b []float32)

//go:noescape
func addToAVX2(dst, src []float32)

//go:noescape
func reluBackwardAVX2(dz, dy, y, db []float32)

//go:noescape
func momentumStepAVX2(theta, grad, buf []float32, k *Momentum[float32])

//go:noescape
func plainStepAVX2(theta, grad []float32, rate, wd float32)

//go:noescape
func adamStepAVX2(theta, grad, m, v []float32, k *Adam[float32])

//go:noescape
func rmspropStepAVX2(theta, grad, sq, avg, buf []float32, k *RMSProp[float32])

//go:noescape
func adagradStepAVX2(theta, grad, sum []float32, k *Adagrad[float32])

//go:noescape
func bytesToFloatsAVX2(dst []float32, src []uint8)
