#!/bin/sh
# Writes the compressed model files that `npm run bench -- infer` and docs/inference.md use, all by
# slimgpu's own train → prune → share → export path (format v3):
#   $DIR/lenet-300-100/model.slim.safetensors   2 epochs on MNIST, 92% sparse, 5-bit
#   $DIR/lenet-5/model.slim.safetensors         1 epoch, 90% sparse, 5-bit (conv 5-bit too)
#   $DIR/mlp-4096/model.slim.safetensors        mlp:784-4096-4096-10, 95% sparse, 4-bit, only
#                                               $MLP_STEPS steps (a speed model: barely trained)
# usage: scripts/make-infer-models.sh [DIR (default /tmp/slimgpu-infer)]
set -e
DIR=${1:-/tmp/slimgpu-infer}
MLP_STEPS=${MLP_STEPS:-20}
S="node $(dirname "$0")/../bin/slimgpu.js"
mkdir -p "$DIR"
[ -f "$DIR/lenet-300-100/model.slim.safetensors" ] || nice -n 19 $S train --model lenet-300-100 --data mnist --epochs 2 --sparsity 0.92 --bits 5 --out "$DIR/lenet-300-100" --json > "$DIR/lenet-300-100.log"
[ -f "$DIR/lenet-5/model.slim.safetensors" ] || nice -n 19 $S train --model lenet-5 --data mnist --epochs 1 --sparsity 0.9 --bits 5 --conv-bits 5 --out "$DIR/lenet-5" --json > "$DIR/lenet-5.log"
[ -f "$DIR/mlp-4096/model.slim.safetensors" ] || nice -n 19 $S train --model mlp:784-4096-4096-10 --data mnist --max-steps "$MLP_STEPS" --prune-begin 0 --prune-end 1 --sparsity 0.95 --bits 4 --fine-tune-steps 0 --test-size 1000 --out "$DIR/mlp-4096" --json > "$DIR/mlp-4096.log"
ls -l "$DIR"/*/model.slim.safetensors
