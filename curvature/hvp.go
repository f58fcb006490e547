package curvature

import (
	"fmt"
	"math"

	"github.com/flowgrad/flowgrad/autograd"
	"github.com/flowgrad/flowgrad/tensor"
)

// Loss builds a scalar loss of the parameters on the tape it is given, as
// for autograd.GradCheck: it is called many times and must compute the same
// function of the parameters each time (the same minibatches, no dropout).
type Loss[T tensor.Float] func(t *autograd.Tape[T]) *autograd.Value[T]

// Options sets the finite-difference step of a Hessian. A nil *Options
// means the defaults.
type Options struct {
	// Step is the length of the perturbation relative to the parameters:
	// H·v is computed from gradients at θ ± εv with
	// ε‖v‖ = Step·max(1, ‖θ‖). The default is 1e-3 for float32 (round-off
	// in float32 gradients, ~1e-7 relative, would swamp a smaller step) and
	// 1e-5 for float64.
	Step float64
}

// Hessian is the Hessian H = ∇²L(θ) of a scalar loss L of a model's
// parameters θ, seen as a linear operator on vectors of the parameters'
// length (all parameters' elements, in the order given, each row-major).
// It is never formed: MulVec gives H·v from two gradients,
//
//	H·v ≈ (∇L(θ + εv) − ∇L(θ − εv)) / 2ε,
//
// the tutorial's definition of the gradient as a limit applied once more,
// to the gradient itself. The error is O(ε²) for a smooth loss (exact, up
// to round-off, for a quadratic). Piecewise-linear activations (ReLU) make
// the loss's second derivative a sum of jumps, which a step of size ε
// averages over.
//
// Every product costs two forward and backward passes; the differences are
// taken in float64 whatever T is. θ is read afresh at each product, so a
// Hessian can be reused as training moves the parameters.
//
// A Hessian is not safe for concurrent use, nor for use while anything
// else reads or writes the parameters: MulVec perturbs them in place (and
// restores them bit for bit) and overwrites their Grad.
type Hessian[T tensor.Float] struct {
	loss   Loss[T]
	params []*autograd.Value[T]
	step   float64
	n      int
	tape   *autograd.Tape[T]
	theta  []T       // the saved parameters, flattened
	gplus  []float64 // ∇L(θ + εv)
	evals  int
}

// New returns the Hessian of loss with respect to params. Every parameter
// must influence the loss (Backward leaves a stale gradient in one it does
// not reach). It panics if params is empty, a parameter is nil or not a
// parameter, or opt.Step is not a finite number > 0.
func New[T tensor.Float](loss Loss[T], params []*autograd.Value[T], opt *Options) *Hessian[T] {
	if len(params) == 0 {
		panic("curvature: New: no parameters")
	}
	step := 1e-5
	if _, is32 := any(T(0)).(float32); is32 {
		step = 1e-3
	}
	if opt != nil && opt.Step != 0 {
		step = opt.Step
	}
	if !(step > 0) || math.IsInf(step, 1) {
		panic(fmt.Sprintf("curvature: New: step %v is not a finite number > 0", step))
	}
	n := 0
	for i, p := range params {
		if p == nil || !p.IsParam() {
			panic(fmt.Sprintf("curvature: New: params[%d] is not a parameter", i))
		}
		n += p.Data().Len()
	}
	return &Hessian[T]{
		loss:   loss,
		params: append([]*autograd.Value[T](nil), params...),
		step:   step,
		n:      n,
		tape:   evalTape[T](),
		theta:  make([]T, n),
		gplus:  make([]float64, n),
	}
}

// Dim returns n, the number of parameter elements: H is n×n.
func (h *Hessian[T]) Dim() int { return h.n }

// Evals returns the number of gradient evaluations (forward and backward
// passes) made so far: two per MulVec, one per Gradient.
func (h *Hessian[T]) Evals() int { return h.evals }

// Gradient writes ∇L(θ) into dst (flattened like a vector of H) and
// returns L(θ). It panics if len(dst) != Dim.
func (h *Hessian[T]) Gradient(dst []float64) float64 {
	h.checkLen("Gradient", "dst", dst)
	return h.grad(dst)
}

// grad evaluates the loss and its gradient at the current parameters,
// writing the gradient, in float64, to dst.
func (h *Hessian[T]) grad(dst []float64) float64 {
	h.evals++
	h.tape.Reset()
	l := h.loss(h.tape)
	h.tape.Backward(l)
	off := 0
	for _, p := range h.params {
		for i, g := range p.Grad().Data() {
			dst[off+i] = float64(g)
		}
		off += p.Data().Len()
	}
	return float64(l.Scalar())
}

// MulVec sets dst = H·v by central differences of two gradients and
// restores the parameters exactly. dst and v must not overlap. It panics if
// len(dst) or len(v) != Dim.
func (h *Hessian[T]) MulVec(dst, v []float64) {
	h.checkLen("MulVec", "dst", dst)
	h.checkLen("MulVec", "v", v)
	var vv, tt float64
	off := 0
	for _, p := range h.params {
		copy(h.theta[off:], p.Data().Data())
		off += p.Data().Len()
	}
	for i, x := range h.theta {
		tt += float64(x) * float64(x)
		vv += v[i] * v[i]
	}
	if vv == 0 {
		clear(dst)
		return
	}
	eps := h.step * math.Max(1, math.Sqrt(tt)) / math.Sqrt(vv)

	h.perturb(v, eps)
	h.grad(h.gplus)
	h.perturb(v, -eps)
	h.grad(dst)
	h.restore()
	for i, gm := range dst {
		dst[i] = (h.gplus[i] - gm) / (2 * eps)
	}
}

// perturb sets θ = θ₀ + eps·v from the saved θ₀.
func (h *Hessian[T]) perturb(v []float64, eps float64) {
	off := 0
	for _, p := range h.params {
		d := p.Data().Data()
		for i := range d {
			d[i] = T(float64(h.theta[off+i]) + eps*v[off+i])
		}
		off += len(d)
	}
}

// restore copies the saved θ₀ back into the parameters.
func (h *Hessian[T]) restore() {
	off := 0
	for _, p := range h.params {
		d := p.Data().Data()
		copy(d, h.theta[off:off+len(d)])
		off += len(d)
	}
}

func (h *Hessian[T]) checkLen(op, name string, x []float64) {
	if len(x) != h.n {
		panic(fmt.Sprintf("curvature: %s: len(%s) = %d, want Dim = %d", op, name, len(x), h.n))
	}
}

// HVP returns H·v for the Hessian of loss with respect to params, with the
// default step: a one-off New(loss, params, nil).MulVec.
func HVP[T tensor.Float](loss Loss[T], params []*autograd.Value[T], v []float64) []float64 {
	h := New(loss, params, nil)
	dst := make([]float64, h.Dim())
	h.MulVec(dst, v)
	return dst
}

// evalTape returns a tape in evaluation mode: the curvature is that of the
// deterministic network (dropout off), so the loss is the same function at
// every point of a finite difference.
func evalTape[T tensor.Float]() *autograd.Tape[T] {
	t := autograd.NewTape[T]()
	t.SetTraining(false)
	return t
}
