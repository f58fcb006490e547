package onnx

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/flowgrad/flowgrad/autograd"
	"github.com/flowgrad/flowgrad/layers"
	"github.com/flowgrad/flowgrad/optim"
	"github.com/flowgrad/flowgrad/tensor"
)

// recorded is a model's outputs on fixed inputs as a JSON file of testdata
// holds them: PyTorch's for the models that testdata/torch_export.py
// exported with torch.onnx.export, flowgrad's for its golden exports.
type recorded struct {
	Torch   string      `json:"torch,omitempty"` // PyTorch's version
	Opset   int         `json:"opset,omitempty"`
	Model   string      `json:"model"`
	Inputs  [][]float64 `json:"inputs"`
	Outputs [][]float64 `json:"outputs"`
}

// matrix returns rows as a float32 matrix (exact: they are float32 values).
func matrix(rows [][]float64) *tensor.Dense[float32] {
	m := tensor.New[float32](len(rows), len(rows[0]))
	for i, r := range rows {
		for j, v := range r {
			m.Set(i, j, float32(v))
		}
	}
	return m
}

func loadTorchCase(t *testing.T, name string) (*Network, recorded) {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name+".onnx"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n, err := Decode(f)
	if err != nil {
		t.Fatalf("Decode %s: %v", name, err)
	}
	var c recorded
	if err := json.Unmarshal(readTestdata(t, filepath.Join("testdata", name+".json")), &c); err != nil {
		t.Fatal(err)
	}
	return n, c
}

// TestTorchExportsImportAndPredictAsPyTorch: MLPs exported by PyTorch
// import, and flowgrad predicts what PyTorch predicted, to float32 rounding.
func TestTorchExportsImportAndPredictAsPyTorch(t *testing.T) {
	for _, tc := range []struct {
		name    string
		layers  string // the imported layers, in short
		softmax bool
	}{
		{"torch_mlp", "Linear(4→16)+ReLU Linear(16→16)+ReLU Linear(16→3)", false},
		{"torch_activations", "Linear(5→8) Tanh Linear(8→6) Sigmoid Linear(6→4)+ReLU Linear(4→3)", true},
		{"torch_matmul", "Linear(4→8)+ReLU Linear(8→3)", false},
		{"torch_opset17", "Linear(5→8) Tanh Linear(8→6) Sigmoid Linear(6→4)+ReLU Linear(4→3)", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, c := loadTorchCase(t, tc.name)
			if got := describe(n.Net); got != tc.layers || n.Softmax != tc.softmax {
				t.Errorf("imported %s, Softmax %v; want %s, %v", got, n.Softmax, tc.layers, tc.softmax)
			}
			got := predict(n, matrix(c.Inputs))
			want := flatten(c.Outputs)
			d := compare(t, "flowgrad vs PyTorch "+c.Torch, got, want)
			t.Logf("%s: largest relative difference to PyTorch %s: %.2g", tc.name, c.Torch, d)
			if c.Opset != Opset {
				return // gonnx serves opset 13 only
			}
			// The runtime the export tests trust agrees with PyTorch too.
			b := readTestdata(t, filepath.Join("testdata", tc.name+".onnx"))
			compare(t, "gonnx vs PyTorch", runGonnx(t, b, matrix(c.Inputs)), want)
		})
	}
}

// describe lists the layers of s in short: Linear(in→out)[+ReLU] or the
// activation's name.
func describe(s *layers.Sequential[float32]) string {
	var out string
	for i, l := range s.Layers {
		if i > 0 {
			out += " "
		}
		switch l := l.(type) {
		case *layers.Linear[float32]:
			out += fmt.Sprintf("Linear(%d→%d)", l.W.Data().Rows(), l.W.Data().Cols())
			if l.ReLU {
				out += "+ReLU"
			}
		case layers.Activation[float32]:
			out += l.Name
		}
	}
	return out
}

// TestImportedNetworkTrains: the layers of an imported model are flowgrad
// parameters that an optimiser trains further (the loss falls).
func TestImportedNetworkTrains(t *testing.T) {
	n, c := loadTorchCase(t, "torch_mlp")
	x := matrix(c.Inputs)
	labels := make([]int, x.Rows())
	for i := range labels {
		labels[i] = i % 3
	}
	rate, err := optim.Constant(0.1)
	if err != nil {
		t.Fatal(err)
	}
	opt, err := optim.NewSGD(n.Net.Params(), rate)
	if err != nil {
		t.Fatal(err)
	}
	tape := autograd.NewTape[float32]()
	loss := func() float32 {
		tape.Reset()
		l := autograd.SoftmaxCrossEntropy(n.Net.Forward(tape.Input(x)), labels)
		tape.Backward(l)
		return l.Scalar()
	}
	first := loss()
	for range 50 {
		opt.Step()
		loss()
	}
	if last := loss(); !(last < first/2) {
		t.Errorf("loss %v after 50 steps, from %v: want it halved", last, first)
	}
}
