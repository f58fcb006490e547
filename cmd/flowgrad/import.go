package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/flowgrad/flowgrad/data"
	"github.com/flowgrad/flowgrad/internal/cli"
	"github.com/flowgrad/flowgrad/model"
	"github.com/flowgrad/flowgrad/model/onnx"
)

func importCmd(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("flowgrad import", "usage: flowgrad import -onnx model.onnx [-data table.csv -target COLUMN] [-model model.fgm]\n\n"+
		"Reads an ONNX MLP (a chain of Gemm or MatMul+Add with Relu, Tanh, Sigmoid, optionally Softmax)\n"+
		"and writes it as a model file. A file flowgrad exported carries its preprocessing. Any other\n"+
		"(e.g. torch.onnx.export of an nn.Sequential) needs -data: a table whose feature columns are the\n"+
		"network's inputs, in order, fed as they are (no standardisation: the network was trained on them),\n"+
		"and whose target column gives the class names or makes it a regression.",
		stderr)
	var in, out, dataPath, target, task, ignore, sep string
	fs.StringVar(&in, "onnx", "", "the ONNX file to read; required")
	fs.StringVar(&out, "model", "model.fgm", "the model file to write")
	fs.StringVar(&dataPath, "data", "", "for a network flowgrad did not export: a CSV with its input columns and the target")
	fs.StringVar(&target, "target", "", "the target column of -data (default: the last); several numeric ones, comma-separated, for a regression network with one output each")
	fs.StringVar(&task, "task", "auto", "auto | classify | regress, for -data as in train")
	fs.StringVar(&ignore, "ignore", "", "comma-separated columns of -data that are not inputs")
	fs.StringVar(&sep, "sep", ",", "the field separator of -data")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if in == "" {
		return cli.Usagef("-onnx: give the ONNX file to read")
	}
	if err := checkWritable("-model", out); err != nil {
		return err
	}
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	defer f.Close()
	var m *model.Model
	if dataPath == "" {
		if m, err = onnx.Import(f); err != nil {
			return fmt.Errorf("%s: %w (for a network flowgrad did not export, give -data)", in, err)
		}
	} else {
		comma, err := separator(sep)
		if err != nil {
			return err
		}
		t, err := data.ParseTask(task)
		if err != nil {
			return cli.Usagef("-task %q: want auto, classify or regress", task)
		}
		fit := data.FitOptions{Target: target, Ignore: cli.Names(ignore), Task: t}
		if names := cli.Names(target); len(names) > 1 {
			fit.Target, fit.Targets = "", names
		}
		if m, err = foreign(f, in, dataPath, comma, fit); err != nil {
			return err
		}
	}
	if err := m.Save(out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: %d inputs → %d outputs, %d layers, %s\n", out, m.Spec.Inputs, m.Spec.Outputs(), len(m.Spec.Layers), m.Kind())
	return nil
}

// foreign makes a model of an ONNX network flowgrad did not export, with
// the inputs and target of the table at dataPath: the table's numeric
// features enter as they are (mean 0, standard deviation 1) unless the
// graph standardises them itself, categorical ones one-hot, and a
// regression target is not scaled unless the graph scales its output. A
// final Softmax is dropped (the model's class probabilities are the
// softmax of its outputs).
func foreign(r io.Reader, name, dataPath string, comma rune, fit data.FitOptions) (*model.Model, error) {
	n, err := onnx.Decode(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	tab, err := data.LoadCSV(dataPath, &data.CSVOptions{Comma: comma, Text: fit.Ignore})
	if err != nil {
		return nil, err
	}
	fit.ScaleTarget, fit.Scaling = false, data.ScaleNone // the network's own inputs and outputs
	pre, err := data.Fit(tab, fit)
	if err != nil {
		return nil, err
	}
	if n.Softmax && pre.Kind != data.Classification {
		return nil, fmt.Errorf("%s ends with Softmax but %s's target %q is a regression target", name, dataPath, pre.Target)
	}
	if (n.InputMean != nil || n.InputStd != nil) && len(pre.Features) != pre.Inputs() {
		return nil, fmt.Errorf("%s standardises its inputs, which %s's categorical columns make one-hot: give a table of numeric columns", name, dataPath)
	}
	for i := range pre.Features {
		f := &pre.Features[i]
		if f.Type != data.Numeric {
			continue
		}
		if i < len(n.InputMean) {
			f.Mean = float64(n.InputMean[i])
		}
		if i < len(n.InputStd) {
			f.Std = float64(n.InputStd[i])
		}
	}
	if n.OutputScale != nil || n.OutputShift != nil {
		k := pre.Outputs()
		if pre.Kind != data.Regression || n.OutputScale != nil && len(n.OutputScale) != k || n.OutputShift != nil && len(n.OutputShift) != k {
			return nil, fmt.Errorf("%s scales %d outputs, which fits only a regression with as many targets (%s gives %v with %d outputs)",
				name, max(len(n.OutputScale), len(n.OutputShift)), dataPath, pre.Kind, k)
		}
		for j := range k {
			std, mean := 1.0, 0.0
			if n.OutputScale != nil {
				std = float64(n.OutputScale[j])
			}
			if n.OutputShift != nil {
				mean = float64(n.OutputShift[j])
			}
			pre.SetTargetScale(j, mean, std)
		}
	}
	if err := pre.Check(); err != nil {
		return nil, err
	}
	m, err := model.New(n.Net, pre, map[string]string{"imported_from": name})
	if err != nil {
		return nil, fmt.Errorf("%s and %s do not fit: %w", name, dataPath, err)
	}
	return m, nil
}
