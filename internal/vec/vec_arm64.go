//go:build !purego

package vec

import "github.com/klauspost/cpuid/v2"

// archImpl returns the NEON path when this CPU has Advanced SIMD (which
// cpuid calls ASIMD). Every kernel has a NEON version; each runs four
// lanes at a time (sixteen bytes for the conversion) and hands the last
// len mod 4 (mod 16) elements to its Go twin. The NEON kernels perform the
// twin's operations unfused and in its order, so this path gives the Go
// twins' bits.
func archImpl() *impl {
	if !cpuid.CPU.Supports(cpuid.ASIMD) {
		return nil
	}
	return &impl{
		name: "neon",
		biasReLU: func(x, b []float32) {
			n := len(x) &^ 3
			biasReLUNEON(x[:n], b)
			biasReLUGeneric(x[n:], b[n:])
		},
		addTo: func(dst, src []float32) {
			n := len(dst) &^ 3
			addToNEON(dst[:n], src)
			addToGeneric(dst[n:], src[n:])
		},
		reluBackward: func(dz, dy, y, db []float32) {
			n := len(y) &^ 3
			reluBackwardNEON(dz, dy, y[:n], db)
			reluBackwardGeneric(dz[n:], dy[n:], y[n:], db[n:])
		},
		momentumStep: func(theta, grad, buf []float32, k *Momentum[float32]) {
			n := len(theta) &^ 3
			momentumStepNEON(theta[:n], grad, buf, k)
			momentumStepGeneric(theta[n:], grad[n:], buf[n:], k)
		},
		plainStep: func(theta, grad []float32, rate, wd float32) {
			n := len(theta) &^ 3
			plainStepNEON(theta[:n], grad, rate, wd)
			plainStepGeneric(theta[n:], grad[n:], rate, wd)
		},
		adamStep: func(theta, grad, m, v []float32, k *Adam[float32]) {
			n := len(theta) &^ 3
			adamStepNEON(theta[:n], grad, m, v, k)
			adamStepGeneric(theta[n:], grad[n:], m[n:], v[n:], k)
		},
		rmspropStep: func(theta, grad, sq, avg, buf []float32, k *RMSProp[float32]) {
			n := len(theta) &^ 3
			rmspropStepNEON(theta[:n], grad, sq, avg, buf, k)
			if k.Centered { // avg and buf may be nil when unused
				avg = avg[n:]
			}
			if k.Momentum {
				buf = buf[n:]
			}
			rmspropStepGeneric(theta[n:], grad[n:], sq[n:], avg, buf, k)
		},
		adagradStep: func(theta, grad, sum []float32, k *Adagrad[float32]) {
			n := len(theta) &^ 3
			adagradStepNEON(theta[:n], grad, sum, k)
			adagradStepGeneric(theta[n:], grad[n:], sum[n:], k)
		},
		bytesToFloats: func(dst []float32, src []uint8) {
			n := len(src) &^ 15
			bytesToFloatsNEON(dst, src[:n])
			bytesToFloatsGeneric(dst[n:], src[n:])
		},
	}
}

// The NEON kernels (vec_arm64.s), over the first len &^ 3 elements of
// their first argument (bytesToFloatsNEON: len(src) &^ 15); the other
// slices must be at least as long.

//go:noescape
func biasReLUNEON(x, b []float32)

//go:noescape
func addToNEON(dst, src []float32)

//go:noescape
func reluBackwardNEON(dz, dy, y, db []float32)

//go:noescape
func momentumStepNEON(theta, grad, buf []float32, k *Momentum[float32])

//go:noescape
func plainStepNEON(theta, grad []float32, rate, wd float32)

//go:noescape
func adamStepNEON(theta, grad, m, v []float32, k *Adam[float32])

//go:noescape
func rmspropStepNEON(theta, grad, sq, avg, buf []float32, k *RMSProp[float32])

//go:noescape
func adagradStepNEON(theta, grad, sum []float32, k *Adagrad[float32])

//go:noescape
func bytesToFloatsNEON(dst []float32, src []uint8)
