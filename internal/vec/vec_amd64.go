//go:build !purego

package vec

import "github.com/klauspost/cpuid/v2"

// archImpl returns the AVX2+FMA path when this CPU has AVX2 and FMA3.
func archImpl() *impl {
	if !cpuid.CPU.Supports(cpuid.AVX2, cpuid.FMA3) {
		return nil
	}
	return &impl{
		name:          "avx2",
		biasReLU:      biasReLUAVX2,
		addTo:         addToAVX2,
		reluBackward:  reluBackwardAVX2,
		momentumStep:  momentumStepAVX2,
		plainStep:     plainStepAVX2,
		adamStep:      adamStepAVX2,
		rmspropStep:   rmspropStepAVX2,
		adagradStep:   adagradStepAVX2,
		bytesToFloats: bytesToFloatsAVX2,
	}
}

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
