package onnx

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/advancedclimatesystems/gonnx"
	pb "github.com/advancedclimatesystems/gonnx/onnx"

	"github.com/flowgrad/flowgrad/autograd"
	"github.com/flowgrad/flowgrad/layers"
	"github.com/flowgrad/flowgrad/tensor"
)

// tolerance bounds |got − want| / (1 + |want|) between two float32
// evaluations of one network that sum in different orders (flowgrad's
// kernels, gonnx's), and between either and the float64 reference: a few
// hundred float32 rounding units (2⁻²³ ≈ 1.2e-7) of the sums involved.
const tolerance = 2e-5

// testNetwork returns a network of every layer kind package layers builds
// (Dropout too, which the graph leaves out),
// with random weights and biases, sizes in → 16 → 12 → 9 → out.
func testNetwork(rng *rand.Rand, in, out int) *Network {
	l1 := layers.NewLinear[float32](rng, "first", in, 16, layers.He)
	l1.ReLU = true
	l2 := layers.NewLinear[float32](rng, "hidden.1", 16, 12, layers.Glorot)
	l3 := layers.NewLinear[float32](rng, "hidden.2", 12, 9, layers.Glorot)
	l4 := layers.NewLinear[float32](rng, "head", 9, out, layers.He)
	for _, l := range []*layers.Linear[float32]{l1, l2, l3, l4} {
		for i := range l.B.Data().Data() {
			l.B.Data().Data()[i] = float32(rng.NormFloat64() * 0.1)
		}
	}
	return &Network{Net: layers.NewSequential[float32](
		l1, l2, layers.Tanh[float32](), layers.NewDropout[float32](rng, 0.5), l3, layers.Sigmoid[float32](), l4, layers.ReLU[float32]())}
}

// randomRows returns rows×cols values from N(mean, std²).
func randomRows(rng *rand.Rand, rows, cols int, mean, std float64) *tensor.Dense[float32] {
	x := tensor.New[float32](rows, cols)
	for i := range x.Data() {
		x.Data()[i] = float32(mean + std*rng.NormFloat64())
	}
	return x
}

// predict is what flowgrad computes for the graph of n, in float32 with
// flowgrad's kernels.
func predict(n *Network, x *tensor.Dense[float32]) []float32 {
	x = x.Clone()
	for i := range x.Rows() {
		row := x.Row(i)
		for j := range row {
			if n.InputMean != nil {
				row[j] -= n.InputMean[j]
			}
			if n.InputStd != nil {
				row[j] /= n.InputStd[j]
			}
		}
	}
	tape := autograd.NewTape[float32]()
	tape.SetTraining(false) // dropout off
	y := n.Net.Forward(tape.Input(x)).Data().Clone()
	for i := range y.Rows() {
		row := y.Row(i)
		if n.Softmax {
			m := row[0]
			for _, v := range row {
				m = max(m, v)
			}
			var s float32
			for j, v := range row {
				row[j] = float32(math.Exp(float64(v - m)))
				s += row[j]
			}
			for j := range row {
				row[j] /= s
			}
		}
		for j := range row {
			if n.OutputScale != nil {
				row[j] *= n.OutputScale[j]
			}
			if n.OutputShift != nil {
				row[j] += n.OutputShift[j]
			}
		}
	}
	return y.Data()
}

// reference64 evaluates the graph of n in float64 with plain loops: an
// oracle that shares no code with flowgrad's kernels or with gonnx.
func reference64(n *Network, x *tensor.Dense[float32]) []float64 {
	var out []float64
	for i := range x.Rows() {
		v := make([]float64, x.Cols())
		for j, e := range x.Row(i) {
			v[j] = float64(e)
			if n.InputMean != nil {
				v[j] -= float64(n.InputMean[j])
			}
			if n.InputStd != nil {
				v[j] /= float64(n.InputStd[j])
			}
		}
		for _, l := range n.Net.Layers {
			switch l := l.(type) {
			case *layers.Linear[float32]:
				w := l.W.Data()
				next := make([]float64, w.Cols())
				for c := range next {
					s := float64(l.B.Data().Data()[c])
					for r := range w.Rows() {
						s += v[r] * float64(w.At(r, c))
					}
					if l.ReLU {
						s = max(s, 0)
					}
					next[c] = s
				}
				v = next
			case layers.Activation[float32]:
				for c := range v {
					switch l.Name {
					case "ReLU":
						v[c] = max(v[c], 0)
					case "Tanh":
						v[c] = math.Tanh(v[c])
					case "Sigmoid":
						v[c] = 1 / (1 + math.Exp(-v[c]))
					}
				}
			case *layers.Dropout[float32]: // the identity at inference
			default:
				panic(fmt.Sprintf("reference64: %T", l))
			}
		}
		if n.Softmax {
			m, s := math.Inf(-1), 0.0
			for _, e := range v {
				m = max(m, e)
			}
			for c := range v {
				v[c] = math.Exp(v[c] - m)
				s += v[c]
			}
			for c := range v {
				v[c] /= s
			}
		}
		for c := range v {
			if n.OutputScale != nil {
				v[c] *= float64(n.OutputScale[c])
			}
			if n.OutputShift != nil {
				v[c] += float64(n.OutputShift[c])
			}
		}
		out = append(out, v...)
	}
	return out
}

// runGonnx runs the ONNX model b with gonnx on x and returns its output.
func runGonnx(t *testing.T, b []byte, x *tensor.Dense[float32]) []float32 {
	t.Helper()
	m, err := gonnx.NewModelFromBytes(b)
	if err != nil {
		t.Fatalf("gonnx: %v", err)
	}
	in, err := pb.TensorFromProto(&pb.TensorProto{
		Dims: []int64{int64(x.Rows()), int64(x.Cols())}, DataType: int32(pb.TensorProto_FLOAT), FloatData: x.Data(),
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := m.Run(gonnx.Tensors{InputName: in})
	if err != nil {
		t.Fatalf("gonnx: %v", err)
	}
	y, ok := out[OutputName].Data().([]float32)
	if !ok {
		t.Fatalf("gonnx output is %T, want []float32", out[OutputName].Data())
	}
	return y
}

// compare fails t if got and want differ beyond tolerance and returns the
// largest relative difference.
func compare[W float32 | float64](t *testing.T, what string, got []float32, want []W) float64 {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	worst := 0.0
	for i := range got {
		d := math.Abs(float64(got[i])-float64(want[i])) / (1 + math.Abs(float64(want[i])))
		if !(d <= tolerance) {
			t.Fatalf("%s: value %d is %v, want %v (relative difference %.3g > %g)", what, i, got[i], want[i], d, tolerance)
		}
		worst = max(worst, d)
	}
	return worst
}

// variants returns the test network alone and with each step around it.
func variants(rng *rand.Rand, in, out int) map[string]*Network {
	mean := randomRows(rng, 1, in, 5, 3).Data()
	std := randomRows(rng, 1, in, 4, 1).Data()
	for i := range std {
		std[i] = float32(math.Abs(float64(std[i]))) + 0.5
	}
	vs := map[string]*Network{
		"layers":       testNetwork(rng, in, out),
		"standardised": testNetwork(rng, in, out),
		"softmax":      testNetwork(rng, in, out),
		"regression":   testNetwork(rng, in, out),
		"mlp":          {Net: layers.MLP[float32](rng, in, 32, 32, out)},
	}
	vs["standardised"].InputMean, vs["standardised"].InputStd = mean, std
	vs["softmax"].InputMean, vs["softmax"].InputStd, vs["softmax"].Softmax = mean, std, true
	vs["softmax"].Metadata = map[string]string{"classes": `["a","b","c"]`}
	vs["regression"].InputMean, vs["regression"].InputStd = mean, std
	vs["regression"].OutputScale = randomRows(rng, 1, out, 10, 2).Data()
	vs["regression"].OutputShift = randomRows(rng, 1, out, 100, 20).Data()
	return vs
}

func TestEncodedModelRunsInGonnx(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 1))
	const in, out = 7, 3
	for name, n := range variants(rng, in, out) {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Encode(&buf, n); err != nil {
				t.Fatal(err)
			}
			for _, rows := range []int{1, 64} { // the batch dimension is dynamic
				x := randomRows(rng, rows, in, 5, 4)
				got := runGonnx(t, buf.Bytes(), x)
				dFlow := compare(t, "gonnx vs flowgrad", got, predict(n, x))
				dRef := compare(t, "gonnx vs float64", got, reference64(n, x))
				compare(t, "flowgrad vs float64", predict(n, x), reference64(n, x))
				t.Logf("B=%d: largest relative difference to flowgrad %.2g, to float64 %.2g", rows, dFlow, dRef)
			}
		})
	}
}

func TestRoundTripIsBitIdentical(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 2))
	for name, n := range variants(rng, 5, 4) {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Encode(&buf, n); err != nil {
				t.Fatal(err)
			}
			back, err := Decode(bytes.NewReader(buf.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			p, q := n.Net.Params(), back.Net.Params()
			if len(p) != len(q) {
				t.Fatalf("%d parameters back, want %d", len(q), len(p))
			}
			for i := range p {
				if p[i].Name() != q[i].Name() || p[i].Shape() != q[i].Shape() {
					t.Fatalf("parameter %d is %s %v back, want %s %v", i, q[i].Name(), q[i].Shape(), p[i].Name(), p[i].Shape())
				}
				sameBits(t, p[i].Name(), q[i].Data().Data(), p[i].Data().Data())
			}
			sameBits(t, "InputMean", back.InputMean, n.InputMean)
			sameBits(t, "InputStd", back.InputStd, n.InputStd)
			sameBits(t, "OutputScale", back.OutputScale, n.OutputScale)
			sameBits(t, "OutputShift", back.OutputShift, n.OutputShift)
			if back.Softmax != n.Softmax || fmt.Sprint(back.Metadata) != fmt.Sprint(n.Metadata) {
				t.Errorf("Softmax %v, metadata %v back, want %v, %v", back.Softmax, back.Metadata, n.Softmax, n.Metadata)
			}
			// Same function: the Relu after a Linear comes back fused.
			x := randomRows(rng, 9, 5, 5, 4)
			sameBits(t, "predictions", predict(back, x), predict(n, x))
		})
	}
}

// TestRoundTripOfAnMLPGivesTheSameFile: a network as layers.MLP builds it
// (names fc1, fc2, …, ReLU fused) comes back in the same form.
func TestRoundTripOfAnMLPGivesTheSameFile(t *testing.T) {
	n := &Network{Net: layers.MLP[float32](rand.New(rand.NewPCG(15, 3)), 4, 8, 8, 3), Softmax: true}
	var a, b bytes.Buffer
	if err := Encode(&a, n); err != nil {
		t.Fatal(err)
	}
	back, err := Decode(bytes.NewReader(a.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if err := Encode(&b, back); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Errorf("encode → decode → encode gives %d bytes that differ from the first %d", b.Len(), a.Len())
	}
}

func sameBits(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) || (got == nil) != (want == nil) {
		t.Fatalf("%s: %d values back (nil %v), want %d (nil %v)", what, len(got), got == nil, len(want), want == nil)
	}
	for i := range got {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s[%d] is %v back, want %v", what, i, got[i], want[i])
		}
	}
}
