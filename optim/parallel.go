package optim

import (
	"runtime"

	"github.com/flowgrad/flowgrad/autograd"
	"github.com/flowgrad/flowgrad/internal/parallel"
	"github.com/flowgrad/flowgrad/tensor"
)

// minParallel is the number of parameter elements from which a Step is
// split into GOMAXPROCS equal element ranges. Smaller models (the standard
// MLP 784-256-256-10 has 269k parameters) are split instead by the row
// halves of their large weights (internal/parallel.RowHalves), the same
// halves the small-batch products keep to, so that each core updates the
// rows whose gradient it computed and whose values it reads next step:
// split by element ranges, the standard MLP's whole step was 38 % slower
// at B = 1 and 7 % at B = 10; by row halves it is faster at every B
// (docs/benchmarks.md).
var minParallel = 1 << 21 // a variable so that tests can change it

// stepJob is one Step's update over all parameters, split across cores
// (each element is updated by exactly one part, so the result does not
// depend on the number of cores).
type stepJob[T tensor.Float] struct {
	params    []*autograd.Value[T]
	update    func(p, a, b int) // updates elements [a, b) of parameter p
	total     int               // elements over all parameters
	hasHalves bool              // some parameter is a weight cut in row halves
	halves    bool              // this call is split by row halves
	g         parallel.Group
}

// init sets the job up for params and their update function.
func (j *stepJob[T]) init(params []*autograd.Value[T], update func(p, a, b int)) {
	j.params, j.update = params, update
	for _, p := range params {
		j.total += p.Data().Len()
		if _, ok := parallel.RowHalves(p.Data().Rows(), p.Data().Cols()); ok {
			j.hasHalves = true
		}
	}
}

func (j *stepJob[T]) run() {
	j.halves = j.hasHalves && j.total < minParallel && runtime.GOMAXPROCS(0) >= 2
	if j.halves {
		j.g.Run(j, 2)
		return
	}
	j.g.Run(j, parallel.Parts(j.total, minParallel))
}

// Part updates part i of n: with row halves, half i of every weight cut in
// halves (part 0 also takes the parameters that are not); otherwise
// elements [lo, hi), counted across the parameters in order.
func (j *stepJob[T]) Part(i, n int) {
	if j.halves {
		for k, p := range j.params {
			rows, cols := p.Data().Rows(), p.Data().Cols()
			cut, ok := parallel.RowHalves(rows, cols)
			switch {
			case ok && i == 0:
				j.update(k, 0, cut*cols)
			case ok:
				j.update(k, cut*cols, rows*cols)
			case i == 0:
				j.update(k, 0, rows*cols)
			}
		}
		return
	}
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
