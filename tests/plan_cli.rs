//! `plateau plan` end to end: from theory (closed forms where they exist), from a results store
//! and from a CSV of a known saturating law, and its error contract.

mod common;

use std::path::Path;

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

/// A store line of the law at `n` (standard error 1e-5, the exact floor, an oracle just below).
fn line(id: &str, n: u64, test: f64) -> String {
    let mut v = common::field_store_line(id, n, test, 1e-5, FLOOR);
    v["metrics"]["oracle_test_mse"] = json!(FLOOR * 0.998);
    v.to_string()
}

/// Sizes 16..16384 (x2), the law times a small deterministic wiggle (+-0.3%).
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
    let gd = &plans[2];
    assert_eq!(gd["within"][0]["method"], "analytic");
    let n = gd["within"][0]["n"].as_f64().unwrap();
    let [lo, hi] = [0, 1].map(|i| gd["within"][0]["n_range"][i].as_f64().unwrap());
    assert!(lo <= n && n <= hi, "{}", gd["within"]);
    assert!(
        gd["regime"]["alpha"].as_f64().unwrap() < -0.5,
        "{}",
        gd["regime"]
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
        assert!((v / want - 1.0).abs() < 0.3, "{want}: {t}");
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
    assert!(
        text.contains("within 10% of the fitted floor: N = "),
        "{text}"
    );
    assert!(text.contains("within 0.1 dB of the fitted floor"), "{text}");
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
