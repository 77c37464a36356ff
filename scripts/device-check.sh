#!/usr/bin/env bash
# The GPU check of plateau, for a machine with an NVIDIA GPU, no Rust and no network: it runs
# binaries built elsewhere against the torch 2.11.0 (+cu130) of a Python environment, in a few
# minutes (well under 10 on one GPU).
#
#   scripts/device-check.sh [--bin DIR] [--venv DIR] [--out DIR] [--epochs N] [--dry-run]
#
#   --bin DIR    folder with plateau-train and plateau-bench-train [target/debug]
#   --venv DIR   Python environment with torch 2.11.0 and its CUDA libraries [/opt/torch/.venv]
#   --out DIR    where runs and the summary go [$OUT, else a new temporary folder]
#   --epochs N   training epochs of each run [5]
#   --dry-run    check the arguments and print the commands; run nothing, need no GPU
#
# Steps (each prints one line; the script stops at the first failure, exit 1):
#   1. the GPU (nvidia-smi -L), torch in the venv (torch.cuda.is_available()), the binaries;
#   2. the libraries: the binaries' RUNPATH names the build machine's LibTorch, so the venv's
#      torch/lib goes first on LD_LIBRARY_PATH (searched before RUNPATH) and is where
#      libtorch_cuda.so is opened from (PLATEAU_LIBTORCH_LIB);
#   3. the same small denoising run (U-Net, fp32) on CUDA and on the CPU: the training loss
#      must fall on CUDA, and the CUDA test MSE must be within TOL_REL (default 0.05, a sanity
#      bound, not a statistical one: the two devices round differently, so their trajectories
#      part) of the CPU's; the input MSE (same data, no training) within 1e-4;
#   4. training throughput of the same network (images/s): plateau-bench-train --device cuda
#      against scripts/bench-pytorch.py --device cuda in the venv's Python.
# Results: DIR/summary.txt (the lines printed) and DIR/{cuda,cpu}/metrics.json.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="$ROOT/target/debug"
VENV="/opt/torch/.venv"
OUTDIR="${OUT:-}"
EPOCHS=5
DRY=0
TOL_REL="${TOL_REL:-0.05}"

die() {
    echo "device-check: error: $*" >&2
    exit 1
}
usage() {
    sed -n '6,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
}
while (($#)); do
    case "$1" in
    --bin) BIN="${2:?--bin needs a folder}"; shift 2 ;;
    --venv) VENV="${2:?--venv needs a folder}"; shift 2 ;;
    --out) OUTDIR="${2:?--out needs a folder}"; shift 2 ;;
    --epochs) EPOCHS="${2:?--epochs needs a number}"; shift 2 ;;
    --dry-run) DRY=1; shift ;;
    -h | --help) usage ;;
    *) echo "device-check: error: unknown argument '$1'" >&2; usage ;;
    esac
done
[[ "$EPOCHS" =~ ^[1-9][0-9]*$ ]] || { echo "device-check: error: --epochs must be a positive integer, got '$EPOCHS'" >&2; exit 2; }
[[ -n "$OUTDIR" ]] || OUTDIR="$(mktemp -d -t plateau-device-check.XXXXXX)"

PY="$VENV/bin/python"
TRAIN=(--task denoise --data gaussian-field --image-size 32 --channels 16 --pools 2
    --train-size 256 --val-size 32 --test-size 64 --batch-size 16 --epochs "$EPOCHS" --seed 0)
BENCH=(--channels 32 --pools 2 --image-size 64 --batch-size 16 --steps 50 --warmup 5)

if ((DRY)); then
    echo "device-check: dry run: bin=$BIN venv=$VENV out=$OUTDIR epochs=$EPOCHS tol_rel=$TOL_REL"
    echo "$BIN/plateau-train ${TRAIN[*]} --device cuda --out $OUTDIR/cuda"
    echo "$BIN/plateau-train ${TRAIN[*]} --device cpu --out $OUTDIR/cpu"
    echo "$BIN/plateau-bench-train ${BENCH[*]} --device cuda"
    echo "$PY $ROOT/scripts/bench-pytorch.py ${BENCH[*]} --device cuda"
    exit 0
fi

mkdir -p "$OUTDIR"
SUMMARY="$OUTDIR/summary.txt"
: >"$SUMMARY"
say() { echo "device-check: $*" | tee -a "$SUMMARY"; }

# 1. GPU, torch, binaries.
command -v nvidia-smi >/dev/null 2>&1 || die "nvidia-smi not found: no NVIDIA driver"
gpu=$(nvidia-smi -L 2>/dev/null | grep '^GPU ' | head -n1) || die "nvidia-smi -L lists no GPU"
say "gpu: $gpu"
[[ -x "$PY" ]] || die "no Python at $PY (--venv)"
torch_lib=$("$PY" -c 'import os, torch; assert torch.cuda.is_available(), "torch sees no GPU"; print(os.path.join(os.path.dirname(torch.__file__), "lib"))') ||
    die "torch in $VENV cannot use the GPU"
say "torch: $("$PY" -c 'import torch; print(torch.__version__, "cuda", torch.version.cuda)') ($torch_lib)"
for b in plateau-train plateau-bench-train; do
    [[ -x "$BIN/$b" ]] || die "no $b in $BIN (--bin)"
done

# 2. Libraries from the venv.
export LD_LIBRARY_PATH="$torch_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export PLATEAU_LIBTORCH_LIB="$torch_lib"

# 3. CUDA against CPU.
for dev in cuda cpu; do
    rm -rf "${OUTDIR:?}/$dev"
    start=$(date +%s)
    "$BIN/plateau-train" "${TRAIN[@]}" --device "$dev" --out "$OUTDIR/$dev" >"$OUTDIR/$dev.log" 2>&1 ||
        die "the $dev run failed: $(tail -n 3 "$OUTDIR/$dev.log" | tr '\n' ' ')"
    say "$dev run: $(($(date +%s) - start)) s"
done
"$PY" - "$OUTDIR" "$TOL_REL" <<'PYEOF' | tee -a "$SUMMARY"
import csv, json, sys
out, tol = sys.argv[1], float(sys.argv[2])
m = {d: json.load(open(f"{out}/{d}/metrics.json")) for d in ("cuda", "cpu")}
losses = [float(r["train_loss"]) for r in csv.DictReader(open(f"{out}/cuda/history.csv"))]
ok = True
def check(cond, line):
    global ok
    ok &= cond
    print(f"device-check: {'ok  ' if cond else 'FAIL'} {line}")
check(m["cuda"]["device"] == "cuda" if "device" in m["cuda"] else True, f"cuda run recorded device {m['cuda'].get('device')}")
check(len(losses) >= 2 and losses[-1] < losses[0], f"cuda training loss falls: {losses[0]:.4e} -> {losses[-1]:.4e}")
ic, ip = m["cuda"]["input_mse"], m["cpu"]["input_mse"]
check(abs(ic - ip) <= 1e-4 * ip, f"input mse cuda {ic:.6e} cpu {ip:.6e}")
tc, tp = m["cuda"]["test_mse"], m["cpu"]["test_mse"]
check(abs(tc - tp) <= tol * tp, f"test mse cuda {tc:.6e} cpu {tp:.6e} (rel diff {abs(tc - tp) / tp:.3%}, tol {tol:.0%})")
print(f"device-check: test psnr cuda {m['cuda']['test_psnr']:.3f} cpu {m['cpu']['test_psnr']:.3f} dB; params {m['cuda']['params']}")
sys.exit(0 if ok else 1)
PYEOF
[[ ${PIPESTATUS[0]} -eq 0 ]] || die "CUDA and CPU runs disagree (see above)"

# 4. Throughput.
rust=$("$BIN/plateau-bench-train" "${BENCH[@]}" --device cuda | sed -n 's/^images_per_s=//p')
torch=$("$PY" "$ROOT/scripts/bench-pytorch.py" "${BENCH[@]}" --device cuda | sed -n 's/^images_per_s=//p')
[[ -n "$rust" && -n "$torch" ]] || die "a benchmark printed no images_per_s"
say "images/s (U-Net 32 wide, 2 pools, 64x64, batch 16, fp32): plateau $rust, PyTorch $torch"
say "done: $SUMMARY"
