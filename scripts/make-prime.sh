#!/usr/bin/env bash
# The prime text of the primed pretrained model (docs/pretrained.md "Priming"): English prose from
# Debian's fortunes (apt: fortunes, fortunes-min 1:1.99.1-7.3 — also corpus sources, and none of them
# held out), the less relevant files first, the computing files last (the CM's recent statistics
# weigh most):
#   bash scripts/make-prime.sh [OUT=runs/prime/prime.txt] [KIB=768]
# Three parts of KIB/3 KiB each, every part a list of files cut where the part is full.
# Writes OUT and OUT.manifest.tsv (file, bytes taken, sha256 of the file); the committed copy of the
# manifest is data/corpus/prime-manifest.tsv. The text itself ships inside the model file (gzip), so
# this script only has to reproduce it for a new model.
set -euo pipefail
OUT=${1:-runs/prime/prime.txt}
KIB=${2:-768}
F=/usr/share/games/fortunes
FIRST=(humorists miscellaneous platitudes politics men-women law tao kids education)
MID=(people literature science definitions work linux)
LAST=(computers wisdom people literature science definitions work linux)
PART=$((KIB * 1024 / 3))
mkdir -p "$(dirname "$OUT")"
for f in "${FIRST[@]}" "${MID[@]}" "${LAST[@]}"; do
  [ -f "$F/$f" ] || { echo "make-prime: $F/$f is missing (apt-get install -y fortunes fortunes-min)" >&2; exit 1; }
done
{
  head -c "$PART" < <(cd "$F" && cat "${FIRST[@]}")
  head -c "$PART" < <(cd "$F" && cat "${MID[@]}")
  head -c "$PART" < <(cd "$F" && cat "${LAST[@]}")
} > "$OUT.tmp"
# manifest: how many bytes of each file the text takes (files in order, each part cut at PART bytes)
{
  printf 'file\tbytes_taken\tbytes\tsha256\n'
  for part in FIRST MID LAST; do
    left=$PART
    declare -n list=$part
    for f in "${list[@]}"; do
      n=$(stat -c %s "$F/$f")
      take=$((n < left ? n : left))
      if [ "$take" -gt 0 ]; then printf '%s\t%s\t%s\t%s\n' "$F/$f" "$take" "$n" "$(sha256sum "$F/$f" | cut -d' ' -f1)"; fi
      left=$((left - take))
    done
  done
} > "$OUT.manifest.tsv"
mv "$OUT.tmp" "$OUT"
echo "make-prime: $OUT $(stat -c %s "$OUT") bytes, sha256 $(sha256sum "$OUT" | cut -d' ' -f1)"
