package autograd

import (
	"fmt"

	"github.com/flowgrad/flowgrad/internal/parallel"
	"github.com/flowgrad/flowgrad/internal/vec"
	"github.com/flowgrad/flowgrad/tensor"
)

// Linear returns x·W + b for x of shape B×K, W of shape K×N and a bias row
// b of shape 1×N: the same as Add(MatMul(x, W), b), fused — the bias is
// added in one pass over the product, and there is no intermediate node.
// It panics if the shapes do not fit.
func Linear[T tensor.Float](x, w, b *Value[T]) *Value[T] { return affine(opLinear, x, w, b) }

// LinearReLU returns max(x·W + b, 0): the same as ReLU(Linear(x, W, b)),
// fused — bias and activation in one pass forward; backward, one pass
// masks the gradient and sums the bias gradient at the same time.
func LinearReLU[T tensor.Float](x, w, b *Value[T]) *Value[T] { return affine(opLinearReLU, x, w, b) }

func affine[T tensor.Float](op opKind, x, w, b *Value[T]) *Value[T] {
	t := tapeOf(op.String(), x, w)
	tapeOf(op.String(), x, b)
	xs, ws, bs := x.Shape(), w.Shape(), b.Shape()
	if xs.Cols != ws.Rows || bs.Rows != 1 || bs.Cols != ws.Cols {
		panic(fmt.Sprintf("autograd: %v: shapes x %v, W %v, b %v do not fit (want B×K, K×N, 1×N)", op, xs, ws, bs))
	}
	v := t.node(op, xs.Rows, ws.Cols, x, w)
	v.in[2] = b
	v.needsGrad = v.needsGrad || b.needsGrad
	tensor.Gemm(false, false, 1, x.data, w.data, 0, v.data)
	j := &t.ew
	j.backward, j.relu, j.x, j.b, j.n = false, op == opLinearReLU, v.data.Data(), b.data.Data(), ws.Cols
	j.run()
	return v
}

// affineBackward: with dZ = dY, masked where Y ≤ 0 for LinearReLU (in
// place: dY is this node's own gradient, which nothing else reads),
// db += Σ_rows dZ, dW += Xᵀ·dZ, dX += dZ·Wᵀ.
func affineBackward[T tensor.Float](t *Tape[T], v *Value[T], e uint64) {
	x, w, b := v.in[0], v.in[1], v.in[2]
	dz := v.grad
	var db *tensor.Dense[T]
	if b.needsGrad {
		db = t.grad(b, e)
	} else {
		db = t.buffer(b.Shape()) // scratch: the mask still has to be applied
		db.Zero()
	}
	j := &t.ew
	j.backward, j.relu, j.x, j.b, j.y, j.n = true, v.op == opLinearReLU, dz.Data(), db.Data(), v.data.Data(), w.Shape().Cols
	j.run()
	if w.needsGrad {
		dw, fresh := t.gradForWrite(w, e)
		tensor.Gemm(true, false, 1, x.data, dz, beta[T](fresh), dw)
	}
	if x.needsGrad {
		dx, fresh := t.gradForWrite(x, e)
		tensor.Gemm(false, true, 1, dz, w.data, beta[T](fresh), dx)
	}
}

// minParallel is the number of elements below which an elementwise pass
// runs on one core: a smaller pass costs less than waking a worker.
const minParallel = 1 << 15

// ewJob is the elementwise pass of Linear and LinearReLU, split across
// cores when large. Forward parts split the rows; backward parts split the
// columns, so that each bias-gradient element is summed over the rows by
// one part in one order: results do not depend on the number of cores.
type ewJob[T tensor.Float] struct {
	backward, relu bool
	x              []T // forward: x·W, updated in place; backward: dY, masked in place
	b              []T // forward: the bias row; backward: its gradient
	y              []T // backward: the forward output
	n              int // columns
	g              parallel.Group
}

func (j *ewJob[T]) run() {
	j.g.Run(j, parallel.Parts(len(j.x), minParallel))
	j.x, j.b, j.y = nil, nil, nil
}

// Part does rows (forward) or columns (backward) i of parts.
func (j *ewJob[T]) Part(i, parts int) {
	n := j.n
	if !j.backward {
		lo, hi := parallel.Range(i, parts, len(j.x)/n, 1)
		x := j.x[lo*n : hi*n]
		if x32, ok := any(x).([]float32); ok {
			b32 := any(j.b).([]float32)
			if j.relu {
				vec.BiasReLU(x32, b32)
			} else {
				vec.BiasAdd(x32, b32)
			}
			return
		}
		for r := 0; r < len(x); r += n {
			for c, bv := range j.b {
				s := x[r+c] + bv
				if j.relu && s < 0 {
					s = 0
				}
				x[r+c] = s
			}
		}
		return
	}
	c0, c1 := parallel.Range(i, parts, n, 16)
	db := j.b[c0:c1]
	for r := 0; r < len(j.x); r += n {
		dz, y := j.x[r+c0:r+c1], j.y[r+c0:r+c1]
		if dz32, ok := any(dz).([]float32); ok {
			if j.relu {
				vec.ReLUBackward(dz32, dz32, any(y).([]float32), any(db).([]float32))
			} else {
				vec.AddTo(any(db).([]float32), dz32)
			}
			continue
		}
		for c := range dz {
			if j.relu && !(y[c] > 0) {
				dz[c] = 0
			}
			db[c] += dz[c]
		}
	}
}
