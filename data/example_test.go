package data_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/flowgrad/flowgrad/data"
)

// Batching a tiny synthetic dataset: five 2-pixel examples in batches of
// B = 2, shuffled each epoch. Each epoch serves every example once; the
// last batch holds the one example left over.
func Example() {
	pixels := []uint8{
		0, 0, // example 0
		51, 255, // 1
		102, 255, // 2
		153, 0, // 3
		204, 255, // 4
	}
	labels := []uint8{0, 1, 1, 0, 1}
	ds, err := data.NewDataset(pixels, labels, 2, 2)
	if err != nil {
		fmt.Println(err)
		return
	}
	rng := rand.New(rand.NewPCG(1, 2))
	batches, err := data.NewBatcher(ds, 2, rng)
	if err != nil {
		fmt.Println(err)
		return
	}
	for range 2 {
		for b := range batches.Epoch() {
			fmt.Printf("epoch %d batch %d: labels %v X %v\n", b.Epoch, b.Index, b.Labels, b.X.Data())
		}
	}

	// A batch size from a flag is checked, not trusted.
	_, err = data.NewBatcher(ds, 6, rng)
	fmt.Println(err)
	// Output:
	// epoch 0 batch 0: labels [0 1] X [0.6 0 0.8 1]
	// epoch 0 batch 1: labels [1 0] X [0.4 1 0 0]
	// epoch 0 batch 2: labels [1] X [0.2 1]
	// epoch 1 batch 0: labels [1 0] X [0.2 1 0 0]
	// epoch 1 batch 1: labels [1 0] X [0.8 1 0.6 0]
	// epoch 1 batch 2: labels [1] X [0.4 1]
	// data: bad batch size: B = 6, want 1 ≤ B ≤ 5 (the number of examples)
}

// Resuming: a Batcher's State, saved with a checkpoint, restores the exact
// position in a new process.
func ExampleBatcher_State() {
	// Eight examples labelled with their own index, to show which come.
	ids := []uint8{0, 1, 2, 3, 4, 5, 6, 7}
	ds, _ := data.NewDataset(ids, ids, 1, 8)
	b, _ := data.NewBatcher(ds, 3, rand.New(rand.NewPCG(7, 7)))
	b.Next()
	saved := b.State() // store this in the checkpoint
	next, _ := b.Next()
	fmt.Println("would come next:", next.Labels)

	// Later, in another process, with any rng:
	c, _ := data.NewBatcher(ds, 3, rand.New(rand.NewPCG(0, 0)))
	if err := c.Restore(saved); err != nil {
		fmt.Println(err)
		return
	}
	again, _ := c.Next()
	fmt.Println("after restore: ", again.Labels)
	st := c.State()
	fmt.Printf("epoch %d, %d of %d examples served\n", st.Epoch, st.Offset, st.N)
	// Output:
	// would come next: [6 4 0]
	// after restore:  [6 4 0]
	// epoch 0, 6 of 8 examples served
}

// Online learning from a stream: examples drawn with replacement, B = 1,
// without end.
func ExampleStream() {
	ds, _ := data.NewDataset([]uint8{0, 255, 255, 0}, []uint8{0, 1}, 2, 2)
	s, _ := data.NewStream(ds, 1, rand.New(rand.NewPCG(3, 4)))
	for b := range s.All() {
		fmt.Println(b.Index, b.X.Data(), b.Labels)
		if b.Index == 3 {
			break
		}
	}
	// Output:
	// 0 [0 1] [0]
	// 1 [1 0] [1]
	// 2 [1 0] [1]
	// 3 [1 0] [1]
}
