package onnx

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	pb "github.com/advancedclimatesystems/gonnx/onnx"
	"google.golang.org/protobuf/proto"

	"github.com/flowgrad/flowgrad/layers"
)

// encoded returns the bytes of n.
func encoded(t testing.TB, n *Network) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Encode(&buf, n); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// modelProto returns n as a ModelProto to alter.
func modelProto(t testing.TB, n *Network) *pb.ModelProto {
	t.Helper()
	var m pb.ModelProto
	if err := proto.Unmarshal(encoded(t, n), &m); err != nil {
		t.Fatal(err)
	}
	return &m
}

func marshal(t testing.TB, m *pb.ModelProto) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// node returns m's node of type op (the first).
func node(m *pb.ModelProto, op string) *pb.NodeProto {
	for _, n := range m.Graph.Node {
		if n.OpType == op {
			return n
		}
	}
	panic("no " + op)
}

// initializer returns m's initializer name.
func initializer(m *pb.ModelProto, name string) *pb.TensorProto {
	for _, t := range m.Graph.Initializer {
		if t.Name == name {
			return t
		}
	}
	panic("no " + name)
}

func TestBadModelsAreRefusedWithAReason(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 5))
	base := variants(rng, 4, 3)["standardised"]
	for _, tc := range []struct {
		name  string
		alter func(m *pb.ModelProto)
		is    error
		want  []string // in the message
	}{
		{"unsupported operator", func(m *pb.ModelProto) { node(m, "Tanh").OpType = "LeakyRelu" },
			ErrUnsupported, []string{`node "layer3.Tanh"`, "LeakyRelu", "supported:"}},
		{"operator of another domain", func(m *pb.ModelProto) { node(m, "Tanh").Domain = "com.microsoft" },
			ErrUnsupported, []string{"com.microsoft"}},
		{"weights that do not chain", func(m *pb.ModelProto) {
			w := initializer(m, "hidden.1.W")
			w.Dims[0]--
			w.RawData = w.RawData[:4*w.Dims[0]*w.Dims[1]]
		}, ErrUnsupported, []string{`node "layer2.gemm"`, "shapes do not chain", `"hidden.1.W" takes 15 inputs`, "16 columns"}},
		{"bias of the wrong length", func(m *pb.ModelProto) {
			b := initializer(m, "hidden.1.b")
			b.Dims[0]--
			b.RawData = b.RawData[:4*b.Dims[0]]
		}, ErrUnsupported, []string{"shapes do not chain", `"hidden.1.b"`, "[11]"}},
		{"output declared with other columns", func(m *pb.ModelProto) {
			m.Graph.Output[0].Type.GetTensorType().Shape.Dim[1].Value = &pb.TensorShapeProto_Dimension_DimValue{DimValue: 5}
		}, ErrUnsupported, []string{"5 columns", "give 3"}},
		{"raw data of the wrong size", func(m *pb.ModelProto) { w := initializer(m, "first.W"); w.RawData = w.RawData[:len(w.RawData)-1] },
			ErrInvalid, []string{`"first.W"`, "raw bytes"}},
		{"external data", func(m *pb.ModelProto) {
			w := initializer(m, "first.W")
			w.DataLocation, w.RawData = pb.TensorProto_EXTERNAL, nil
			w.ExternalData = []*pb.StringStringEntryProto{{Key: "location", Value: "weights.bin"}}
		}, ErrUnsupported, []string{`"first.W"`, "external file"}},
		{"float64 weights", func(m *pb.ModelProto) {
			w := initializer(m, "first.W")
			w.DataType, w.RawData, w.DoubleData = int32(pb.TensorProto_DOUBLE), nil, make([]float64, 64)
		}, ErrUnsupported, []string{`"first.W"`, "DOUBLE", "float32"}},
		{"int64 input", func(m *pb.ModelProto) { m.Graph.Input[0].Type.GetTensorType().ElemType = int32(pb.TensorProto_INT64) },
			ErrUnsupported, []string{`input "input"`, "INT64"}},
		{"image input", func(m *pb.ModelProto) {
			s := m.Graph.Input[0].Type.GetTensorType().Shape
			s.Dim = append(s.Dim, s.Dim[1], s.Dim[1])
		}, ErrUnsupported, []string{"rank 4"}},
		{"two inputs", func(m *pb.ModelProto) {
			second := proto.Clone(m.Graph.Input[0]).(*pb.ValueInfoProto)
			second.Name = "mask"
			m.Graph.Input = append(m.Graph.Input, second)
		}, ErrUnsupported, []string{"2 inputs", `"mask"`}},
		{"a branch", func(m *pb.ModelProto) { node(m, "Sigmoid").Input[0] = "layer1.gemm.out" },
			ErrUnsupported, []string{`node "layer6.Sigmoid"`, "single chain"}},
		{"transA", func(m *pb.ModelProto) {
			g := node(m, "Gemm")
			g.Attribute = append(g.Attribute, &pb.AttributeProto{Name: "transA", Type: pb.AttributeProto_INT, I: 1})
		}, ErrUnsupported, []string{"Gemm", "attribute transA"}},
		{"Mul before the first layer", func(m *pb.ModelProto) {
			d := node(m, "Div")
			d.OpType = "Mul"
			d.Input[1] = "input.std"
		}, ErrUnsupported, []string{"Mul by a constant only"}},
		{"NaN weight", func(m *pb.ModelProto) {
			w := initializer(m, "hidden.2.W")
			copy(w.RawData, []byte{0, 0, 0xc0, 0x7f})
		}, nil, []string{"hidden.2.W[0] is NaN"}},
		{"no opset", func(m *pb.ModelProto) { m.OpsetImport = nil }, ErrInvalid, []string{"opset_import"}},
		{"old opset", func(m *pb.ModelProto) { m.OpsetImport[0].Version = 6 }, ErrUnsupported, []string{"opset 6"}},
		{"no graph", func(m *pb.ModelProto) { m.Graph = nil }, ErrInvalid, []string{"no graph"}},
		{"output not at the end", func(m *pb.ModelProto) { m.Graph.Output[0].Name = "layer1.gemm.out" },
			ErrUnsupported, []string{`output "layer1.gemm.out" is not the end`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := modelProto(t, base)
			tc.alter(m)
			n, err := Decode(bytes.NewReader(marshal(t, m)))
			if err == nil || n != nil {
				t.Fatalf("Decode = %v, %v; want an error and no network", n, err)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %q does not wrap %v", err, tc.is)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

// TestTruncatedFilesAreRefused: every proper prefix of a file is refused
// (for a file without metadata: a prefix that ends before the metadata
// would be a valid ONNX model, as protobuf has no end marker).
func TestTruncatedFilesAreRefused(t *testing.T) {
	b := encoded(t, variants(rand.New(rand.NewPCG(15, 6)), 3, 2)["regression"])
	for i := range b {
		n, err := Decode(bytes.NewReader(b[:i]))
		if err == nil || n != nil {
			t.Fatalf("the first %d of %d bytes decode to %v, %v; want an error", i, len(b), n, err)
		}
	}
	if _, err := Decode(strings.NewReader("")); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("empty file: error %v, want one saying it may be empty", err)
	}
	if _, err := Decode(strings.NewReader("<html>not found</html>")); !errors.Is(err, ErrInvalid) {
		t.Errorf("text file: error %v, want ErrInvalid", err)
	}
}

// TestFloatDataAndGemmScalingAreRead: initializers in float_data instead of
// raw_data, and Gemm's alpha and beta, give what gonnx computes.
func TestFloatDataAndGemmScalingAreRead(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 7))
	n := variants(rng, 4, 3)["softmax"]
	m := modelProto(t, n)
	for _, w := range m.Graph.Initializer {
		w.FloatData = make([]float32, len(w.RawData)/4)
		for j := range w.FloatData {
			w.FloatData[j] = math.Float32frombits(binary.LittleEndian.Uint32(w.RawData[4*j:]))
		}
		w.RawData = nil
	}
	g := node(m, "Gemm")
	g.Attribute = append(g.Attribute,
		&pb.AttributeProto{Name: "alpha", Type: pb.AttributeProto_FLOAT, F: 0.5},
		&pb.AttributeProto{Name: "beta", Type: pb.AttributeProto_FLOAT, F: 2})
	b := marshal(t, m)
	back, err := Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	x := randomRows(rng, 16, 4, 5, 4)
	compare(t, "flowgrad vs gonnx", predict(back, x), runGonnx(t, b, x))
	w0 := n.Net.Layers[0].(*layers.Linear[float32]).W.Data().Data()
	if got := back.Net.Layers[0].(*layers.Linear[float32]).W.Data().Data()[0]; got != w0[0]*0.5 {
		t.Errorf("W[0] = %v, want alpha·%v", got, w0[0])
	}
}

func TestEncodeRefusesWhatItCannotWrite(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 8))
	l1 := layers.NewLinear[float32](rng, "fc1", 3, 4, layers.He)
	l2 := layers.NewLinear[float32](rng, "fc2", 5, 2, layers.He)
	same := layers.NewLinear[float32](rng, "fc1", 4, 2, layers.He)
	for _, tc := range []struct {
		name string
		n    *Network
		want string
	}{
		{"no layers", &Network{}, "no layers"},
		{"no Linear", &Network{Net: layers.NewSequential[float32](layers.ReLU[float32]())}, "no Linear"},
		{"unchained", &Network{Net: layers.NewSequential[float32](l1, l2)}, "takes 5 inputs but the layers before it give 4"},
		{"unknown activation", &Network{Net: layers.NewSequential[float32](l1, layers.Activation[float32]{Name: "GELU"})}, `"GELU"`},
		{"duplicate names", &Network{Net: layers.NewSequential[float32](l1, same)}, `named "fc1.W"`},
		{"short mean", &Network{Net: layers.NewSequential[float32](l1), InputMean: []float32{1}}, "InputMean has 1 values, want 3"},
		{"zero std", &Network{Net: layers.NewSequential[float32](l1), InputStd: []float32{1, 0, 1}}, "InputStd[1] is 0"},
		{"softmax and scale", &Network{Net: layers.NewSequential[float32](l1), Softmax: true, OutputShift: make([]float32, 4)}, "Softmax with output scaling"},
	} {
		var buf bytes.Buffer
		err := Encode(&buf, tc.n)
		if err == nil || !strings.Contains(err.Error(), tc.want) || buf.Len() > 0 {
			t.Errorf("%s: Encode wrote %d bytes, error %v; want nothing written and an error saying %q", tc.name, buf.Len(), err, tc.want)
		}
	}
}
