// Command stability measures the tutorial's step-size bound on real MNIST:
// it estimates λmax of the loss's Hessian at the initial weights of
// `mnistdemo` (as -lr auto does), prints each momentum form's predicted
// bound, then trains the demo's model from those weights for -steps
// minibatches at a sweep of rates around the bound and prints where
// training stops improving and where it blows up.
//
//	go run ./docs/tutorial/cmd/stability [-form heavyball] [-momentum 0.9] [-steps 300]
package main

import (
	"flag"
	"fmt"
	"log"
	"os"

	"github.com/flowgrad/flowgrad/data"
	"github.com/flowgrad/flowgrad/docs/tutorial"
	"github.com/flowgrad/flowgrad/optim"
)

func main() {
	formName := flag.String("form", "heavyball", "momentum form")
	m := flag.Float64("momentum", 0.9, "momentum")
	steps := flag.Int("steps", 300, "training steps per rate")
	batch := flag.Int("batch", 100, "minibatch size")
	seed := flag.Uint64("seed", 1, "seed (weights and minibatches, as mnistdemo -seed)")
	flag.Parse()
	form, err := optim.ParseMomentumForm(*formName)
	if err != nil {
		log.Fatal(err)
	}
	mForm := *m // the sweep's momentum; the bounds listed use -momentum
	if form == optim.None {
		mForm = 0
	}
	trainSet, _, err := data.LoadMNIST("")
	if err != nil {
		log.Fatal(err)
	}
	model, batches, err := tutorial.DemoRun(trainSet, *batch, *seed)
	if err != nil {
		log.Fatal(err)
	}
	e, err := tutorial.DemoLambdaMax(trainSet, model, *batch, 5, *seed, 100)
	if err != nil {
		fmt.Fprintln(os.Stderr, "warning:", err)
	}
	l0 := e.Value
	fmt.Printf("λmax at the initial weights ≈ %.4g (%d Hessian-vector products)\n", l0, e.Iterations)
	for _, f := range []optim.MomentumForm{optim.None, optim.EMA, optim.HeavyBall, optim.Nesterov} {
		mm := *m
		if f == optim.None {
			mm = 0
		}
		fmt.Printf("  bound %-9v (momentum %g): ε < %.4g\n", f, mm, optim.MaxStableRate(f, mm, l0))
	}
	warm, _ := optim.NewSGD(model.Params(), optim.Must(optim.Constant(0.05)), optim.WithMomentum(optim.HeavyBall, 0.9))
	tutorial.TrainSteps(model, warm, batches, 300)
	e, err = tutorial.DemoLambdaMax(trainSet, model, *batch, 5, *seed, 300)
	if err != nil {
		fmt.Fprintln(os.Stderr, "warning:", err)
	}
	fmt.Printf("λmax after 300 steps at heavyball 0.9, rate 0.05 ≈ %.4g\n", e.Value)

	bound := optim.MaxStableRate(form, mForm, l0)
	fmt.Printf("\nsweep: %v momentum %g, B=%d, %d steps per rate from the initial weights; predicted bound %.4g\n", form, mForm, *batch, *steps, bound)
	pts, err := tutorial.StabilitySweep(trainSet, *batch, *seed, form, mForm, bound,
		[]float64{0.1, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 2, 3, 4, 6, 8}, *steps)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%10s  %9s  %14s\n", "rate", "× bound", "loss (last 50)")
	for _, p := range pts {
		note := ""
		switch {
		case p.DivergedAt > 0:
			note = fmt.Sprintf("diverged: NaN/Inf at step %d", p.DivergedAt)
		case p.Loss > 2.3:
			note = "no progress (at or above the initial loss ≈ 2.3)"
		}
		fmt.Printf("%10.4g  %9.2f  %14.4f  %s\n", p.Rate, p.Fraction, p.Loss, note)
	}
}
