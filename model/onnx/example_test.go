package onnx_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"

	"github.com/flowgrad/flowgrad/data"
	"github.com/flowgrad/flowgrad/layers"
	"github.com/flowgrad/flowgrad/model"
	"github.com/flowgrad/flowgrad/model/onnx"
)

// A network goes to ONNX and back with its parameters bit for bit.
func Example() {
	net := layers.MLP[float32](rand.New(rand.NewPCG(1, 2)), 4, 16, 3)
	var buf bytes.Buffer
	if err := onnx.Encode(&buf, &onnx.Network{Net: net, Softmax: true}); err != nil {
		fmt.Println(err)
		return
	}
	back, err := onnx.Decode(&buf)
	if err != nil {
		fmt.Println(err)
		return
	}
	in, out, _ := back.Sizes()
	fmt.Println(in, "→", out, "softmax:", back.Softmax)
	for _, p := range back.Net.Params() {
		fmt.Println(p.Name(), p.Shape())
	}
	// Output:
	// 4 → 3 softmax: true
	// fc1.W 4×16
	// fc1.b 1×16
	// fc2.W 16×3
	// fc2.b 1×3
}

// A network that PyTorch exported (torch.onnx.export of an nn.Sequential
// MLP) becomes flowgrad layers, ready to predict or train further.
func ExampleDecode() {
	f, err := os.Open("testdata/torch_mlp.onnx")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()
	n, err := onnx.Decode(f)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, l := range n.Net.Layers {
		if l, ok := l.(*layers.Linear[float32]); ok {
			fmt.Println(l.W.Name(), l.W.Shape(), "ReLU:", l.ReLU)
		}
	}
	// Output:
	// fc1.W 4×16 ReLU: true
	// fc2.W 16×16 ReLU: true
	// fc3.W 16×3 ReLU: false
}
func ExampleExport() {
	tab, err := data.LoadCSV("../../data/testdata/tables/iris.csv", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	pre, err := data.Fit(tab, data.FitOptions{Target: "species"})
	if err != nil {
		fmt.Println(err)
		return
	}
	net := layers.MLP[float32](rand.New(rand.NewPCG(1, 2)), pre.Inputs(), 16, pre.Outputs())
	// … train net …
	m, err := model.New(net, pre, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	var buf bytes.Buffer
	if err := onnx.Export(&buf, m, onnx.Options{Probabilities: true}); err != nil {
		fmt.Println(err)
		return
	}
	n, err := onnx.Decode(&buf)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("inputs:", n.Metadata[onnx.MetaInputs])
	fmt.Println("output:", n.Metadata[onnx.MetaOutput], n.Metadata[onnx.MetaClasses])
	fmt.Println("standardised:", n.InputMean != nil, "softmax:", n.Softmax)
	// Output:
	// inputs: ["sepal_length","sepal_width","petal_length","petal_width"]
	// output: probabilities ["setosa","versicolor","virginica"]
	// standardised: true softmax: true
}
