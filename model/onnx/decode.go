package onnx

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	pb "github.com/advancedclimatesystems/gonnx/onnx"
	"google.golang.org/protobuf/proto"

	"github.com/flowgrad/flowgrad/autograd"
	"github.com/flowgrad/flowgrad/layers"
	"github.com/flowgrad/flowgrad/tensor"
)

// Opsets accepted by Decode: from 7 (Gemm lost its broadcast attribute) to
// 23; the operators of the family mean the same in all of them.
const (
	minOpset = 7
	maxOpset = 23
)

// family says, in error messages, which graphs Decode converts.
const family = "supported: one chain of Gemm (transA 0), or MatMul with an optional Add of a bias, " +
	"with Relu, Tanh, Sigmoid between them, optionally a final Softmax over the last axis, " +
	"Sub then Div by constants before the first layer, Mul then Add by constants after the last " +
	"(and Identity, Dropout in inference, Constant)"

// Decode reads an ONNX model from r and returns it as a Network whose
// layers can be trained further: each Gemm, or MatMul with the Add of its
// bias, becomes a Linear layer (a Relu right after it is fused into it)
// named NAME if its initializers are NAME.W and NAME.b, as Encode writes
// them, else fc1, fc2, …; Relu, Tanh and Sigmoid nodes become activation layers,
// and the elementwise steps around the layers become the Network's other
// fields (see Network). Gemm's alpha and beta are multiplied into the
// weights and bias; a B input with transB 1 is transposed into flowgrad's
// inputs×outputs layout. Initializers may hold raw_data or float_data.
//
// Decode returns an error wrapping ErrInvalid for bytes that are not a
// well-formed ONNX model, and one wrapping ErrUnsupported, naming the node
// and its operator, for a graph outside the family (other operators,
// branches, more than one input or output, inputs of another rank, shapes
// that do not chain, external-data tensors, element types other than
// float32). It never returns part of a model.
func Decode(r io.Reader) (*Network, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("onnx: reading the model: %w", err)
	}
	return decode(b)
}

func decode(b []byte) (*Network, error) {
	var m pb.ModelProto
	if err := proto.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("onnx: %w: the protobuf does not parse (%v): is the file truncated, or not an ONNX model?", ErrInvalid, err)
	}
	if m.Graph == nil || len(m.Graph.Node) == 0 {
		return nil, fmt.Errorf("onnx: %w: no graph (%d bytes): is the file empty, or not an ONNX model?", ErrInvalid, len(b))
	}
	if err := checkOpset(&m); err != nil {
		return nil, err
	}
	d := &decoder{consts: map[string]*pb.TensorProto{}}
	for _, t := range m.Graph.Initializer {
		d.consts[t.Name] = t
	}
	if len(m.Graph.SparseInitializer) > 0 {
		return nil, fmt.Errorf("onnx: %w: sparse initializer %q (%s)", ErrUnsupported, m.Graph.SparseInitializer[0].GetValues().GetName(), family)
	}
	if err := d.input(m.Graph); err != nil {
		return nil, err
	}
	for _, nd := range m.Graph.Node {
		if err := d.node(nd); err != nil {
			return nil, err
		}
	}
	if err := d.output(m.Graph); err != nil {
		return nil, err
	}
	d.net.Net = layers.NewSequential(d.layers...)
	if len(m.MetadataProps) > 0 {
		d.net.Metadata = map[string]string{}
		for _, p := range m.MetadataProps {
			d.net.Metadata[p.Key] = p.Value
		}
	}
	if _, _, err := d.net.Sizes(); err != nil { // NaN or infinite values
		return nil, err
	}
	return &d.net, nil
}

// checkOpset returns an error unless m imports a default-domain opset that
// Decode understands.
func checkOpset(m *pb.ModelProto) error {
	for _, o := range m.OpsetImport {
		if o.Domain != "" && o.Domain != "ai.onnx" {
			continue
		}
		if o.Version < minOpset || o.Version > maxOpset {
			return fmt.Errorf("onnx: %w: opset %d (flowgrad reads opsets %d to %d)", ErrUnsupported, o.Version, minOpset, maxOpset)
		}
		return nil
	}
	return fmt.Errorf("onnx: %w: no opset_import for the default ONNX domain", ErrInvalid)
}

// stage is where in the chain the decoder is: each stage admits the
// operators of itself and of the stages after it.
type stage int

const (
	preStage     stage = iota // Sub, Div by constants
	layerStage                // Gemm, MatMul (+Add), Relu, Tanh, Sigmoid
	softmaxStage              // after Softmax: nothing
	scaleStage                // after Mul: Add
	shiftStage                // after the final Add: nothing
)

// decoder turns a chain of nodes into a Network.
type decoder struct {
	consts map[string]*pb.TensorProto // initializers and Constant outputs
	cur    string                     // the value the next node must consume
	width  int                        // its number of columns
	stage  stage
	// pending is a Linear layer made by a MatMul, or a Gemm without C,
	// whose bias an Add right after it supplies.
	pending *layers.Linear[float32]
	linears int
	names   map[string]bool // of the Linear layers so far
	layers  []layers.Layer[float32]
	net     Network
	in      int // the graph's number of input features
}

// input finds the graph's one input that is not an initializer and checks
// that it is a float32 batch of feature rows.
func (d *decoder) input(g *pb.GraphProto) error {
	var ins []*pb.ValueInfoProto
	for _, v := range g.Input {
		if _, ok := d.consts[v.Name]; !ok {
			ins = append(ins, v)
		}
	}
	if len(ins) != 1 {
		return fmt.Errorf("onnx: %w: the graph has %d inputs (%s), flowgrad's networks take one", ErrUnsupported, len(ins), valueNames(ins))
	}
	cols, err := featureDim(ins[0], "input")
	if err != nil {
		return err
	}
	if cols < 0 {
		return fmt.Errorf("onnx: %w: input %q does not say its number of features (the second dimension); flowgrad needs it fixed", ErrUnsupported, ins[0].Name)
	}
	d.cur, d.width, d.in = ins[0].Name, cols, cols
	return nil
}

// output checks that the chain ended at the graph's one output.
func (d *decoder) output(g *pb.GraphProto) error {
	if len(g.Output) != 1 {
		return fmt.Errorf("onnx: %w: the graph has %d outputs (%s), flowgrad's networks give one", ErrUnsupported, len(g.Output), valueNames(g.Output))
	}
	o := g.Output[0]
	if o.Name != d.cur {
		return fmt.Errorf("onnx: %w: the graph's output %q is not the end of the chain of nodes (%q is)", ErrUnsupported, o.Name, d.cur)
	}
	if d.linears == 0 {
		return fmt.Errorf("onnx: %w: the graph has no Gemm or MatMul layer (%s)", ErrUnsupported, family)
	}
	cols, err := featureDim(o, "output")
	if err != nil {
		return err
	}
	if cols >= 0 && cols != d.width {
		return fmt.Errorf("onnx: %w: output %q is declared with %d columns but the layers give %d", ErrUnsupported, o.Name, cols, d.width)
	}
	return nil
}

// featureDim checks that v is a float32 tensor of rank 2 (or of unknown
// shape, for an output) and returns its second dimension, or -1 if it is
// not fixed.
func featureDim(v *pb.ValueInfoProto, what string) (int, error) {
	tt := v.GetType().GetTensorType()
	if tt == nil {
		return 0, fmt.Errorf("onnx: %w: %s %q is not a tensor", ErrUnsupported, what, v.Name)
	}
	if et := pb.TensorProto_DataType(tt.ElemType); et != pb.TensorProto_FLOAT {
		return 0, fmt.Errorf("onnx: %w: %s %q has element type %v; flowgrad converts float32 models only (convert the model to float32 first, e.g. model.float() in PyTorch)", ErrUnsupported, what, v.Name, et)
	}
	if tt.Shape == nil {
		if what == "input" {
			return 0, fmt.Errorf("onnx: %w: input %q has no shape; flowgrad needs rank 2 (batch × features)", ErrUnsupported, v.Name)
		}
		return -1, nil
	}
	if len(tt.Shape.Dim) != 2 {
		return 0, fmt.Errorf("onnx: %w: %s %q has rank %d; flowgrad's networks take and give rank 2 (batch × features)", ErrUnsupported, what, v.Name, len(tt.Shape.Dim))
	}
	dv, ok := tt.Shape.Dim[1].Value.(*pb.TensorShapeProto_Dimension_DimValue)
	switch {
	case !ok:
		return -1, nil
	case dv.DimValue < 1 || dv.DimValue > math.MaxInt32:
		return 0, fmt.Errorf("onnx: %w: %s %q has %d features", ErrUnsupported, what, v.Name, dv.DimValue)
	}
	return int(dv.DimValue), nil
}

func valueNames(vs []*pb.ValueInfoProto) string {
	var s []string
	for _, v := range vs {
		s = append(s, fmt.Sprintf("%q", v.Name))
	}
	if len(s) == 0 {
		return "none"
	}
	return fmt.Sprint(s)
}

// refuse returns the error for node nd outside the family.
func refuse(nd *pb.NodeProto, format string, args ...any) error {
	return fmt.Errorf("onnx: node %q (%s): %w: %s (%s)", nodeName(nd), nd.OpType, ErrUnsupported, fmt.Sprintf(format, args...), family)
}

// nodeName returns nd's name, or its first output's for an unnamed node.
func nodeName(nd *pb.NodeProto) string {
	if nd.Name == "" && len(nd.Output) > 0 {
		return nd.Output[0]
	}
	return nd.Name
}

// node applies one node of the chain.
func (d *decoder) node(nd *pb.NodeProto) error {
	if nd.Domain != "" && nd.Domain != "ai.onnx" {
		return refuse(nd, "operator of domain %q", nd.Domain)
	}
	if nd.OpType == "Constant" {
		return d.constant(nd)
	}
	consts, err := d.operands(nd)
	if err != nil {
		return err
	}
	if len(nd.Output) != 1 && (nd.OpType != "Dropout" || len(nd.Output) != 2) || nd.Output[0] == "" {
		return refuse(nd, "%d outputs %q, want one", len(nd.Output), nd.Output)
	}
	pending := d.pending
	d.pending = nil
	switch op := nd.OpType; op {
	case "Identity", "Dropout":
		if len(consts) > 0 || len(nd.Attribute) > 0 && op == "Identity" {
			return refuse(nd, "Dropout in training mode, or operands beside its input")
		}
		d.pending = pending
	case "Gemm", "MatMul":
		if d.stage > layerStage {
			return refuse(nd, "a layer after the final Softmax or output scaling")
		}
		if err := d.affine(nd, consts); err != nil {
			return err
		}
	case "Relu", "Tanh", "Sigmoid":
		if err := d.noOperands(nd, consts); err != nil {
			return err
		}
		if d.stage > layerStage {
			return refuse(nd, "an activation after the final Softmax or output scaling")
		}
		d.stage = layerStage
		if l, ok := d.last().(*layers.Linear[float32]); ok && op == "Relu" && !l.ReLU {
			l.ReLU = true
		} else {
			d.layers = append(d.layers, activationLayer(op))
		}
	case "Softmax":
		if err := d.noOperands(nd, consts); err != nil {
			return err
		}
		if d.stage != layerStage || d.linears == 0 {
			return refuse(nd, "Softmax only after the last layer")
		}
		for _, a := range nd.Attribute {
			if a.Name != "axis" || a.I != -1 && a.I != 1 {
				return refuse(nd, "attribute %s=%d: only the softmax over the last axis of a batch × classes tensor (axis -1 or 1)", a.Name, a.I)
			}
		}
		d.stage, d.net.Softmax = softmaxStage, true
	case "Sub", "Div":
		v, err := d.vector(nd, consts, d.width)
		if err != nil {
			return err
		}
		switch {
		case d.stage != preStage || op == "Sub" && (d.net.InputMean != nil || d.net.InputStd != nil) || op == "Div" && d.net.InputStd != nil:
			return refuse(nd, "%s by a constant only to standardise the input, (x − mean)/std, before the first layer", op)
		case op == "Sub":
			d.net.InputMean = v
		default:
			d.net.InputStd = v
		}
	case "Add", "Mul":
		v, err := d.vector(nd, consts, d.width)
		if err != nil {
			return err
		}
		switch {
		case op == "Add" && pending != nil:
			copy(pending.B.Data().Data(), v)
		case d.stage == preStage || d.stage == softmaxStage || d.stage == shiftStage || op == "Mul" && d.stage == scaleStage:
			return refuse(nd, "%s by a constant only as a layer's bias or to scale the network's output (Mul, then Add) after the last layer", op)
		case op == "Mul":
			d.stage, d.net.OutputScale = scaleStage, v
		default:
			d.stage, d.net.OutputShift = shiftStage, v
		}
	default:
		return refuse(nd, "operator %s", op)
	}
	d.cur = nd.Output[0]
	return nil
}

// last returns the last layer so far, or nil.
func (d *decoder) last() layers.Layer[float32] {
	if len(d.layers) == 0 {
		return nil
	}
	return d.layers[len(d.layers)-1]
}

// operands checks that nd consumes the current value and otherwise only
// constants, and returns the names of its inputs after the current value
// (with "" for an omitted optional input). Commutative Add and Mul may take
// the current value second.
func (d *decoder) operands(nd *pb.NodeProto) ([]string, error) {
	ins := nd.Input
	if len(ins) == 2 && (nd.OpType == "Add" || nd.OpType == "Mul") && ins[1] == d.cur {
		ins = []string{ins[1], ins[0]}
	}
	if len(ins) == 0 || ins[0] != d.cur {
		return nil, refuse(nd, "it does not take the output of the node before it (%q) as its first input: flowgrad converts a single chain of nodes", d.cur)
	}
	for _, s := range ins[1:] {
		if _, ok := d.consts[s]; !ok && s != "" {
			return nil, refuse(nd, "input %q is neither the output of the node before it nor a constant: flowgrad converts a single chain of nodes", s)
		}
	}
	return ins[1:], nil
}

func (d *decoder) noOperands(nd *pb.NodeProto, consts []string) error {
	if len(consts) > 0 {
		return refuse(nd, "operands %q beside its input", consts)
	}
	return nil
}

// constant records the tensor of a Constant node.
func (d *decoder) constant(nd *pb.NodeProto) error {
	if len(nd.Input) != 0 || len(nd.Output) != 1 || len(nd.Attribute) != 1 || nd.Attribute[0].Name != "value" || nd.Attribute[0].T == nil {
		return refuse(nd, "only a Constant with one tensor attribute \"value\"")
	}
	t := proto.Clone(nd.Attribute[0].T).(*pb.TensorProto)
	t.Name = nd.Output[0]
	d.consts[t.Name] = t
	return nil
}

// affine appends the Linear layer of a Gemm or MatMul node.
func (d *decoder) affine(nd *pb.NodeProto, consts []string) error {
	alpha, beta, transB := float32(1), float32(1), false
	for _, a := range nd.Attribute {
		switch {
		case nd.OpType == "Gemm" && a.Name == "alpha":
			alpha = a.F
		case nd.OpType == "Gemm" && a.Name == "beta":
			beta = a.F
		case nd.OpType == "Gemm" && a.Name == "transB" && (a.I == 0 || a.I == 1):
			transB = a.I == 1
		case nd.OpType == "Gemm" && a.Name == "transA" && a.I == 0:
		default:
			return refuse(nd, "attribute %s=%v", a.Name, attrValue(a))
		}
	}
	if len(consts) < 1 || consts[0] == "" || nd.OpType == "MatMul" && len(consts) != 1 || len(consts) > 2 {
		return refuse(nd, "%d inputs", len(consts)+1)
	}
	w, dims, err := d.floats(nd, consts[0])
	if err != nil {
		return err
	}
	if len(dims) != 2 {
		return refuse(nd, "weight %q has shape %v, want a matrix", consts[0], dims)
	}
	k, n := dims[0], dims[1]
	if transB {
		k, n = n, k
		w = transpose(w, n, k)
	}
	if k != d.width {
		return refuse(nd, "shapes do not chain: weight %q takes %d inputs but the value before it has %d columns", consts[0], k, d.width)
	}
	if d.linears == 0 { // k is the input's width: broadcast a scalar mean or std
		for _, v := range []*[]float32{&d.net.InputMean, &d.net.InputStd} {
			if len(*v) == 1 {
				*v = slices.Repeat(*v, k)
			}
		}
	}
	for i := range w {
		w[i] *= alpha
	}
	d.linears++
	name := d.layerName(consts)
	l := &layers.Linear[float32]{
		W: autograd.NewParam(name+".W", tensor.FromSlice(k, n, w)),
		B: autograd.NewParam(name+".b", tensor.New[float32](1, n)),
	}
	if len(consts) == 2 && consts[1] != "" {
		b, err := d.vector(nd, consts[1:], n)
		if err != nil {
			return err
		}
		for i := range b {
			b[i] *= beta
		}
		copy(l.B.Data().Data(), b)
	} else {
		d.pending = l
	}
	if nd.OpType == "MatMul" {
		d.pending = l
	}
	d.layers = append(d.layers, l)
	d.stage, d.width = layerStage, n
	return nil
}

// layerName returns the name of the next Linear layer: NAME when its
// weight and bias initializers are NAME.W and NAME.b (as Encode writes
// them) and NAME is not taken, else the first free one of fc1, fc2, ….
func (d *decoder) layerName(consts []string) string {
	if d.names == nil {
		d.names = map[string]bool{}
	}
	name, ok := strings.CutSuffix(consts[0], ".W")
	if !ok || name == "" || d.names[name] || len(consts) == 2 && consts[1] != name+".b" {
		for i := d.linears; ; i++ {
			if name = fmt.Sprintf("fc%d", i); !d.names[name] {
				break
			}
		}
	}
	d.names[name] = true
	return name
}

// transpose returns the cols×rows transpose of the rows×cols matrix a.
func transpose(a []float32, rows, cols int) []float32 {
	t := make([]float32, len(a))
	for i := range rows {
		for j := range cols {
			t[j*rows+i] = a[i*cols+j]
		}
	}
	return t
}

// vector returns the one constant of consts as n values, broadcasting a
// scalar.
func (d *decoder) vector(nd *pb.NodeProto, consts []string, n int) ([]float32, error) {
	if len(consts) != 1 || consts[0] == "" {
		return nil, refuse(nd, "want the value before it and one constant")
	}
	v, dims, err := d.floats(nd, consts[0])
	if err != nil {
		return nil, err
	}
	switch {
	case len(v) == 1 && d.linears == 0:
		// The input's width is not yet backed by weights: a file can
		// claim any number of features. affine broadcasts it.
		return v, nil
	case len(v) == 1:
		return slices.Repeat(v, n), nil
	case len(v) == n && (len(dims) == 1 || len(dims) == 2 && dims[0] == 1):
		return v, nil
	}
	return nil, refuse(nd, "shapes do not chain: constant %q of shape %v does not broadcast over the %d columns of the value before it", consts[0], dims, n)
}

// floats returns the values and shape of the float32 constant name,
// a fresh slice.
func (d *decoder) floats(nd *pb.NodeProto, name string) ([]float32, []int, error) {
	t := d.consts[name]
	if t.DataLocation == pb.TensorProto_EXTERNAL || len(t.ExternalData) > 0 {
		return nil, nil, refuse(nd, "tensor %q is stored in an external file; save the model with its weights inside (onnx.save_model(m, f, save_as_external_data=False))", name)
	}
	if et := pb.TensorProto_DataType(t.DataType); et != pb.TensorProto_FLOAT {
		return nil, nil, refuse(nd, "tensor %q has element type %v; flowgrad converts float32 models only (convert the model to float32 first, e.g. model.float() in PyTorch)", name, et)
	}
	if t.Segment != nil {
		return nil, nil, refuse(nd, "tensor %q is segmented", name)
	}
	size, dims := 1, make([]int, len(t.Dims))
	for i, n := range t.Dims {
		if n < 0 || n > math.MaxInt32 || size*int(n) > math.MaxInt32 {
			return nil, nil, fmt.Errorf("onnx: node %q (%s): %w: tensor %q has shape %v", nodeName(nd), nd.OpType, ErrInvalid, name, t.Dims)
		}
		dims[i] = int(n)
		size *= int(n)
	}
	if size == 0 {
		return nil, nil, refuse(nd, "tensor %q of shape %v is empty", name, t.Dims)
	}
	switch {
	case t.RawData != nil && len(t.FloatData) == 0 && len(t.RawData) == 4*size:
		v := make([]float32, size)
		for i := range v {
			v[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.RawData[4*i:]))
		}
		return v, dims, nil
	case t.RawData == nil && len(t.FloatData) == size:
		return slices.Clone(t.FloatData), dims, nil
	}
	return nil, nil, fmt.Errorf("onnx: node %q (%s): %w: tensor %q of shape %v holds %d raw bytes and %d float_data values, want %d values in one of them",
		nodeName(nd), nd.OpType, ErrInvalid, name, t.Dims, len(t.RawData), len(t.FloatData), size)
}

// attrValue returns the value of an INT or FLOAT attribute, else its type.
func attrValue(a *pb.AttributeProto) any {
	switch a.Type {
	case pb.AttributeProto_INT:
		return a.I
	case pb.AttributeProto_FLOAT:
		return a.F
	}
	return a.Type
}
