package autograd

import (
	"fmt"
	"math"

	"github.com/flowgrad/flowgrad/tensor"
)

// opKind names a primitive operation.
type opKind uint8

// The primitive operations. Each has a forward function (the exported
// operation) and, beside it, its backward rule; backward dispatches on this
// list, so it is the one answer to "what is supported?".
const (
	// The leaves (no operands, no derivative rule) come first: see leaf.
	opParameter opKind = iota // a parameter (NewParam): the zero value
	opInput                   // Tape.Input: data that needs no gradient
	opVar                     // Tape.Var, Tape.Scalar: data differentiated with respect to
	opConst                   // Tape.Const, Dropout's mask: a constant
	opParam                   // a parameter recorded on a tape
	opMatMul
	opAdd
	opMul
	opNeg
	opSquare
	opPow
	opSin
	opCos
	opExp
	opLog
	opTanh
	opSigmoid
	opReLU
	opSum
	opMean
	opSoftmaxCrossEntropy
	opLinear     // fused x·W + b
	opLinearReLU // fused max(x·W + b, 0)
	numOps
)

var opNames = [numOps]string{
	opParameter: "Parameter", opInput: "Input", opVar: "Var", opConst: "Const", opParam: "Param", opMatMul: "MatMul", opAdd: "Add", opMul: "Mul", opNeg: "Neg",
	opSquare: "Square", opPow: "Pow", opSin: "Sin", opCos: "Cos", opExp: "Exp",
	opLog: "Log", opTanh: "Tanh", opSigmoid: "Sigmoid", opReLU: "ReLU", opSum: "Sum",
	opMean: "Mean", opSoftmaxCrossEntropy: "SoftmaxCrossEntropy",
	opLinear: "Linear", opLinearReLU: "LinearReLU",
}

func (k opKind) String() string {
	if k < numOps {
		return opNames[k]
	}
	return fmt.Sprintf("op(%d)", uint8(k))
}

// leaf reports whether k is a leaf: a value no operation computed.
func (k opKind) leaf() bool { return k <= opConst }

// backward applies v's local derivative rule: it adds v's gradient, times
// the derivative of v with respect to each input, into the gradients of
// the inputs that need one.
func backward[T tensor.Float](t *Tape[T], v *Value[T], e uint64) {
	switch v.op {
	case opParam:
		t.accumulate(v.in[0], v.grad.Data(), v.Shape().Cols, e)
	case opMatMul:
		matMulBackward(t, v, e)
	case opAdd:
		addBackward(t, v, e)
	case opMul:
		mulBackward(t, v, e)
	case opNeg, opSquare, opPow, opSin, opCos, opExp, opLog, opTanh, opSigmoid, opReLU:
		unaryBackward(t, v, e)
	case opSum, opMean:
		reduceBackward(t, v, e)
	case opSoftmaxCrossEntropy:
		softmaxCrossEntropyBackward(t, v, e)
	case opLinear, opLinearReLU:
		affineBackward(t, v, e)
	default:
		panic(fmt.Sprintf("autograd: Backward: no derivative rule for %v", v.op))
	}
}

// MatMul returns X·W for X of shape B×K (a minibatch of B rows) and W of
// shape K×N: one matrix×matrix product for the whole batch. It panics if
// X's columns differ from W's rows.
func MatMul[T tensor.Float](x, w *Value[T]) *Value[T] {
	t := tapeOf("MatMul", x, w)
	if x.Shape().Cols != w.Shape().Rows {
		panic(fmt.Sprintf("autograd: MatMul: shapes %v and %v do not fit (columns of the first must equal rows of the second)", x.Shape(), w.Shape()))
	}
	v := t.node(opMatMul, x.Shape().Rows, w.Shape().Cols, x, w)
	tensor.Gemm(false, false, 1, x.data, w.data, 0, v.data)
	return v
}

// matMulBackward: dX += dY·Wᵀ and dW += Xᵀ·dY, two more GEMMs with
// transpose flags; dX is skipped when X needs no gradient (a first layer's
// input).
func matMulBackward[T tensor.Float](t *Tape[T], v *Value[T], e uint64) {
	x, w, dy := v.in[0], v.in[1], v.grad
	if x.needsGrad {
		dx, fresh := t.gradForWrite(x, e)
		tensor.Gemm(false, true, 1, dy, w.data, beta[T](fresh), dx)
	}
	if w.needsGrad {
		dw, fresh := t.gradForWrite(w, e)
		tensor.Gemm(true, false, 1, x.data, dy, beta[T](fresh), dw)
	}
}

// beta is the GEMM beta that overwrites a fresh gradient and adds to a
// current one.
func beta[T tensor.Float](fresh bool) T {
	if fresh {
		return 0
	}
	return 1
}

// Add returns a + b elementwise. b has a's shape, or is a 1×n row (a bias)
// added to every row of the m×n a.
func Add[T tensor.Float](a, b *Value[T]) *Value[T] {
	t := tapeOf("Add", a, b)
	checkBroadcast("Add", a, b)
	v := t.node(opAdd, a.Shape().Rows, a.Shape().Cols, a, b)
	out, x, y := v.data.Data(), a.data.Data(), b.data.Data()
	n := a.Shape().Cols
	for r := 0; r < len(out); r += n {
		yr := y // a broadcast row
		if len(y) == len(x) {
			yr = y[r : r+n]
		}
		for j, xv := range x[r : r+n] {
			out[r+j] = xv + yr[j]
		}
	}
	return v
}

// addBackward: dA += dY; dB += dY (summed over rows for a bias row).
func addBackward[T tensor.Float](t *Tape[T], v *Value[T], e uint64) {
	dy := v.grad.Data()
	for _, in := range v.in {
		if in != nil && in.needsGrad {
			t.accumulate(in, dy, v.Shape().Cols, e)
		}
	}
}

// Mul returns a ⊙ b elementwise, with b's shape as for Add.
func Mul[T tensor.Float](a, b *Value[T]) *Value[T] {
	t := tapeOf("Mul", a, b)
	checkBroadcast("Mul", a, b)
	v := t.node(opMul, a.Shape().Rows, a.Shape().Cols, a, b)
	out, x, y := v.data.Data(), a.data.Data(), b.data.Data()
	if len(y) == len(out) { // equal shapes (a dropout mask): one tight loop
		x, y = x[:len(out)], y[:len(out)]
		for i := range out {
			out[i] = x[i] * y[i]
		}
		return v
	}
	n := a.Shape().Cols
	for i := range out {
		out[i] = x[i] * y[bcastIndex(i, n, len(y))]
	}
	return v
}

// mulAcc adds x ⊙ y into dst (all of one length).
func mulAcc[T tensor.Float](dst, x, y []T) {
	x, y = x[:len(dst)], y[:len(dst)]
	for i := range dst {
		dst[i] += x[i] * y[i]
	}
}

// mulBackward: dA += dY ⊙ b; dB += dY ⊙ a (summed over rows for a row).
func mulBackward[T tensor.Float](t *Tape[T], v *Value[T], e uint64) {
	a, b, dy := v.in[0], v.in[1], v.grad.Data()
	x, y, n := a.data.Data(), b.data.Data(), v.Shape().Cols
	same := len(y) == len(dy)
	if a.needsGrad {
		if same {
			mulAcc(t.grad(a, e).Data(), dy, y)
		} else {
			t.accumulateFunc(a, len(dy), n, e, func(i int) T { return dy[i] * y[bcastIndex(i, n, len(y))] })
		}
	}
	if b.needsGrad {
		if same {
			mulAcc(t.grad(b, e).Data(), dy, x)
		} else {
			t.accumulateFunc(b, len(dy), n, e, func(i int) T { return dy[i] * x[i] })
		}
	}
}

// Neg returns −a.
func Neg[T tensor.Float](a *Value[T]) *Value[T] { return unary(opNeg, a, 0) }

// Square returns a² elementwise.
func Square[T tensor.Float](a *Value[T]) *Value[T] { return unary(opSquare, a, 0) }

// Pow returns aᵖ elementwise for a constant p.
func Pow[T tensor.Float](a *Value[T], p float64) *Value[T] { return unary(opPow, a, p) }

// Sin returns sin(a) elementwise.
func Sin[T tensor.Float](a *Value[T]) *Value[T] { return unary(opSin, a, 0) }

// Cos returns cos(a) elementwise.
func Cos[T tensor.Float](a *Value[T]) *Value[T] { return unary(opCos, a, 0) }

// Exp returns eᵃ elementwise.
func Exp[T tensor.Float](a *Value[T]) *Value[T] { return unary(opExp, a, 0) }

// Log returns ln(a) elementwise.
func Log[T tensor.Float](a *Value[T]) *Value[T] { return unary(opLog, a, 0) }

// Tanh returns tanh(a) elementwise.
func Tanh[T tensor.Float](a *Value[T]) *Value[T] { return unary(opTanh, a, 0) }

// Sigmoid returns 1/(1+e⁻ᵃ) elementwise.
func Sigmoid[T tensor.Float](a *Value[T]) *Value[T] { return unary(opSigmoid, a, 0) }

// ReLU returns max(a, 0) elementwise.
func ReLU[T tensor.Float](a *Value[T]) *Value[T] { return unary(opReLU, a, 0) }

// unary records an elementwise operation y = f(x); f and its derivative
// f′ (expressed through x, y and the constant k) stand side by side in
// unaryForward and unaryDerivative.
func unary[T tensor.Float](op opKind, a *Value[T], k float64) *Value[T] {
	t := tapeOf(op.String(), a, nil)
	v := t.node(op, a.Shape().Rows, a.Shape().Cols, a, nil)
	v.k = k
	out, x := v.data.Data(), a.data.Data()
	if op == opReLU {
		for i, xv := range x {
			out[i] = max(xv, 0)
		}
		return v
	}
	for i, xv := range x {
		out[i] = T(unaryForward(op, float64(xv), k))
	}
	return v
}

// unaryForward is f(x) for each elementwise operation.
func unaryForward(op opKind, x, k float64) float64 {
	switch op {
	case opNeg:
		return -x
	case opSquare:
		return x * x
	case opPow:
		return math.Pow(x, k)
	case opSin:
		return math.Sin(x)
	case opCos:
		return math.Cos(x)
	case opExp:
		return math.Exp(x)
	case opLog:
		return math.Log(x)
	case opTanh:
		return math.Tanh(x)
	case opSigmoid:
		return 1 / (1 + math.Exp(-x))
	}
	panic(fmt.Sprintf("autograd: no forward rule for %v", op))
}

// unaryDerivative is f′(x), given x, y = f(x) and the constant k.
func unaryDerivative(op opKind, x, y, k float64) float64 {
	switch op {
	case opNeg:
		return -1
	case opSquare:
		return 2 * x
	case opPow:
		return k * math.Pow(x, k-1)
	case opSin:
		return math.Cos(x)
	case opCos:
		return -math.Sin(x)
	case opExp:
		return y
	case opLog:
		return 1 / x
	case opTanh:
		return 1 - y*y
	case opSigmoid:
		return y * (1 - y)
	}
	panic(fmt.Sprintf("autograd: Backward: no derivative rule for %v", op))
}

// unaryBackward: dA += dY ⊙ f′(a).
func unaryBackward[T tensor.Float](t *Tape[T], v *Value[T], e uint64) {
	a := v.in[0]
	if !a.needsGrad {
		return
	}
	dy, x, y := v.grad.Data(), a.data.Data(), v.data.Data()
	g := t.grad(a, e).Data()
	if v.op == opReLU {
		for i, yv := range y {
			if yv > 0 {
				g[i] += dy[i]
			}
		}
		return
	}
	for i := range g {
		g[i] += dy[i] * T(unaryDerivative(v.op, float64(x[i]), float64(y[i]), v.k))
	}
}

// Sum returns the 1×1 sum of all elements of a.
func Sum[T tensor.Float](a *Value[T]) *Value[T] { return reduce(opSum, a) }

// Mean returns the 1×1 mean of all elements of a.
func Mean[T tensor.Float](a *Value[T]) *Value[T] { return reduce(opMean, a) }

func reduce[T tensor.Float](op opKind, a *Value[T]) *Value[T] {
	t := tapeOf(op.String(), a, nil)
	v := t.node(op, 1, 1, a, nil)
	var s float64
	for _, x := range a.data.Data() {
		s += float64(x)
	}
	if op == opMean {
		s /= float64(a.data.Len())
	}
	v.data.Data()[0] = T(s)
	return v
}

// reduceBackward: dA += dY (Sum) or dY/n (Mean) in every element.
func reduceBackward[T tensor.Float](t *Tape[T], v *Value[T], e uint64) {
	a := v.in[0]
	if !a.needsGrad {
		return
	}
	d := v.grad.Data()[0]
	if v.op == opMean {
		d /= T(a.data.Len())
	}
	g := t.grad(a, e).Data()
	for i := range g {
		g[i] += d
	}
}

// SoftmaxCrossEntropy returns the 1×1 mean over the B rows of logits (B×C)
// of −log softmax(row)[label], computed stably with log-sum-exp. labels has
// one class index in [0, C) per row. It panics if len(labels) != B or a
// label is out of range.
func SoftmaxCrossEntropy[T tensor.Float](logits *Value[T], labels []int) *Value[T] {
	return softmaxCrossEntropy("SoftmaxCrossEntropy", logits, labels, nil)
}

// WeightedSoftmaxCrossEntropy is SoftmaxCrossEntropy with a weight per
// class: the 1×1 weighted mean Σ w[label]·(−log softmax(row)[label]) /
// Σ w[label] over the rows (PyTorch's CrossEntropyLoss(weight=w)), so that
// a class of weight 2 counts as if each of its rows were there twice.
// weights has one positive, finite weight per class (C of them) and is
// not copied: it must not change while the value is on the tape. It
// panics as SoftmaxCrossEntropy does, and for a bad weights slice.
func WeightedSoftmaxCrossEntropy[T tensor.Float](logits *Value[T], labels []int, weights []float64) *Value[T] {
	if len(weights) != logits.Shape().Cols {
		panic(fmt.Sprintf("autograd: WeightedSoftmaxCrossEntropy: %d weights for %d classes", len(weights), logits.Shape().Cols))
	}
	for c, w := range weights {
		if !(w > 0) || math.IsInf(w, 1) {
			panic(fmt.Sprintf("autograd: WeightedSoftmaxCrossEntropy: weight %v of class %d (want finite, > 0)", w, c))
		}
	}
	return softmaxCrossEntropy("WeightedSoftmaxCrossEntropy", logits, labels, weights)
}

// softmaxCrossEntropy is SoftmaxCrossEntropy, weighted per class unless
// weights is nil.
func softmaxCrossEntropy[T tensor.Float](who string, logits *Value[T], labels []int, weights []float64) *Value[T] {
	t := tapeOf(who, logits, nil)
	rows, classes := logits.Shape().Rows, logits.Shape().Cols
	if len(labels) != rows {
		panic(fmt.Sprintf("autograd: %s: %d labels for logits %v", who, len(labels), logits.Shape()))
	}
	v := t.node(opSoftmaxCrossEntropy, 1, 1, logits, nil)
	v.labels, v.weights = labels, weights
	v.aux = t.buffer(logits.Shape())
	var loss, sum float64
	for r, y := range labels {
		if y < 0 || y >= classes {
			panic(fmt.Sprintf("autograd: %s: label %d of row %d outside [0, %d)", who, y, r, classes))
		}
		z, p := logits.data.Row(r), v.aux.Row(r)
		w := 1.0
		if weights != nil {
			w = weights[y]
		}
		loss += w * (SoftmaxRow(p, z) - float64(z[y]))
		sum += w
	}
	v.weightSum = sum
	v.data.Data()[0] = T(loss / sum)
	return v
}

// SoftmaxRow writes softmax(z) into p (of z's length) and returns
// log Σ exp(z), computed as m + log Σ exp(z − m) with m = max z so that
// nothing overflows: the softmax of SoftmaxCrossEntropy, also used for
// class probabilities at prediction.
func SoftmaxRow[T tensor.Float](p, z []T) float64 {
	m := z[0]
	for _, zv := range z {
		m = max(m, zv)
	}
	var s float64
	for j, zv := range z {
		ez := math.Exp(float64(zv - m))
		p[j] = T(ez)
		s += ez
	}
	inv := T(1 / s)
	for j := range p {
		p[j] *= inv
	}
	return float64(m) + math.Log(s)
}

// softmaxCrossEntropyBackward: dZ += dL·w(label)·(p − onehot(label)) /
// Σ w(label), the softmax and the cross-entropy differentiated together
// (w = 1 and Σ w = B unweighted).
func softmaxCrossEntropyBackward[T tensor.Float](t *Tape[T], v *Value[T], e uint64) {
	z := v.in[0]
	if !z.needsGrad {
		return
	}
	g := t.grad(z, e)
	scale := v.grad.Data()[0] / T(len(v.labels))
	for r, y := range v.labels {
		if v.weights != nil {
			scale = T(float64(v.grad.Data()[0]) * v.weights[y] / v.weightSum)
		}
		gr, p := g.Row(r), v.aux.Row(r)
		for j, pv := range p {
			gr[j] += scale * pv
		}
		gr[y] -= scale
	}
}

// Sub returns a − b (composition: a + (−b)); shapes as for Add.
func Sub[T tensor.Float](a, b *Value[T]) *Value[T] { return Add(a, Neg(b)) }

// Div returns a / b elementwise (composition: a ⊙ b⁻¹); shapes as for Add.
func Div[T tensor.Float](a, b *Value[T]) *Value[T] { return Mul(a, Pow(b, -1)) }

// MSE returns the 1×1 mean of (pred − target)² over all elements
// (composition: Mean(Square(Sub(pred, target)))). It panics unless the
// shapes are equal.
func MSE[T tensor.Float](pred, target *Value[T]) *Value[T] {
	if pred.Shape() != target.Shape() {
		panic(fmt.Sprintf("autograd: MSE: prediction %v and target %v differ in shape", pred.Shape(), target.Shape()))
	}
	return Mean(Square(Sub(pred, target)))
}
