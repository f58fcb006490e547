package autograd

import (
	"fmt"
	"math"

	"github.com/flowgrad/flowgrad/tensor"
)

// CheckOptions sets the finite-difference step and the tolerances of
// GradCheck. A nil *CheckOptions means the defaults: Step 1e-6, Abs 1e-6,
// Rel 1e-5.
type CheckOptions struct {
	Step float64 // h in (L(θ+h) − L(θ−h)) / 2h
	Abs  float64 // an element passes if |analytic − numeric| ≤ Abs + Rel·max(|analytic|, |numeric|)
	Rel  float64
}

// CheckResult is the worst disagreement found for one parameter.
type CheckResult struct {
	Name           string // the parameter's name, or "param #i"
	MaxAbs, MaxRel float64
	Row, Col       int // where MaxAbs occurred
}

// GradCheck compares the gradient Backward computes with the gradient as a
// limit, estimated by central differences in float64:
//
//	∂L/∂θᵢ ≈ (L(θ + h·eᵢ) − L(θ − h·eᵢ)) / 2h
//
// for every element of every parameter in params. loss builds the scalar
// loss on the tape it is given, from the parameters (it is called 2n + 1
// times for n elements, and must compute the same function each time).
// GradCheck restores every parameter it perturbs.
//
// It returns the worst absolute and relative error per parameter, and an
// error naming the first parameter and position that exceeds the
// tolerance.
func GradCheck(loss func(t *Tape[float64]) *Value[float64], params []*Value[float64], opt *CheckOptions) ([]CheckResult, error) {
	o := CheckOptions{Step: 1e-6, Abs: 1e-6, Rel: 1e-5}
	if opt != nil {
		o = *opt
	}
	t := NewTape[float64]()
	eval := func() float64 {
		t.Reset()
		return loss(t).Scalar()
	}
	t.Backward(loss(t))
	analytic := make([]*tensor.Dense[float64], len(params))
	for i, p := range params {
		analytic[i] = p.Grad().Clone()
	}

	results := make([]CheckResult, len(params))
	var firstErr error
	for i, p := range params {
		res := CheckResult{Name: p.Name()}
		if res.Name == "" {
			res.Name = fmt.Sprintf("param #%d", i)
		}
		d := p.Data()
		for k, x := range d.Data() {
			d.Data()[k] = x + o.Step
			up := eval()
			d.Data()[k] = x - o.Step
			down := eval()
			d.Data()[k] = x
			numeric := (up - down) / (2 * o.Step)
			a := analytic[i].Data()[k]
			absErr := math.Abs(a - numeric)
			scale := math.Max(math.Abs(a), math.Abs(numeric))
			relErr := 0.0
			if scale > 0 {
				relErr = absErr / scale
			}
			r, c := k/d.Cols(), k%d.Cols()
			if absErr > res.MaxAbs || math.IsNaN(absErr) {
				res.MaxAbs, res.Row, res.Col = absErr, r, c
			}
			res.MaxRel = math.Max(res.MaxRel, relErr)
			if firstErr == nil && !(absErr <= o.Abs+o.Rel*scale) {
				firstErr = fmt.Errorf("autograd: gradient check: %s at (%d, %d): backprop %.10g, central difference %.10g (abs error %.3g, rel error %.3g)",
					res.Name, r, c, a, numeric, absErr, relErr)
			}
		}
		results[i] = res
	}
	return results, firstErr
}
