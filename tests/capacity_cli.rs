//! The joint law in `plateau scaling` and `plateau plan`: a results store written through the
//! serde types (`RunRecord` in a sweep `Record`), 4 sizes x 3 widths x 2 seeds drawn from an
//! additive law whose floor is the recorded `floor_mse`; the same store with one width, or
//! without parameter counts, must still get its N-only analysis.

use crate::common;

use std::path::Path;

use clap::FromArgMatches;
use plateau::analysis::capacity::{Better, Capacity, FloorSource};
use plateau::fit::joint::{Family, JointLaw};
use plateau::sweep::{Record, Store};
use plateau_run::args::{train_command, TrainArgs};
use plateau_run::recipe::TrainRecipe;
use plateau_run::record::{Environment, Results, RunRecord};
use serde_json::Value;

use common::svg::polyline_points;
use common::{assert_bad_input, plateau, words};

const FLOOR: f64 = 5e-3;

const TRUTH: JointLaw = JointLaw {
    family: Family::Additive,
    e: FLOOR,
    a: 0.2,
    alpha: 0.6,
    b: 2.0,
    beta: 0.5,
    q: 1.0,
};

/// Parameter count of a width (a U-Net's is close to quadratic).
fn params(width: i64) -> i64 {
    300 * width * width + 50 * width
}

/// One finished run as the sweep records it; `p: None` leaves the parameter count out.
fn record(n: usize, width: i64, seed: u64, p: Option<i64>) -> Record {
    let args = format!(
        "--task denoise --data gaussian-field --image-size 16 --train-size {n} --channels {width} \
         --seed {seed} --out x"
    );
    let m = train_command().try_get_matches_from(words(&args)).unwrap();
    let config = TrainRecipe::try_from(&TrainArgs::from_arg_matches(&m).unwrap())
        .unwrap()
        .config;
    // A deterministic +-1% seed effect keeps the two seeds of a cell apart.
    let sign = if seed == 0 { 1.0 } else { -1.0 };
    let test = TRUTH.predict(n as f64, params(width) as f64) * (1.0 + 0.01 * sign);
    let metrics = RunRecord {
        config,
        results: Results {
            params: p,
            test_mse: Some(test),
            floor_mse: Some(FLOOR),
            best_val_psnr: Some(-10.0 * test.log10()),
            ..Results::default()
        },
        environment: Environment::default(),
    };
    Record {
        id: format!("n{n}w{width}s{seed}"),
        index: 0,
        sweep: "capacity".into(),
        status: "ok".into(),
        params: serde_json::Map::new(),
        metrics: Some(metrics),
        error: None,
        seconds: 1.0,
        host: "h".into(),
        finished_unix: 0,
    }
}

fn write_store(dir: &Path, widths: &[i64], with_params: bool) {
    let store = Store::new(dir);
    for n in [16, 64, 256, 1024] {
        for &w in widths {
            for seed in [0, 1] {
                let p = with_params.then(|| params(w));
                store.append(&record(n, w, seed, p)).unwrap();
            }
        }
    }
}

/// Runs `plateau scaling` on `res` into `fig`; returns stderr and the one group's JSON file.
fn scaling(res: &Path, fig: &Path) -> (String, Value) {
    let args = format!(
        "scaling --results {} --out {}",
        res.display(),
        fig.display()
    );
    let out = plateau(&words(&args));
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{err}");
    let groups: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(groups.len(), 1);
    let tag = groups[0]["tag"].as_str().unwrap();
    let file = fig.join(format!("scaling_{tag}.json"));
    let json: Value = serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap();
    assert_eq!(json, groups[0]);
    (err, json)
}

#[test]
fn scaling_fits_the_joint_law_and_its_json_round_trips() {
    let tmp = tempfile::tempdir().unwrap();
    let (res, fig) = (tmp.path().join("res"), tmp.path().join("fig"));
    write_store(&res, &[4, 8, 16], true);
    let (err, json) = scaling(&res, &fig);
    let cap: Capacity = serde_json::from_value(json.clone()).unwrap();
    // Round trip: the typed report serialises back to exactly the fields written.
    let back = serde_json::to_value(&cap).unwrap();
    for (k, v) in back.as_object().unwrap() {
        assert_eq!(&json[k], v, "field {k}");
    }
    let fit = cap.joint_fit.as_ref().expect("a joint fit");
    assert_eq!(fit.floor, FloorSource::Exact);
    // The recorded floor (a mean over the runs, equal to rounding) is fixed as E.
    assert!((fit.params.e.value / FLOOR - 1.0).abs() < 1e-12, "{fit:?}");
    assert_eq!((fit.cells, fit.sizes, fit.widths), (12, 4, 3));
    assert!(fit.selection.is_some(), "{fit:?}");
    // The +-1% seed effect is the only noise: the exponents come back to a few percent.
    assert!(
        (fit.params.alpha.value / TRUTH.alpha - 1.0).abs() < 0.05,
        "{fit:?}"
    );
    assert!(
        (fit.params.beta.value / TRUTH.beta - 1.0).abs() < 0.05,
        "{fit:?}"
    );
    assert_eq!(cap.optimal_width.len(), 4);
    assert_eq!(cap.width_saturation.len(), 3);
    let d = cap.doubling_gain_db.as_ref().expect("doubling gains");
    assert_eq!(
        (d.at_n, d.at_width, d.at_params),
        (1024.0, Some(16.0), params(16) as f64)
    );
    let want = |n2: f64, p2: f64| {
        10.0 * (TRUTH.predict(1024.0, d.at_params) / TRUTH.predict(n2, p2)).log10()
    };
    assert!(
        (d.data.value / want(2048.0, d.at_params) - 1.0).abs() < 0.1,
        "{d:?}"
    );
    assert!(
        (d.params.value / want(1024.0, 2.0 * d.at_params) - 1.0).abs() < 0.1,
        "{d:?}"
    );
    assert_ne!(d.better, Better::Uncertain, "{d:?}");
    assert!(cap.optimal_width_growth.is_some());
    assert!(
        err.contains("joint law") && err.contains("optimal width"),
        "{err}"
    );
    let tag = json["tag"].as_str().unwrap();
    for stem in [format!("capacity_{tag}"), format!("capacity_{tag}_surface")] {
        for ext in ["png", "svg"] {
            assert!(fig.join(format!("{stem}.{ext}")).is_file(), "{stem}.{ext}");
        }
    }
    let svg = std::fs::read_to_string(fig.join(format!("capacity_{tag}.svg"))).unwrap();
    assert_width_chart_svg(&svg);
}

/// What the error-against-N-per-width figure of the 4 sizes x 3 widths store must show, read
/// from its SVG: a marker per cell (12, plus one legend sample per width), the law's best-width
/// envelope as one 60-point line (pale grey), the widths chosen on validation as one line
/// through the 4 sizes (red), and the exact floor's label.
fn assert_width_chart_svg(svg: &str) {
    // Filled circles are the markers (the error bars add open ones at the same points).
    let markers = svg
        .lines()
        .filter(|l| l.starts_with("<circle") && !l.contains("fill=\"none\""))
        .count();
    assert_eq!(markers, 12 + 3, "markers");
    let line_points = |stroke: &str| polyline_points(svg, &[stroke, "stroke-width=\"3\""]);
    // Each line once in the plot (its points) and once in the legend (2 points).
    assert_eq!(line_points("stroke=\"#BEBEBE\""), [60, 2], "envelope");
    assert_eq!(line_points("stroke=\"#D62728\""), [4, 2], "validation");
    assert!(
        svg.contains(&format!("exact floor {FLOOR:.4e}")),
        "floor label"
    );
}

#[test]
fn one_width_or_no_parameter_counts_get_a_note_and_the_n_only_analysis() {
    for (widths, with_params, want) in [
        (&[8][..], true, "at least two widths and two sizes"),
        (&[4, 8][..], false, "P (the parameter count) is missing"),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let (res, fig) = (tmp.path().join("res"), tmp.path().join("fig"));
        write_store(&res, widths, with_params);
        let (err, json) = scaling(&res, &fig);
        assert!(json["joint_fit"].is_null(), "{json}");
        let note = json["joint_fit_note"].as_str().unwrap();
        assert!(note.contains(want), "{note}");
        assert!(err.contains(want), "{err}");
        assert!(json["fit"].is_object(), "the N-only fit still runs: {json}");
        let args = format!("plan --results {} --width 8 --reps 50", res.display());
        let out = plateau(&words(&args));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{err}");
        assert!(err.contains(want) && err.contains("N-only plan"), "{err}");
        let plans: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
        assert!(plans[0]["floor"].is_object() && plans[0].get("doubling_gain_db").is_none());
    }
}

#[test]
fn plan_answers_the_doubling_question_at_a_width_or_a_parameter_count() {
    let tmp = tempfile::tempdir().unwrap();
    write_store(tmp.path(), &[4, 8, 16], true);
    let res = tmp.path().to_str().unwrap();
    for (flag, value, p) in [
        ("--width", "8", params(8) as f64),
        ("--params", "5000", 5000.0),
    ] {
        let out = plateau(&["plan", "--results", res, flag, value, "--reps", "100"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{err}");
        assert!(err.contains("doubling P gains"), "{err}");
        let plans: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
        let d = &plans[0]["doubling_gain_db"];
        assert_eq!(d["at_n"], 1024.0);
        let got = d["at_params"].as_f64().unwrap();
        assert!((got / p - 1.0).abs() < 1e-9, "{d}");
        // The gains of the law that generated the data, written out: R = e + A N^-alpha +
        // B P^-beta. The cell means are the law (the seeds' +-1% cancel) and the floor is known,
        // so the fit is the law to rounding (measured: 1e-14 dB).
        let law = |n: f64, p: f64| FLOOR + 0.2 * n.powf(-0.6) + 2.0 * p.powf(-0.5);
        let gain = |r0: f64, r1: f64| 10.0 * (r0 / r1).log10();
        let data = gain(law(1024.0, p), law(2048.0, p));
        let more_p = gain(law(1024.0, p), law(1024.0, 2.0 * p));
        for (k, want) in [
            ("data", data),
            ("params", more_p),
            ("difference", data - more_p),
        ] {
            let v = d[k]["value"].as_f64().unwrap();
            let [lo, hi] = [0, 1].map(|i| d[k]["ci95"][i].as_f64().unwrap());
            assert!((v - want).abs() < 1e-9, "{k}: {v} vs {want}: {d}");
            assert!(lo <= want && want <= hi, "{k}: {want} outside: {d}");
        }
        let better = if data > more_p { "data" } else { "params" };
        assert_eq!(d["better"], better, "{d}");
    }
    let csv = tmp.path().join("c.csv");
    std::fs::write(&csv, "N,mean\n1,3\n2,2\n4,1\n8,0.5\n").unwrap();
    for (args, want) in [
        ("--width 0", "--width 0 must be positive"),
        ("--params -3", "--params -3 must be positive"),
        ("--width abc", "invalid value 'abc'"),
        ("--width 8 --params 100", "cannot be used with"),
    ] {
        let mut a = vec!["plan", "--results", res];
        a.extend(words(args));
        assert_bad_input(&plateau(&a), want, args);
    }
    let out = plateau(&["plan", "--input", csv.to_str().unwrap(), "--width", "8"]);
    assert_bad_input(&out, "need --results", "--width with a CSV");
    let out = plateau(&words("plan --d 10 --n 100 --sigma 0.1 --width 8"));
    assert_bad_input(&out, "need --results", "--width from theory");
}
