package main

import (
	"context"
	"fmt"
	"io"

	"github.com/flowgrad/flowgrad/data"
	"github.com/flowgrad/flowgrad/internal/cli"
	"github.com/flowgrad/flowgrad/model"
	"github.com/flowgrad/flowgrad/model/onnx"
)

func exportCmd(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("flowgrad export", "usage: flowgrad export -model model.fgm -onnx model.onnx [-probabilities]\n\n"+
		"Writes the model as an ONNX file (opset 13, float32, dynamic batch) with the standardisation\n"+
		"of numeric features folded in; categorical features enter one-hot (see docs/onnx.md).",
		stderr)
	var modelPath, out string
	var probs bool
	fs.StringVar(&modelPath, "model", "model.fgm", "the model file (from flowgrad train)")
	fs.StringVar(&out, "onnx", "", "the ONNX file to write; required")
	fs.BoolVar(&probs, "probabilities", false, "classifiers: end with Softmax, giving class probabilities instead of logits")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if out == "" {
		return cli.Usagef("-onnx: give the file to write")
	}
	if err := checkWritable("-onnx", out); err != nil {
		return err
	}
	m, err := model.Load(modelPath)
	if err != nil {
		return err
	}
	if probs && m.Kind() != data.Classification {
		return cli.Usagef("-probabilities: %s is a regression model (no classes)", modelPath)
	}
	if err := onnx.Save(out, m, onnx.Options{Probabilities: probs}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (ONNX opset %d): %d inputs → %d outputs, %d layers\n", out, onnx.Opset, m.Spec.Inputs, m.Spec.Outputs(), len(m.Spec.Layers))
	return nil
}
