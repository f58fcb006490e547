package dist_test

import (
	"context"
	"fmt"
	"log"
	"math/rand/v2"

	"github.com/flowgrad/flowgrad/data"
	"github.com/flowgrad/flowgrad/dist"
	"github.com/flowgrad/flowgrad/layers"
	"github.com/flowgrad/flowgrad/optim"
	"github.com/flowgrad/flowgrad/tensor"
	"github.com/flowgrad/flowgrad/train"
)

// A program that trains on every rank mpirun starts (built with -tags
// mpi), or as one process (the default build, as here). Only rank 0
// prints.
func Example() {
	comm, err := dist.Init()
	if err != nil {
		log.Fatal(err)
	}
	defer dist.Finalize()

	// y = 2x − 1 on 64 points; every rank builds the same run (rank 0's
	// weights and data order win anyway).
	x, y := tensor.New[float32](64, 1), tensor.New[float32](64, 1)
	for i := range 64 {
		x.Set(i, 0, float32(i)/32-1)
		y.Set(i, 0, 2*x.At(i, 0)-1)
	}
	ds, err := data.NewRegressionTable(x, y)
	if err != nil {
		log.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	model := layers.MLP[float32](rng, 1, 1) // a linear model
	opt, err := optim.NewSGD(model.Params(), optim.Must(optim.Constant(0.3)))
	if err != nil {
		log.Fatal(err)
	}
	batches, err := data.NewBatcher(ds, 16, rng) // the global minibatch
	if err != nil {
		log.Fatal(err)
	}
	tr := train.NewTrainer(model, opt, train.SquaredError[float32])
	results, err := dist.Train(context.Background(), comm, tr, batches, nil, train.Config{Epochs: 20})
	if err != nil {
		log.Fatal(err)
	}
	if comm.Rank() == dist.Root {
		w, b := model.Params()[0].Data().At(0, 0), model.Params()[1].Data().At(0, 0)
		fmt.Printf("%d rank(s), %d epochs: y ≈ %.2fx %+.2f\n", comm.Size(), len(results), w, b)
	}
	// Output: 1 rank(s), 20 epochs: y ≈ 2.00x -1.00
}
