//! `plateau fit` end to end: JSON on stdout, one-line errors with exit code 2.

use crate::common;

use std::io::Write;
use std::process::Output;

use serde_json::Value;
use tempfile::NamedTempFile;

use common::{assert_refused, plateau, words};

fn csv(text: &str) -> NamedTempFile {
    let mut f = NamedTempFile::with_suffix(".csv").unwrap();
    f.write_all(text.as_bytes()).unwrap();
    f
}

const SIZES: [u32; 15] = [
    1, 2, 4, 8, 16, 24, 36, 64, 100, 256, 512, 1024, 2048, 4096, 16384,
];

/// A file in the layout `plateau theory` writes: two estimators, a floor at 0.0099, a
/// deterministic wiggle standing in for noise.
fn theory_csv() -> String {
    let mut s = String::from("d,n,sigma,N,estimator,mean,std,runs,k_opt_mean\n");
    for (est, n0) in [("gd_early_stopped", 8.0), ("pca", 20.0)] {
        for (i, &n) in SIZES.iter().enumerate() {
            let r = 0.0099 + 0.99 / (1.0 + f64::from(n) / n0);
            let r = r * (1.0 + 0.01 * ((i * 7 % 5) as f64 - 2.0));
            let k = if est == "pca" {
                String::new()
            } else {
                "12.5".into()
            };
            s += &format!("10,100,0.1,{n},{est},{r},{},5,{k}\n", 0.05 * r);
        }
    }
    s
}

fn json(out: &Output) -> Vec<Value> {
    assert!(
        out.status.success(),
        "exit {:?}, stderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice::<Value>(&out.stdout)
        .expect("stdout is JSON")
        .as_array()
        .expect("a JSON array")
        .clone()
}

fn path(f: &NamedTempFile) -> &str {
    f.path().to_str().unwrap()
}

/// `plateau fit --input FILE flags...`.
fn fit(f: &NamedTempFile, flags: &str) -> Output {
    let mut args = vec!["fit", "--input", path(f)];
    args.extend(words(flags));
    plateau(&args)
}

#[test]
fn auto_on_theory_output_reports_every_key() {
    let f = csv(&theory_csv());
    let out = json(&fit(&f, "--reps 200"));
    assert_eq!(out.len(), 2);
    assert_eq!(out[0]["group"], "gd_early_stopped");
    assert_eq!(out[1]["group"], "pca");
    for g in &out {
        for key in [
            "group",
            "model",
            "params",
            "ci95",
            "range",
            "n_points",
            "r2",
            "rmse_log",
            "aicc",
            "bic",
            "extrapolation",
            "extrapolation_ci95",
            "bootstrap",
            "selection",
            "regime",
        ] {
            assert!(g.get(key).is_some(), "missing {key} in {g}");
        }
        let model = g["model"].as_str().unwrap();
        let names: &[&str] = match model {
            "power" => &["beta", "alpha"],
            "saturating" => &["a", "b", "c"],
            "broken" => &["beta", "alpha1", "alpha2", "n_break", "delta"],
            other => panic!("model {other}"),
        };
        let params = g["params"].as_object().unwrap();
        let ci = g["ci95"].as_object().unwrap();
        assert_eq!(params.keys().collect::<Vec<_>>(), names.to_vec());
        for name in names {
            let v = params[*name].as_f64().unwrap();
            let lohi: Vec<f64> = ci[*name]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect();
            assert_eq!(lohi.len(), 2);
            assert!(lohi[0] <= lohi[1], "{name}: {lohi:?}");
            assert!(v.is_finite());
        }
        for k in ["1e5", "1e6", "1e7"] {
            let v = g["extrapolation"][k].as_f64().unwrap();
            let ci = g["extrapolation_ci95"][k].as_array().unwrap();
            assert!(v > 0.0 && ci.len() == 2, "{g}");
        }
        let range = g["range"].as_array().unwrap();
        assert_eq!(range[1].as_f64(), Some(16384.0));
        // std and runs are given: the draws' noise is used if the model fits within it.
        let method = g["bootstrap"]["method"].as_str().unwrap();
        assert!(method == "parametric" || method == "residuals", "{method}");
        // Reduced chi-square against the draws' noise: every point has s.e. of ln y
        // 0.05 / sqrt(5) (std 5% of the mean, 5 runs), so it is rss / (se^2 (n - p)) with
        // rss = n rmse_log^2.
        let (n, p) = (g["n_points"].as_f64().unwrap(), names.len() as f64);
        let rmse = g["rmse_log"].as_f64().unwrap();
        let want = n * rmse * rmse / (0.05f64.powi(2) / 5.0 * (n - p));
        let chi2 = g["bootstrap"]["chi2_dof"].as_f64().unwrap();
        assert!(
            (chi2 / want - 1.0).abs() < 1e-9,
            "chi2_dof {chi2} vs {want}"
        );
        assert_eq!(g["bootstrap"]["reps"], 200);
        assert_eq!(g["bootstrap"]["seed"], 0);
        assert_eq!(g["selection"]["criterion"], "AICc");
        assert!(g["regime"]["steep_range"].is_array());
        assert_eq!(g["regime"]["fit_range"], g["range"]);
        assert!(g["regime"]["bend"].as_f64().is_some(), "{g}");
        assert!(g["r2"].as_f64().unwrap() > 0.99);
    }
}

#[test]
fn power_on_a_range_matches_the_library_and_is_reproducible() {
    let f = csv(&theory_csv());
    let run = |seed: &str| {
        let flags = "--model power --range 8:100 --group estimator --reps 100 --seed";
        fit(&f, &format!("{flags} {seed}"))
    };
    let first = run("7");
    let out = json(&first);
    let g = &out[0];
    assert_eq!(g["model"], "power");
    assert_eq!(g["range"], serde_json::json!([8.0, 100.0]));
    // N = 8, 16, 24, 36, 64, 100.
    assert_eq!(g["n_points"], 6);
    assert!(g.get("selection").is_none() && g.get("regime").is_none());
    // The library's least squares on the same six points of the first group.
    let points: Vec<(f64, f64)> = theory_csv()
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|c| c[4] == g["group"].as_str().unwrap())
        .map(|c| (c[3].parse().unwrap(), c[5].parse().unwrap()))
        .filter(|&(n, _)| (8.0..=100.0).contains(&n))
        .collect();
    assert_eq!(points.len(), 6);
    let (xs, ys): (Vec<f64>, Vec<f64>) = points.into_iter().unzip();
    let lib = plateau::fit::fit_power(&xs, &ys).unwrap();
    for (name, want) in [("alpha", lib.alpha), ("beta", lib.beta)] {
        let got = g["params"][name].as_f64().unwrap();
        assert!(
            (got / want - 1.0).abs() < 1e-9,
            "{name}: {got} vs library {want}"
        );
    }
    // Fixed seed: identical output; another seed: other intervals.
    assert_eq!(first.stdout, run("7").stdout);
    assert_ne!(first.stdout, run("8").stdout);
}

#[test]
fn no_group_column_is_one_group_all_and_empty_rows_are_skipped() {
    let mut s = String::from("N,risk\n");
    for n in [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0f64] {
        s += &format!("{n},{}\n", 3.0 * n.powf(-0.5));
    }
    s += "128,\n,0.1\n";
    let f = csv(&s);
    let out = json(&fit(&f, "--y risk --model power --reps 50"));
    assert_eq!(out.len(), 1);
    assert_eq!(out[0]["group"], "all");
    assert_eq!(out[0]["n_points"], 7);
    assert_eq!(out[0]["range"], serde_json::json!([1.0, 64.0]));
    assert!((out[0]["params"]["alpha"].as_f64().unwrap() + 0.5).abs() < 1e-12);
    assert!((out[0]["params"]["beta"].as_f64().unwrap() - 3.0).abs() < 1e-12);
    assert_eq!(out[0]["bootstrap"]["method"], "residuals");
}

#[test]
fn per_draw_rows_use_the_draws_bootstrap() {
    let mut s = String::from("N,draw,mean\n");
    for n in [10.0, 20.0, 40.0, 80.0, 160.0, 320.0f64] {
        for d in 0..4 {
            let wiggle = 1.0 + 0.02 * (f64::from(d) - 1.5);
            s += &format!("{n},{d},{}\n", 2.0 * n.powf(-0.8) * wiggle);
        }
    }
    let f = csv(&s);
    let out = json(&fit(&f, "--model power --reps 100"));
    assert_eq!(out[0]["bootstrap"]["method"], "draws");
    assert_eq!(out[0]["n_points"], 6);
    // Explicit --group naming a missing column: an error (one line, exit 2).
    let flags = "--model power --group estimator --reps 10";
    assert_refused(&fit(&f, flags), "no column 'estimator'", flags);
}

#[test]
fn bad_input_is_one_line_and_exit_code_2() {
    let missing = plateau(&["fit", "--input", "/nonexistent/x.csv"]);
    assert_refused(&missing, "cannot read", "a missing file");
    let good = csv(&theory_csv());
    let mut flag_cases = vec![
        ("--y median", "no column 'median'"),
        ("--x size", "no column 'size'"),
        ("--model cubic", "unknown model"),
        ("--at 1e5,zero", "invalid --at"),
        // Too few points for the model.
        ("--model broken --range 8:64", "needs at least 6 points"),
    ];
    let ranges = ["8-24", "24:8", "a:b", "8:8", "-1:5", ":"].map(|r| format!("--range {r}"));
    flag_cases.extend(ranges.iter().map(|r| (r.as_str(), "invalid --range")));
    for (flags, needle) in flag_cases {
        assert_refused(&fit(&good, flags), needle, flags);
    }
    // The bootstrap method is a typed flag: clap refuses other values, listing the valid.
    let flags = "--bootstrap jackknife";
    common::assert_bad_choice(
        &fit(&good, flags),
        "invalid value 'jackknife' for '--bootstrap <METHOD>'",
        "[possible values: auto, draws, parametric, residuals, cells, none]",
        flags,
    );
    // Files the fit cannot use: (contents, flags, what the error names).
    let file_cases = [
        ("N,mean\n1,1.0\n2,0.5\n", "--model power", "at least 3"),
        ("N,mean\n1,1.0\n2,0.5\n", "", "at least 3"),
        // Non-positive values for a log fit.
        (
            "N,mean\n1,1.0\n2,0.5\n4,-0.25\n8,0.1\n",
            "--model power",
            "positive",
        ),
        (
            "N,mean\n0,1.0\n2,0.5\n4,0.25\n8,0.1\n",
            "--model power",
            "positive",
        ),
        // Text where a number belongs, and a file without data.
        ("N,mean\n1,1.0\n2,abc\n4,0.25\n", "", "line 3"),
        ("N,mean\n", "", "no row"),
        // A bootstrap method the data cannot support.
        (
            "N,mean\n1,1.0\n2,0.5\n4,0.25\n8,0.1\n",
            "--model power --bootstrap draws",
            "draws",
        ),
    ];
    for (text, flags, needle) in file_cases {
        assert_refused(
            &fit(&csv(text), flags),
            needle,
            &format!("{text:?} {flags}"),
        );
    }
}

/// A non-finite value or a missing group column: one line naming it, exit 2, never a fit of
/// fewer points than the file holds or of everything as one curve.
#[test]
fn non_finite_values_and_unknown_group_columns_are_errors() {
    let mut s = String::from("N,estimator,mean\n");
    for n in [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0f64] {
        s += &format!("{n},pca,{}\n", 3.0 * n.powf(-0.5));
    }
    for (bad, line) in [("NaN", "9"), ("inf", "9"), ("-inf", "9")] {
        let f = csv(&format!("{s}128,pca,{bad}\n"));
        let out = fit(&f, "--reps 20");
        assert_eq!(out.status.code(), Some(2), "{bad}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.contains(&format!("line {line}")) && err.contains(bad),
            "{err}"
        );
        assert!(out.stdout.is_empty());
    }
    let f = csv(&format!("{s}NaN,pca,0.1\n"));
    let out = fit(&f, "--reps 20");
    assert_eq!(out.status.code(), Some(2));
    let f = csv(&s);
    let out = fit(&f, "--group nope --reps 20");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("'nope'") && err.contains("estimator"), "{err}");
    assert!(out.stdout.is_empty());
}
