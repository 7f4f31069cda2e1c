#!/usr/bin/python3
"""Exports a slimgpu MLP (a chain of dense / relu / sigmoid / tanh / flatten layers, e.g.
mlp:784-4096-4096-10) from its compressed file to ONNX with torch.onnx.export, dense fp32 weights
(what ONNX Runtime Web runs: it densifies sparse initializers at load), batch dimension dynamic.
The ONNX Runtime Web peer of `npm run bench -- infer --browser`.

  /usr/bin/python3 python/export_onnx.py model.slim.safetensors out.onnx
"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import slim_reader  # noqa: E402


def layers_of(model, arrays):
    """The layer list: a v1/v2 file's spec, or (format v3's terse metadata) an mlp: preset's (or lenet-300-100's) dense1..N with relu between."""
    if "layers" in model:
        return model["layers"]
    preset = model.get("preset", "")
    if not (preset.startswith("mlp:") or preset == "lenet-300-100"):
        raise SystemExit(f"export_onnx: preset {preset!r} is not an mlp: preset or lenet-300-100")
    n = sum(1 for k in arrays if k.endswith(".weight"))
    out = []
    for i in range(1, n + 1):
        out.append({"kind": "dense", "name": f"dense{i}"})
        if i < n:
            out.append({"kind": "relu"})
    return out


def build(model, arrays):
    mods = []
    for layer in layers_of(model, arrays):
        kind, name = layer["kind"], layer.get("name")
        if kind == "dense":
            w = arrays[f"{name}.weight"]  # [in, out]
            lin = torch.nn.Linear(w.shape[0], w.shape[1])
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(np.ascontiguousarray(w.T)))
                lin.bias.copy_(torch.from_numpy(arrays[f"{name}.bias"]))
            mods.append(lin)
        elif kind == "relu":
            mods.append(torch.nn.ReLU())
        elif kind == "sigmoid":
            mods.append(torch.nn.Sigmoid())
        elif kind == "tanh":
            mods.append(torch.nn.Tanh())
        elif kind == "flatten":
            mods.append(torch.nn.Flatten())
        else:
            raise SystemExit(f"export_onnx: layer kind {kind} is not supported (MLPs only)")
    return torch.nn.Sequential(*mods).eval()


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    model, arrays = slim_reader.read(sys.argv[1])
    net = build(model, arrays)
    d = int(np.prod(model["input"]))
    x = torch.zeros(1, d)
    tmp = sys.argv[2] + ".tmp"
    torch.onnx.export(net, x, tmp, input_names=["x"], output_names=["y"], dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}}, opset_version=13)
    os.replace(tmp, sys.argv[2])
    print(f"{sys.argv[2]}: {os.path.getsize(sys.argv[2])} bytes")


if __name__ == "__main__":
    main()
