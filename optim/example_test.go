package optim_test

import (
	"fmt"

	"github.com/flowgrad/flowgrad/autograd"
	"github.com/flowgrad/flowgrad/optim"
	"github.com/flowgrad/flowgrad/tensor"
)

// Heavy-ball momentum minimises L(θ) = ½(θ₁² + 10θ₂²), a quadratic whose
// Hessian diag(1, 10) has λmax = 10, from θ = (1, 1). The gradient comes
// from a tape; the rate 0.1 is well below the stability bound.
func Example() {
	theta := autograd.NewParam("theta", tensor.FromSlice(1, 2, []float64{1, 1}))
	halfDiagH := tensor.FromSlice(1, 2, []float64{0.5, 5})

	opt, err := optim.NewSGD([]*autograd.Value[float64]{theta},
		optim.Must(optim.Constant(0.1)), optim.WithMomentum(optim.HeavyBall, 0.5))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(opt)
	fmt.Printf("bound: rate < %.2f\n", optim.MaxStableRate(optim.HeavyBall, 0.5, 10))

	tape := autograd.NewTape[float64]()
	for k := 0; k <= 30; k++ {
		tape.Reset()
		th := tape.Param(theta)
		loss := autograd.Sum(autograd.Mul(autograd.Mul(th, th), tape.Input(halfDiagH)))
		if k%10 == 0 {
			fmt.Printf("k=%2d  L=%.1e\n", k, loss.Scalar())
		}
		tape.Backward(loss)
		opt.Step()
	}
	// Output:
	// SGD(rate=Constant(0.1), momentum=heavyball 0.5, weight decay=0)
	// bound: rate < 0.30
	// k= 0  L=5.5e+00
	// k=10  L=7.7e-03
	// k=20  L=3.9e-06
	// k=30  L=3.6e-09
}

// The tutorial's 1/k schedule ε_k = ε0·τ/(τ+k) halves the rate at k = τ,
// and a warm-up ramps up to it.
func ExampleInverseTime() {
	sched, err := optim.InverseTime(0.1, 2)
	if err != nil {
		fmt.Println(err)
		return
	}
	for k := range 7 {
		if k > 0 {
			fmt.Print(" ")
		}
		fmt.Printf("%.4f", sched.Rate(k))
	}
	fmt.Println()

	warm := optim.Must(optim.Warmup(3, sched))
	fmt.Println(warm)
	for k := range 7 {
		if k > 0 {
			fmt.Print(" ")
		}
		fmt.Printf("%.4f", warm.Rate(k))
	}
	fmt.Println()
	// Output:
	// 0.1000 0.0667 0.0500 0.0400 0.0333 0.0286 0.0250
	// Warmup(3, InverseTime(eps0=0.1, tau=2))
	// 0.0250 0.0500 0.0750 0.1000 0.0667 0.0500 0.0400
}

// MaxStableRate gives the bound for each form on a Hessian with λmax = 10.
func ExampleMaxStableRate() {
	for _, f := range []optim.MomentumForm{optim.None, optim.EMA, optim.HeavyBall, optim.Nesterov} {
		fmt.Printf("%-9v %.4f\n", f, optim.MaxStableRate(f, 0.9, 10))
	}
	// Output:
	// none      0.2000
	// ema       3.8000
	// heavyball 0.3800
	// nesterov  0.1357
}
