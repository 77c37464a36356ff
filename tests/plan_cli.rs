//! `plateau plan` end to end: from theory (closed forms where they exist), from a results store
//! and from a CSV of a known saturating law, and its error contract.

use crate::common;

use std::path::Path;

use plateau_theory::{analytic, Estimator, Setup, StepSize};
use serde_json::{json, Value};

use common::{assert_bad_input, plateau, plateau_ok, words};

const FLOOR: f64 = 7.3e-3;

const A: f64 = 0.2;
const B: f64 = 0.6;

/// The measured law: `A N^-B + FLOOR`.
fn truth(n: f64) -> f64 {
    A * n.powf(-B) + FLOOR
}

/// Where the law reaches `t`.
fn n_for(t: f64) -> f64 {
    (A / (t - FLOOR)).powf(1.0 / B)
}

/// The sizes of [`write_store`].
fn store_sizes() -> Vec<f64> {
    (0..11).map(|i| (16u64 << i) as f64).collect()
}

/// `(J^T J)^-1` of the law's log residuals at the truth on [`store_sizes`], in the parameters
/// `(ln A, B, FLOOR)`, by Gauss-Jordan elimination.
fn inverse_normal_matrix() -> [[f64; 3]; 3] {
    let mut m = [[0.0; 6]; 3];
    for n in store_sizes() {
        let w = A * n.powf(-B) / truth(n);
        let g = [w, -w * n.ln(), 1.0 / truth(n)];
        for i in 0..3 {
            for j in 0..3 {
                m[i][j] += g[i] * g[j];
            }
        }
    }
    for (i, row) in m.iter_mut().enumerate() {
        row[3 + i] = 1.0;
    }
    for i in 0..3 {
        let p = m[i][i];
        m[i].iter_mut().for_each(|v| *v /= p);
        for k in (0..3).filter(|&k| k != i) {
            let f = m[k][i];
            let pivot = m[i];
            m[k].iter_mut().zip(pivot).for_each(|(v, q)| *v -= f * q);
        }
    }
    m.map(|row| [row[3], row[4], row[5]])
}

/// Gradient of `ln N` in `(ln A, B, FLOOR)` where the law reaches `t` (`N = n`): for a target
/// relative to the floor (`t = 1.1 c`) or an absolute one.
fn n_grad(n: f64, relative: bool) -> [f64; 3] {
    let t = if relative { 1.1 * FLOOR } else { 7.5e-3 };
    let dc = if relative {
        -1.0 / FLOOR
    } else {
        1.0 / (t - FLOOR)
    };
    [1.0 / B, -n.ln() / B, dc / B]
}

/// The first-order shift of `ln N` that the +-0.3% wiggle of [`write_store`] causes: the log
/// data move by `delta_i = ln(1 +- 0.003)`, the least-squares parameters by
/// `(J^T J)^-1 J^T delta`, and `ln N` by `g` times that.
fn wiggle_shift_ln_n(g: [f64; 3]) -> f64 {
    let m = inverse_normal_matrix();
    let mut jt_delta = [0.0; 3];
    for (i, n) in store_sizes().into_iter().enumerate() {
        let delta = (1.0f64 + 0.003 * if i % 2 == 0 { 1.0 } else { -1.0 }).ln();
        let w = A * n.powf(-B) / truth(n);
        let row = [w, -w * n.ln(), 1.0 / truth(n)];
        (0..3).for_each(|k| jt_delta[k] += row[k] * delta);
    }
    (0..3)
        .flat_map(|i| (0..3).map(move |j| (i, j)))
        .map(|(i, j)| g[i] * m[i][j] * jt_delta[j])
        .sum()
}

/// A store line of the law at `n` (standard error 1e-5, the exact floor, an oracle just below).
fn line(id: &str, n: u64, test: f64) -> String {
    let mut v = common::field_store_line(id, n, test, 1e-5, FLOOR);
    v["metrics"]["oracle_test_mse"] = json!(FLOOR * 0.998);
    v.to_string()
}

/// Sizes 16..16384 (x2), the law times a small deterministic wiggle (+-0.3%): it moves N for
/// 10% of the floor by -1.6% and N for 7.5e-3 by +8.3% (first order, [`wiggle_shift_ln_n`]).
fn write_store(dir: &Path) {
    let text: String = (0..11)
        .map(|i| {
            let n = 16u64 << i;
            let wiggle = 1.0 + 0.003 * if i % 2 == 0 { 1.0 } else { -1.0 };
            line(&format!("c{i}"), n, truth(n as f64) * wiggle) + "\n"
        })
        .collect();
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("results.jsonl"), text).unwrap();
}

/// Checks that `n` is where `risk` (scaled on its excess over `floor` by `s`) crosses `target`
/// and stays below it: `risk(n) <= target < risk(n - 1)`, and at `2n`, `10n` too.
fn assert_crossing(
    name: &str,
    risk: &dyn Fn(usize) -> f64,
    floor: f64,
    s: f64,
    target: f64,
    n: f64,
) {
    let r = |m: usize| floor + (risk(m) - floor) * s;
    let n = n as usize;
    assert!(
        r(n) <= target && r(n - 1) > target,
        "{name}: N {n}, risk {} / {} vs {target}",
        r(n),
        r(n - 1)
    );
    for m in [2 * n, 10 * n] {
        assert!(r(m) <= target, "{name}: risk at {m} above the target");
    }
}

#[test]
fn theory_plan_gives_the_exact_least_squares_answer_and_the_regime() {
    let out = plateau_ok(&words("plan --d 10 --n 100 --sigma 0.1 --within 0.1"));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("least_squares"), "{err}");
    let plans: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let groups: Vec<&str> = plans.iter().map(|p| p["group"].as_str().unwrap()).collect();
    assert_eq!(groups, ["pca", "least_squares", "gd_early_stopped"]);
    // floor (N - 1)/(N - n - 1) <= 1.1 floor from N = n/F + n + 1 = 1101 on.
    assert_eq!(plans[1]["within"][0]["n"], 1101.0);
    assert_eq!(plans[1]["within"][0]["method"], "exact");
    // PCA and GD: N is where the library's deterministic equivalent crosses 1.1 floor, and
    // the range ends are where the excess 5% smaller / larger crosses it.
    let setup = Setup::new(10, 100, 0.1).unwrap();
    let floor = setup.floor();
    let pca = |n: usize| analytic::pca(&setup, n).unwrap();
    let gd = |n: usize| {
        analytic::expected_risk(&setup, n, Estimator::GdEarlyStopped, StepSize::Paper)
            .unwrap()
            .risk
            .unwrap()
    };
    let risks: [(usize, &dyn Fn(usize) -> f64); 2] = [(0, &pca), (2, &gd)];
    for (k, risk) in risks {
        let p = &plans[k];
        assert!((p["floor"].as_f64().unwrap() / floor - 1.0).abs() < 1e-12);
        let w = &p["within"][0];
        assert_eq!(w["method"], "analytic");
        let name = p["group"].as_str().unwrap();
        let n = w["n"].as_f64().unwrap();
        let [lo, hi] = [0, 1].map(|i| w["n_range"][i].as_f64().unwrap());
        for (s, v) in [(1.0, n), (0.95, lo), (1.05, hi)] {
            assert_crossing(name, risk, floor, s, 1.1 * floor, v);
        }
        assert!(lo < n && n < hi, "{name}: {w}");
    }
    assert!(
        plans[2]["regime"]["alpha"].as_f64().unwrap() < -0.5,
        "{}",
        plans[2]["regime"]
    );
}

#[test]
fn measured_plan_recovers_the_law_from_a_results_store() {
    let tmp = tempfile::tempdir().unwrap();
    write_store(tmp.path());
    let mut args = words(
        "plan --within 0.1 --target-mse 7.5e-3,7.0e-3 --at 1e6 --reps 300 --backtest --results",
    );
    args.push(tmp.path().to_str().unwrap());
    let out = plateau_ok(&args);
    let err = String::from_utf8_lossy(&out.stderr);
    let plans: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(plans.len(), 1);
    let p = &plans[0];
    assert_eq!(p["exact_floor"], FLOOR);
    let c = p["floor"]["value"].as_f64().unwrap();
    assert!((c / FLOOR - 1.0).abs() < 0.01, "{c}");
    // Within 10% of the floor (about 11600) and MSE 7.5e-3 (1e5); 7.0e-3 is below the floor.
    for (i, want) in [(0, n_for(1.1 * FLOOR)), (1, n_for(7.5e-3))] {
        let t = &p["targets"][i];
        let [lo, hi] = [0, 1].map(|j| t["n"]["ci95"][j].as_f64().unwrap());
        assert!(lo < want && want < hi, "{want}: {t}");
        let v = t["n"]["value"].as_f64().unwrap();
        let shift = wiggle_shift_ln_n(n_grad(want, i == 0));
        // The fit moves N by the wiggle's first-order effect; what remains is second order,
        // of the size of that effect squared.
        let off = (v / want).ln() - shift;
        assert!(
            off.abs() <= shift * shift,
            "{want}: ln N off by {off} after {shift}: {t}"
        );
    }
    assert_eq!(p["targets"][2]["reachable"], "not_reachable");
    assert!(p["targets"][2]["n"]["value"].is_null());
    let bt = &p["backtest"];
    assert_eq!(bt["held_out_x"], json!([8192.0, 16384.0]));
    assert!(
        err.contains("not reachable") && err.contains("doubling N"),
        "{err}"
    );
}

#[test]
fn measured_plan_reads_a_csv_and_prints_text() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("curve.csv");
    let rows: String = (0..8)
        .map(|i| {
            let n = 16.0 * 4f64.powi(i) / 4.0;
            format!("{n},{}\n", truth(n))
        })
        .collect();
    std::fs::write(&csv, format!("size,err\n{rows}")).unwrap();
    let mut args = words("plan --x size --y err --format text --reps 100 --input");
    args.push(csv.to_str().unwrap());
    let out = plateau_ok(&args);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("all\n"), "{text}");
    // Noiseless data: the fit is the law, so N is the law's own answer, printed as the
    // smallest integer from which the target holds (11558), and 1.31e5 for 0.1 dB.
    let within = format!(
        "within 10% of the fitted floor: N = {} (",
        n_for(1.1 * FLOOR).ceil()
    );
    assert!(text.contains(&within), "{within}: {text}");
    let db = format!(
        "within 0.1 dB of the fitted floor: N = {:.2e} (",
        n_for(FLOOR * 10f64.powf(0.01))
    );
    assert!(text.contains(&db), "{db}: {text}");
    let floor = format!("fitted floor {FLOOR:.4e} (");
    assert!(text.contains(&floor), "{floor}: {text}");
}

#[test]
fn plan_bad_input_is_a_one_line_error() {
    let tmp = tempfile::tempdir().unwrap();
    write_store(tmp.path());
    let res = tmp.path().to_str().unwrap();
    let out = plateau(&["plan", "--results", res, "--target-mse", "0.5"]);
    assert_bad_input(&out, "already met", "target above the current error");
    let empty = tempfile::tempdir().unwrap();
    let out = plateau(&["plan", "--results", empty.path().to_str().unwrap()]);
    assert_bad_input(&out, "results.jsonl", "no store");
    let out = plateau(&["plan", "--results", res, "--within", "-1"]);
    assert_bad_input(&out, "--within", "negative fraction");
    let out = plateau(&["plan"]);
    assert_bad_input(&out, "plan needs a model", "nothing to plan");
    let out = plateau(&common::words(
        "plan --d 10 --n 100 --sigma 0.1 --target-mse 1",
    ));
    assert_bad_input(&out, "for measurements", "absolute target from theory");
    let csv = tmp.path().join("three.csv");
    std::fs::write(&csv, "N,mean\n1,3\n2,2\n4,1\n").unwrap();
    let out = plateau(&["plan", "--input", csv.to_str().unwrap()]);
    assert_bad_input(&out, "at least 4", "too few sizes");
}
