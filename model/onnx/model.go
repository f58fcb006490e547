package onnx

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"strings"

	"github.com/flowgrad/flowgrad/data"
	"github.com/flowgrad/flowgrad/internal/atomicfile"
	"github.com/flowgrad/flowgrad/model"
)

// Metadata keys that Export writes beside the model's own metadata.
const (
	// MetaPreprocessor holds the model's data.Preprocessor as JSON (as
	// the model file stores it): Import restores the model from it.
	MetaPreprocessor = "flowgrad.preprocessor"
	// MetaInputs holds the names of the graph's input columns as a JSON
	// array: a numeric feature's name, or "feature=category" for each
	// one-hot input of a categorical feature.
	MetaInputs = "flowgrad.inputs"
	// MetaOutput says what the output holds: "logits", "probabilities"
	// or "values".
	MetaOutput = "flowgrad.output"
	// MetaClasses holds a classifier's class names as a JSON array, in
	// the order of the output columns.
	MetaClasses = "flowgrad.classes"
	// MetaTargets holds the target names of a regression with several
	// targets as a JSON array, in the order of the output columns.
	MetaTargets = "flowgrad.targets"
)

// Options tells Export what the graph gives.
type Options struct {
	// Probabilities ends a classifier's graph with Softmax, so that it
	// gives the class probabilities of Model.Predict instead of logits.
	// It is an error for a regression model.
	Probabilities bool
}

// Export writes m to w as an ONNX model (see Encode) with its
// preprocessing folded in as graph nodes, so that a runtime that knows
// nothing of flowgrad predicts what m.Predict does, to float32 rounding:
//
//   - The input is one row per example of m.Pre.Inputs() float32 values:
//     each numeric feature in its own units, raw (the graph standardises
//     it with Sub and Div by the training mean and standard deviation,
//     rounded to float32), and each categorical feature as its one-hot
//     block in the order of its categories (1 for the row's category, 0
//     elsewhere; with grouped rare categories, a last input is 1 for any
//     category not listed). Categories are strings and ONNX graphs of this family
//     take numbers, so the one-hot encoding is the caller's: the metadata
//     key MetaInputs names every input column ("colour=red").
//   - The output is a classifier's logits, or with opt.Probabilities its
//     class probabilities (a Softmax node), with the class names in the
//     metadata (MetaClasses); or a regression's values in the target's
//     units (Mul and Add undo the target standardisation), one column
//     per target (their names in MetaTargets when there are several).
//
// The metadata also holds m.Meta and the preprocessing itself
// (MetaPreprocessor), so that Import gives m back. Export writes nothing
// and returns an error for a model whose network Encode refuses, or for
// opt.Probabilities with a regression.
func Export(w io.Writer, m *model.Model, opt Options) error {
	n, err := NetworkOf(m, opt)
	if err != nil {
		return err
	}
	return Encode(w, n)
}

// Save writes m as an ONNX file at path (see Export), atomically: the file
// at path is either the previous one or the whole export, never a part.
// This is what `flowgrad export -model M -onnx out.onnx` does. It returns
// Export's errors and the file system's.
func Save(path string, m *model.Model, opt Options) error {
	var buf bytes.Buffer
	if err := Export(&buf, m, opt); err != nil {
		return err
	}
	if err := atomicfile.Write(path, buf.Bytes()); err != nil {
		return fmt.Errorf("onnx: save %s: %w", path, err)
	}
	return nil
}

// NetworkOf returns the Network that Export writes for m: m's layers
// (shared, not copied) with the preprocessing steps and metadata.
func NetworkOf(m *model.Model, opt Options) (*Network, error) {
	p := m.Pre
	if opt.Probabilities && p.Kind != data.Classification {
		return nil, fmt.Errorf("onnx: Export: class probabilities asked of a %v model", p.Kind)
	}
	pj, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("onnx: Export: %w", err)
	}
	n := &Network{Net: m.Net, Softmax: opt.Probabilities, Metadata: maps.Clone(m.Meta)}
	if n.Metadata == nil {
		n.Metadata = map[string]string{}
	}
	n.Metadata[MetaPreprocessor] = string(pj)
	n.Metadata[MetaInputs] = jsonList(inputNames(p))
	n.InputMean, n.InputStd = standardisation(p)
	switch {
	case p.Kind == data.Classification:
		n.Metadata[MetaClasses] = jsonList(p.Classes)
		n.Metadata[MetaOutput] = map[bool]string{false: "logits", true: "probabilities"}[opt.Probabilities]
	default:
		n.Metadata[MetaOutput] = "values"
		if len(p.ExtraTargets) > 0 {
			n.Metadata[MetaTargets] = jsonList(p.Targets())
		}
		scaled := p.TargetStd != 0
		for _, e := range p.ExtraTargets {
			scaled = scaled || e.Std != 0
		}
		if scaled {
			for j := range p.Outputs() {
				sc := p.TargetScale(j)
				if sc.Std == 0 { // this target trained as it is
					sc.Mean, sc.Std = 0, 1
				}
				n.OutputScale = append(n.OutputScale, float32(sc.Std))
				n.OutputShift = append(n.OutputShift, float32(sc.Mean))
			}
		}
	}
	return n, nil
}

// standardisation returns the mean and standard deviation of each input
// of p, as float32: the feature's for a numeric one, 0 and 1 (no change)
// for a one-hot input; nil, nil if no feature is numeric.
func standardisation(p *data.Preprocessor) (mean, std []float32) {
	numeric := false
	for _, f := range p.Features {
		if f.Type == data.Numeric {
			numeric = true
			mean, std = append(mean, float32(f.Mean)), append(std, float32(f.Std))
			continue
		}
		for range f.Inputs() {
			mean, std = append(mean, 0), append(std, 1)
		}
	}
	if !numeric {
		return nil, nil
	}
	return mean, std
}

// inputNames names the inputs of p: a numeric feature's name,
// "feature=category" for each one-hot input, "feature (other)" for a
// categorical feature's other input (see data.Feature.InputNames).
func inputNames(p *data.Preprocessor) []string {
	var names []string
	for _, f := range p.Features {
		names = append(names, f.InputNames()...)
	}
	return names
}

func jsonList(s []string) string {
	b, _ := json.Marshal(s) // strings always encode
	return string(b)
}

// Import reads an ONNX model that Export wrote and returns the model:
// its network (layers named as they were), its preprocessing and its
// metadata (without the keys Export added), ready to predict, train
// further or save as a model file. A network that flowgrad did not export
// has no preprocessing to restore: Import then returns an error that says
// so, and Decode reads the network, which model.New makes a model of with
// a data.Preprocessor fitted to the data it is for. Import returns
// Decode's errors, and an error if the metadata's preprocessing is
// malformed or does not match the graph's steps (a file edited by hand).
func Import(r io.Reader) (*model.Model, error) {
	n, err := Decode(r)
	if err != nil {
		return nil, err
	}
	pj, ok := n.Metadata[MetaPreprocessor]
	if !ok {
		return nil, fmt.Errorf("onnx: Import: the file has no flowgrad preprocessing (metadata %q), so it was not exported by flowgrad: "+
			"read its network with Decode and make a model of it with model.New and a data.Preprocessor", MetaPreprocessor)
	}
	p := new(data.Preprocessor)
	dec := json.NewDecoder(strings.NewReader(pj))
	dec.DisallowUnknownFields()
	if err := dec.Decode(p); err != nil {
		return nil, fmt.Errorf("onnx: Import: metadata %q: %w", MetaPreprocessor, err)
	}
	if err := p.Check(); err != nil {
		return nil, fmt.Errorf("onnx: Import: metadata %q: %w", MetaPreprocessor, err)
	}
	softmax := n.Metadata[MetaOutput] == "probabilities"
	want, err := NetworkOf(&model.Model{Net: n.Net, Pre: p}, Options{Probabilities: softmax})
	if err != nil {
		return nil, fmt.Errorf("onnx: Import: %w", err)
	}
	if !sameSteps(n, want) {
		return nil, fmt.Errorf("onnx: Import: the graph's standardisation, softmax or output scaling differs from the preprocessing in its metadata %q (was the file edited?)", MetaPreprocessor)
	}
	meta := maps.Clone(n.Metadata)
	for k := range want.Metadata {
		delete(meta, k)
	}
	if len(meta) == 0 {
		meta = nil
	}
	m, err := model.New(n.Net, p, meta)
	if err != nil {
		return nil, fmt.Errorf("onnx: Import: %w", err)
	}
	return m, nil
}

// sameSteps reports whether a and b apply bit-identical steps around their
// layers.
func sameSteps(a, b *Network) bool {
	same := func(x, y []float32) bool {
		return (x == nil) == (y == nil) && bytes.Equal(f32bytes(x), f32bytes(y))
	}
	return a.Softmax == b.Softmax && same(a.InputMean, b.InputMean) && same(a.InputStd, b.InputStd) &&
		same(a.OutputScale, b.OutputScale) && same(a.OutputShift, b.OutputShift)
}
