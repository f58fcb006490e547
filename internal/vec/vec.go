// Package vec holds the elementwise kernels of the training step (float32;
// the optimiser updates are generic in the element type):
// bias + ReLU forward and backward, the optimiser updates (SGD in every
// momentum form, Adam, RMSProp, Adagrad: step.go) in one pass each,
// accumulation, and the uint8 → float32 minibatch conversion.
//
// Each kernel has a pure-Go twin (vec_generic.go) whose loop is the
// kernel's definition; on amd64 with AVX2 and FMA, and on arm64 with NEON,
// an assembly version runs instead. The choice is made once at start-up:
// the environment variable FLOWGRAD_KERNEL=generic or the purego build tag
// forces the Go loops. The NEON kernels give the Go twins' bits; the AVX2
// ones may differ from them in the last bit, because they fuse
// multiply-adds. Each path is deterministic.
package vec

import (
	"fmt"
	"os"
)

func checkLen(op string, n int, lens ...int) {
	for _, l := range lens {
		if l < n {
			panic(fmt.Sprintf("vec: %s: slice of length %d, want at least %d", op, l, n))
		}
	}
}

// impl is one path of the float32 kernels, a function per kernel, as in
// package kernel: the Go twins (genericImpl) everywhere, and the assembly
// path of this architecture (archImpl: AVX2+FMA on amd64, NEON on arm64;
// nil where there is none or the CPU lacks it). One is chosen once, at
// start-up; adding a path touches archImpl only.
type impl struct {
	name          string
	twinBits      bool // the kernels give the Go twins' bits (no fused multiply-adds)
	biasReLU      func(x, b []float32)
	addTo         func(dst, src []float32)
	reluBackward  func(dz, dy, y, db []float32)
	momentumStep  func(theta, grad, buf []float32, k *Momentum[float32])
	plainStep     func(theta, grad []float32, rate, wd float32)
	adamStep      func(theta, grad, m, v []float32, k *Adam[float32])
	rmspropStep   func(theta, grad, sq, avg, buf []float32, k *RMSProp[float32])
	adagradStep   func(theta, grad, sum []float32, k *Adagrad[float32])
	bytesToFloats func(dst []float32, src []uint8)
}

var genericImpl = &impl{
	name:          "generic",
	twinBits:      true,
	biasReLU:      biasReLUGeneric,
	addTo:         addToGeneric,
	reluBackward:  reluBackwardGeneric,
	momentumStep:  momentumStepGeneric[float32],
	plainStep:     plainStepGeneric[float32],
	adamStep:      adamStepGeneric[float32],
	rmspropStep:   rmspropStepGeneric[float32],
	adagradStep:   adagradStepGeneric[float32],
	bytesToFloats: bytesToFloatsGeneric,
}

var (
	asmImpl = archImpl() // nil: no assembly path on this CPU and build
	hasAsm  = asmImpl != nil
	cur     = choose(os.Getenv("FLOWGRAD_KERNEL"))
)

// choose returns the assembly path when FLOWGRAD_KERNEL is empty or names
// it (avx512 names the AVX2 path too: the GEMM kernel's name for the wider
// x86 path); any other name means generic, as it does for the GEMM kernel.
func choose(env string) *impl {
	if hasAsm && (env == "" || env == asmImpl.name || env == "avx512" && asmImpl.name == "avx2") {
		return asmImpl
	}
	return genericImpl
}

// Path names the implementation in use: "avx2", "neon" or "generic".
func Path() string { return cur.name }

// SetGeneric forces the generic (on = true) or the best available path and
// returns a function restoring the previous choice. It is for tests and
// benchmarks and is not safe to call while kernels run.
func SetGeneric(on bool) (restore func()) {
	prev := cur
	cur = genericImpl
	if !on && hasAsm {
		cur = asmImpl
	}
	return func() { cur = prev }
}

// BiasReLU sets x[i] = max(x[i] + b[i mod n], 0) for the rows of x, each
// n = len(b) long: the bias row added to every row, then ReLU, in one pass.
// NaN propagates. It panics if len(x) is not a multiple of len(b).
func BiasReLU(x, b []float32) { rows(x, b, "BiasReLU", biasReLURow) }

// BiasAdd sets x[i] += b[i mod n] for the rows of x, each n = len(b) long.
func BiasAdd(x, b []float32) { rows(x, b, "BiasAdd", biasAddRow) }

func rows(x, b []float32, op string, f func(x, b []float32)) {
	n := len(b)
	if n == 0 || len(x)%n != 0 {
		panic(fmt.Sprintf("vec: %s: %d elements are not rows of %d", op, len(x), n))
	}
	for r := 0; r < len(x); r += n {
		f(x[r:r+n:r+n], b)
	}
}

func biasReLURow(x, b []float32) { cur.biasReLU(x, b) }

func biasAddRow(x, b []float32) { cur.addTo(x, b) }

// ReLUBackward is the backward pass through y = ReLU(z + b) for the rows of
// y, each n = len(db) long: dz[i] = dy[i] if y[i] > 0, else 0; and
// db[j] += Σ_rows dz[row·n + j]. dz may be dy itself (in place).
func ReLUBackward(dz, dy, y, db []float32) {
	n := len(db)
	if n == 0 || len(y)%n != 0 {
		panic(fmt.Sprintf("vec: ReLUBackward: %d elements are not rows of %d", len(y), n))
	}
	checkLen("ReLUBackward", len(y), len(dz), len(dy))
	for r := 0; r < len(y); r += n {
		cur.reluBackward(dz[r:r+n], dy[r:r+n], y[r:r+n], db)
	}
}

// SumRows adds every row of x (each n = len(db) long) into db.
func SumRows(db, x []float32) {
	n := len(db)
	if n == 0 || len(x)%n != 0 {
		panic(fmt.Sprintf("vec: SumRows: %d elements are not rows of %d", len(x), n))
	}
	for r := 0; r < len(x); r += n {
		AddTo(db, x[r:r+n])
	}
}

// AddTo sets dst[i] += src[i] for i < len(dst).
func AddTo(dst, src []float32) {
	checkLen("AddTo", len(dst), len(src))
	cur.addTo(dst, src)
}

// BytesToFloats sets dst[i] = float32(src[i]) / 255 (correctly rounded,
// so 255 ↦ 1) for i < len(src): pixels to [0, 1].
func BytesToFloats(dst []float32, src []uint8) {
	checkLen("BytesToFloats", len(src), len(dst))
	cur.bytesToFloats(dst, src)
}
