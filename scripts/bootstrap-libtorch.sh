#!/usr/bin/env bash
# Install LibTorch (the C++ half of PyTorch) project-locally, for the `tch` crate.
#
#   scripts/bootstrap-libtorch.sh          # install once; later runs do nothing
#   FORCE=1 scripts/bootstrap-libtorch.sh  # reinstall
#
# With LIBTORCH already set in the environment it does nothing: cargo uses that one.
#
# What it does
#   tch 0.24 needs PyTorch 2.11.0. We take the `torch==2.11.0` wheel from PyPI and
#   unpack it with `pip install --target .deps/libtorch-2.11.0`; its `torch/` folder
#   holds `include/` and `lib/` and is what LIBTORCH points at (.cargo/config.toml).
#
#   The PyPI wheel is a CUDA 13 build, and pulling all its NVIDIA dependencies would
#   cost 4.6 GB. We install torch with --no-deps plus the only two NVIDIA wheels that
#   the CPU libraries need at load time:
#     libtorch_cpu.so NEEDS libcudart.so.13 (nvidia-cuda-runtime)
#                       and libcupti.so.13  (nvidia-cuda-cupti)
#   Both wheels put their libraries in nvidia/cu13/lib/, which torch/lib/*.so find
#   through their RPATH entry $ORIGIN/../../nvidia/cu13/lib: exactly the layout
#   `pip --target` creates.
#
#   On a machine where `nvidia-smi -L` lists a GPU, it also installs the CUDA libraries
#   libtorch_cuda.so needs (cuBLAS, cuDNN, NCCL, ...): the pins of torch's own METADATA
#   (its `Requires-Dist: cuda-toolkit[...]==...` and `nvidia-*==...` lines for Linux),
#   unpacked into the same folder (another ~4 GB; stamp .bootstrap-cuda-complete).
#   Without a GPU nothing more is downloaded. PLATEAU_CUDA=1 / PLATEAU_CUDA=0 forces
#   the choice; `--print-cuda-pins METADATA` prints the pins read from a METADATA file.
#
# Idempotent: a stamp file marks a complete install. The install goes to a
# temporary folder that is renamed into place only once it is complete and
# verified, so an interrupted run leaves nothing half-done behind.
set -euo pipefail

TORCH_VERSION=2.11.0
# The CUDA runtime and CUPTI versions that torch 2.11.0 pins (via cuda-toolkit==13.0.2).
NVIDIA_WHEELS=("nvidia-cuda-runtime==13.0.96.*" "nvidia-cuda-cupti==13.0.85.*")

NAME=bootstrap-libtorch
DEST="libtorch-$TORCH_VERSION"
# shellcheck source=scripts/bootstrap-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap-common.sh"

# The CUDA requirements of a torch METADATA file, one pip requirement a line: the
# `cuda-toolkit[...]==V` and `nvidia-*==V` Requires-Dist lines for Linux, markers removed
# (cuda-bindings and triton are Python packages that LibTorch does not load).
cuda_pins() {
    sed -n 's/^Requires-Dist: *\(\(cuda-toolkit\|nvidia-\)[^;]*\);.*platform_system *== *"Linux".*/\1/p' "$1" |
        sed 's/ *$//'
}

# Whether this machine has an NVIDIA GPU (PLATEAU_CUDA=0/1 overrides).
want_cuda() {
    case "${PLATEAU_CUDA:-}" in
    1) return 0 ;;
    0) return 1 ;;
    esac
    command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L 2>/dev/null | grep -q '^GPU '
}

# Installs the CUDA libraries of torch's pins next to the CPU install in $DEST (complete
# or not at all: a temporary target, merged without overwriting, then a stamp).
install_cuda() {
    local stamp="$DEST/.bootstrap-cuda-complete" tmp="$DEPS/cuda.partial"
    [[ -f "$stamp" && -z "${FORCE:-}" ]] && return 0
    local meta
    meta=$(ls "$DEST"/torch-*.dist-info/METADATA 2>/dev/null | head -n1)
    [[ -n "$meta" ]] || die "no torch METADATA under ${DEST#"$ROOT"/}: cannot read the CUDA pins"
    local pins
    mapfile -t pins < <(cuda_pins "$meta")
    ((${#pins[@]} > 0)) || die "no CUDA pins in $meta"
    say "GPU found: installing torch's CUDA libraries (~4 GB): ${pins[*]}"
    rm -rf "$tmp"
    mkdir -p "$DEPS/tmp"
    TMPDIR="$DEPS/tmp" logged "$DEPS/logs/bootstrap-cuda.log" "$PYTHON" -m pip install --target "$tmp" \
        --only-binary=:all: --disable-pip-version-check --no-input --no-compile \
        --no-warn-script-location --progress-bar off "${pins[@]}" || { rm -rf "$tmp" "$DEPS/tmp"; die "pip could not install the CUDA wheels ${pins[*]}"; }
    # Same layout as the CPU install (nvidia/<pkg>/lib), which torch/lib's RPATH names.
    cp -rn "$tmp"/. "$DEST"/
    rm -rf "$tmp" "$DEPS/tmp"
    if command -v ldd >/dev/null 2>&1 && missing=$(ldd "$DEST/torch/lib/libtorch_cuda.so" | grep 'not found'); then
        die "libtorch_cuda.so still has unresolved dependencies: $(echo "$missing" | tr -s ' \t\n' ' ')"
    fi
    date -u +%Y-%m-%dT%H:%M:%SZ >"$stamp"
    say "CUDA libraries installed; libtorch_cuda.so resolves all its dependencies"
}

if [[ "${1:-}" == "--print-cuda-pins" ]]; then
    [[ -f "${2:-}" ]] || die "usage: $0 --print-cuda-pins PATH/TO/METADATA"
    cuda_pins "$2"
    exit 0
fi

if [[ -n "${LIBTORCH:-}" && "${LIBTORCH%/}" != "$DEST/torch" && -z "${FORCE:-}" ]]; then
    say "LIBTORCH=$LIBTORCH is set in the environment: using it, nothing to install"
    exit 0
fi
if [[ -f "$STAMP" && -z "${FORCE:-}" ]]; then
    say "LibTorch $TORCH_VERSION already installed in ${DEST#"$ROOT"/} (delete it or set FORCE=1 to reinstall)"
    if want_cuda; then
        install_cuda
    fi
    exit 0
fi

[[ "$(uname -s)-$(uname -m)" == "Linux-x86_64" ]] ||
    die "only Linux x86_64 is supported (this is $(uname -s)-$(uname -m)); install LibTorch $TORCH_VERSION yourself and export LIBTORCH=/path/to/libtorch"
command -v "$PYTHON" >/dev/null 2>&1 ||
    die "$PYTHON not found: install Python 3.10+ with pip (Debian: apt-get install python3 python3-pip)"
"$PYTHON" -m pip --version >/dev/null 2>&1 ||
    die "pip not available for $PYTHON: install it (Debian: apt-get install python3-pip)"

mkdir -p "$DEPS"
# Serialise concurrent runs (e.g. two `make` invocations).
serialise "$DEPS/.bootstrap.lock" "LibTorch $TORCH_VERSION was installed by a concurrent run"

if [[ -e "$PARTIAL" || -e "$DEPS/tmp" ]]; then
    say "removing the leftovers of an interrupted install"
    rm -rf "$PARTIAL" "$DEPS/tmp"
fi
# pip downloads (530 MB) and unpacks (1.2 GB) in TMPDIR: keep that next to the
# destination, off a possibly small /tmp, and where the next run cleans it up.
mkdir -p "$DEPS/tmp"
export TMPDIR="$DEPS/tmp"
# On any failure or interruption, leave no half-install behind.
trap 'rm -rf "$PARTIAL" "$DEPS/tmp"' EXIT
pip_flags=(--no-deps --no-compile --only-binary=:all: --disable-pip-version-check --no-input
    --no-warn-script-location)
if [[ -n "${CI:-}" || ! -t 1 ]]; then
    pip_flags+=(--progress-bar off)
fi
# Silence pip's "running as root" warning where this pip knows the option (pip >= 22.1).
if [[ "$("$PYTHON" -m pip install --help 2>/dev/null)" == *--root-user-action* ]]; then
    pip_flags+=(--root-user-action=ignore)
fi

say "installing torch==$TORCH_VERSION + ${NVIDIA_WHEELS[*]} (LibTorch only, ~545 MB download, ~1.2 GB on disk; pip's log: .deps/logs/bootstrap-libtorch.log)"
start=$(date +%s)
logged "$DEPS/logs/bootstrap-libtorch.log" "$PYTHON" -m pip install --target "$PARTIAL" "${pip_flags[@]}" \
    "torch==$TORCH_VERSION" "${NVIDIA_WHEELS[@]}" ||
    die "pip could not download/install torch==$TORCH_VERSION (network? disk space? no wheel for this Python? see the log above)"

LIB="$PARTIAL/torch/lib"
[[ -f "$LIB/libtorch_cpu.so" && -f "$LIB/libc10.so" && -d "$PARTIAL/torch/include/torch" ]] ||
    die "the torch wheel lacks torch/lib/libtorch_cpu.so, libc10.so or torch/include"

# Every library a tch binary loads on CPU must resolve from inside .deps/.
if command -v ldd >/dev/null 2>&1; then
    for so in libtorch_cpu.so libc10.so; do
        if missing=$(ldd "$LIB/$so" | grep 'not found'); then
            die "$so has unresolved dependencies: $(echo "$missing" | tr -s ' \t\n' ' ')"
        fi
    done
else
    say "warning: ldd not found, skipping the load-time check"
fi

echo "$TORCH_VERSION" >"$PARTIAL/torch/build-version" # lets torch-sys check the version
date -u +%Y-%m-%dT%H:%M:%SZ >"$PARTIAL/.bootstrap-complete"
rm -rf "$DEST"
mv "$PARTIAL" "$DEST"
rm -rf "$DEPS/tmp"

size=$(du -sh "$DEST" | cut -f1)
say "done in $(($(date +%s) - start)) s: LIBTORCH=${DEST#"$ROOT"/}/torch ($size; libtorch_cpu.so and libc10.so resolve all their dependencies)"
if want_cuda; then
    trap - EXIT
    install_cuda
fi
