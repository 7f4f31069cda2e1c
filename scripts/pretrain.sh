#!/usr/bin/env bash
# npm run pretrain [-- --resume] [-- --minutes M]: corpus (once), PyTorch training on the CPU
# (float, then QAT at the integer precision), then the model file through slimgpu's format, written
# to runs/pretrain/bytemlp.slim.safetensors (never over a shipped file: a shipped model's file is
# named by its hash; a new model gets a new name under models/ and a new registry entry).
#   npm run pretrain -- --resume      continues runs/pretrain/ckpt.pt (its time budget included)
#   npm run pretrain -- --init-int runs/pretrain/init-int.json   starts from a shipped model
#       (node dist/scripts/dump-pretrained.js models/<file> runs/pretrain/init-int.json writes it)
set -euo pipefail
cd "$(dirname "$0")/.."
# npm runs a script named "pretrain" before every `npm run train` (its pre-hook), with the same
# environment as `npm run pretrain`. The README's first command must stay a 1-minute LeNet run, so
# when the npm process above us was asked for `train` (not `pretrain`), this does nothing.
invoked_as_hook() {
  local pid=$PPID args
  for _ in 1 2 3 4 5 6; do
    [ -r "/proc/$pid/cmdline" ] || return 1
    args=$(tr '\0' ' ' < "/proc/$pid/cmdline")
    case " $args " in
      *" run pretrain "* | *" run-script pretrain "*) return 1 ;;
      *" run train "* | *" run-script train "*) return 0 ;;
    esac
    pid=$(awk '{print $4}' "/proc/$pid/stat" 2>/dev/null) || return 1
    [ "$pid" -gt 1 ] 2>/dev/null || return 1
  done
  return 1
}
if invoked_as_hook; then exit 0; fi
[ -f runs/corpus/train.bin ] || bash scripts/make-corpus.sh
nice -n 19 /usr/bin/python3 python/pretrain.py --corpus runs/corpus --out runs/pretrain "$@"
npx tsc -p tsconfig.json
node dist/scripts/export-pretrained.js runs/pretrain/int-model.json runs/pretrain/bytemlp.slim.safetensors
