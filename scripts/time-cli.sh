#!/usr/bin/env bash
# Timing command for the LibTorch-free `plateau` binary (release build):
#   plateau --help (median of 20 starts, peak RSS) and the eight analytic setups of PAPER.md as
#   eight separate `plateau theory --analytic` commands (wall and CPU time, 3 repetitions);
#   the speed targets of issue 23: `plan` from theory on several setups, its slowest included
#   (target 2 s of CPU each), and `fit --model auto` on 10^4 distinct rows (target 5 s); that
#   of issue 27: the joint Huber fit of a 240-row table with 4000 replicates (target 10 s); each
#   line says ok or SLOW for its wall and for its CPU time. Numbers and what they were measured on: docs/performance.md.
#   cargo build --release --workspace --bins && bash scripts/time-cli.sh
set -euo pipefail
BIN=${PLATEAU_BIN:-$(dirname "$0")/../target/release/plateau}
python3 - "$BIN" <<'PY'
import os, resource, subprocess, sys, time
# Write-only, as a shell's >/dev/null: plateau takes /dev/null open read-write on its standard
# output (subprocess.DEVNULL) for a closed descriptor reopened by the runtime, and refuses it.
sink = open(os.devnull, "w")
exe = sys.argv[1]
t = []
for _ in range(20):
    s = time.perf_counter()
    subprocess.run([exe, "--help"], stdout=sink, check=True)
    t.append(time.perf_counter() - s)
t.sort()
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(f"plateau --help: median {t[10] * 1e3:.1f} ms, max {t[-1] * 1e3:.1f} ms, peak RSS {rss:.1f} MB")
setups = [(10, 100, 0.05), (10, 100, 0.1), (10, 100, 0.2), (10, 1000, 0.05), (10, 1000, 0.1),
          (50, 1000, 0.1), (100, 1000, 0.1), (10, 10000, 0.1)]
for _ in range(3):
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    s = time.perf_counter()
    for d, n, sg in setups:
        subprocess.run([exe, "theory", "--d", str(d), "--n", str(n), "--sigma", str(sg),
                        "--analytic"], stdout=sink, check=True)
    wall = time.perf_counter() - s
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    print(f"eight analytic setups as eight commands: wall {wall:.3f} s, CPU {cpu:.3f} s")

import math, os, random, tempfile
def timed(label, args, target):
    # The load is printed with the numbers: on a shared machine the wall clock counts the
    # other processes too.
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    s = time.perf_counter()
    subprocess.run([exe] + args, stdout=sink, stderr=subprocess.DEVNULL, check=True)
    wall = time.perf_counter() - s
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    # Both verdicts: on an idle machine the wall clock is what a user waits (and a parallel
    # command's CPU time exceeds it); on a shared one only the CPU time means anything.
    ok = lambda t: "ok" if t <= target else "SLOW"
    print(f"{label}: wall {wall:.2f} s, CPU {cpu:.2f} s (target {target} s: wall {ok(wall)}, CPU {ok(cpu)})")
print("load average:", " ".join(open("/proc/loadavg").read().split()[:3]), f"on {os.cpu_count()} cores")
for d, n, sg, extra in [(2, 10, 0.1, []), (2, 10, 0.1, ["--at", "1e9"]), (10, 100, 0.1, []),
                        (10, 1000, 0.1, []), (100, 1000, 0.1, []), (1, 1, 0.1, []),
                        (10, 100, 1e-6, [])]:
    args = ["plan", "--d", str(d), "--n", str(n), "--sigma", str(sg)] + extra
    timed(" ".join(args), args, 2)
for preset in ["field16", "field32"]:
    timed(f"plan --preset {preset}", ["plan", "--preset", preset], 2)
with tempfile.TemporaryDirectory() as tmp:
    rng = random.Random(1)
    path = os.path.join(tmp, "rows.csv")
    with open(path, "w") as f:
        f.write("N,mean\n")
        for i in range(10000):
            n = 10 ** (1 + 6 * i / 10000)
            f.write(f"{n:.6f},{(0.5 * n ** -0.5 + 0.01) * math.exp(0.02 * rng.gauss(0, 1))}\n")
    timed("fit --model auto, 10^4 rows", ["fit", "--input", path, "--model", "auto"], 5)
    # Issue 27: the 240-row table of docs/capacity.md's worked example, Huber, 4000 replicates.
    rng = random.Random(1)
    rows = []
    for i in range(16):
        for j in range(15):
            n, p = round(16 * 2 ** (i * 0.75)), round(1000 * 2 ** (j * 0.7))
            rows.append([n, p, (0.01 + 0.5 * n ** -0.6 + 3 * p ** -0.5) * math.exp(rng.gauss(0, 0.03))])
    for k in rng.sample(range(len(rows)), 8):
        rows[k][2] *= 2
    table = os.path.join(tmp, "table.csv")
    with open(table, "w") as f:
        f.write("N,P,loss\n" + "".join(f"{n},{p},{y:.6g}\n" for n, p, y in rows))
    timed("fit --model joint --loss huber --reps 4000, 240 rows",
          ["fit", "--input", table, "--x", "N", "--p", "P", "--y", "loss", "--model", "joint",
           "--loss", "huber", "--reps", "4000"], 10)
PY
