"""Measures what README.md states about the Python package: the import time, and monte_carlo
against `plateau theory` for the same work (the paper's (10, 1000, 0.1) grid, 5 draws, seed 0).

    python scripts/python-bench.py PATH/TO/release/plateau [repetitions]

Prints one line per measurement; checks that the two give the same numbers.
"""

import csv
import io
import statistics
import subprocess
import sys
import time


def import_ms(reps: int = 10) -> list:
    """(numpy alone, plateau after numpy) in ms, each in a fresh interpreter."""
    code = (
        "import time; t0 = time.perf_counter(); import numpy; t1 = time.perf_counter(); "
        "import plateau; t2 = time.perf_counter(); print(t1 - t0, t2 - t1)"
    )
    out = []
    for _ in range(reps):
        a, b = subprocess.check_output([sys.executable, "-c", code]).split()
        out.append((1e3 * float(a), 1e3 * float(b)))
    return out


def main() -> None:
    cli = sys.argv[1]
    reps = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    ms = import_ms()
    numpy_ms = statistics.median(m[0] for m in ms)
    own_ms = statistics.median(m[1] for m in ms)
    total = statistics.median(m[0] + m[1] for m in ms)
    print(f"import numpy: {numpy_ms:.1f} ms; import plateau after it: {own_ms:.1f} ms; together {total:.1f} ms (medians of 10 fresh interpreters)")
    import plateau

    setup = plateau.Setup(10, 1000, 0.1)
    args = [cli, "theory", "--d", "10", "--n", "1000", "--sigma", "0.1", "--runs", "5", "--seed", "0", "--quiet"]
    py_s, cli_s = [], []
    for _ in range(reps):
        t = time.perf_counter()
        out = subprocess.check_output(args, text=True)
        cli_s.append(time.perf_counter() - t)
        t = time.perf_counter()
        table = plateau.monte_carlo(setup, runs=5, seed=0)
        py_s.append(time.perf_counter() - t)
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [float(r["mean"]) for r in rows] == table["mean"].tolist(), "numbers differ"
    print(f"plateau theory (CLI):  {' '.join(f'{s:.2f}' for s in cli_s)} s, median {statistics.median(cli_s):.2f} s")
    print(f"plateau.monte_carlo:   {' '.join(f'{s:.2f}' for s in py_s)} s, median {statistics.median(py_s):.2f} s")
    print(f"ratio python / CLI (medians): {statistics.median(py_s) / statistics.median(cli_s):.3f}; same numbers")


if __name__ == "__main__":
    main()
