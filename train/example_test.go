package train_test

import (
	"context"
	"fmt"
	"log"
	"math/rand/v2"

	"github.com/flowgrad/flowgrad/autograd"
	"github.com/flowgrad/flowgrad/data"
	"github.com/flowgrad/flowgrad/layers"
	"github.com/flowgrad/flowgrad/optim"
	"github.com/flowgrad/flowgrad/tensor"
	"github.com/flowgrad/flowgrad/train"
)

// The README's library example: an MLP trained on real MNIST with the
// tutorial's momentum form and 1/k schedule, written as a plain loop (here
// on the first 6000 training images, one epoch, to keep it quick).
func Example_readme() {
	trainSet, testSet, err := data.LoadMNIST("") // "" = find the data by itself
	if err != nil {
		log.Fatal(err)
	}
	trainSet = trainSet.Head(6000)
	rng := rand.New(rand.NewPCG(1, 2))
	model := layers.MLP[float32](rng, 784, 256, 256, 10) // Linear+ReLU stack
	// The tutorial's momentum form, Δ ← αΔ + (1−α)g; θ ← θ − εΔ, moves
	// (1−α) as far per step as heavy ball at the same rate: ε = 0.5 here
	// matches heavy ball's 0.05.
	opt, err := optim.NewSGD(model.Params(), optim.Must(optim.InverseTime(0.5, 5000)),
		optim.WithMomentum(optim.EMA, 0.9))
	if err != nil {
		log.Fatal(err)
	}
	batches, err := data.NewBatcher(trainSet, 100, rng)
	if err != nil {
		log.Fatal(err)
	}
	tape := autograd.NewTape[float32]() // one tape, Reset every step
	for epoch := 0; epoch < 1; epoch++ {
		for batch := range batches.Epoch() {
			tape.Reset()
			loss := autograd.SoftmaxCrossEntropy(model.Forward(tape.Input(batch.X)), batch.Labels)
			tape.Backward(loss)
			opt.Step()
		}
	}

	eval, err := train.NewEvaluator(testSet, 1000, train.CrossEntropy[float32])
	if err != nil {
		log.Fatal(err)
	}
	acc := eval.Evaluate(model).Accuracy
	fmt.Println("steps:", opt.StepCount())
	fmt.Println("test accuracy above 80%:", acc > 0.8)
	// Output:
	// steps: 60
	// test accuracy above 80%: true
}

// train.Run is the same loop with held-out evaluation after every epoch,
// hooks, a target accuracy and NaN detection. The first epoch's training
// loss, averaged while the model is still learning, is above the held-out
// loss; after that the training loss is the lower one, as the tutorial
// says it is: the model has seen those examples.
func ExampleRun() {
	trainSet, testSet, err := data.LoadMNIST("")
	if err != nil {
		log.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	model := layers.MLP[float32](rng, 784, 64, 10)
	opt, err := optim.NewSGD(model.Params(), optim.Must(optim.Constant(0.05)), optim.WithMomentum(optim.HeavyBall, 0.9))
	if err != nil {
		log.Fatal(err)
	}
	batches, err := data.NewBatcher(trainSet.Head(5000), 50, rng)
	if err != nil {
		log.Fatal(err)
	}
	eval, err := train.NewEvaluator(testSet.Head(2000), 1000, train.CrossEntropy[float32])
	if err != nil {
		log.Fatal(err)
	}
	results, err := train.Run(context.Background(), train.NewTrainer(model, opt, train.CrossEntropy), batches, eval, train.Config{Epochs: 3})
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range results {
		fmt.Printf("epoch %d: training loss below held-out loss: %v\n", r.Epoch, r.TrainLoss < r.Eval.Loss)
	}
	last := results[len(results)-1]
	fmt.Println("held-out accuracy above 85%:", last.Eval.Accuracy > 0.85)
	// Output:
	// epoch 1: training loss below held-out loss: false
	// epoch 2: training loss below held-out loss: true
	// epoch 3: training loss below held-out loss: true
	// held-out accuracy above 85%: true
}

// Regression in float64 through the same loop: the loss is SquaredError
// (train.LossFor picks it for a regression dataset) and the held-out
// metrics are RMSE and R².
func ExampleRun_regression() {
	rng := rand.New(rand.NewPCG(3, 4))
	table := func(n int) *data.Dataset { // y = x₀·x₁ + x₂ on [−1, 1]³
		x, y := tensor.New[float32](n, 3), tensor.New[float32](n, 1)
		for i := range n {
			for j := range 3 {
				x.Set(i, j, float32(2*rng.Float64()-1))
			}
			y.Set(i, 0, x.At(i, 0)*x.At(i, 1)+x.At(i, 2))
		}
		ds, err := data.NewRegressionTable(x, y)
		if err != nil {
			log.Fatal(err)
		}
		return ds
	}
	trainSet, testSet := table(1000), table(200)
	model := layers.MLP[float64](rng, 3, 32, 32, 1)
	opt, err := optim.NewAdam(model.Params(), optim.Must(optim.Constant(0.003)))
	if err != nil {
		log.Fatal(err)
	}
	loss := train.LossFor[float64](trainSet.Kind())
	batches, _ := data.NewBatcher(trainSet, 32, rng)
	eval, _ := train.NewEvaluator(testSet, 200, loss)
	results, err := train.Run(context.Background(), train.NewTrainer(model, opt, loss), batches, eval, train.Config{Epochs: 30})
	if err != nil {
		log.Fatal(err)
	}
	last := results[len(results)-1].Eval
	fmt.Println(last.Kind, "R² above 0.98:", last.R2 > 0.98, "RMSE below 0.08:", last.RMSE < 0.08)
	// Output:
	// regression R² above 0.98: true RMSE below 0.08: true
}

// Class weights that make a rare class count as much as a common one, and
// the scores that show whether a model finds it.
func ExampleBalancedWeights() {
	x := tensor.New[float32](8, 1)
	ds, err := data.NewClassTable(x, []int32{0, 0, 0, 0, 0, 0, 1, 1}, 2)
	if err != nil {
		log.Fatal(err)
	}
	w := train.BalancedWeights(ds)
	fmt.Printf("weights %.3g\n", w)            // 8/(2·6), 8/(2·2)
	_ = train.WeightedCrossEntropy[float32](w) // the loss to train with

	truth := []int32{0, 0, 0, 0, 0, 0, 1, 1}
	always0 := []int{0, 0, 0, 0, 0, 0, 0, 0}
	fmt.Printf("always class 0: F1 per class %.3g, macro %.3g\n", train.F1Scores(2, truth, always0), train.MacroF1(train.F1Scores(2, truth, always0)))
	p1 := []float64{0.1, 0.2, 0.1, 0.3, 0.2, 0.6, 0.7, 0.4} // a model's probability of class 1
	positive := []bool{false, false, false, false, false, false, true, true}
	fmt.Printf("ROC AUC %.4g\n", train.AUC(p1, positive))
	// Output:
	// weights [0.667 2]
	// always class 0: F1 per class [0.857 0], macro 0.429
	// ROC AUC 0.9167
}
