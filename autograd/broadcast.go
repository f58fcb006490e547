package autograd

import (
	"fmt"

	"github.com/flowgrad/flowgrad/tensor"
)

// checkBroadcast panics unless b has a's shape or is a 1×n row for the m×n
// a: the only broadcasting flowgrad does.
func checkBroadcast[T tensor.Float](op string, a, b *Value[T]) {
	as, bs := a.Shape(), b.Shape()
	if as == bs || bs.Rows == 1 && bs.Cols == as.Cols {
		return
	}
	panic(fmt.Sprintf("autograd: %s: shapes %v and %v do not fit (want equal shapes, or a 1×%d row as the second operand)", op, as, bs, as.Cols))
}

// bcastIndex maps element i of an output with n columns to the element of
// an operand of length size: the same element, or column i mod n of a row.
func bcastIndex(i, n, size int) int {
	if size == n {
		return i % n
	}
	return i
}

// accumulate adds src, shaped like an output with n columns, into v's
// gradient. If v is a broadcast row, src is summed over its rows: the one
// place where broadcasting is undone.
func (t *Tape[T]) accumulate(v *Value[T], src []T, n int, e uint64) {
	g := t.grad(v, e).Data()
	if len(g) == len(src) {
		for i, s := range src {
			g[i] += s
		}
		return
	}
	for r := 0; r < len(src); r += n {
		for j, s := range src[r : r+n] {
			g[j] += s
		}
	}
}

// accumulateFunc is accumulate with src[i] given by f(i), for i in [0, size).
func (t *Tape[T]) accumulateFunc(v *Value[T], size, n int, e uint64, f func(i int) T) {
	g := t.grad(v, e).Data()
	if len(g) == size {
		for i := range g {
			g[i] += f(i)
		}
		return
	}
	for i := 0; i < size; i++ {
		g[i%n] += f(i)
	}
}
