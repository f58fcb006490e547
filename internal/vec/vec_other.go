//go:build !amd64 || purego

package vec

const hasAsm = false

var useAsm = false

func biasReLUAVX2(x, b []float32)                                       { panic("vec: no asm") }
func addToAVX2(dst, src []float32)                                      { panic("vec: no asm") }
func reluBackwardAVX2(dz, dy, y, db []float32)                          { panic("vec: no asm") }
func momentumStepAVX2(theta, grad, buf []float32, k *Momentum[float32]) { panic("vec: no asm") }
func adamStepAVX2(theta, grad, m, v []float32, k *Adam[float32])        { panic("vec: no asm") }
func adagradStepAVX2(theta, grad, sum []float32, k *Adagrad[float32])   { panic("vec: no asm") }
func rmspropStepAVX2(theta, grad, sq, avg, buf []float32, k *RMSProp[float32]) {
	panic("vec: no asm")
}
func plainStepAVX2(theta, grad []float32, rate, wd float32) { panic("vec: no asm") }
func bytesToFloatsAVX2(dst []float32, src []uint8)          { panic("vec: no asm") }
