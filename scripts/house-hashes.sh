#!/usr/bin/env bash
# Issue 20's proof that a restructuring changed no bytes: short runs whose exported files and .slimz
# outputs are hashed (sha256). Run it before and after a refactor and diff the two lists.
#   bash scripts/house-hashes.sh [OUT_DIR]   (default runs/house-hashes; needs `npm run build` first)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-runs/house-hashes}
rm -rf "$out" && mkdir -p "$out"
cli="nice -n 19 node bin/slimgpu.js"
head -c 4000 demo/samples/gpl-3.txt > "$out/text4k.txt"
$cli train --model lenet-300-100 --data mnist --epochs 1 --batch 128 --lr 0.1 --momentum 0.9 --l2 1e-4 \
  --train-size 2048 --test-size 512 --sparsity dense1=0.94,dense2=0.88,dense3=0.65 --schedule polynomial \
  --bits 5 --out "$out/lenet" > "$out/lenet.report.txt" 2>&1
$cli train --model lenet-5 --data mnist --epochs 1 --batch 64 --train-size 512 --test-size 256 \
  --sparsity 0.5 --bits conv=8,dense=5 --out "$out/lenet5" > "$out/lenet5.report.txt" 2>&1
$cli train --model gpt:1-32-2-32 --data "text:$out/text4k.txt" --max-steps 20 --batch 8 --sparsity 0.5 \
  --bits 5 --out "$out/gpt" > "$out/gpt.report.txt" 2>&1
$cli compress --model none --no-progress -o "$out/none.slimz" "$out/text4k.txt" > /dev/null
$cli compress --model gpt:1-32-2-32 --streams 2 --no-progress -o "$out/gpt.slimz" "$out/text4k.txt" > /dev/null
$cli compress --model gpt:1-32-2-32 --two-part --train-steps 20 --no-progress -o "$out/twopart.slimz" \
  "$out/text4k.txt" > /dev/null
for f in none gpt twopart; do $cli decompress -o "$out/$f.out" "$out/$f.slimz" > /dev/null
  cmp "$out/$f.out" "$out/text4k.txt"; done
# every output file except logs/reports/checkpoint timing side files, sorted by path
(cd "$out" && find . -type f ! -name '*.report.txt' ! -name '*.out' ! -name 'text4k.txt' | sort | xargs sha256sum)
# the reports without their timing section (wall-clock numbers differ from run to run)
for r in lenet lenet5 gpt; do
  node -e 'const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); delete r.timing;
    process.stdout.write(JSON.stringify(r))' "$out/$r/report.json" | sha256sum | sed "s|-\$|./$r/report.json (no timing)|"
done
sha256sum tests/fixtures/plan-dispatches.json
