package onnx

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"slices"

	pb "github.com/advancedclimatesystems/gonnx/onnx"
	"google.golang.org/protobuf/proto"

	"github.com/flowgrad/flowgrad/layers"
)

// Encode writes n to w as an ONNX model (opset 13, float32) whose graph
// takes "input", a float32 tensor of shape N×Inputs with N the dynamic batch
// dimension, and gives "output", N×Outputs. Each Linear layer becomes a
// Gemm node whose weight and bias initializers carry the parameters' names
// ("fc1.W", "fc1.b"); a fused ReLU and each activation layer become Relu,
// Tanh or Sigmoid nodes; Dropout layers, the identity at inference, are
// left out; InputMean and InputStd become Sub and Div,
// Softmax a Softmax over the last axis, OutputScale and OutputShift Mul
// and Add. Encode returns an error, and writes nothing, for a network that
// Sizes refuses; it returns w's error if writing fails.
func Encode(w io.Writer, n *Network) error {
	m, err := n.proto()
	if err != nil {
		return err
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		return fmt.Errorf("onnx: encoding the model: %w", err)
	}
	_, err = w.Write(b)
	return err
}

// graphBuilder appends nodes and initializers to a graph, threading the
// name of the value that the next node consumes.
type graphBuilder struct {
	g   *pb.GraphProto
	cur string
}

// node appends an operator op named name that takes the current value and
// the initializers consts and makes output out (a fresh name if "").
func (b *graphBuilder) node(op, name, out string, consts []string, attrs ...*pb.AttributeProto) {
	if out == "" {
		out = name + ".out"
	}
	b.g.Node = append(b.g.Node, &pb.NodeProto{
		Name: name, OpType: op, Input: append([]string{b.cur}, consts...), Output: []string{out}, Attribute: attrs,
	})
	b.cur = out
}

// initializer adds a float32 initializer of the given shape.
func (b *graphBuilder) initializer(name string, data []float32, dims ...int64) string {
	b.g.Initializer = append(b.g.Initializer, &pb.TensorProto{
		Name: name, DataType: int32(pb.TensorProto_FLOAT), Dims: dims, RawData: f32bytes(data),
	})
	return name
}

// f32bytes returns x as ONNX raw_data: little-endian IEEE 754 values.
func f32bytes(x []float32) []byte {
	raw := make([]byte, 4*len(x))
	for i, v := range x {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	return raw
}

// proto returns n as an ONNX ModelProto.
func (n *Network) proto() (*pb.ModelProto, error) {
	in, out, err := n.Sizes()
	if err != nil {
		return nil, err
	}
	b := &graphBuilder{g: &pb.GraphProto{Name: "flowgrad"}, cur: InputName}
	if n.InputMean != nil {
		b.node("Sub", "standardise.sub", "", []string{b.initializer("input.mean", n.InputMean, int64(in))})
	}
	if n.InputStd != nil {
		b.node("Div", "standardise.div", "", []string{b.initializer("input.std", n.InputStd, int64(in))})
	}
	for i, l := range n.Net.Layers {
		switch l := l.(type) {
		case *layers.Linear[float32]:
			w, bias := l.W.Data(), l.B.Data()
			name := fmt.Sprintf("layer%d.gemm", i+1)
			b.node("Gemm", name, "", []string{
				b.initializer(l.W.Name(), w.Data(), int64(w.Rows()), int64(w.Cols())),
				b.initializer(l.B.Name(), bias.Data(), int64(w.Cols())),
			})
			if l.ReLU {
				b.node("Relu", fmt.Sprintf("layer%d.relu", i+1), "", nil)
			}
		case *layers.Dropout[float32]:
		default:
			op, _ := activationOp(l) // Sizes checked it
			b.node(op, fmt.Sprintf("layer%d.%s", i+1, op), "", nil)
		}
	}
	if n.Softmax {
		b.node("Softmax", "softmax", "", nil, &pb.AttributeProto{Name: "axis", Type: pb.AttributeProto_INT, I: -1})
	}
	if n.OutputScale != nil {
		b.node("Mul", "unscale.mul", "", []string{b.initializer("output.scale", n.OutputScale, int64(out))})
	}
	if n.OutputShift != nil {
		b.node("Add", "unscale.add", "", []string{b.initializer("output.shift", n.OutputShift, int64(out))})
	}
	last := b.g.Node[len(b.g.Node)-1]
	last.Output[0] = OutputName
	b.g.Input = []*pb.ValueInfoProto{valueInfo(InputName, in)}
	b.g.Output = []*pb.ValueInfoProto{valueInfo(OutputName, out)}

	if err := uniqueNames(b.g); err != nil {
		return nil, err
	}
	m := &pb.ModelProto{
		IrVersion:    irVersion,
		OpsetImport:  []*pb.OperatorSetIdProto{{Domain: "", Version: Opset}},
		ProducerName: "flowgrad",
		Graph:        b.g,
	}
	keys := make([]string, 0, len(n.Metadata))
	for k := range n.Metadata {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		m.MetadataProps = append(m.MetadataProps, &pb.StringStringEntryProto{Key: k, Value: n.Metadata[k]})
	}
	return m, nil
}

// valueInfo describes a float32 tensor of shape N×cols, N the batch.
func valueInfo(name string, cols int) *pb.ValueInfoProto {
	return &pb.ValueInfoProto{Name: name, Type: &pb.TypeProto{Value: &pb.TypeProto_TensorType{TensorType: &pb.TypeProto_Tensor{
		ElemType: int32(pb.TensorProto_FLOAT),
		Shape: &pb.TensorShapeProto{Dim: []*pb.TensorShapeProto_Dimension{
			{Value: &pb.TensorShapeProto_Dimension_DimParam{DimParam: BatchDim}},
			{Value: &pb.TensorShapeProto_Dimension_DimValue{DimValue: int64(cols)}},
		}},
	}}}}
}

// uniqueNames returns an error if two values of g (the input, initializers,
// node outputs) share a name, as two parameters with one name would.
func uniqueNames(g *pb.GraphProto) error {
	seen := map[string]bool{InputName: true}
	names := []string{}
	for _, t := range g.Initializer {
		names = append(names, t.Name)
	}
	for _, nd := range g.Node {
		names = append(names, nd.Output...)
	}
	for _, s := range names {
		if seen[s] {
			return fmt.Errorf("onnx: two values of the graph are named %q: give the parameters unique names", s)
		}
		seen[s] = true
	}
	return nil
}
