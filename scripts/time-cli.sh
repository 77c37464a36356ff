#!/usr/bin/env bash
# Timing command for the LibTorch-free `plateau` binary (release build):
#   plateau --help (median of 20 starts, peak RSS) and the eight analytic setups of PAPER.md as
#   eight separate `plateau theory --analytic` commands (wall and CPU time, 3 repetitions);
#   the speed targets of issue 23: `plan` from theory on its slowest setups (target 2 s each) and
#   `fit --model auto` on 10^4 distinct rows (target 5 s).
#   cargo build --release -p plateau && bash scripts/time-cli.sh
set -euo pipefail
BIN=${PLATEAU_BIN:-$(dirname "$0")/../target/release/plateau}
python3 - "$BIN" <<'PY'
import resource, subprocess, sys, time
exe = sys.argv[1]
t = []
for _ in range(20):
    s = time.perf_counter()
    subprocess.run([exe, "--help"], stdout=subprocess.DEVNULL, check=True)
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
                        "--analytic"], stdout=subprocess.DEVNULL, check=True)
    wall = time.perf_counter() - s
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    print(f"eight analytic setups as eight commands: wall {wall:.3f} s, CPU {cpu:.3f} s")

import math, os, random, tempfile
def timed(label, args, **kw):
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    s = time.perf_counter()
    subprocess.run([exe] + args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, **kw)
    wall = time.perf_counter() - s
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    print(f"{label}: wall {wall:.2f} s, CPU {cpu:.2f} s")
for extra in ([], ["--at", "1e9"]):
    timed(" ".join(["plan --d 2 --n 10 --sigma 0.1"] + extra),
          ["plan", "--d", "2", "--n", "10", "--sigma", "0.1"] + extra)
with tempfile.TemporaryDirectory() as tmp:
    rng = random.Random(1)
    path = os.path.join(tmp, "rows.csv")
    with open(path, "w") as f:
        f.write("N,mean\n")
        for i in range(10000):
            n = 10 ** (1 + 6 * i / 10000)
            f.write(f"{n:.6f},{(0.5 * n ** -0.5 + 0.01) * math.exp(0.02 * rng.gauss(0, 1))}\n")
    timed("fit --model auto, 10^4 rows", ["fit", "--input", path, "--model", "auto"])
PY
