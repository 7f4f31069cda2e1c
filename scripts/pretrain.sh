#!/usr/bin/env bash
# npm run pretrain [-- --resume] [-- --minutes M]: corpus (once), PyTorch training on the CPU
# (float, then QAT at the integer precision), then the shipped file through slimgpu's format.
#   npm run pretrain -- --resume      continues runs/pretrain/ckpt.pt (its time budget included)
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f runs/corpus/train.bin ] || bash scripts/make-corpus.sh
nice -n 19 /usr/bin/python3 python/pretrain.py --corpus runs/corpus --out runs/pretrain "$@"
npx tsc -p tsconfig.json
node dist/scripts/export-pretrained.js runs/pretrain/int-model.json models/bytemlp.slim.safetensors
