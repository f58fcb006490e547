package layers

import (
	"fmt"
	"math/rand/v2"

	"github.com/flowgrad/flowgrad/tensor"
)

// Spec describes a [Sequential] stack of layers as plain data, so that a
// model file can store the architecture and [Build] can rebuild it with no
// hand-written code. It encodes as JSON, for example
//
//	{"inputs":4,"layers":[
//	  {"type":"Linear","name":"fc1","in":4,"out":64,"relu":true},
//	  {"type":"Linear","name":"fc2","in":64,"out":3}]}
type Spec struct {
	Inputs int         `json:"inputs"` // features per example
	Layers []LayerSpec `json:"layers"`
}

// LayerSpec is one layer of a [Spec].
type LayerSpec struct {
	// Type is the kind of layer: LinearType, DropoutType or one of the
	// activation names ("ReLU", "Tanh", "Sigmoid").
	Type string `json:"type"`
	// Name prefixes a Linear layer's parameter names (Name+".W",
	// Name+".b").
	Name string `json:"name,omitempty"`
	// In and Out are a Linear layer's sizes; ReLU fuses max(·, 0) into it.
	In   int  `json:"in,omitempty"`
	Out  int  `json:"out,omitempty"`
	ReLU bool `json:"relu,omitempty"`
	// P is a Dropout layer's drop probability, in [0, 1).
	P float64 `json:"p,omitempty"`
	// A new kind of layer adds its settings here and a case to Check,
	// Build and SpecOf.
}

// The Types of the layers with settings in a [LayerSpec].
const (
	LinearType  = "Linear"  // a [Linear] layer
	DropoutType = "Dropout" // a [Dropout] layer
)

// activations maps the activation names of a LayerSpec to their layers.
func activations[T tensor.Float]() map[string]Activation[T] {
	return map[string]Activation[T]{"ReLU": ReLU[T](), "Tanh": Tanh[T](), "Sigmoid": Sigmoid[T]()}
}

// Outputs returns the width of the stack's output: the Out of its last
// Linear layer (activations keep the width), or Inputs if it has none.
func (s Spec) Outputs() int {
	out := s.Inputs
	for _, l := range s.Layers {
		if l.Type == LinearType {
			out = l.Out
		}
	}
	return out
}

// Check returns an error unless s describes a stack that Build can make:
// Inputs ≥ 1, at least one layer, known types, Linear layers with distinct
// non-empty names, sizes ≥ 1 and each In equal to the width before it.
func (s Spec) Check() error {
	if s.Inputs < 1 {
		return fmt.Errorf("layers: spec: %d inputs (want ≥ 1)", s.Inputs)
	}
	if len(s.Layers) == 0 {
		return fmt.Errorf("layers: spec: no layers")
	}
	width := s.Inputs
	names := map[string]bool{}
	acts := activations[float32]()
	for i, l := range s.Layers {
		switch _, act := acts[l.Type]; {
		case l.Type == LinearType:
			switch {
			case l.Name == "" || names[l.Name]:
				return fmt.Errorf("layers: spec: layer %d: Linear layer with an empty or repeated name %q", i, l.Name)
			case l.In != width || l.Out < 1:
				return fmt.Errorf("layers: spec: layer %d (%s): sizes %d→%d after a width of %d (want in = %d, out ≥ 1)", i, l.Name, l.In, l.Out, width, width)
			}
			names[l.Name] = true
			width = l.Out
		case act || l.Type == DropoutType:
			if l.Name != "" || l.In != 0 || l.Out != 0 || l.ReLU {
				return fmt.Errorf("layers: spec: layer %d: %s takes no name, sizes or relu", i, l.Type)
			}
			if act && l.P != 0 || !(l.P >= 0 && l.P < 1) {
				return fmt.Errorf("layers: spec: layer %d: %s with p = %v (only Dropout takes p, in [0, 1))", i, l.Type, l.P)
			}
		default:
			return fmt.Errorf("layers: spec: layer %d: unknown type %q (want Linear, Dropout, ReLU, Tanh or Sigmoid)", i, l.Type)
		}
	}
	return nil
}

// Build returns the stack that spec describes, with Linear weights drawn
// from rng (He initialisation) and zero biases, as [MLP] makes them; its
// Dropout layers draw their masks from rng too (see [Dropout] for
// resuming such a run exactly). It returns spec.Check's error for a spec
// that does not describe a stack, so a spec read from a file needs no
// checks of its own.
func Build[T tensor.Float](spec Spec, rng *rand.Rand) (*Sequential[T], error) {
	if err := spec.Check(); err != nil {
		return nil, err
	}
	acts := activations[T]()
	ls := make([]Layer[T], len(spec.Layers))
	for i, l := range spec.Layers {
		if l.Type == LinearType {
			lin := NewLinear[T](rng, l.Name, l.In, l.Out, He)
			lin.ReLU = l.ReLU
			ls[i] = lin
			continue
		}
		if l.Type == DropoutType {
			ls[i] = NewDropout[T](rng, l.P)
			continue
		}
		ls[i] = acts[l.Type]
	}
	return NewSequential(ls...), nil
}

// SpecOf returns the spec of s, whose layers must be *Linear, *Dropout or
// the activations ReLU, Tanh and Sigmoid (as Build and MLP make them); it
// returns an error for any other layer, which a spec cannot describe.
func SpecOf[T tensor.Float](s *Sequential[T]) (Spec, error) {
	var spec Spec
	acts := activations[T]()
	for i, l := range s.Layers {
		switch l := l.(type) {
		case *Linear[T]:
			in, out := l.W.Data().Rows(), l.W.Data().Cols()
			if i == 0 {
				spec.Inputs = in
			}
			name, ok := paramPrefix(l.W.Name(), ".W")
			if !ok {
				return Spec{}, fmt.Errorf("layers: SpecOf: layer %d: Linear weight named %q (want NAME.W)", i, l.W.Name())
			}
			spec.Layers = append(spec.Layers, LayerSpec{Type: LinearType, Name: name, In: in, Out: out, ReLU: l.ReLU})
		case *Dropout[T]:
			spec.Layers = append(spec.Layers, LayerSpec{Type: DropoutType, P: l.P})
		case Activation[T]:
			if _, ok := acts[l.Name]; !ok {
				return Spec{}, fmt.Errorf("layers: SpecOf: layer %d: activation %q has no spec", i, l.Name)
			}
			spec.Layers = append(spec.Layers, LayerSpec{Type: l.Name})
		default:
			return Spec{}, fmt.Errorf("layers: SpecOf: layer %d: %T has no spec", i, l)
		}
	}
	if spec.Inputs == 0 {
		return Spec{}, fmt.Errorf("layers: SpecOf: the stack has no Linear layer first")
	}
	return spec, spec.Check()
}

// paramPrefix returns name without suffix, if it has the suffix and
// something before it.
func paramPrefix(name, suffix string) (string, bool) {
	n := len(name) - len(suffix)
	if n < 1 || name[n:] != suffix {
		return "", false
	}
	return name[:n], true
}
