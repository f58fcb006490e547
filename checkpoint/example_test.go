package checkpoint_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"

	"github.com/flowgrad/flowgrad/checkpoint"
	"github.com/flowgrad/flowgrad/data"
	"github.com/flowgrad/flowgrad/layers"
	"github.com/flowgrad/flowgrad/optim"
	"github.com/flowgrad/flowgrad/train"
)

// A run is saved after 5 steps and continued in a fresh model, optimizer
// and Batcher, which then stand exactly where the first run stood.
func Example() {
	pixels := make([]uint8, 30*4)
	labels := make([]uint8, 30)
	for i := range labels {
		labels[i] = uint8(i % 3)
		pixels[4*i+i%3] = 200
	}
	ds, _ := data.NewDataset(pixels, labels, 4, 3)

	setup := func(seed uint64) (*layers.Sequential[float32], *optim.SGD[float32], *data.Batcher) {
		rng := rand.New(rand.NewPCG(seed, 0))
		model := layers.MLP[float32](rng, 4, 8, 3)
		opt, _ := optim.NewSGD(model.Params(), optim.Must(optim.InverseTime(0.1, 100)),
			optim.WithMomentum(optim.HeavyBall, 0.9))
		batches, _ := data.NewBatcher(ds, 4, rng)
		return model, opt, batches
	}

	model, opt, batches := setup(1)
	tr := train.NewTrainer(model, opt, train.CrossEntropy)
	for range 5 {
		tr.Step(batches.Take())
	}
	st := checkpoint.Capture(model.Params(), opt, batches)
	st.Meta = map[string]string{"model": "4-8-3"}
	var file bytes.Buffer // or checkpoint.Save(path, st)
	if err := checkpoint.Write(&file, st); err != nil {
		fmt.Println(err)
		return
	}

	model2, opt2, batches2 := setup(2) // other weights, other order
	read, err := checkpoint.Read[float32](&file)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := read.Restore(model2.Params(), opt2, batches2); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("meta:", read.Meta)
	fmt.Println("step:", opt2.StepCount(), "rate:", opt2.Rate())
	fmt.Printf("position: epoch %d, offset %d\n", batches2.State().Epoch, batches2.State().Offset)
	fmt.Println("same weights:", model2.Params()[0].Data().String() == model.Params()[0].Data().String())
	// Output:
	// meta: map[model:4-8-3]
	// step: 5 rate: 0.09523809523809523
	// position: epoch 0, offset 20
	// same weights: true
}

// CaptureWith and RestoreWith carry a run's early stopping and the
// generator of its dropout masks too, so the resumed run draws the masks
// the uninterrupted one would.
func Example_extras() {
	pixels := make([]uint8, 30*4)
	labels := make([]uint8, 30)
	for i := range labels {
		labels[i] = uint8(i % 3)
		pixels[4*i+i%3] = 200
	}
	ds, _ := data.NewDataset(pixels, labels, 4, 3)

	type run struct {
		model   *layers.Sequential[float32]
		opt     *optim.SGD[float32]
		batches *data.Batcher
		x       checkpoint.Extras[float32]
	}
	setup := func(seed uint64) run {
		rng := rand.New(rand.NewPCG(seed, 0))
		pcg := rand.NewPCG(seed, 1) // the dropout masks' own source
		model := layers.MLP[float32](rng, 4, 8, 3)
		model.Layers = []layers.Layer[float32]{model.Layers[0], layers.NewDropout[float32](rand.New(pcg), 0.2), model.Layers[1]}
		opt, _ := optim.NewSGD(model.Params(), optim.Must(optim.Constant(0.1)))
		batches, _ := data.NewBatcher(ds, 4, rng)
		es, _ := train.NewEarlyStopping(model.Params(), 3, 0, train.MonitorLoss)
		return run{model, opt, batches, checkpoint.Extras[float32]{Early: es, RNG: map[string]checkpoint.Generator{"dropout": pcg}}}
	}

	a := setup(1)
	tr := train.NewTrainer(a.model, a.opt, train.CrossEntropy)
	for range 5 {
		tr.Step(a.batches.Take())
	}
	a.x.Early.Observe(train.EpochResult{Epoch: 1, Eval: train.Metrics{N: 1, Loss: 0.5}})
	st, err := checkpoint.CaptureWith(a.model.Params(), a.opt, a.batches, a.x)
	if err != nil {
		fmt.Println(err)
		return
	}
	var file bytes.Buffer
	checkpoint.Write(&file, st)

	b := setup(2)
	read, _ := checkpoint.Read[float32](&file)
	if err := read.RestoreWith(b.model.Params(), b.opt, b.batches, b.x); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("early stopping: %+v\n", b.x.Early.State())
	fmt.Println("same next mask draw:", a.x.RNG["dropout"].(*rand.PCG).Uint64() == b.x.RNG["dropout"].(*rand.PCG).Uint64())
	// Output:
	// early stopping: {Best:0.5 BestEpoch:1 Bad:0}
	// same next mask draw: true
}
