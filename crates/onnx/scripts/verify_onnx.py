#!/usr/bin/env python3
"""Check neurite's exported ONNX models with the ONNX checker and onnxruntime.

Usage: verify_onnx.py MANIFEST.json [--tolerance 1e-5]

The manifest (written by `cargo xtask verify-onnx` or the `onnx_python` test) lists models:
{"models": [{"name", "onnx", "input", "input_shape", "output", "output_shape"}]}, where
"input"/"output" are raw little-endian float32 files holding neurite's inputs and neurite's
inference-mode outputs. For each model this script runs
`onnx.checker.check_model(full_check=True)`, checks the declared input/output names and the
symbolic batch dimension, runs onnxruntime on the input, and prints the largest absolute
difference from neurite's output. Exit status: 0 all within tolerance, 1 a check failed,
3 a required Python package is missing (the message names it).
"""

import argparse
import json
import os
import sys


def import_or_exit():
    missing = []
    modules = {}
    for name in ("numpy", "onnx", "onnxruntime"):
        try:
            modules[name] = __import__(name)
        except ImportError:
            missing.append(name)
    if missing:
        print(f"missing Python packages: {' '.join(missing)} "
              f"(pip install {' '.join(missing)})")
        sys.exit(3)
    return modules["numpy"], modules["onnx"], modules["onnxruntime"]


def dims_of(value_info):
    dims = []
    for d in value_info.type.tensor_type.shape.dim:
        dims.append(d.dim_param if d.WhichOneof("value") == "dim_param" else d.dim_value)
    return dims


def verify(entry, base, tolerance, np, onnx, ort):
    name = entry["name"]
    path = os.path.join(base, entry["onnx"])
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)

    graph = model.graph
    if len(graph.input) != 1 or len(graph.output) != 1:
        raise AssertionError(f"{name}: expected one input and one output")
    in_dims, out_dims = dims_of(graph.input[0]), dims_of(graph.output[0])
    if not isinstance(in_dims[0], str) or in_dims[0] != out_dims[0]:
        raise AssertionError(f"{name}: batch dimension is not one shared symbol: {in_dims} {out_dims}")
    if in_dims[1:] != entry["input_shape"][1:] or out_dims[1:] != entry["output_shape"][1:]:
        raise AssertionError(f"{name}: declared shapes {in_dims} -> {out_dims} do not match "
                             f"{entry['input_shape']} -> {entry['output_shape']}")
    if any(n.op_type == "Dropout" for n in graph.node):
        raise AssertionError(f"{name}: the inference graph still contains Dropout")

    x = np.fromfile(os.path.join(base, entry["input"]), dtype="<f4").reshape(entry["input_shape"])
    want = np.fromfile(os.path.join(base, entry["output"]), dtype="<f4").reshape(entry["output_shape"])
    options = ort.SessionOptions()
    # No graph rewrites: we want the operators as written, not fused approximations.
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {graph.input[0].name: x})
    if got.shape != want.shape:
        raise AssertionError(f"{name}: onnxruntime output shape {got.shape}, neurite {want.shape}")
    diff = float(np.max(np.abs(got.astype(np.float64) - want.astype(np.float64))))
    ops = sorted({n.op_type for n in graph.node})
    print(f"{name}: onnx.checker full_check ok; onnxruntime {ort.__version__} max abs diff "
          f"{diff:.3e} over {want.size} outputs (batch {want.shape[0]}); ops: {' '.join(ops)}")
    if not diff <= tolerance:
        raise AssertionError(f"{name}: max abs diff {diff:.3e} exceeds {tolerance:.1e}")
    return diff


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("manifest")
    parser.add_argument("--tolerance", type=float, default=1e-5)
    args = parser.parse_args()
    np, onnx, ort = import_or_exit()
    with open(args.manifest) as f:
        manifest = json.load(f)
    base = os.path.dirname(os.path.abspath(args.manifest))
    failures = 0
    for entry in manifest["models"]:
        try:
            verify(entry, base, args.tolerance, np, onnx, ort)
        except Exception as e:  # report every model, then fail
            print(f"FAIL {entry.get('name', '?')}: {e}")
            failures += 1
    if failures:
        print(f"{failures} model(s) failed")
        sys.exit(1)
    print(f"all {len(manifest['models'])} models agree within {args.tolerance:.1e}")


if __name__ == "__main__":
    main()
