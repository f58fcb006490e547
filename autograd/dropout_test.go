package autograd

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/flowgrad/flowgrad/tensor"
)

// dropoutRun applies Dropout(x, p) on a training tape with a generator
// seeded by seed and back-propagates Σ R ⊙ y, returning y and dL/dx.
func dropoutRun(x, r *tensor.Dense[float64], p float64, seed uint64) (y, dx []float64) {
	tape := NewTape[float64]()
	xv := tape.Var(x)
	out := Dropout(xv, p, rand.New(rand.NewPCG(seed, 1)))
	tape.Backward(Sum(Mul(out, tape.Input(r))))
	return slices.Clone(out.Data().Data()), slices.Clone(xv.Grad().Data())
}

func TestDropoutSameSeedSameMask(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	x, r := randMatrix(rng, 20, 30, -1, 1), randMatrix(rng, 20, 30, -1, 1)
	y1, g1 := dropoutRun(x, r, 0.3, 7)
	y2, g2 := dropoutRun(x, r, 0.3, 7)
	if !slices.Equal(y1, y2) || !slices.Equal(g1, g2) {
		t.Fatal("the same seed gave different outputs or gradients")
	}
	y3, _ := dropoutRun(x, r, 0.3, 8)
	if slices.Equal(y1, y3) {
		t.Fatal("seeds 7 and 8 gave the same mask")
	}
}

// The mask follows Dropout's documented draw: one Uint64 per two elements,
// low 32 bits first, an element dropped when its 32 bits are below
// round(p·2³²); an odd count takes the low half of one more draw.
func TestDropoutMaskContract(t *testing.T) {
	const p = 0.3
	ones := tensor.New[float64](3, 5)
	for i := range ones.Data() {
		ones.Data()[i] = 1
	}
	y := Dropout(NewTape[float64]().Input(ones), p, rand.New(rand.NewPCG(21, 22))).Data().Data()
	ref := rand.New(rand.NewPCG(21, 22))
	cut := uint32(math.Round(p * (1 << 32)))
	var r uint64
	for i, v := range y {
		if i%2 == 0 {
			r = ref.Uint64()
		}
		u := uint32(r >> (32 * (i % 2)))
		want := 1 / (1 - float64(cut)/(1<<32))
		if u < cut {
			want = 0
		}
		if v != want {
			t.Fatalf("element %d = %v, want %v (u = %d, cut = %d)", i, v, want, u, cut)
		}
	}
}

// Every output element is 0 or x/(1−p); the zeros' fraction is p and the
// mean of the output is the mean of x, each within 5 standard deviations
// of its sampling distribution (n = 10⁵ elements, fixed seed).
func TestDropoutPreservesMean(t *testing.T) {
	const rows, cols = 200, 500
	n := float64(rows * cols)
	ones := tensor.New[float64](rows, cols)
	for i := range ones.Data() {
		ones.Data()[i] = 1
	}
	for _, p := range []float64{0.1, 0.5, 0.8} {
		tape := NewTape[float64]()
		y := Dropout(tape.Input(ones), p, rand.New(rand.NewPCG(3, 4))).Data().Data()
		var sum, zeros float64
		for i, v := range y {
			if v == 0 {
				zeros++
			} else if math.Abs(v-1/(1-p)) > 1e-8 {
				t.Fatalf("p=%g: element %d = %g, want 0 or 1/(1−p) = %g", p, i, v, 1/(1-p))
			}
			sum += v
		}
		// An element is 1/(1−p) with probability 1−p: mean 1, variance p/(1−p).
		if sd := math.Sqrt(p / (1 - p) / n); math.Abs(sum/n-1) > 5*sd {
			t.Errorf("p=%g: output mean %.5f, want 1 ± %.5f (5σ)", p, sum/n, 5*sd)
		}
		if sd := math.Sqrt(p * (1 - p) / n); math.Abs(zeros/n-p) > 5*sd {
			t.Errorf("p=%g: fraction dropped %.5f, want %g ± %.5f (5σ)", p, zeros/n, p, 5*sd)
		}
	}
}

func TestDropoutIdentityInEvaluation(t *testing.T) {
	x := randMatrix(rand.New(rand.NewPCG(5, 6)), 4, 3, -1, 1)
	for _, c := range []struct {
		name     string
		training bool
		p        float64
	}{{"evaluation tape", false, 0.5}, {"p = 0", true, 0}} {
		tape := NewTape[float64]()
		tape.SetTraining(c.training)
		if tape.Training() != c.training {
			t.Fatalf("%s: Training() = %v after SetTraining(%v)", c.name, tape.Training(), c.training)
		}
		xv := tape.Var(x)
		rng, ref := rand.New(rand.NewPCG(9, 9)), rand.New(rand.NewPCG(9, 9))
		if y := Dropout(xv, c.p, rng); y != xv || tape.Len() != 1 {
			t.Fatalf("%s: Dropout recorded %d values and returned %v, want x itself", c.name, tape.Len()-1, y)
		}
		if rng.Uint64() != ref.Uint64() {
			t.Fatalf("%s: Dropout drew from the generator", c.name)
		}
	}
	if !NewTape[float32]().Training() {
		t.Fatal("a new tape is not in training mode")
	}
}

// The gradient check with a fixed mask: every evaluation of the loss
// re-seeds the generator, so it draws the same mask; the gradient is then
// R ⊙ mask, with zeros where elements were dropped.
func TestDropoutGradCheck(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	const p = 0.4
	x := NewParam("x", randMatrix(rng, 6, 7, -2, 2))
	r := randMatrix(rng, 6, 7, -1, 1)
	var mask []float64
	loss := func(tp *Tape[float64]) *Value[float64] {
		y := Dropout(Tanh(tp.Param(x)), p, rand.New(rand.NewPCG(13, 14)))
		mask = y.in[1].data.Data()
		return Sum(Mul(y, tp.Input(r)))
	}
	if _, err := GradCheck(loss, []*Value[float64]{x}, nil); err != nil {
		t.Fatal(err)
	}
	tape := NewTape[float64]()
	tape.Backward(loss(tape))
	dropped := 0
	for i, g := range x.Grad().Data() {
		th := math.Tanh(x.Data().Data()[i])
		if want := r.Data()[i] * mask[i] * (1 - th*th); math.Abs(g-want) > 1e-12 {
			t.Fatalf("dL/dx[%d] = %g, want R⊙mask⊙tanh′ = %g", i, g, want)
		}
		if mask[i] == 0 {
			dropped++
		}
	}
	if dropped == 0 || dropped == len(mask) {
		t.Fatalf("%d of %d elements dropped: the check needs both kinds", dropped, len(mask))
	}
}

func TestDropoutMisusePanics(t *testing.T) {
	tape := NewTape[float64]()
	x := tape.Input(tensor.New[float64](2, 2))
	rng := rand.New(rand.NewPCG(1, 1))
	for _, p := range []float64{-0.1, 1, 1.5, math.NaN()} {
		expectPanic(t, "autograd: Dropout: drop probability p = ", func() { Dropout(x, p, rng) })
	}
	expectPanic(t, "autograd: Dropout: nil *rand.Rand", func() { Dropout(x, 0.5, nil) })
	expectPanic(t, "autograd: Dropout: no operand is on a tape", func() {
		Dropout(NewParam("w", tensor.New[float64](2, 2)), 0.5, rng)
	})
}

// A warm training step with dropout allocates nothing: the mask lives in
// a tape buffer.
func TestDropoutAllocatesNothing(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	w := NewParam("w", tensor.New[float32](8, 4))
	x := tensor.New[float32](16, 8)
	tape := NewTape[float32]()
	step := func() {
		tape.Reset()
		h := Dropout(MatMul(tape.Input(x), w), 0.5, rng)
		tape.Backward(Sum(h))
	}
	step()
	if a := testing.AllocsPerRun(20, step); a != 0 {
		t.Fatalf("%v allocations per warm step, want 0", a)
	}
}
