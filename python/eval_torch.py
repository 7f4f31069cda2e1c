#!/usr/bin/python3
"""Evaluates weights in the PyTorch twin on the MNIST test split and prints JSON, one result per file:

  /usr/bin/python3 python/eval_torch.py --model lenet-300-100 \
      [--state-dict model.safetensors ...] [--slim model.slim.safetensors ...] [--test-size n]

--state-dict: a safetensors state_dict in PyTorch names (train_torch.py, `slimgpu export --format
torch`), loaded with load_state_dict(strict=True). --slim: a slimgpu compressed file, decoded by
slim_reader.py (from docs/format.md) and mapped to PyTorch names.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_np  # noqa: E402
import slim_reader  # noqa: E402
import twins  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=twins.model_type, required=True, help="lenet-300-100, lenet-5 or gpt:L-D-H-T")
    ap.add_argument("--text", help="gpt: models: the text file (its last 10%% is the validation text)")
    ap.add_argument("--state-dict", nargs="*", default=[])
    ap.add_argument("--slim", nargs="*", default=[])
    ap.add_argument("--data-dir", default=twins.MNIST_DIR)
    ap.add_argument("--test-size", type=int, help="the first n test samples (gpt: validation windows)")
    a = ap.parse_args()
    torch.set_num_threads(1)
    gpt = twins.gpt_config(a.model)
    data = twins.Text(a.text, gpt[3]) if gpt else twins.Mnist(a.data_dir, test_size=a.test_size)
    results = []
    for kind, files in (("state-dict", a.state_dict), ("slim", a.slim)):
        for path in files:
            if kind == "slim":
                spec, arrays = slim_reader.read(path)
                sd = twins.from_slim(arrays)
            else:
                arrays, _ = safetensors_np.read(path)
                sd = {k: torch.from_numpy(np.asarray(v, dtype=np.float32)) for k, v in arrays.items()}
            model = twins.make_model(a.model)
            model.load_state_dict(sd, strict=True)
            r = twins.evaluate_lm(model, data, a.test_size) if gpt else twins.evaluate(model, data)
            r.update(file=path, kind=kind, nonzeros=int(sum(int((v != 0).sum()) for v in sd.values())))
            results.append(r)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
