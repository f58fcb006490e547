// Package onnx moves flowgrad's networks to and from ONNX files, so that a
// model trained in Go can be served by any ONNX runtime and a multilayer
// perceptron trained elsewhere (PyTorch's torch.onnx.export of an
// nn.Sequential) can be fine-tuned or served by flowgrad.
//
// The family both directions cover is the one package layers builds: a
// chain of affine layers (ONNX Gemm, or MatMul followed by Add) with Relu,
// Tanh or Sigmoid between them, optionally a leading input standardisation
// (Sub, Div), a final Softmax, and a trailing output scaling (Mul, Add).
// Import refuses anything else with an error naming the node, its operator
// and what is supported; it never returns part of a model.
//
// Files are written at ONNX opset 13 (IR version 7), float32 throughout,
// with a dynamic batch dimension named "N". The protobuf types are the
// generated ones of github.com/advancedclimatesystems/gonnx/onnx and the
// wire format is google.golang.org/protobuf's; this package is the only one
// of flowgrad that imports them, so the library core stays free of them.
//
// docs/onnx.md describes the mapping, the checks against onnx.checker and
// PyTorch, and the commands that reproduce them.
package onnx
