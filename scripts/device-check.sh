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
#   3. device names: --device cuda:K with K the number of visible GPUs must be refused with one
#      line and exit 2 (the valid ones are used below: cuda, cuda:0);
#   4. the same small denoising run (U-Net) on the CPU in fp32 and on CUDA in fp32, bf16 and
#      fp16 (--precision): on CUDA the training loss must fall, each record must name its
#      device and precision, the input MSE (same data, no training) must match the CPU's within
#      1e-4 and the test MSE within TOL_REL (default 0.05, a sanity bound, not a statistical
#      one: devices and precisions round differently, so their trajectories part);
#   5. training throughput of the same network (images/s) in fp32 and bf16:
#      plateau-bench-train --device cuda --precision P against scripts/bench-pytorch.py
#      --device cuda --precision P (autocast) in the venv's Python.
# Results: DIR/summary.txt (the lines printed) and DIR/{cpu,cuda-fp32,cuda-bf16,cuda-fp16}/.
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

PY="$VENV/bin/python"
TRAIN=(--task denoise --data gaussian-field --image-size 32 --channels 16 --pools 2
    --train-size 256 --val-size 32 --test-size 64 --batch-size 16 --epochs "$EPOCHS" --seed 0)
BENCH=(--channels 32 --pools 2 --image-size 64 --batch-size 16 --steps 50 --warmup 5)
# The training runs: name, device, precision. The CPU run is the reference.
RUNS=("cpu cpu fp32" "cuda-fp32 cuda fp32" "cuda-bf16 cuda:0 bf16" "cuda-fp16 cuda:0 fp16")
BENCH_PRECISIONS=(fp32 bf16)

if ((DRY)); then
    echo "device-check: dry run: bin=$BIN venv=$VENV out=${OUTDIR:-(new temporary folder)} epochs=$EPOCHS tol_rel=$TOL_REL"
    echo "# must be refused: $BIN/plateau-train ${TRAIN[*]} --device cuda:<number of GPUs> --out ${OUTDIR:-DIR}/never"
    for run in "${RUNS[@]}"; do
        read -r name dev prec <<<"$run"
        echo "$BIN/plateau-train ${TRAIN[*]} --device $dev --precision $prec --out ${OUTDIR:-DIR}/$name"
    done
    for prec in "${BENCH_PRECISIONS[@]}"; do
        echo "$BIN/plateau-bench-train ${BENCH[*]} --device cuda --precision $prec"
        echo "$PY $ROOT/scripts/bench-pytorch.py ${BENCH[*]} --device cuda --precision $prec"
    done
    exit 0
fi
[[ -n "$OUTDIR" ]] || OUTDIR="$(mktemp -d -t plateau-device-check.XXXXXX)"

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
gpus=$("$PY" -c 'import torch; print(torch.cuda.device_count())')
say "torch: $("$PY" -c 'import torch; print(torch.__version__, "cuda", torch.version.cuda)') ($torch_lib)"
for b in plateau-train plateau-bench-train; do
    [[ -x "$BIN/$b" ]] || die "no $b in $BIN (--bin)"
done

# 2. Libraries from the venv.
export LD_LIBRARY_PATH="$torch_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export PLATEAU_LIBTORCH_LIB="$torch_lib"

# 3. A GPU index that does not exist: one line, exit 2, nothing written.
set +e
err=$("$BIN/plateau-train" "${TRAIN[@]}" --device "cuda:$gpus" --out "$OUTDIR/never" 2>&1 >/dev/null)
code=$?
set -e
[[ $code -eq 2 && $(wc -l <<<"$err") -eq 1 && "$err" == *"only $gpus CUDA device(s)"* && ! -e "$OUTDIR/never" ]] ||
    die "--device cuda:$gpus (exit $code) was not refused with one line: $err"
say "ok   --device cuda:$gpus refused: $err"

# 4. CUDA in each precision against the CPU in fp32.
names=()
for run in "${RUNS[@]}"; do
    read -r name dev prec <<<"$run"
    names+=("$name")
    rm -rf "${OUTDIR:?}/$name"
    start=$(date +%s)
    "$BIN/plateau-train" "${TRAIN[@]}" --device "$dev" --precision "$prec" --out "$OUTDIR/$name" \
        >"$OUTDIR/$name.log" 2>&1 || die "the $name run failed: $(tail -n 3 "$OUTDIR/$name.log" | tr '\n' ' ')"
    say "$name run (--device $dev --precision $prec): $(($(date +%s) - start)) s"
done
"$PY" - "$OUTDIR" "$TOL_REL" "${RUNS[@]}" <<'PYEOF' | tee -a "$SUMMARY"
import csv, json, sys
out, tol, runs = sys.argv[1], float(sys.argv[2]), [r.split() for r in sys.argv[3:]]
m = {name: json.load(open(f"{out}/{name}/metrics.json")) for name, _, _ in runs}
cpu = m[runs[0][0]]
ok = True
def check(cond, line):
    global ok
    ok &= cond
    print(f"device-check: {'ok  ' if cond else 'FAIL'} {line}")
for name, dev, prec in runs[1:]:
    r = m[name]
    losses = [float(h["train_loss"]) for h in csv.DictReader(open(f"{out}/{name}/history.csv"))]
    check((r.get("device"), r.get("precision")) == (dev, prec), f"{name} recorded device {r.get('device')}, precision {r.get('precision')}")
    check(len(losses) >= 2 and losses[-1] < losses[0], f"{name} training loss falls: {losses[0]:.4e} -> {losses[-1]:.4e}")
    ic, ip = r["input_mse"], cpu["input_mse"]
    check(abs(ic - ip) <= 1e-4 * ip, f"{name} input mse {ic:.6e}, cpu {ip:.6e}")
    tc, tp = r["test_mse"], cpu["test_mse"]
    check(abs(tc - tp) <= tol * tp, f"{name} test mse {tc:.6e}, cpu fp32 {tp:.6e} (rel diff {abs(tc - tp) / tp:.3%}, tol {tol:.0%}); psnr {r['test_psnr']:.3f} dB, cpu {cpu['test_psnr']:.3f} dB")
sys.exit(0 if ok else 1)
PYEOF
[[ ${PIPESTATUS[0]} -eq 0 ]] || die "the CUDA runs disagree with the CPU run (see above)"

# 5. Throughput.
for prec in "${BENCH_PRECISIONS[@]}"; do
    rust=$("$BIN/plateau-bench-train" "${BENCH[@]}" --device cuda --precision "$prec" | sed -n 's/^images_per_s=//p')
    torch=$("$PY" "$ROOT/scripts/bench-pytorch.py" "${BENCH[@]}" --device cuda --precision "$prec" | sed -n 's/^images_per_s=//p')
    [[ -n "$rust" && -n "$torch" ]] || die "a $prec benchmark printed no images_per_s"
    say "images/s (U-Net 32 wide, 2 pools, 64x64, batch 16, $prec): plateau $rust, PyTorch $torch"
done
say "done: $SUMMARY"
