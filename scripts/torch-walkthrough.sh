#!/usr/bin/env bash
# The PyTorch walk-through of docs/torch.md, end to end (its numbers are there too):
# DDP training in PyTorch → import → eval → prune + share + fine-tune in slimgpu → compressed file →
# slim_reader.py → PyTorch evaluation of the decoded weights. Writes into runs/torch/.
# Usage: bash scripts/torch-walkthrough.sh [steps]   (after npm run build; PyTorch from python3-torch)
set -euo pipefail
cd "$(dirname "$0")/.."
steps=${1:-1880}
out=runs/torch
mkdir -p "$out"
PY=/usr/bin/python3
slim() { node bin/slimgpu.js "$@"; }

$PY python/train_torch.py --model lenet-300-100 --procs 2 --steps "$steps" --batch 64 --lr 0.05 \
  --out "$out/lenet.safetensors" --report "$out/torch.json"
slim import "$out/lenet.safetensors" --model lenet-300-100 --data mnist --out "$out/imported.safetensors"
slim eval --checkpoint "$out/imported.safetensors" | grep 'test accuracy'
slim train --init "$out/lenet.safetensors" --model lenet-300-100 --data mnist --epochs 2 --lr 0.02 \
  --sparsity 0.92 --bits 5 --fine-tune-steps 200 --out "$out/run" --no-progress
slim eval --compressed "$out/run/model.slim.safetensors" --data mnist | grep 'test accuracy'
$PY python/slim_reader.py "$out/run/model.slim.safetensors" --out "$out/decoded.safetensors"
slim export --format torch --compressed "$out/run/model.slim.safetensors" --out "$out/pruned-shared.safetensors"
$PY python/eval_torch.py --model lenet-300-100 --slim "$out/run/model.slim.safetensors" --state-dict "$out/pruned-shared.safetensors"
