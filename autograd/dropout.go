package autograd

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/flowgrad/flowgrad/tensor"
)

// Dropout returns inverted dropout of x with drop probability p.
//
// On a training tape (the default; see Tape.SetTraining) it draws a mask
// from rng, one rng.Uint64() per two elements in row-major order (low 32
// bits first): 0 with probability q, 1/(1−q) otherwise, where
// q = round(p·2³²)/2³² is p to within 2⁻³³. It records the mask as a
// constant and returns x ⊙ mask (Mul): each output element is 0 with
// probability q and x/(1−q) otherwise, with expectation x (exactly, but
// for the rounding of 1/(1−q) to T), and the gradient is dY ⊙ mask. The mask lives in a buffer of the tape: once warm, Dropout
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
	// One 64-bit draw gives two 32-bit uniforms u; an element is dropped
	// when u < cut, with probability q = cut/2³², and otherwise scaled by
	// 1/(1−q), so that its expectation is exactly x.
	cut := min(uint64(math.Round(p*(1<<32))), 1<<32-1)
	keep := T(float64(1<<32) / float64(1<<32-cut))
	mask := t.buffer(x.Shape())
	md := mask.Data()
	vals := [2]T{keep, 0}                                           // by (u − cut) >> 63: 1 if u < cut
	pick := func(u uint64) T { return vals[(u&(1<<32-1)-cut)>>63] } // no branch to mispredict
	for i := 0; i+1 < len(md); i += 2 {
		r := rng.Uint64()
		md[i], md[i+1] = pick(r), pick(r>>32)
	}
	if n := len(md); n%2 == 1 {
		md[n-1] = pick(rng.Uint64())
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
