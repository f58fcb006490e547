package tutorial_test

import (
	"fmt"
	"log"
	"math"
	"math/rand/v2"

	"github.com/flowgrad/flowgrad/autograd"
	"github.com/flowgrad/flowgrad/curvature"
	"github.com/flowgrad/flowgrad/docs/tutorial"
	"github.com/flowgrad/flowgrad/layers"
	"github.com/flowgrad/flowgrad/optim"
	"github.com/flowgrad/flowgrad/tensor"
)

// §1 Training loss versus generalization loss: trained long on 500 images,
// the training loss keeps falling while the held-out loss, the estimate of
// the generalization loss, bottoms out and rises again.
func Example_trainingVersusGeneralizationLoss() {
	trainLoss, heldOut, err := tutorial.LossCurves(500, 1000, 64, 30)
	if err != nil {
		log.Fatal(err)
	}
	best := 0
	for e := range heldOut {
		if heldOut[e] < heldOut[best] {
			best = e
		}
	}
	fmt.Println("epoch  training loss  held-out loss")
	for _, e := range []int{0, 1, 2, 4, 9, 19, 29} {
		fmt.Printf("%5d  %13.4f  %13.4f\n", e+1, trainLoss[e], heldOut[e])
	}
	fmt.Printf("held-out loss lowest after epoch %d: %.4f\n", best+1, heldOut[best])
	// Output:
	// epoch  training loss  held-out loss
	//     1         0.4406         0.8253
	//     2         0.2320         0.7160
	//     3         0.0970         0.6586
	//     5         0.0536         0.7112
	//    10         0.0088         0.8058
	//    20         0.0016         0.7278
	//    30         0.0011         0.7476
	// held-out loss lowest after epoch 3: 0.6586
}

// §2 The gradient as a limit: the difference quotient ΔC/Δθ approaches
// the derivative that backpropagation computes as Δθ shrinks (until
// round-off takes over), and GradCheck does this for every parameter.
func Example_gradientAsALimit() {
	c := func(theta float64) float64 { return math.Sin(float64(theta*theta) + 0.5/theta) } // the tutorial's flow graph with a=θ, b=0.5; float64(θ·θ) keeps Go on arm64 from fusing θ·θ + 0.5/θ into one FMA
	tape := autograd.NewTape[float64]()
	a := tape.Scalar(1.5)
	L := autograd.Sin(autograd.Add(autograd.Square(a), autograd.Div(tape.Const(0.5), a)))
	tape.Backward(L)
	fmt.Printf("backprop ∂C/∂θ = %.10f\n", a.Grad().Scalar())
	for _, d := range []float64{1e-1, 1e-2, 1e-4, 1e-6, 1e-8, 1e-12} {
		q := (c(1.5+d) - c(1.5)) / d
		e := math.Abs(q - a.Grad().Scalar())
		if d >= 1e-6 {
			fmt.Printf("Δθ = %-6g ΔC/Δθ = %.10f  error %.1e\n", d, q, e)
			continue
		}
		// Round-off regime: an ulp of C (≈ 1e-16) becomes ≈ 1e-16/Δθ in
		// the quotient, and math.Sin's last bit differs between amd64 and
		// arm64 (Go fuses its polynomial's multiply-adds on arm64), so
		// print only what every platform shares: fewer digits, a bound.
		fmt.Printf("Δθ = %-6g ΔC/Δθ = %.6f      error below 1e-15/Δθ = %.0e: %v\n", d, q, 1e-15/d, e < 1e-15/d)
	}

	rng := rand.New(rand.NewPCG(1, 1))
	model := layers.MLP[float64](rng, 4, 5, 3)
	x := tensor.New[float64](6, 4)
	for i := range x.Data() {
		x.Data()[i] = rng.NormFloat64()
	}
	labels := []int{0, 2, 1, 1, 0, 2}
	res, err := autograd.GradCheck(func(t *autograd.Tape[float64]) *autograd.Value[float64] {
		return autograd.SoftmaxCrossEntropy(model.Forward(t.Input(x)), labels)
	}, model.Params(), nil)
	fmt.Println("GradCheck of an MLP 4-5-3:", err)
	for _, r := range res {
		fmt.Printf("  %-6s max relative error below 1e-7: %v\n", r.Name, r.MaxRel < 1e-7)
	}
	// Output:
	// backprop ∂C/∂θ = -2.3560512556
	// Δθ = 0.1    ΔC/Δθ = -2.6385374117  error 2.8e-01
	// Δθ = 0.01   ΔC/Δθ = -2.3860787061  error 3.0e-02
	// Δθ = 0.0001 ΔC/Δθ = -2.3563529885  error 3.0e-04
	// Δθ = 1e-06  ΔC/Δθ = -2.3560542728  error 3.0e-06
	// Δθ = 1e-08  ΔC/Δθ = -2.356051      error below 1e-15/Δθ = 1e-07: true
	// Δθ = 1e-12  ΔC/Δθ = -2.356115      error below 1e-15/Δθ = 1e-03: true
	// GradCheck of an MLP 4-5-3: <nil>
	//   fc1.W  max relative error below 1e-7: true
	//   fc1.b  max relative error below 1e-7: true
	//   fc2.W  max relative error below 1e-7: true
	//   fc2.b  max relative error below 1e-7: true
}

// §3 Batch, online and minibatch SGD: the same 2 passes over 1000 images
// (2000 gradient evaluations of one example each) buy 2 updates in batch
// gradient descent, 2000 in online SGD and 100 with B = 20.
func Example_batchOnlineMinibatch() {
	for _, c := range []struct {
		name string
		B    int
		rate float64
	}{{"batch (B=1000)", 1000, 0.5}, {"online (B=1)", 1, 0.02}, {"minibatch (B=20)", 20, 0.2}} {
		curve, updates, err := tutorial.SGDCurve(1000, 1000, c.B, c.rate, 2, 2000)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%-17s rate %-4g %4d updates  held-out loss %.4f → %.4f\n", c.name, c.rate, updates, curve[0].Y, curve[len(curve)-1].Y)
	}
	// Output:
	// batch (B=1000)    rate 0.5     2 updates  held-out loss 2.4024 → 1.6441
	// online (B=1)      rate 0.02 2000 updates  held-out loss 2.4024 → 0.5989
	// minibatch (B=20)  rate 0.2   100 updates  held-out loss 2.4024 → 0.6541
}

// §4 Momentum: on a quadratic with condition number 100, each form at half
// its own stability bound, the number of steps until the loss is below
// 1e-8 of its start.
func Example_momentum() {
	lambdas := []float64{100, 30, 10, 3, 1}
	for _, c := range []struct {
		form optim.MomentumForm
		m    float64
	}{{optim.None, 0}, {optim.EMA, 0.9}, {optim.HeavyBall, 0.9}, {optim.Nesterov, 0.9}} {
		ls := tutorial.MomentumRun(lambdas, c.form, c.m, 0.5, 5000)
		steps := -1
		for k, l := range ls {
			if l < 1e-8*ls[0] {
				steps = k
				break
			}
		}
		fmt.Printf("%-9v m=%.1f rate %.4f: %4d steps\n", c.form, c.m, 0.5*optim.MaxStableRate(c.form, c.m, 100), steps)
	}
	// Output:
	// none      m=0.0 rate 0.0100:  670 steps
	// ema       m=0.9 rate 0.1900:  172 steps
	// heavyball m=0.9 rate 0.0190:  172 steps
	// nesterov  m=0.9 rate 0.0068:  122 steps
}

// §5 Learning-rate schedules: online SGD on a noisy linear regression. A
// constant rate stalls at a noise floor; the 1/k schedule ε0·τ/(τ+k) keeps
// approaching the optimum.
func Example_schedules() {
	at := []int{100, 1000, 10000, 100000}
	constant := tutorial.NoisyRegression(optim.Must(optim.Constant(0.05)), 1, 100000, at)
	inverse := tutorial.NoisyRegression(optim.Must(optim.InverseTime(0.05, 100)), 1, 100000, at)
	fmt.Println("     k   ‖θ−θ*‖² constant   ‖θ−θ*‖² 1/k")
	for i, k := range at {
		fmt.Printf("%6d   %16.2e   %11.2e\n", k, constant[i].Y, inverse[i].Y)
	}
	// Output:
	// k   ‖θ−θ*‖² constant   ‖θ−θ*‖² 1/k
	//    100           1.54e-01      1.01e-01
	//   1000           2.51e-01      4.35e-03
	//  10000           8.85e-02      1.91e-03
	// 100000           1.67e-01      1.20e-04
}

// §6 The step-size bound: λmax of the Hessian estimated by power iteration
// on Hessian-vector products, the bound 2/λmax for plain gradient descent,
// and what happens 1 % below and above it.
func Example_stabilityBound() {
	q := tutorial.NewQuadratic([]float64{10, 4, 1})
	h := curvature.New(q.Loss, []*autograd.Value[float64]{q.Theta}, nil)
	e, err := curvature.LambdaMax(h, rand.New(rand.NewPCG(1, 2)), &curvature.PowerOptions{Tol: 1e-10})
	if err != nil {
		log.Fatal(err)
	}
	bound := optim.MaxStableRate(optim.None, 0, e.Value)
	fmt.Printf("λmax ≈ %.6f in %d Hessian-vector products; bound 2/λmax = %.6f\n", e.Value, e.Iterations, bound)
	for _, f := range []float64{0.5, 0.99, 1.01, 1.5} {
		q := tutorial.NewQuadratic([]float64{10, 4, 1})
		opt, _ := optim.NewSGD([]*autograd.Value[float64]{q.Theta}, optim.Must(optim.Constant(f*bound)))
		ls := q.Run(opt, 500)
		fmt.Printf("rate %.2f × bound: loss %.3g → %.3g after %d steps\n", f, ls[0], ls[len(ls)-1], len(ls)-1)
	}
	// Output:
	// λmax ≈ 10.000000 in 13 Hessian-vector products; bound 2/λmax = 0.200000
	// rate 0.50 × bound: loss 7.5 → 8.74e-47 after 500 steps
	// rate 0.99 × bound: loss 7.5 → 8.41e-09 after 500 steps
	// rate 1.01 × bound: loss 7.5 → 1.99e+09 after 500 steps
	// rate 1.50 × bound: loss 7.5 → 1.37e+12 after 19 steps
}

// §7 The flow graph of L = sin(a² + b/a): its nodes, and ∂L/∂a, ∂L/∂b by
// one reverse sweep (two paths lead from a to L).
func Example_flowGraph() {
	tape := autograd.NewTape[float64]()
	a, b := tape.Scalar(1.5), tape.Scalar(0.5)
	L := autograd.Sin(autograd.Add(autograd.Square(a), autograd.Div(b, a)))
	tape.Backward(L)
	fmt.Printf("L = %.6f, %d nodes, %d visited by Backward\n", L.Scalar(), tape.Len(), tape.Visits())
	fmt.Printf("∂L/∂a = %.6f, ∂L/∂b = %.6f\n", a.Grad().Scalar(), b.Grad().Scalar())
	// Output:
	// L = 0.529711, 7 nodes, 7 visited by Backward
	// ∂L/∂a = -2.356051, ∂L/∂b = -0.565452
}

// §7 The 2^n-paths graph x_t = f(x_{t−1}, y_{t−1}), y_t = g(x_{t−1},
// y_{t−1}): backpropagation visits each node once (linear in n), the sum
// over paths makes 2^(n+1) − 1 calls, and both give the same derivative.
func Example_pathsVersusBackprop() {
	fmt.Println(" n  backprop visits  path-sum calls  same ∂L/∂x0")
	for _, n := range []int{1, 2, 4, 8, 16, 20} {
		tape := autograd.NewTape[float64]()
		x, _, L := tutorial.Chain(tape, 0.7, -0.4, n)
		tape.Backward(L)
		dx, calls := tutorial.PathSum(0.7, -0.4, n)
		same := math.Abs(dx-x.Grad().Scalar()) <= 1e-12*(1+math.Abs(dx))
		fmt.Printf("%2d  %15d  %14d  %v\n", n, tape.Visits(), calls, same)
	}
	// Output:
	// n  backprop visits  path-sum calls  same ∂L/∂x0
	//  1                6               3  true
	//  2                9               7  true
	//  4               15              31  true
	//  8               27             511  true
	// 16               51          131071  true
	// 20               63         2097151  true
}
