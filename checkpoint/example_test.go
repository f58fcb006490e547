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
