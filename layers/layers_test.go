package layers

import (
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/flowgrad/flowgrad/autograd"
	"github.com/flowgrad/flowgrad/tensor"
)

func TestMLPGradientCheck(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, B := range []int{1, 4} {
		model := NewSequential[float64](
			NewLinear[float64](rng, "fc1", 5, 7, He), ReLU[float64](),
			NewLinear[float64](rng, "fc2", 7, 6, Glorot), Tanh[float64](),
			NewLinear[float64](rng, "fc3", 6, 4, Glorot), Sigmoid[float64](),
			NewLinear[float64](rng, "fc4", 4, 3, Glorot),
		)
		for _, p := range model.Params() { // non-zero biases
			for i := range p.Data().Data() {
				p.Data().Data()[i] += 0.1 * rng.NormFloat64()
			}
		}
		x := tensor.New[float64](B, 5)
		labels := make([]int, B)
		for i := range x.Data() {
			x.Data()[i] = rng.NormFloat64()
		}
		for i := range labels {
			labels[i] = rng.IntN(3)
		}
		res, err := autograd.GradCheck(func(tp *autograd.Tape[float64]) *autograd.Value[float64] {
			return autograd.SoftmaxCrossEntropy(model.Forward(tp.Input(x)), labels)
		}, model.Params(), nil)
		if err != nil {
			t.Fatalf("B=%d: %v", B, err)
		}
		if len(res) != 8 {
			t.Fatalf("%d results, want 8", len(res))
		}
	}
}

// MLP's fused layers pass the gradient check end to end too.
func TestFusedMLPGradientCheck(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	model := MLP[float64](rng, 6, 9, 8, 4)
	x := tensor.New[float64](5, 6)
	for i := range x.Data() {
		x.Data()[i] = rng.NormFloat64()
	}
	labels := []int{0, 3, 1, 2, 3}
	if _, err := autograd.GradCheck(func(tp *autograd.Tape[float64]) *autograd.Value[float64] {
		return autograd.SoftmaxCrossEntropy(model.Forward(tp.Input(x)), labels)
	}, model.Params(), nil); err != nil {
		t.Fatal(err)
	}
}

func TestMLPParamsNamedInOrder(t *testing.T) {
	m := MLP[float32](rand.New(rand.NewPCG(1, 1)), 784, 256, 256, 10)
	var names []string
	var shapes []tensor.Shape
	for _, p := range m.Params() {
		names = append(names, p.Name())
		shapes = append(shapes, p.Shape())
	}
	wantNames := []string{"fc1.W", "fc1.b", "fc2.W", "fc2.b", "fc3.W", "fc3.b"}
	sh := func(r, c int) tensor.Shape { return tensor.Shape{Rows: r, Cols: c} }
	wantShapes := []tensor.Shape{sh(784, 256), sh(1, 256), sh(256, 256), sh(1, 256), sh(256, 10), sh(1, 10)}
	if !reflect.DeepEqual(names, wantNames) || !reflect.DeepEqual(shapes, wantShapes) {
		t.Fatalf("params %v %v, want %v %v", names, shapes, wantNames, wantShapes)
	}
}

func TestInitStatistics(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, c := range []struct {
		init    Init
		wantStd float64
	}{{He, math.Sqrt(2.0 / 400)}, {Glorot, math.Sqrt(6.0/(400+300)) / math.Sqrt(3)}} {
		w := NewLinear[float64](rng, "l", 400, 300, c.init).W.Data().Data()
		var s, s2 float64
		for _, v := range w {
			s += v
			s2 += v * v
		}
		mean := s / float64(len(w))
		std := math.Sqrt(s2/float64(len(w)) - mean*mean)
		if math.Abs(mean) > 0.01*c.wantStd*10 || math.Abs(std/c.wantStd-1) > 0.02 {
			t.Errorf("%v: mean %g std %g, want 0 and %g", c.init, mean, std, c.wantStd)
		}
	}
}

func TestSameSeedSameWeights(t *testing.T) {
	a := MLP[float32](rand.New(rand.NewPCG(9, 9)), 20, 10, 3)
	b := MLP[float32](rand.New(rand.NewPCG(9, 9)), 20, 10, 3)
	for i, p := range a.Params() {
		if !reflect.DeepEqual(p.Data().Data(), b.Params()[i].Data().Data()) {
			t.Fatalf("%s differs for the same seed", p.Name())
		}
	}
}

func TestLinearShapeMismatchPanics(t *testing.T) {
	l := NewLinear[float64](rand.New(rand.NewPCG(1, 2)), "fc", 3, 2, He)
	tape := autograd.NewTape[float64]()
	defer func() {
		if r := recover(); r == nil || r.(string) != "autograd: Linear: shapes x 1×4, W 3×2, b 1×2 do not fit (want B×K, K×N, 1×N)" {
			t.Fatalf("panic %v", r)
		}
	}()
	l.Forward(tape.Input(tensor.New[float64](1, 4)))
}
