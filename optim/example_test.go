package optim_test

import (
	"errors"
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

// Adam on the same quadratic, with the rate under reduce-on-plateau
// control: after every 10 steps the loss is reported to the Plateau, and
// when it has not improved for two reports in a row the rate is halved. Each
// coordinate's first step is ±γ whatever its gradient's scale (Adam's
// bias-corrected m̂/√v̂ is ±1 at t = 1).
func ExampleNewAdam() {
	theta := autograd.NewParam("theta", tensor.FromSlice(1, 2, []float64{1, 1}))
	halfDiagH := tensor.FromSlice(1, 2, []float64{0.5, 5})
	plateau, err := optim.NewPlateau(optim.Must(optim.Constant(0.1)), optim.PlateauConfig{Factor: 0.5, Patience: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	opt, err := optim.NewAdam([]*autograd.Value[float64]{theta}, plateau)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(opt)
	if _, err := optim.StabilityBound(opt, 10); err != nil {
		fmt.Println("no stability bound:", errors.Is(err, optim.ErrNoStabilityBound))
	}
	tape := autograd.NewTape[float64]()
	for k := 1; k <= 200; k++ {
		tape.Reset()
		th := tape.Param(theta)
		loss := autograd.Sum(autograd.Mul(autograd.Mul(th, th), tape.Input(halfDiagH)))
		tape.Backward(loss)
		opt.Step()
		if k == 1 {
			fmt.Printf("after step 1: θ = %.3f\n", theta.Data().Data())
		}
		if k%10 == 0 && plateau.Observe(loss.Scalar()) {
			fmt.Printf("step %d: rate reduced to %g\n", k, opt.Rate())
		}
	}
	th := theta.Data().Data()
	fmt.Printf("after 200 steps: L = %.1e\n", 0.5*th[0]*th[0]+5*th[1]*th[1])
	// Output:
	// Adam(rate=Plateau(Constant(0.1), factor=0.5, patience=1, scale=1), betas=(0.9, 0.999), eps=1e-08, weight decay=0)
	// no stability bound: true
	// after step 1: θ = [0.900 0.900]
	// step 70: rate reduced to 0.05
	// after 200 steps: L = 2.0e-10
}
