package optim

import (
	"github.com/flowgrad/flowgrad/autograd"
	"github.com/flowgrad/flowgrad/internal/parallel"
	"github.com/flowgrad/flowgrad/tensor"
)

// minParallel is the number of parameter elements below which a Step runs
// on one core. Measured on the 2-core Zen 4 VM with MLP 784-256-256-10
// (269k parameters): splitting its update across the cores made the whole
// training step 38 % slower at B = 1 and 7 % slower at B = 10, and changed
// nothing measurable at B = 100 and 1000 — waking a blocked worker costs
// tens of microseconds there, as much as the pass itself. So only models
// several times larger are split.
var minParallel = 1 << 21 // a variable so that tests can split small models

// stepJob is one Step's update over all parameters, split into equal
// element ranges across cores (each element is updated by exactly one part,
// so the result does not depend on the number of cores).
type stepJob[T tensor.Float] struct {
	params []*autograd.Value[T]
	update func(p, a, b int) // updates elements [a, b) of parameter p
	total  int               // elements over all parameters
	g      parallel.Group
}

func (j *stepJob[T]) run(params []*autograd.Value[T]) {
	j.params = params
	j.g.Run(j, parallel.Parts(j.total, minParallel))
}

// Part updates elements [lo, hi) of part i of n, counted across the
// parameters in order.
func (j *stepJob[T]) Part(i, n int) {
	lo, hi := parallel.Range(i, n, j.total, 16)
	off := 0
	for k, p := range j.params {
		size := p.Data().Len()
		if a, b := max(lo, off), min(hi, off+size); a < b {
			j.update(k, a-off, b-off)
		}
		off += size
	}
}
