package autograd

import (
	"fmt"
	"math/rand/v2"

	"github.com/flowgrad/flowgrad/tensor"
)

// Dropout returns inverted dropout of x with drop probability p.
//
// On a training tape (the default; see Tape.SetTraining) it draws a mask
// from rng, one rng.Float64() per element in row-major order: 0 where the
// draw is below p, 1/(1−p) elsewhere; it records the mask as a constant
// and returns x ⊙ mask (Mul), so each output element is 0 with probability
// p and x/(1−p) otherwise, with expectation x, and the gradient is
// dY ⊙ mask. The mask lives in a buffer of the tape: once warm, Dropout
// allocates nothing.
//
// On an evaluation tape, and for p = 0, it returns x itself: nothing is
// recorded and rng is not used.
//
// It panics if p is not in [0, 1), if rng is nil, or if x is a parameter
// (a value on no tape: lift it with Tape.Param).
func Dropout[T tensor.Float](x *Value[T], p float64, rng *rand.Rand) *Value[T] {
	checkDropout(p, rng)
	t := tapeOf("Dropout", x, nil)
	if t.eval || p == 0 {
		return x
	}
	mask := t.buffer(x.Shape())
	keep := T(1 / (1 - p))
	for i := range mask.Data() {
		if rng.Float64() < p {
			mask.Data()[i] = 0
		} else {
			mask.Data()[i] = keep
		}
	}
	m := t.leaf(opConst, mask)
	m.name = "dropout mask"
	return Mul(x, m)
}

func checkDropout(p float64, rng *rand.Rand) {
	if !(p >= 0 && p < 1) {
		panic(fmt.Sprintf("autograd: Dropout: drop probability p = %v outside [0, 1)", p))
	}
	if rng == nil {
		panic("autograd: Dropout: nil *rand.Rand (pass an explicit generator)")
	}
}
