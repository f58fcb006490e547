#!/usr/bin/python3
"""Export nn.Sequential MLPs with torch.onnx.export, and PyTorch's predictions
on fixed inputs, as test data for flowgrad's ONNX import (decode_torch_test.go).

Run with Debian's python3-torch (not needed by the Go tests, which read the
committed outputs):

    cd model/onnx/testdata && /usr/bin/python3 torch_export.py

Writes, for each model M: M.onnx and M.json (the inputs, PyTorch's outputs,
torch's version and the export call).
"""
import json

import torch
from torch import nn

OPSET = 13  # the opset gonnx (the Go runtime of the tests) serves


def export(name, model, inputs, opset=OPSET, **kw):
    model.eval()
    x = torch.tensor(inputs, dtype=torch.float32)
    with torch.no_grad():
        y = model(x)
    torch.onnx.export(
        model, x, name + ".onnx", opset_version=opset,
        input_names=["input"], output_names=["output"],
        dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}}, **kw)
    with open(name + ".json", "w") as f:
        # float32 values as Python floats: the float64 of each float32 is
        # exact, and json writes the shortest text that reads back to it.
        json.dump({"torch": torch.__version__, "opset": opset,
                   "model": str(model), "export": kw and str(kw) or "defaults",
                   "inputs": x.tolist(), "outputs": y.tolist()}, f, indent=1)
        f.write("\n")
    print(name, "→", tuple(y.shape))


def main():
    torch.manual_seed(15)
    # The MLP: Linear-ReLU-Linear-ReLU-Linear.
    mlp = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 3))
    inputs = (torch.randn(8, 4) * 2).tolist()
    export("torch_mlp", mlp, inputs)
    # Every activation, a final softmax.
    act = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 6), nn.Sigmoid(),
                        nn.Linear(6, 4), nn.ReLU(), nn.Linear(4, 3), nn.Softmax(dim=1))
    export("torch_activations", act, (torch.randn(6, 5)).tolist())
    # A Linear without bias becomes MatMul (by a transposed weight
    # initializer); initializers listed as graph inputs too, the old style.
    nobias = nn.Sequential(nn.Linear(4, 8, bias=False), nn.ReLU(), nn.Linear(8, 3))
    export("torch_matmul", nobias, inputs[:3], keep_initializers_as_inputs=True)
    # The newest opset this torch writes (gonnx does not run it; flowgrad
    # reads opsets 7 to 23).
    export("torch_opset17", act, (torch.randn(4, 5)).tolist(), opset=17)


if __name__ == "__main__":
    main()
