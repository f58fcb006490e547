package curvature_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/flowgrad/flowgrad/autograd"
	"github.com/flowgrad/flowgrad/curvature"
	"github.com/flowgrad/flowgrad/optim"
	"github.com/flowgrad/flowgrad/tensor"
)

// λmax of L(θ) = ½(θ₁² + 10θ₂²) by power iteration on Hessian-vector
// products, and the largest stable rate of plain SGD and heavy ball.
func ExampleLambdaMax() {
	theta := autograd.NewParam("theta", tensor.FromSlice(1, 2, []float64{1, 1}))
	halfDiag := tensor.FromSlice(1, 2, []float64{0.5, 5})
	loss := func(t *autograd.Tape[float64]) *autograd.Value[float64] {
		th := t.Param(theta)
		return autograd.Sum(autograd.Mul(autograd.Mul(th, th), t.Input(halfDiag)))
	}
	h := curvature.New(loss, []*autograd.Value[float64]{theta}, nil)
	e, err := curvature.LambdaMax(h, rand.New(rand.NewPCG(1, 2)), &curvature.PowerOptions{Tol: 1e-9})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("λmax ≈ %.6f\n", e.Value)
	fmt.Printf("plain SGD: rate < %.4f\n", optim.MaxStableRate(optim.None, 0, e.Value))
	fmt.Printf("heavy ball 0.9: rate < %.4f\n", optim.MaxStableRate(optim.HeavyBall, 0.9, e.Value))
	// Output:
	// λmax ≈ 10.000000
	// plain SGD: rate < 0.2000
	// heavy ball 0.9: rate < 0.3800
}

// A Hessian-vector product of the same quadratic: H·(1, 1) = (1, 10).
func ExampleHessian_MulVec() {
	theta := autograd.NewParam("theta", tensor.FromSlice(1, 2, []float64{0.3, -2}))
	halfDiag := tensor.FromSlice(1, 2, []float64{0.5, 5})
	h := curvature.New(func(t *autograd.Tape[float64]) *autograd.Value[float64] {
		th := t.Param(theta)
		return autograd.Sum(autograd.Mul(autograd.Mul(th, th), t.Input(halfDiag)))
	}, []*autograd.Value[float64]{theta}, nil)
	hv := make([]float64, 2)
	h.MulVec(hv, []float64{1, 1})
	fmt.Printf("H·v = (%.6f, %.6f), %d gradients\n", hv[0], hv[1], h.Evals())
	// Output:
	// H·v = (1.000000, 10.000000), 2 gradients
}
