package optim

import (
	"errors"
	"fmt"

	"github.com/flowgrad/flowgrad/tensor"
)

// ErrNoStabilityBound is wrapped by StabilityBound's error for the adaptive
// optimisers.
var ErrNoStabilityBound = errors.New("no stability bound")

// StabilityBound returns the largest stable constant rate of opt on a
// quadratic whose Hessian has largest eigenvalue lambdaMax: for an SGD,
// MaxStableRate(form, momentum, lambdaMax).
//
// For Adam, AdamW, RMSProp and Adagrad it returns an error wrapping
// ErrNoStabilityBound, and the curvature tools (-lr auto) refuse them, for
// this reason. The bound 2(1+μ)/λmax comes from a linear recurrence with
// one constant step ε along each eigenvector of H. The adaptive methods
// divide coordinate i's step by √v̂_i + ε (Adagrad: √Σg² + ε), a
// per-coordinate rate γ/(√v̂_i + ε) built from the gradients seen so far;
// the recurrence is then θ ← θ − γ·P·Hθ with P = diag(1/(√v̂+ε)), whose
// stability depends on the largest eigenvalue of P^½·H·P^½ — a
// "preconditioned sharpness" that changes as v̂ does, is undefined before
// training (v̂ = 0 at the first step, where the bias-corrected Adam step is
// ±γ per coordinate whatever H is), and says nothing about γ by itself.
// A bound could be measured during training for a frozen v̂, but it would
// hold only while v̂ stays put, so it is no rate to start with. Choose
// the rate directly (the commands' defaults: 0.001 for Adam, AdamW and
// RMSProp, 0.01 for Adagrad; PyTorch's RMSProp default 0.01 diverged on
// MNIST).
func StabilityBound[T tensor.Float](opt Optimizer[T], lambdaMax float64) (float64, error) {
	if s, ok := opt.(*SGD[T]); ok {
		return MaxStableRate(s.form, s.momentum, lambdaMax), nil
	}
	return 0, fmt.Errorf("optim: %w for %s: the bound 2(1+μ)/λmax is for SGD's constant step; its per-coordinate rate γ/(√v̂+ε) follows the gradients seen, so no rate is stable in advance (choose the rate directly)", ErrNoStabilityBound, kindName(opt))
}

func kindName[T tensor.Float](opt Optimizer[T]) string {
	if n, ok := opt.(interface{ typeName() string }); ok {
		return n.typeName()
	}
	return fmt.Sprintf("%T", opt)
}
