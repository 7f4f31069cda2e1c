#!/usr/bin/env bash
# Builds the pretraining corpus of the shipped byte model (issue 22) from Debian packages:
# installs the packages it reads (apt, root), then python/make_corpus.py writes runs/corpus/
# (train.bin, starts.npy, heldout/) and the committed manifest data/corpus/manifest.tsv.
# Held out (never in the corpus): jargon-text (English test text), manpages-fr (French test text),
# bible-kjv (the project's other English test text).
set -euo pipefail
cd "$(dirname "$0")/.."
PKGS=(wamerican wbritish wngerman wfrench wspanish witalian fortunes fortunes-min debian-reference-en
      jargon-text gnu-standards manpages-fr manpages-de python3.11-doc man-db groff-base bsdextrautils)
missing=()
for p in "${PKGS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi
nice -n 10 /usr/bin/python3 python/make_corpus.py --out runs/corpus --manifest data/corpus/manifest.tsv
