#!/usr/bin/env bash
# Runs scripts/bench-pytorch.py with the project's torch 2.11.0 wheel (.deps/libtorch-2.11.0,
# installed by scripts/bootstrap-libtorch.sh) for the `plateau bench-train` comparison.
#   scripts/bench-pytorch.sh [--channels 32 --pools 2 --image-size 64 --batch-size 16 --steps 50]
#
# The Rust side only needs libtorch_cpu, but PyPI's torch is a CUDA build whose Python
# extension (torch/_C, libtorch_python.so) links libtorch_cuda.so and hence cuBLAS, cuDNN,
# NCCL, ...: `import torch` fails without them even on a CPU-only machine. So this installs, once,
# into folders kept out of every test path:
#   .deps/py-bench       torch's pure-Python dependencies (sympy, networkx, jinja2, ...)
#   .deps/py-bench-cuda  the NVIDIA libraries torch 2.11.0 pins (about 2.2 GB; never used on CPU)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="$ROOT/.deps/py-bench"
CU="$ROOT/.deps/py-bench-cuda"
PYTHON="${PYTHON:-python3}"
PIP=("$PYTHON" -m pip install --no-compile --disable-pip-version-check -q)
"$ROOT/scripts/bootstrap-libtorch.sh" >/dev/null
if [[ ! -f "$PY/.complete" ]]; then
    rm -rf "$PY"
    "${PIP[@]}" --target "$PY" filelock "typing-extensions>=4.10.0" sympy networkx jinja2 fsspec numpy
    touch "$PY/.complete"
fi
if [[ ! -f "$CU/.complete" ]]; then
    rm -rf "$CU"
    "${PIP[@]}" --target "$CU" "cuda-toolkit[cublas,cufft,cufile,curand,cusparse,nvjitlink]==13.0.2" \
        nvidia-cudnn-cu13==9.19.0.56 nvidia-cusparselt-cu13==0.8.0 nvidia-nccl-cu13==2.28.9 \
        nvidia-nvshmem-cu13==3.4.5
    touch "$CU/.complete"
fi
for d in cu13 cudnn cusparselt nccl nvshmem; do
    LD_LIBRARY_PATH="$CU/nvidia/$d/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
done
export LD_LIBRARY_PATH
export PYTHONPATH="$ROOT/.deps/libtorch-2.11.0:$PY:$CU"
exec "$PYTHON" "$ROOT/scripts/bench-pytorch.py" "$@"
