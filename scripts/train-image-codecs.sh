#!/usr/bin/env bash
# Trains the learned image codecs' lambda sweep (issue 19) with PyTorch on the CPU: one base model per
# data set, then one fine-tuned model per lambda (warm-started from the base). Resumable: every run
# checkpoints to its output every few minutes and `--resume` continues it (rerun this script).
# Usage: scripts/train-image-codecs.sh fashion|rgb [BASE_MINUTES] [LAMBDA_MINUTES]
# Needs the photo patches for rgb: node dist/scripts/make-image-patches.js
# Then Deep Compression with retraining of member 3 (pruned 50 %, 5-bit shared) into runs/img/<data>-dc.
# Session 6 ran `fashion 12 5` and `rgb 14 6` side by side (nice 19, 2 cores shared by 6 engineers);
# models/img/ ships the members on the ladders' hull: photo-1 = rgb-l0.003, photo-3 = rgb-l0.03,
# fashion-1 = fashion-l0.01, fashion-3 = fashion-l0.1, and the -3-dc twins (docs/images.md).
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:?fashion or rgb}
base_min=${2:-10}
lam_min=${3:-5}
out=runs/img
mkdir -p "$out"
py() { nice -n 19 /usr/bin/python3 python/image_codec.py "$@"; }
if [ "$data" = fashion ]; then
  common=(--data fashion --n 32 --m 32 --batch 16 --lr 1e-3)
  base_l=0.03
  lambdas=(0.01 0.03 0.1 0.3)
  dc_l=0.1
else
  common=(--data rgb --n 32 --m 32 --batch 16 --crop 32 --lr 1e-3)
  base_l=0.01
  lambdas=(0.003 0.01 0.03 0.1)
  dc_l=0.03
fi
# steps are an upper bound; --minutes stops (and exports) earlier
if [ ! -e "$out/$data-base.done" ]; then
  py "${common[@]}" --lmbda $base_l --steps 100000 --minutes "$base_min" --resume --out "$out/$data-base.safetensors"
  touch "$out/$data-base.done"
fi
for l in "${lambdas[@]}"; do
  f="$out/$data-l$l.safetensors"
  [ -e "$f.done" ] && continue
  if [ -e "$f" ]; then init=(--resume); else init=(--init "$out/$data-base.safetensors"); fi
  py "${common[@]}" --lmbda "$l" --steps 100000 --minutes "$lam_min" "${init[@]}" --out "$f"
  touch "$f.done"
done
f="$out/$data-dc.safetensors"
if [ ! -e "$f.done" ]; then
  if [ -e "$f" ]; then init=(--resume); else init=(--init "$out/$data-l$dc_l.safetensors"); fi
  py "${common[@]}" --lmbda "$dc_l" --steps 100000 --minutes 6 --prune 0.5 --share-bits 5 "${init[@]}" --out "$f"
  touch "$f.done"
fi
