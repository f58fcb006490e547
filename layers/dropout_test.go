package layers

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/flowgrad/flowgrad/autograd"
	"github.com/flowgrad/flowgrad/tensor"
)

// dropoutMLP is 6-9-4 with dropout after the hidden layer, weights from
// seed 1 and masks from maskSeed.
func dropoutMLP(p float64, maskSeed uint64) (*Sequential[float64], *Dropout[float64]) {
	rng := rand.New(rand.NewPCG(1, 1))
	fc1 := NewLinear[float64](rng, "fc1", 6, 9, He)
	fc1.ReLU = true
	d := NewDropout[float64](rand.New(rand.NewPCG(maskSeed, 2)), p)
	return NewSequential[float64](fc1, d, NewLinear[float64](rng, "fc2", 9, 4, He)), d
}

func batch(rng *rand.Rand) (*tensor.Dense[float64], []int) {
	x := tensor.New[float64](5, 6)
	for i := range x.Data() {
		x.Data()[i] = rng.NormFloat64()
	}
	return x, []int{0, 3, 1, 2, 3}
}

// Two models built from the same seeds draw the same masks: three
// training steps give bitwise equal losses and gradients.
func TestDropoutLayerReproducible(t *testing.T) {
	x, labels := batch(rand.New(rand.NewPCG(3, 3)))
	trace := func(maskSeed uint64) []float64 {
		model, _ := dropoutMLP(0.5, maskSeed)
		tape := autograd.NewTape[float64]()
		var out []float64
		for range 3 {
			tape.Reset()
			loss := autograd.SoftmaxCrossEntropy(model.Forward(tape.Input(x)), labels)
			tape.Backward(loss)
			out = append(out, loss.Scalar())
			for _, p := range model.Params() {
				out = append(out, p.Grad().Data()...)
			}
		}
		return out
	}
	if a, b := trace(7), trace(7); !slices.Equal(a, b) {
		t.Fatal("the same seeds gave different losses or gradients")
	}
	if a, b := trace(7), trace(8); slices.Equal(a, b) {
		t.Fatal("different mask seeds gave the same losses and gradients")
	}
}

// On an evaluation tape the model with dropout computes exactly what the
// same model without the dropout layer computes.
func TestDropoutLayerEvaluationIsIdentity(t *testing.T) {
	x, _ := batch(rand.New(rand.NewPCG(4, 4)))
	model, _ := dropoutMLP(0.5, 7)
	plain := NewSequential(model.Layers[0], model.Layers[2])
	forward := func(m Layer[float64], training bool) []float64 {
		tape := autograd.NewTape[float64]()
		tape.SetTraining(training)
		return m.Forward(tape.Input(x)).Data().Data()
	}
	got, want := forward(model, false), forward(plain, true)
	if !slices.Equal(got, want) {
		t.Fatalf("evaluation output %v, want the output without dropout %v", got, want)
	}
	if slices.Equal(forward(model, true), want) {
		t.Fatal("training output equals the output without dropout: no mask applied")
	}
}

// The gradient check through the layer, with a fixed mask: the loss
// re-seeds the layer's generator each time it is evaluated.
func TestDropoutLayerGradCheck(t *testing.T) {
	x, labels := batch(rand.New(rand.NewPCG(5, 5)))
	model, d := dropoutMLP(0.3, 7)
	if _, err := autograd.GradCheck(func(tp *autograd.Tape[float64]) *autograd.Value[float64] {
		d.Rng = rand.New(rand.NewPCG(9, 9))
		return autograd.SoftmaxCrossEntropy(model.Forward(tp.Input(x)), labels)
	}, model.Params(), nil); err != nil {
		t.Fatal(err)
	}
}

func TestNewDropoutPanics(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, c := range []struct {
		p    float64
		rng  *rand.Rand
		want string
	}{
		{-0.5, rng, "layers: NewDropout: drop probability p = -0.5 outside [0, 1)"},
		{1, rng, "layers: NewDropout: drop probability p = 1 outside [0, 1)"},
		{0.5, nil, "layers: NewDropout: nil *rand.Rand"},
	} {
		func() {
			defer func() {
				if r, _ := recover().(string); !strings.HasPrefix(r, c.want) {
					t.Errorf("NewDropout(%v, %v): panic %q, want %q", c.rng != nil, c.p, r, c.want)
				}
			}()
			NewDropout[float32](c.rng, c.p)
		}()
	}
	if d := NewDropout[float32](rng, 0); d.Params() != nil {
		t.Fatal("dropout has parameters")
	}
}

// The masks depend only on the generator's source: a PCG restored from
// its marshalled state draws the same masks again (how a checkpoint
// resumes a run with dropout).
func TestDropoutResumesFromPCGState(t *testing.T) {
	x, _ := batch(rand.New(rand.NewPCG(6, 6)))
	pcg := rand.NewPCG(7, 8)
	d := NewDropout[float64](rand.New(pcg), 0.5)
	tape := autograd.NewTape[float64]()
	d.Forward(tape.Input(x)) // advance the generator
	state, err := pcg.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	want := slices.Clone(d.Forward(tape.Input(x)).Data().Data())
	restored := rand.NewPCG(0, 0)
	if err := restored.UnmarshalBinary(state); err != nil {
		t.Fatal(err)
	}
	d2 := NewDropout[float64](rand.New(restored), 0.5)
	if got := d2.Forward(autograd.NewTape[float64]().Input(x)).Data().Data(); !slices.Equal(got, want) {
		t.Fatal("a generator restored from the PCG state draws a different mask")
	}
}

// WithDropout puts a dropout layer after each layer but the last, and
// leaves the net alone for p = 0.
func TestWithDropout(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	net := WithDropout(MLP[float32](rng, 3, 4, 5, 2), rng, 0.25)
	var kinds []string
	for _, l := range net.Layers {
		kinds = append(kinds, fmt.Sprintf("%T", l))
	}
	want := "*layers.Linear[float32] *layers.Dropout[float32] *layers.Linear[float32] *layers.Dropout[float32] *layers.Linear[float32]"
	if got := strings.Join(kinds, " "); got != want {
		t.Errorf("layers %s, want %s", got, want)
	}
	if d := net.Layers[1].(*Dropout[float32]); d.P != 0.25 || d.Rng != rng {
		t.Errorf("dropout %+v", d)
	}
	if n := len(WithDropout(MLP[float32](rng, 3, 2), rng, 0.5).Layers); n != 1 {
		t.Errorf("a linear model has %d layers with dropout", n)
	}
	if n := len(WithDropout(MLP[float32](rng, 3, 4, 2), rng, 0).Layers); n != 2 {
		t.Errorf("p = 0: %d layers", n)
	}
}
