#!/usr/bin/python3
"""Check ONNX files with the ONNX project's own checker and shape inference.

    /usr/bin/python3 model/onnx/testdata/check_export.py model/onnx/testdata/flowgrad_*.onnx

For each file: onnx.checker.check_model with full_check (which runs strict
shape inference too), and the inferred output shape must be [batch, outputs].
Exits 1 if any file fails.
"""
import sys

import onnx


def dims(value_info):
    return [d.dim_param or d.dim_value for d in value_info.type.tensor_type.shape.dim]


def main(paths):
    failed = 0
    print("onnx", onnx.__version__)
    for path in paths:
        try:
            m = onnx.load(path)
            onnx.checker.check_model(m, full_check=True)
            inferred = onnx.shape_inference.infer_shapes(m, check_type=True, strict_mode=True)
            ops = " ".join(n.op_type for n in m.graph.node)
            print(f"ok   {path}: ir {m.ir_version}, opset {m.opset_import[0].version}, "
                  f"{dims(m.graph.input[0])} → {dims(inferred.graph.output[0])}: {ops}")
        except Exception as e:  # noqa: BLE001 - report every file
            failed += 1
            print(f"FAIL {path}: {e}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
