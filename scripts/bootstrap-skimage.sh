#!/usr/bin/env bash
# Fetch the scikit-image sample photographs (camera, astronaut, coffee, chelsea, ...) into
# .deps/skimage-data, the embedded real-image default of `plateau train --data skimage`.
#
#   scripts/bootstrap-skimage.sh          # fetch once; later runs do nothing
#   FORCE=1 scripts/bootstrap-skimage.sh  # fetch again
#
# What it does
#   The scikit-image wheel on PyPI ships its small sample images in skimage/data/. We download
#   that wheel (pip download, no install, no dependencies; the platform and Python tags are
#   pinned so every machine gets the same file, whose SHA-256 is checked) and extract only
#   skimage/data/*.png|*.jpg with Python's zipfile. No Python package is installed.
#   The experiments find the folder through PLATEAU_SKIMAGE_DATA (.cargo/config.toml).
#
# Idempotent: a stamp file marks a complete fetch; the files go to a temporary folder that is
# renamed into place only when complete, so an interrupted run leaves nothing half-done.
set -euo pipefail

SKIMAGE_VERSION=0.25.2
WHEEL=scikit_image-0.25.2-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl
WHEEL_SHA256=24cc986e1f4187a12aa319f777b36008764e856e5013666a4a83f8df083c2641

NAME=bootstrap-skimage
DEST=skimage-data
# shellcheck source=scripts/bootstrap-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap-common.sh"
TMP="$DEPS/tmp-skimage"

if [[ -f "$STAMP" && -z "${FORCE:-}" ]]; then
    say "scikit-image $SKIMAGE_VERSION sample photographs already in ${DEST#"$ROOT"/}"
    exit 0
fi
command -v "$PYTHON" >/dev/null 2>&1 || die "$PYTHON not found: install Python 3 with pip"
"$PYTHON" -m pip --version >/dev/null 2>&1 || die "pip not available for $PYTHON (Debian: apt-get install python3-pip)"

mkdir -p "$DEPS"
serialise "$DEPS/.bootstrap-skimage.lock" "fetched by a concurrent run"
rm -rf "$PARTIAL" "$TMP"
mkdir -p "$TMP"
trap 'rm -rf "$PARTIAL" "$TMP"' EXIT

say "downloading scikit-image==$SKIMAGE_VERSION's sample photographs (one wheel, ~15 MB, not installed)"
"$PYTHON" -m pip download --no-deps --only-binary=:all: --disable-pip-version-check --no-input \
    --progress-bar off --platform manylinux2014_x86_64 --python-version 3.11 \
    --implementation cp --abi cp311 --dest "$TMP" "scikit-image==$SKIMAGE_VERSION" >/dev/null ||
    die "pip could not download scikit-image==$SKIMAGE_VERSION (network?)"
[[ -f "$TMP/$WHEEL" ]] || die "pip did not produce $WHEEL (got: $(ls "$TMP"))"
sum=$("$PYTHON" -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest())' "$TMP/$WHEEL")
[[ "$sum" == "$WHEEL_SHA256" ]] || die "$WHEEL has SHA-256 $sum, expected $WHEEL_SHA256"

mkdir -p "$PARTIAL"
"$PYTHON" - "$TMP/$WHEEL" "$PARTIAL" <<'EOF'
import os, sys, zipfile
wheel, dest = sys.argv[1], sys.argv[2]
n = 0
with zipfile.ZipFile(wheel) as z:
    for info in z.infolist():
        name = info.filename
        if name.startswith("skimage/data/") and name.count("/") == 2 \
                and name.lower().endswith((".png", ".jpg", ".jpeg")):
            with open(os.path.join(dest, os.path.basename(name)), "wb") as f:
                f.write(z.read(info))
            n += 1
if n == 0:
    sys.exit("no skimage/data/*.png|*.jpg in the wheel")
EOF
date -u +%Y-%m-%dT%H:%M:%SZ >"$PARTIAL/.bootstrap-complete"
rm -rf "$DEST"
mv "$PARTIAL" "$DEST"
say "done: ${DEST#"$ROOT"/} ($(find "$DEST" -type f -name '*.*g' | wc -l) images)"
