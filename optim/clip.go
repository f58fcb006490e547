package optim

import (
	"fmt"
	"math"

	"github.com/flowgrad/flowgrad/autograd"
	"github.com/flowgrad/flowgrad/tensor"
)

// ClipGlobalNorm scales the gradients of params so that their global norm
//
//	‖g‖ = √(Σ over every parameter and element of g²)
//
// is at most maxNorm: if ‖g‖ > maxNorm each Grad is multiplied by
// maxNorm/‖g‖, otherwise nothing changes. It returns ‖g‖ before clipping
// (summed in float64). If ‖g‖ is NaN or infinite the gradients are left
// as they are (the loss check of the training loop reports a diverged
// step). It allocates nothing. It panics if maxNorm is not finite and > 0
// or a parameter has no gradient.
//
// PyTorch's clip_grad_norm_ multiplies by maxNorm/(‖g‖ + 10⁻⁶); this one
// by maxNorm/‖g‖, so the clipped norm is maxNorm up to rounding.
func ClipGlobalNorm[T tensor.Float](params []*autograd.Value[T], maxNorm float64) float64 {
	if !(maxNorm > 0) || math.IsInf(maxNorm, 1) {
		panic(fmt.Sprintf("optim: ClipGlobalNorm: max norm %v must be finite and > 0", maxNorm))
	}
	var sum float64
	for _, p := range params {
		for _, g := range grad(p, "ClipGlobalNorm") {
			sum += float64(g) * float64(g)
		}
	}
	norm := math.Sqrt(sum)
	if !(norm > maxNorm) || math.IsInf(norm, 1) {
		return norm
	}
	scale := T(maxNorm / norm)
	for _, p := range params {
		gs := p.Grad().Data()
		for i := range gs {
			gs[i] *= scale
		}
	}
	return norm
}

// ClipValue clamps every gradient element of params to [−limit, limit]
// (NaN stays NaN). It panics if limit is not finite and > 0 or a parameter
// has no gradient.
func ClipValue[T tensor.Float](params []*autograd.Value[T], limit float64) {
	if !(limit > 0) || math.IsInf(limit, 1) {
		panic(fmt.Sprintf("optim: ClipValue: limit %v must be finite and > 0", limit))
	}
	hi := T(limit)
	for _, p := range params {
		gs := grad(p, "ClipValue")
		for i, g := range gs {
			gs[i] = min(max(g, -hi), hi)
		}
	}
}

func grad[T tensor.Float](p *autograd.Value[T], op string) []T {
	if p.Grad() == nil {
		panic(fmt.Sprintf("optim: %s: parameter %q has no gradient", op, p.Name()))
	}
	return p.Grad().Data()
}
