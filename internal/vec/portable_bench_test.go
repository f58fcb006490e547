package vec

import "testing"

// BenchmarkPortable compares each elementwise kernel on the generic path
// (the exported function with the assembly turned off: what purego builds
// and other architectures run) with the simplest loop a caller would write
// in its place (impl=loop), on the MLP's sizes: B = 100 rows of 256 for
// the row kernels, the model's 203 530 weights for the updates, a
// minibatch of 100 images for the conversion. Compare with
// benchstat -col /impl.
func BenchmarkPortable(b *testing.B) {
	const rows, n = 100, 256
	const nw = 784*256 + 256*256 + 256*10
	x, y, dy := make([]float32, rows*n), make([]float32, rows*n), make([]float32, rows*n)
	bias, db := make([]float32, n), make([]float32, n)
	theta, grad, buf := make([]float32, nw), make([]float32, nw), make([]float32, nw)
	src := make([]uint8, 100*784)
	dst := make([]float32, 100*784)
	for i := range x {
		x[i], y[i], dy[i] = float32(i%7)-3, float32(i%5)-2, float32(i%3)-1
	}
	for i := range grad { // nonzero, so that buf never decays into subnormals
		grad[i] = float32(i%5-2) * 1e-3
	}
	heavyBall := &Momentum[float32]{A: 0.9, B: 1, C: 0.05, D: 0, E: 1}
	type kernel struct {
		name      string
		vec, loop func()
	}
	kernels := []kernel{
		{"BiasReLU", func() { BiasReLU(x, bias) }, func() {
			for r := 0; r < len(x); r += n {
				row := x[r : r+n]
				for j := range row {
					row[j] = max(row[j]+bias[j], 0)
				}
			}
		}},
		{"ReLUBackward", func() { ReLUBackward(dy, dy, y, db) }, func() {
			for i := range y {
				if !(y[i] > 0) {
					dy[i] = 0
				}
				db[i%n] += dy[i]
			}
		}},
		{"AddTo", func() { AddTo(theta, grad) }, func() {
			for i := range theta {
				theta[i] += grad[i]
			}
		}},
		{"MomentumStep", func() { MomentumStep(theta, grad, buf, heavyBall) }, func() {
			for i := range theta {
				buf[i] = 0.9*buf[i] + grad[i]
				theta[i] -= 0.05 * buf[i]
			}
		}},
		{"PlainStep", func() { PlainStep(theta, grad, 0.05, 0) }, func() {
			for i := range theta {
				theta[i] -= 0.05 * grad[i]
			}
		}},
		{"BytesToFloats", func() { BytesToFloats(dst, src) }, func() {
			for i, v := range src {
				dst[i] = float32(v) / 255
			}
		}},
	}
	for _, k := range kernels {
		for _, impl := range []string{"loop", "generic"} {
			b.Run(k.name+"/impl="+impl, func(b *testing.B) {
				defer SetGeneric(true)()
				f := k.vec
				if impl == "loop" {
					f = k.loop
				}
				b.ReportAllocs()
				for b.Loop() {
					f()
				}
			})
		}
	}
}
