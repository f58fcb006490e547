package onnx

import (
	"errors"
	"fmt"
	"math"

	"github.com/flowgrad/flowgrad/layers"
)

// Opset is the version of the default ONNX operator set that Encode writes
// (and the one gonnx, the Go runtime the tests run the files with, serves).
const Opset = 13

// irVersion is the ONNX IR version of the files Encode writes: 7 is the
// one that introduced opset 13.
const irVersion = 7

// Names of the graph's input and output and of the batch dimension.
const (
	InputName  = "input"
	OutputName = "output"
	BatchDim   = "N"
)

// ErrUnsupported is wrapped by the errors for graphs, layers and tensors
// outside the family this package converts.
var ErrUnsupported = errors.New("unsupported")

// ErrInvalid is wrapped by the errors for bytes that are not a well-formed
// ONNX model: truncated or corrupted protobuf, dangling names, tensors
// whose data does not match their shape.
var ErrInvalid = errors.New("invalid ONNX model")

// Network is the ONNX view of a flowgrad network: the layers, and the
// elementwise steps around them that the graph applies.
//
// On a row x of Inputs values the graph computes, in order:
//
//	x ← (x − InputMean) / InputStd     (each when not nil)
//	x ← Net(x)                         (Linear, ReLU, Tanh, Sigmoid layers)
//	x ← softmax(x)                     (when Softmax)
//	x ← x·OutputScale + OutputShift    (each when not nil)
//
// The vectors hold one value per input (InputMean, InputStd) or output
// (OutputScale, OutputShift). Softmax and the output scaling do not go
// together.
type Network struct {
	Net                      *layers.Sequential[float32]
	InputMean, InputStd      []float32
	Softmax                  bool
	OutputScale, OutputShift []float32
	// Metadata is written as the model's metadata_props (key/value
	// strings: class names, feature names, …) and read back.
	Metadata map[string]string
}

// Sizes returns the number of inputs and outputs of n's layers. It returns
// an error if n has no Linear layer, a layer of another type, layers whose
// shapes do not chain, a vector of the wrong length, a value that is NaN
// or infinite, a zero InputStd, or Softmax with output scaling.
func (n *Network) Sizes() (in, out int, err error) {
	if n.Net == nil {
		return 0, 0, fmt.Errorf("onnx: the network has no layers")
	}
	for i, l := range n.Net.Layers {
		switch l := l.(type) {
		case *layers.Linear[float32]:
			w := l.W.Data()
			if in == 0 {
				in = w.Rows()
			} else if w.Rows() != out {
				return 0, 0, fmt.Errorf("onnx: layer %d (Linear %s) takes %d inputs but the layers before it give %d", i+1, l.W.Name(), w.Rows(), out)
			}
			out = w.Cols()
			if b := l.B.Data(); b.Rows() != 1 || b.Cols() != out {
				return 0, 0, fmt.Errorf("onnx: layer %d (Linear %s): bias is %v, want 1×%d", i+1, l.W.Name(), b.Shape(), out)
			}
			for _, p := range l.Params() {
				if err := finite(p.Name(), p.Data().Data()); err != nil {
					return 0, 0, err
				}
			}
		case *layers.Dropout[float32]:
			// The identity at inference: not written.
		default:
			if _, err := activationOp(l); err != nil {
				return 0, 0, fmt.Errorf("onnx: layer %d: %w", i+1, err)
			}
		}
	}
	if in == 0 {
		return 0, 0, fmt.Errorf("onnx: %w: the network has no Linear layer", ErrUnsupported)
	}
	for _, v := range []struct {
		name string
		x    []float32
		want int
	}{{"InputMean", n.InputMean, in}, {"InputStd", n.InputStd, in}, {"OutputScale", n.OutputScale, out}, {"OutputShift", n.OutputShift, out}} {
		if v.x == nil {
			continue
		}
		if len(v.x) != v.want {
			return 0, 0, fmt.Errorf("onnx: %s has %d values, want %d", v.name, len(v.x), v.want)
		}
		if err := finite(v.name, v.x); err != nil {
			return 0, 0, err
		}
	}
	for j, s := range n.InputStd {
		if s == 0 {
			return 0, 0, fmt.Errorf("onnx: InputStd[%d] is 0: standardising would divide by zero", j)
		}
	}
	if n.Softmax && (n.OutputScale != nil || n.OutputShift != nil) {
		return 0, 0, fmt.Errorf("onnx: %w: Softmax with output scaling (probabilities are not rescaled)", ErrUnsupported)
	}
	return in, out, nil
}

// finite returns an error naming what and the index of the first NaN or
// infinite value of x.
func finite(what string, x []float32) error {
	for i, v := range x {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("onnx: %s[%d] is %v: a model with NaN or infinite values cannot be converted", what, i, v)
		}
	}
	return nil
}

// activationOp returns the ONNX operator of an activation layer.
func activationOp(l layers.Layer[float32]) (string, error) {
	var name string
	switch a := l.(type) {
	case layers.Activation[float32]:
		name = a.Name
	case *layers.Activation[float32]:
		name = a.Name
	default:
		return "", fmt.Errorf("%w: layer type %T has no ONNX form here (supported: Linear, Dropout, and the activations ReLU, Tanh, Sigmoid)", ErrUnsupported, l)
	}
	switch name {
	case "ReLU":
		return "Relu", nil
	case "Tanh", "Sigmoid":
		return name, nil
	}
	return "", fmt.Errorf("%w: activation %q has no ONNX form here (supported: ReLU, Tanh, Sigmoid)", ErrUnsupported, name)
}

// activationLayer returns the layer of an ONNX activation operator.
func activationLayer(op string) layers.Layer[float32] {
	switch op {
	case "Relu":
		return layers.ReLU[float32]()
	case "Tanh":
		return layers.Tanh[float32]()
	case "Sigmoid":
		return layers.Sigmoid[float32]()
	}
	panic("onnx: activationLayer: " + op)
}
