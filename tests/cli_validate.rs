//! `plateau validate` as other tools call it: the files, the verdict line, the exit status.

use crate::common;

use std::path::Path;

use common::plateau;

fn run_ls(out: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "validate",
        "--d",
        "3",
        "--n",
        "20",
        "--sigma",
        "0.3",
        "--train-sizes",
        "40,80",
        "--estimators",
        "least_squares",
        "--max-draws",
        "2000",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    plateau(&args)
}

/// Least squares above the threshold is predicted exactly: exit 0, the documented files, one
/// verdict line.
#[test]
fn validate_writes_files_and_passes_an_exact_prediction() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_ls(dir.path(), &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(
        stdout.starts_with("validate: PASS 2/2 points pass"),
        "{stdout}"
    );
    let csv = std::fs::read_to_string(dir.path().join("validate.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("d,n,sigma,N,estimator,predicted,mc_mean,mc_se,draws,z,rel_excess_err,pass")
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 2);
    for row in &rows {
        assert_eq!(row.len(), 12);
        assert_eq!(row[4], "least_squares");
        assert_eq!(row[11], "true");
        let draws: usize = row[8].parse().unwrap();
        assert!((20..=2000).contains(&draws));
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("validate.json")).unwrap())
            .unwrap();
    assert_eq!(json["verdict"]["exit_status"], 0);
    assert_eq!(json["verdict"]["points"], 2);
    // Pooled per estimator (here one), overall and per setup.
    assert_eq!(json["pooled"][0]["estimator"], "least_squares");
    assert!(json["pooled"][0]["chi2_per_dof"].is_number());
    assert_eq!(json["per_setup"].as_array().unwrap().len(), 1);
    assert_eq!(json["per_setup"][0]["pooled"][0]["points"], 2);
    for ext in ["png", "svg"] {
        let f = dir.path().join(format!("validate.{ext}"));
        assert!(std::fs::metadata(&f).unwrap().len() > 1000, "{f:?}");
    }
    assert_figure_marks(dir.path(), 2, 0);
    assert_x_ticks_labelled(dir.path());
}

/// Both panels label at least three sizes on their log N axis (the window 40/1.4 to 80 x 1.4
/// spans 0.6 decades: with plotters' own log axis it labelled one, 100, or none).
fn assert_x_ticks_labelled(dir: &Path) {
    let svg = std::fs::read_to_string(dir.join("validate.svg")).unwrap();
    let lines: Vec<&str> = svg.lines().collect();
    // Tick labels of the x axis are centred under their tick (the y axis' are right-aligned);
    // the other centred texts (titles, axis names) are not numbers.
    let labels: Vec<f64> = lines
        .windows(2)
        .filter(|w| w[0].starts_with("<text") && w[0].contains("text-anchor=\"middle\""))
        .filter_map(|w| w[1].trim().parse().ok())
        .collect();
    assert!(labels.len() >= 6, "x tick labels {labels:?}");
    assert!(
        labels.iter().all(|&v| (28.0..=113.0).contains(&v)),
        "{labels:?}"
    );
}

/// What `validate.svg` must show for one setup of least squares with `points` points of which
/// `failing` fail: each point in both panels (z and relative error) as a disc in least squares'
/// colour (+1 for the estimator's legend sample), each failing point ringed in black in both
/// panels (+1 for the legend's sample ring).
fn assert_figure_marks(dir: &Path, points: usize, failing: usize) {
    let svg = std::fs::read_to_string(dir.join("validate.svg")).unwrap();
    let circles = |r: &str, paint: &str| {
        svg.lines()
            .filter(|l| l.starts_with("<circle") && l.contains(r) && l.contains(paint))
            .count()
    };
    let discs = circles("r=\"6\"", "fill=\"#D62728\"");
    assert_eq!(discs, 2 * points + 1, "discs");
    let rings = circles("r=\"11\"", "stroke=\"#000000\"");
    assert_eq!(rings, 2 * failing, "rings");
    assert_eq!(circles("r=\"9\"", "stroke=\"#000000\""), 1, "legend ring");
}

/// A tolerance no Monte Carlo can meet makes points fail: exit 1 (a result), files written.
#[test]
fn a_failing_point_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_ls(dir.path(), &["--tol-excess", "1e-9", "--tol-z", "1e-9"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("validate: FAIL"));
    assert!(dir.path().join("validate.json").exists());
    let csv = std::fs::read_to_string(dir.path().join("validate.csv")).unwrap();
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    let failing = rows.iter().filter(|r| r.ends_with(",false")).count();
    assert!(failing > 0, "{csv}");
    assert_figure_marks(dir.path(), rows.len(), failing);
}

/// Bad input: exit 2 with one line of ours (or clap's whole message for a flag error) naming
/// the flag, and no file.
#[test]
fn bad_input_exits_2() {
    for (extra, needle) in [
        (&["--max-draws", "0"][..], "max-draws"),
        (&["--tol-excess", "0"], "tol-excess"),
        (&["--tol-z", "-1"], "tol-z"),
        (&["--target-rel-se", "nan"], "target-rel-se"),
        (&["--estimators", "optimal"], "optimal"),
        (&["--train-sizes", "0"], "at least 1"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let mut args = vec!["validate", "--d", "3", "--n", "20", "--sigma", "0.3"];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["--out", dir.path().to_str().unwrap()]);
        let out = plateau(&args);
        common::assert_bad_input(&out, needle, &format!("{extra:?}"));
        assert!(!dir.path().join("validate.csv").exists(), "{extra:?}");
    }
    for args in [
        &["validate", "--preset", "nope"][..],
        &["validate"],
        &["validate", "--d", "3"],
        &[
            "validate", "--preset", "quick", "--d", "3", "--n", "20", "--sigma", "0.1",
        ],
    ] {
        let out = plateau(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}
