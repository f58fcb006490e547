// Package vec holds the elementwise kernels of the training step (float32;
// the optimiser updates are generic in the element type):
// bias + ReLU forward and backward, the optimiser updates (SGD in every
// momentum form, Adam, RMSProp, Adagrad: step.go) in one pass each,
// accumulation, and the uint8 → float32 minibatch conversion.
//
// Each kernel has a pure-Go twin (vec_generic.go) whose loop is the
// kernel's definition; on amd64 with AVX2 and FMA an assembly version runs
// instead. The choice is made once at start-up: the environment variable
// FLOWGRAD_KERNEL=generic or the purego build tag forces the Go loops.
// Results of the two may differ in the last bit, because the assembly
// fuses multiply-adds; each is deterministic.
package vec

import "fmt"

func checkLen(op string, n int, lens ...int) {
	for _, l := range lens {
		if l < n {
			panic(fmt.Sprintf("vec: %s: slice of length %d, want at least %d", op, l, n))
		}
	}
}

// Path names the implementation in use: "avx2" or "generic".
func Path() string {
	if useAsm {
		return "avx2"
	}
	return "generic"
}

// SetGeneric forces the generic (on = true) or the best available path and
// returns a function restoring the previous choice. It is for tests and
// benchmarks and is not safe to call while kernels run.
func SetGeneric(on bool) (restore func()) {
	prev := useAsm
	useAsm = !on && hasAsm
	return func() { useAsm = prev }
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

func biasReLURow(x, b []float32) {
	if useAsm {
		biasReLUAVX2(x, b)
		return
	}
	biasReLUGeneric(x, b)
}

func biasAddRow(x, b []float32) {
	if useAsm {
		addToAVX2(x, b)
		return
	}
	addToGeneric(x, b)
}

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
		if useAsm {
			reluBackwardAVX2(dz[r:r+n], dy[r:r+n], y[r:r+n], db)
		} else {
			reluBackwardGeneric(dz[r:r+n], dy[r:r+n], y[r:r+n], db)
		}
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
	if useAsm {
		addToAVX2(dst, src)
		return
	}
	addToGeneric(dst, src)
}

// BytesToFloats sets dst[i] = float32(src[i]) / 255 (correctly rounded,
// so 255 ↦ 1) for i < len(src): pixels to [0, 1].
func BytesToFloats(dst []float32, src []uint8) {
	checkLen("BytesToFloats", len(src), len(dst))
	if useAsm {
		bytesToFloatsAVX2(dst, src)
		return
	}
	bytesToFloatsGeneric(dst, src)
}
