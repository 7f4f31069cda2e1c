#!/usr/bin/env bash
# Idempotent setup of what slimgpu's Node tests and browser tests need on a Debian (bookworm)
# machine without a GPU:
#   - Mesa's lavapipe (software Vulkan) from bookworm-backports plus libvulkan1. Dawn (npm `webgpu`)
#     refuses bookworm's own Mesa 22, so the backports suite is added, derived from the machine's
#     existing Debian apt entry (no host name is written here).
#   - Debian's chromium, for the puppeteer-core browser tests.
#   - Debian's dataset-fashion-mnist (optional data for `--data fashion-mnist`).
#   - bzip2, xz-utils, zstd, zpaq (the compressors `npm run bench -- compressors` compares with) and
#     bible-kjv + bible-kjv-text (its default English text, the King James Bible).
#   - Debian's python3-torch and python3-numpy (python/: PyTorch twins, DDP trainer, readers).
#   - mate-backgrounds, libjpeg-turbo-progs, webp, libavif-bin, optipng, libjxl-tools (images).
# It installs nothing that is already present and prints what it chose.
# Usage: sudo bash scripts/setup-software-gpu.sh [--no-chromium] [--no-fashion-mnist]
set -euo pipefail

want_chromium=1
want_fashion=1
for a in "$@"; do
  case "$a" in
    --no-chromium) want_chromium=0 ;;
    --no-fashion-mnist) want_fashion=0 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "setup-software-gpu: unknown argument '$a'" >&2; exit 2 ;;
  esac
done

say() { echo "[setup-software-gpu] $*"; }

SUDO=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null; then SUDO="sudo"; else say "must run as root (or with sudo)"; exit 1; fi
fi

if ! command -v apt-get >/dev/null; then
  say "no apt-get: this script supports Debian only. Install a Vulkan driver (Mesa >= 24 lavapipe or a GPU driver) yourself."
  exit 1
fi

# installed version of a package, or empty
pkgver() { dpkg-query -W -f='${db:Status-Abbrev} ${Version}\n' "$1" 2>/dev/null | awk '/^ii/{print $2}'; }
# major of the Mesa lavapipe package
mesa_major() { local v; v=$(pkgver mesa-vulkan-drivers); [ -n "$v" ] && echo "${v%%.*}" | sed 's/^[0-9]*://' || echo 0; }

updated=0
apt_update() { if [ $updated = 0 ]; then $SUDO apt-get update -qq; updated=1; fi; }
export DEBIAN_FRONTEND=noninteractive

codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")

ensure_backports() {
  local bp="${codename}-backports"
  if grep -rqs -- "$bp" /etc/apt/sources.list /etc/apt/sources.list.d/; then return 0; fi
  local src=/etc/apt/sources.list.d/debian.sources
  local dst=/etc/apt/sources.list.d/slimgpu-backports.sources
  if [ -f "$src" ]; then
    # Copy the stanza whose Suites name the release itself, swapping the suites for -backports.
    awk -v rel="$codename" -v bp="$bp" '
      BEGIN { RS=""; ORS="\n\n" }
      $0 ~ ("Suites:[^\n]*(^|[ \t])" rel "([ \t]|$)") || $0 ~ ("Suites: " rel "($|[ \n])") {
        n = split($0, L, "\n"); out = ""
        for (i = 1; i <= n; i++) {
          if (L[i] ~ /^#/) continue
          if (L[i] ~ /^Suites:/) L[i] = "Suites: " bp
          out = out L[i] "\n"
        }
        printf "%s\n", out; exit
      }' "$src" | $SUDO tee "$dst" >/dev/null
  elif [ -f /etc/apt/sources.list ]; then
    grep -E "^deb [^ ]+ ${codename} " /etc/apt/sources.list | head -1 | \
      sed -E "s/ ${codename} / ${bp} /" | $SUDO tee /etc/apt/sources.list.d/slimgpu-backports.list >/dev/null
  fi
  if ! grep -rqs -- "$bp" /etc/apt/sources.list.d/; then
    say "could not derive a ${bp} entry from the existing apt sources"; exit 1
  fi
  say "added ${bp} (derived from the existing Debian entry)"
  updated=0
}

# 1. Vulkan: lavapipe from Mesa >= 24 (Dawn refuses Mesa 22)
if [ -n "$(pkgver libvulkan1)" ] && [ "$(mesa_major)" -ge 24 ]; then
  say "lavapipe present: mesa-vulkan-drivers $(pkgver mesa-vulkan-drivers), libvulkan1 $(pkgver libvulkan1)"
else
  if [ "$codename" = bookworm ]; then
    ensure_backports
    apt_update
    $SUDO apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers libvulkan1 >/dev/null
  else
    apt_update
    $SUDO apt-get install -y -qq mesa-vulkan-drivers libvulkan1 >/dev/null
  fi
  say "installed lavapipe: mesa-vulkan-drivers $(pkgver mesa-vulkan-drivers), libvulkan1 $(pkgver libvulkan1)"
  if [ "$(mesa_major)" -lt 24 ]; then say "warning: Mesa $(pkgver mesa-vulkan-drivers) is older than 24; Dawn may refuse it"; fi
fi

# 2. Chromium for browser tests
if [ $want_chromium = 1 ]; then
  if [ -x /usr/bin/chromium ]; then
    say "chromium present: $(pkgver chromium)"
  else
    apt_update
    $SUDO apt-get install -y -qq chromium >/dev/null
    say "installed chromium $(pkgver chromium)"
  fi
fi

# 3. Fashion-MNIST (full data set as IDX .gz files)
if [ $want_fashion = 1 ]; then
  if [ -d /usr/share/datasets/fashion-mnist ] || [ -n "$(pkgver dataset-fashion-mnist)" ]; then
    say "fashion-mnist present: /usr/share/datasets/fashion-mnist"
  else
    apt_update
    if $SUDO apt-get install -y -qq dataset-fashion-mnist >/dev/null; then
      say "installed dataset-fashion-mnist"
    else
      say "dataset-fashion-mnist not available; --data fashion-mnist will need IDX files you provide"
    fi
  fi
fi

# 4. Compressors and the English text for the codec benchmark
need=()
for p in bzip2 xz-utils zstd zpaq bible-kjv bible-kjv-text; do [ -n "$(pkgver "$p")" ] || need+=("$p"); done
if [ ${#need[@]} = 0 ]; then
  say "codec bench tools present: bzip2, xz-utils, zstd, zpaq, bible-kjv"
else
  apt_update
  if $SUDO apt-get install -y -qq "${need[@]}" >/dev/null; then say "installed ${need[*]}"; else say "could not install ${need[*]}; npm run bench -- compressors needs them"; fi
fi

# 5. PyTorch (CPU) and numpy for python/ (the DDP trainer and the PyTorch round-trip test), run
#    with /usr/bin/python3: Debian's python3-torch, no pip
if /usr/bin/python3 -c 'import torch, numpy' 2>/dev/null; then
  say "python3-torch present: $(/usr/bin/python3 -c 'import torch; print(torch.__version__)')"
else
  apt_update
  $SUDO apt-get install -y -qq python3-torch python3-numpy >/dev/null
  say "installed python3-torch $(pkgver python3-torch), python3-numpy $(pkgver python3-numpy)"
fi

# 6. Images (issue 19): mate-backgrounds' photographs (the codec's patches) and the codecs
#    `npm run bench -- images` compares with: cjpeg, cwebp, avifenc, optipng, cjxl
need=()
for p in mate-backgrounds libjpeg-turbo-progs webp libavif-bin optipng libjxl-tools; do [ -n "$(pkgver "$p")" ] || need+=("$p"); done
if [ ${#need[@]} = 0 ]; then
  say "image bench tools present: mate-backgrounds, cjpeg, cwebp, avifenc, optipng, cjxl"
else
  apt_update
  if $SUDO apt-get install -y -qq "${need[@]}" >/dev/null; then say "installed ${need[*]}"; else say "could not install ${need[*]}; npm run bench -- images needs them"; fi
fi

icd=$(ls /usr/share/vulkan/icd.d/lvp_icd*.json 2>/dev/null | head -1 || true)
say "software Vulkan ICD: ${icd:-none found}"
