"""The package's numbers are the CLI's, bit for bit, for the same arguments and seeds."""

import csv
import io
import json
import math

import numpy as np
import pytest

import plateau
from conftest import run_cli

FLOAT_COLUMNS = ("sigma", "mean", "std", "k_opt_mean")
INT_COLUMNS = ("d", "n", "N", "runs")


def assert_table_equals_csv(table, text):
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == len(table["N"]) > 0
    for i, row in enumerate(rows):
        assert row["estimator"] == table["estimator"][i]
        for c in INT_COLUMNS:
            assert int(row[c]) == int(table[c][i]), (i, c)
        for c in FLOAT_COLUMNS:
            want = float(row[c]) if row[c] != "" else math.nan
            got = float(table[c][i])
            # Bit for bit: the same float, or both NaN (an empty cell).
            assert (got == want) or (math.isnan(got) and math.isnan(want)), (i, c, got, want)


@pytest.mark.parametrize(
    "d,n,sigma,sizes,runs,seed",
    [(4, 20, 0.3, [2, 8, 30], 3, 5), (10, 60, 0.1, [5, 40, 61, 200], 2, 0)],
)
def test_monte_carlo_equals_theory_csv(plateau_bin, d, n, sigma, sizes, runs, seed):
    cli = run_cli(
        plateau_bin, "theory", "--d", str(d), "--n", str(n), "--sigma", str(sigma),
        "--train-sizes", ",".join(map(str, sizes)), "--runs", str(runs), "--seed", str(seed),
        "--iters", "800", "--quiet",
    )
    table = plateau.monte_carlo(plateau.Setup(d, n, sigma), sizes, runs=runs, seed=seed, iters=800)
    assert_table_equals_csv(table, cli)


def test_analytic_equals_theory_analytic_csv(plateau_bin):
    cli = run_cli(plateau_bin, "theory", "--d", "5", "--n", "30", "--sigma", "0.2",
                  "--train-sizes", "3,29,30,31,90", "--analytic", "--quiet")
    table = plateau.analytic(plateau.Setup(5, 30, 0.2), [3, 29, 30, 31, 90])
    assert_table_equals_csv(table, cli)
    assert np.isinf(table["mean"]).sum() == 3  # least squares at N in {n-1, n, n+1}


def test_gd_path_equals_path_csv(plateau_bin):
    cli = run_cli(plateau_bin, "path", "--d", "4", "--n", "20", "--sigma", "0.3",
                  "--train-size", "12", "--seed", "3", "--iters", "300", "--quiet")
    rows = list(csv.DictReader(io.StringIO(cli)))
    path = plateau.gd_path(plateau.Setup(4, 20, 0.3), 12, seed=3, iters=300)
    assert path.shape == (301,)
    assert [float(r["risk"]) for r in rows] == path.tolist()


def test_exact_risks_is_draw_zero_of_monte_carlo():
    s = plateau.Setup(4, 20, 0.3)
    one = plateau.exact_risks(s, 15, seed=2)
    table = plateau.monte_carlo(s, [15], runs=1, seed=2)
    assert [one[e]["risk"] for e in table["estimator"]] == table["mean"].tolist()
    assert one["gd_early_stopped"]["k_opt"] == table["k_opt_mean"][-1]


def best_rows(root):
    path = root / "figures" / "scaling_denoise_skimage_unet_colorgray_s8_sigma0.1.csv"
    rows = [r for r in csv.DictReader(open(path)) if r["best"] == "true"]
    return [float(r["N"]) for r in rows], [float(r["test_mse"]) for r in rows]


@pytest.fixture
def curve_csv(root, tmp_path):
    """The committed measured curve's best width per N (two seeds each), as the CLI reads it."""
    x, y = best_rows(root)
    p = tmp_path / "curve.csv"
    p.write_text("N,mse\n" + "".join(f"{a!r},{b!r}\n" for a, b in zip(x, y)))
    return p, x, y


def test_fit_equals_cli_json(plateau_bin, curve_csv):
    path, x, y = curve_csv
    cli = json.loads(run_cli(plateau_bin, "fit", "--input", str(path), "--y", "mse", "--reps", "200",
                             "--backtest"))
    assert len(cli) == 1
    got = plateau.fit(x, y, reps=200, backtest=True)
    assert got == cli[0]
    assert got["group"] == "all"


def test_plan_equals_cli_json(plateau_bin, curve_csv):
    path, x, y = curve_csv
    cli = json.loads(run_cli(plateau_bin, "plan", "--input", str(path), "--y", "mse", "--reps", "200",
                             "--within", "0.2", "--target-psnr", "26"))
    got = plateau.plan(x, y, within=0.2, target_psnr=[26], reps=200)
    assert got == cli[0]


def test_plan_theory_equals_cli_json(plateau_bin):
    cli = json.loads(run_cli(plateau_bin, "plan", "--d", "10", "--n", "100", "--sigma", "0.1"))
    assert plateau.plan_theory(plateau.Setup(10, 100, 0.1)) == cli
