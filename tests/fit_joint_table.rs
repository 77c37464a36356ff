//! `plateau fit --model joint`: the joint law in (N, P) fitted to any table of runs, on
//! synthetic tables drawn from a known law (`joint_table/mod.rs`). Tolerances come from the
//! spread of the estimates over the tables and from binomial bounds on coverage, never from
//! one lucky draw.

use crate::common;
use crate::joint_table;

use common::{assert_refused, plateau, plateau_ok};
use joint_table::{csv, group, points, TRUTH};
use plateau::fit::joint::table_fit::{fit_table, FamilyAsk, TableFitOptions};
use plateau::fit::joint::{Family, JointLaw, Loss};
use plateau::fit::{BootstrapOptions, Method};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// A parameter of a law.
type Param = fn(&JointLaw) -> f64;

/// The five parameters, as functions of a law, with their names.
const PARAMS: [(&str, Param); 5] = [
    ("E", |l| l.e),
    ("ln A", |l| l.a.ln()),
    ("alpha", |l| l.alpha),
    ("ln B", |l| l.b.ln()),
    ("beta", |l| l.beta),
];

fn opts(loss: Loss, reps: usize) -> TableFitOptions {
    TableFitOptions {
        family: FamilyAsk::Given(Family::Additive),
        loss,
        bootstrap: BootstrapOptions {
            method: if reps == 0 {
                Method::None
            } else {
                Method::Auto
            },
            reps,
            seed: 3,
        },
    }
}

const HUBER: Loss = Loss::Huber { delta: 1e-3 };

fn mean_sd(v: &[f64]) -> (f64, f64) {
    let m = v.iter().sum::<f64>() / v.len() as f64;
    let var = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64;
    (m, var.sqrt())
}

/// Fits `tables` tables with `outliers` outlying cells under `loss`, bootstrapping the cells;
/// checks that each parameter's mean estimate is the truth within 4 standard errors of that
/// mean and that its 95% intervals cover the truth at their nominal rate.
fn check_coverage(loss: Loss, outliers: usize, seed: u64) {
    const TABLES: usize = 60;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut est = vec![Vec::new(); PARAMS.len()];
    let mut covered = [0usize; PARAMS.len()];
    for _ in 0..TABLES {
        let fit = fit_table(
            &group(&points(&TRUTH, outliers, &mut rng)),
            &opts(loss, 200),
        )
        .unwrap();
        assert_eq!(fit.samples.method, Method::Cells);
        for (k, (_, f)) in PARAMS.iter().enumerate() {
            est[k].push(f(&fit.law));
            let [lo, hi] = fit.samples.interval(f);
            covered[k] += usize::from(lo <= f(&TRUTH) && f(&TRUTH) <= hi);
        }
    }
    // A 95% interval of a parameter fitted to 36 cells with 5 parameters covers like
    // P(|T_31| <= 1.96) = 0.941 at best; 3 binomial standard deviations over the tables.
    let p0 = 0.941;
    let sd = (p0 * (1.0 - p0) / TABLES as f64).sqrt();
    let what = format!("{} loss, {outliers} outliers", loss.name());
    for (k, (name, f)) in PARAMS.iter().enumerate() {
        let (m, s) = mean_sd(&est[k]);
        let se = s / (TABLES as f64).sqrt();
        let rate = covered[k] as f64 / TABLES as f64;
        eprintln!(
            "{what}: {name} mean {m:.4} (truth {:.4}, se {se:.4}), coverage {rate:.3}",
            f(&TRUTH)
        );
        assert!(
            (m - f(&TRUTH)).abs() < 4.0 * se,
            "{what}: {name} mean {m} vs {}",
            f(&TRUTH)
        );
        assert!(
            (rate - p0).abs() <= 3.0 * sd,
            "{what}: {name} coverage {rate} outside {p0} -+ {:.3}",
            3.0 * sd
        );
    }
}

#[test]
fn squares_intervals_cover_the_truth_at_their_nominal_rate() {
    check_coverage(Loss::Squares, 0, 1);
}

#[test]
fn huber_intervals_cover_the_truth_with_and_without_outliers() {
    check_coverage(HUBER, 0, 2);
    check_coverage(HUBER, 3, 3);
}

#[test]
fn huber_recovers_the_parameters_that_outliers_pull_squares_away_from() {
    // Three of the 36 cells doubled: least squares on ln R chases them (its floor and
    // exponents move), Huber's loss bounds their pull. Root-mean-square error over the tables.
    const TABLES: usize = 40;
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let mut sq_err = [0.0; PARAMS.len()];
    let mut hu_err = [0.0; PARAMS.len()];
    for _ in 0..TABLES {
        let g = group(&points(&TRUTH, 3, &mut rng));
        let sq = fit_table(&g, &opts(Loss::Squares, 0)).unwrap().law;
        let hu = fit_table(&g, &opts(HUBER, 0)).unwrap().law;
        for (k, (_, f)) in PARAMS.iter().enumerate() {
            sq_err[k] += (f(&sq) - f(&TRUTH)).powi(2) / TABLES as f64;
            hu_err[k] += (f(&hu) - f(&TRUTH)).powi(2) / TABLES as f64;
        }
    }
    for (k, (name, _)) in PARAMS.iter().enumerate() {
        let (s, h) = (sq_err[k].sqrt(), hu_err[k].sqrt());
        eprintln!("{name}: rms error squares {s:.4}, huber {h:.4}");
        assert!(h < s, "{name}: huber {h} is not closer than squares {s}");
    }
}

/// Writes `body` to `t.csv` in a new temporary directory.
fn table_file(body: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.csv");
    std::fs::write(&path, body).unwrap();
    let p = path.to_str().unwrap().to_string();
    (dir, p)
}

#[test]
fn the_cli_prints_fit_s_json_with_the_joint_parameters() {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let (_dir, p) = table_file(&csv(&points(&TRUTH, 2, &mut rng)));
    let args = "--x N --p P --y loss --model joint --reps 100 --loss huber";
    let out = plateau_ok(&[&["fit", "--input", &p][..], &common::words(args)].concat());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let r = &v[0];
    assert_eq!(
        (r["group"].as_str(), r["model"].as_str()),
        (Some("all"), Some("joint"))
    );
    assert_eq!(
        r["loss"],
        serde_json::json!({"name": "huber", "delta": 1e-3})
    );
    assert_eq!(r["bootstrap"]["method"], "cells");
    assert_eq!(
        (r["n_rows"].as_u64(), r["n_cells"].as_u64()),
        (Some(36), Some(36))
    );
    for name in ["E", "A", "alpha", "B", "beta"] {
        let v = r["params"][name].as_f64().unwrap();
        let ci = &r["ci95"][name];
        let (lo, hi) = (ci[0].as_f64().unwrap(), ci[1].as_f64().unwrap());
        assert!(lo <= v && v <= hi, "{name}: {v} outside {lo}..{hi}");
        assert_eq!(r["identified"][name]["identified"], true, "{name}: {r}");
    }
    // --family auto (the default) holds out the corner and says why it chose.
    let fam = &r["family_choice"];
    assert_eq!(fam["asked"], "auto");
    assert_eq!(fam["selection"]["candidates"].as_array().unwrap().len(), 2);
    assert!(
        fam["reason"].as_str().unwrap().contains("held-out"),
        "{fam}"
    );
}

#[test]
fn bad_tables_and_flags_are_refused_in_one_line() {
    let mut rng = ChaCha8Rng::seed_from_u64(10);
    let good = csv(&points(&TRUTH, 0, &mut rng));
    let (_d, p) = table_file(&good);
    let fit = |extra: &str, file: &str| {
        let base = "--x N --p P --y loss --model joint --reps 10";
        let args = format!("{base} {extra}");
        plateau(&[&["fit", "--input", file][..], &common::words(&args)].concat())
    };
    let two_sizes: String = good
        .lines()
        .filter(|l| {
            !(l.starts_with("4096,")
                || l.starts_with("16384,")
                || l.starts_with("1024,")
                || l.starts_with("256,"))
        })
        .map(|l| format!("{l}\n"))
        .collect();
    let with_line = |line: &str| format!("{good}{line}\n");
    let cases: Vec<(String, &str, &str)> = vec![
        (good.replace("N,P,loss", "N,Q,loss"), "", "no column 'P'"),
        (
            with_line("64,abc,0.1"),
            "",
            "line 38: column 'P' has 'abc', not a number",
        ),
        (
            with_line("64,1000,-0.1"),
            "",
            "line 38: column 'loss' has -0.1",
        ),
        (with_line("0,1000,0.1"), "", "column 'N' has 0"),
        (with_line("64,1000,inf"), "", "column 'loss' is inf"),
        (two_sizes, "", "column 'N' has 2 distinct value(s)"),
        (
            good.clone(),
            "--loss huber --huber-delta 0",
            "--huber-delta 0 must be positive",
        ),
        (
            good.clone(),
            "--huber-delta 0.01",
            "--huber-delta is Huber's threshold: use it with --loss huber",
        ),
        (
            good.clone(),
            "--bootstrap parametric",
            "parametric is not available",
        ),
        (
            good.clone(),
            "--bootstrap draws",
            "at least two runs in every (N, P) cell",
        ),
        (
            good.clone(),
            "--range 10:100",
            "--range is for one-axis models",
        ),
    ];
    for (body, extra, want) in cases {
        let (_d, f) = table_file(&body);
        assert_refused(&fit(extra, &f), want, &format!("{want} ({extra})"));
    }
    // The family and the loss are typed flags: clap refuses other values, listing the valid.
    let (_d, f) = table_file(&good);
    for (extra, want, choices) in [
        (
            "--loss l1",
            "invalid value 'l1' for '--loss <LOSS>'",
            "[possible values: squares, huber]",
        ),
        (
            "--family kaplan",
            "invalid value 'kaplan' for '--family <FAMILY>'",
            "[possible values: additive, power_mean, auto]",
        ),
    ] {
        common::assert_bad_choice(&fit(extra, &f), want, choices, extra);
    }
    // Flags that do not make a joint fit together: (flags, what the error says, the case).
    for (flags, want, what) in [
        (
            "--x N --p N --y loss --model joint",
            "three different columns",
            "--p N",
        ),
        ("--x N --y loss --model joint", "needs --p COLUMN", "no --p"),
        (
            "--x N --p P --y loss",
            "use it with --model joint",
            "--p alone",
        ),
        (
            "--x N --y loss --loss huber",
            "are for the joint law",
            "--loss alone",
        ),
    ] {
        let out = plateau(&common::words(&format!("fit --input {p} {flags}")));
        assert_refused(&out, want, what);
    }
}
