package layers

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/flowgrad/flowgrad/autograd"
)

func TestSpecRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	mlp := MLP[float32](rng, 4, 8, 6, 3)
	mlp.Layers = append(mlp.Layers, Tanh[float32](), NewDropout[float32](rng, 0.25))
	spec, err := SpecOf(mlp)
	if err != nil {
		t.Fatal(err)
	}
	want := Spec{Inputs: 4, Layers: []LayerSpec{
		{Type: "Linear", Name: "fc1", In: 4, Out: 8, ReLU: true},
		{Type: "Linear", Name: "fc2", In: 8, Out: 6, ReLU: true},
		{Type: "Linear", Name: "fc3", In: 6, Out: 3},
		{Type: "Tanh"},
		{Type: "Dropout", P: 0.25},
	}}
	if !reflect.DeepEqual(spec, want) || spec.Outputs() != 3 {
		t.Fatalf("SpecOf = %+v", spec)
	}
	b, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	var back Spec
	if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, spec) {
		t.Fatalf("JSON %s decodes to %+v, %v", b, back, err)
	}
	built, err := Build[float64](back, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	again, err := SpecOf(built)
	if err != nil || !reflect.DeepEqual(again, spec) {
		t.Fatalf("rebuilt spec %+v, %v", again, err)
	}
	// Build draws the weights as MLP does: same seed, same weights.
	ps, qs := MLP[float64](rand.New(rand.NewPCG(1, 2)), 4, 8, 6, 3).Params(), built.Params()
	if len(ps) != len(qs) {
		t.Fatalf("%d and %d parameters", len(ps), len(qs))
	}
	for i := range ps {
		if ps[i].Name() != qs[i].Name() || !reflect.DeepEqual(ps[i].Data().Data(), qs[i].Data().Data()) {
			t.Errorf("parameter %d: %s vs %s", i, ps[i], qs[i])
		}
	}
}

type custom struct{}

func (custom) Forward(x *autograd.Value[float32]) *autograd.Value[float32] { return x }
func (custom) Params() []*autograd.Value[float32]                          { return nil }

func TestSpecErrors(t *testing.T) {
	lin := func(name string, in, out int) LayerSpec {
		return LayerSpec{Type: LinearType, Name: name, In: in, Out: out}
	}
	cases := map[string]struct {
		spec Spec
		part string
	}{
		"no inputs":     {Spec{Layers: []LayerSpec{lin("a", 1, 1)}}, "0 inputs"},
		"no layers":     {Spec{Inputs: 2}, "no layers"},
		"width":         {Spec{Inputs: 2, Layers: []LayerSpec{lin("a", 2, 3), lin("b", 2, 1)}}, "want in = 3"},
		"zero out":      {Spec{Inputs: 2, Layers: []LayerSpec{lin("a", 2, 0)}}, "out ≥ 1"},
		"same name":     {Spec{Inputs: 2, Layers: []LayerSpec{lin("a", 2, 2), lin("a", 2, 1)}}, `repeated name "a"`},
		"unknown":       {Spec{Inputs: 2, Layers: []LayerSpec{{Type: "Conv"}}}, `unknown type "Conv"`},
		"sized ReLU":    {Spec{Inputs: 2, Layers: []LayerSpec{lin("a", 2, 2), {Type: "ReLU", Out: 2}}}, "takes no name"},
		"ReLU with p":   {Spec{Inputs: 2, Layers: []LayerSpec{lin("a", 2, 2), {Type: "ReLU", P: 0.5}}}, "only Dropout takes p"},
		"dropout p = 1": {Spec{Inputs: 2, Layers: []LayerSpec{lin("a", 2, 2), {Type: "Dropout", P: 1}}}, "p = 1"},
		"dropout NaN":   {Spec{Inputs: 2, Layers: []LayerSpec{lin("a", 2, 2), {Type: "Dropout", P: math.NaN()}}}, "p = NaN"},
	}
	for name, c := range cases {
		if _, err := Build[float32](c.spec, rand.New(rand.NewPCG(1, 1))); err == nil || !strings.Contains(err.Error(), c.part) ||
			!strings.HasPrefix(err.Error(), "layers: ") {
			t.Errorf("%s: %v, want an error about %q", name, err, c.part)
		}
	}
	if _, err := SpecOf(NewSequential[float32](NewLinear[float32](rand.New(rand.NewPCG(1, 1)), "a", 2, 2, He), custom{})); err == nil ||
		!strings.Contains(err.Error(), "layers.custom has no spec") {
		t.Errorf("custom layer: %v", err)
	}
}
