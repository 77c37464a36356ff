//! `plateau scaling` and `plateau plan` on a real-data denoising sweep with a `plateau spectrum`
//! run beside it: the learned-linear curves and the best linear map are drawn, and the sentence
//! says where the network stands against the best linear map, on synthetic stores whose answer
//! is known (above, below, indistinguishable, and the dB of the gap).

use crate::common;

use std::path::Path;

use common::{assert_refused, plateau, plateau_ok};

/// Measured test MSE of the synthetic curve: `C + A N^-1/2`.
fn measured(n: u64) -> f64 {
    1e-3 + 0.05 / (n as f64).sqrt()
}

const SIZES: [u64; 5] = [16, 64, 256, 1024, 4096];
/// Test-set standard error of every point (tiny: the verdicts are decided by the bands).
const SE: f64 = 1e-6;

/// A results store of photographs (`skimage`, 16x16 grey, sigma 0.1) at [`SIZES`].
fn store(dir: &Path) {
    let lines: Vec<String> = SIZES
        .iter()
        .map(|&n| {
            serde_json::json!({
                "id": format!("c{n}"), "index": 0, "sweep": "photos", "status": "ok",
                "params": {"train_size": n, "channels": 8},
                "metrics": {
                    "task": "denoise", "data": "skimage", "color": "gray", "model": "unet",
                    "pools": 2, "image_size": 16, "noise_std": 0.1, "batch_size": 16,
                    "lr": 1e-3, "epochs": 20, "early_stop": 5, "val_size": 256,
                    "test_size": 512, "train_size": n, "channels": 8, "seed": 0,
                    "best_val_psnr": 25.0, "test_mse": measured(n), "test_mse_stderr": SE,
                    "status": "ok"
                },
                "error": null, "seconds": 1.0, "host": "h", "finished_unix": 0
            })
            .to_string()
        })
        .collect();
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("results.jsonl"), lines.join("\n") + "\n").unwrap();
}

/// A `plateau spectrum` folder: LMMSE `floor` with band `[lo, hi]`, tuned ridge 4e-3 at
/// N = 1024 and 2e-3 at N = 8192 (GD 10% above), at noise `sigma`.
fn spectrum(dir: &Path, (floor, lo, hi): (f64, f64, f64), sigma: f64) {
    std::fs::create_dir_all(dir).unwrap();
    let summary = serde_json::json!({
        "data": "skimage", "image_size": 16, "color": "gray", "dim": 256, "noise_std": sigma,
        "pool": 10000, "blocks": 12, "resamples": [200, 20], "linear_floor": [floor, lo, hi],
        "n_within_10_percent": 2056, "power_law": null
    });
    std::fs::write(dir.join("summary.json"), summary.to_string()).unwrap();
    let mut csv = String::from("N,estimator,mse,mse_lo,mse_hi\n");
    for (n, ridge) in [(1024, 4e-3), (8192, 2e-3)] {
        csv += &format!("{n},linear_floor,{floor},{lo},{hi}\n");
        csv += &format!("{n},ridge_tuned,{ridge},{},{}\n", 0.9 * ridge, 1.1 * ridge);
        let gd = 1.1 * ridge;
        csv += &format!("{n},gd_early_stopped,{gd},{},{}\n", 0.9 * gd, 1.1 * gd);
    }
    std::fs::write(dir.join("predictions.csv"), csv).unwrap();
}

fn plan_json(results: &Path, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["plan", "--results", results.to_str().unwrap()];
    args.extend_from_slice(extra);
    let out = plateau_ok(&args);
    serde_json::from_slice(&out.stdout).unwrap()
}

fn plan_text(results: &Path, extra: &[&str]) -> String {
    let mut args = vec![
        "plan",
        "--results",
        results.to_str().unwrap(),
        "--format",
        "text",
    ];
    args.extend_from_slice(extra);
    String::from_utf8(plateau_ok(&args).stdout).unwrap()
}

#[test]
fn plan_says_above_below_or_indistinguishable_with_the_gap_in_db() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("sweep");
    store(&results);
    let last = measured(4096);
    // No spectrum run: no linear theory.
    assert!(plan_json(&results, &[])[0].get("linear_theory").is_none());
    let cases = [
        (
            "above",
            (1.0e-3, 0.95e-3, 1.05e-3),
            "above it: the network has not yet learned what a linear map can",
        ),
        (
            "below",
            (4.0e-3, 3.8e-3, 4.2e-3),
            "below it: the network exploits structure beyond the second moments",
        ),
        (
            "indistinguishable",
            (1.8e-3, 1.6e-3, 2.0e-3),
            "is within the uncertainty of it",
        ),
    ];
    for (i, (verdict, floor, sentence)) in cases.into_iter().enumerate() {
        // The first case is found in <results>/spectrum, the others are named.
        let dir = if i == 0 {
            results.join("spectrum")
        } else {
            tmp.path().join(format!("spec{i}"))
        };
        spectrum(&dir, floor, 0.1);
        let named = ["--linear-theory", dir.to_str().unwrap()];
        let extra: &[&str] = if i == 0 { &[] } else { &named };
        let db = 10.0 * (last / floor.0).log10();
        let j = &plan_json(&results, extra)[0]["linear_theory"];
        assert_eq!(j["verdict"], verdict, "{j}");
        let got = j["db_above_best_linear"].as_f64().unwrap();
        assert!((got - db).abs() < 1e-9, "{verdict}: {got} dB, want {db}");
        assert_eq!(j["best_linear_map"]["ci95"][1].as_f64(), Some(floor.2));
        // Tuned ridge at N = 4096, log-log between 4e-3 at 1024 and 2e-3 at 8192: 4e-3 2^(-2/3).
        let ridge = j["learned"][0]["mse"]["value"].as_f64().unwrap();
        let want = 4e-3 * 2f64.powf(-2.0 / 3.0);
        assert!((ridge - want).abs() < 1e-12, "{ridge} vs {want}");
        assert_eq!(j["learned"][0]["estimator"], "ridge_tuned");
        let text = plan_text(&results, extra);
        assert!(text.contains(sentence), "{verdict}: {text}");
        assert!(text.contains("best linear map (Gaussian LMMSE"), "{text}");
        if verdict != "indistinguishable" {
            assert!(text.contains(&format!("{:.2} dB", db.abs())), "{text}");
        }
        std::fs::remove_dir_all(results.join("spectrum")).ok();
    }
}

#[test]
fn scaling_draws_the_learned_linear_curves_and_the_best_linear_map() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("sweep");
    store(&results);
    spectrum(&results.join("spectrum"), (1.0e-3, 0.95e-3, 1.05e-3), 0.1);
    let figs = tmp.path().join("figs");
    let out = plateau_ok(&[
        "scaling",
        "--results",
        results.to_str().unwrap(),
        "--out",
        figs.to_str().unwrap(),
    ]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json[0]["linear_theory"]["verdict"], "above", "{json}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("has not yet learned what a linear map can"),
        "{stderr}"
    );
    let tag = json[0]["tag"].as_str().unwrap();
    // The level's legend: value and band, as MSE and as PSNR (-10 log10 of 1e-3, 1.05e-3, 0.95e-3).
    let level = [
        ("", "1.0000e-3 (95% 9.50e-4 to 1.05e-3)"),
        ("_psnr", "30.00 dB (95% 29.79 to 30.22 dB)"),
    ];
    for (suffix, value) in level {
        let svg = std::fs::read_to_string(figs.join(format!("scaling_{tag}{suffix}.svg"))).unwrap();
        let best = format!("best linear map (Gaussian LMMSE, data's spectrum) {value}");
        for label in [
            best.as_str(),
            "learned linear, tuned ridge (Gaussian theory, data's spectrum)",
            "learned linear, early-stopped GD (Gaussian theory, data's spectrum)",
        ] {
            let escaped = label.replace('\'', "&apos;");
            assert!(
                svg.contains(label) || svg.contains(&escaped),
                "{suffix}: no '{label}' in the figure"
            );
        }
    }
}

#[test]
fn a_spectrum_of_other_data_or_no_spectrum_is_refused_in_one_line() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("sweep");
    store(&results);
    let other = tmp.path().join("other");
    spectrum(&other, (1.0e-3, 0.95e-3, 1.05e-3), 0.2);
    let r = results.to_str().unwrap();
    let figs = tmp.path().join("figs");
    for cmd in ["plan", "scaling"] {
        let mut args = vec![
            cmd,
            "--results",
            r,
            "--linear-theory",
            other.to_str().unwrap(),
        ];
        if cmd == "scaling" {
            args.extend(["--out", figs.to_str().unwrap()]);
        }
        let out = plateau(&args);
        assert_refused(&out, "no curve of the results is", cmd);
        let missing = tmp.path().join("missing");
        args[4] = missing.to_str().unwrap();
        assert_refused(&plateau(&args), "cannot read", cmd);
    }
    assert!(!figs.exists() || std::fs::read_dir(&figs).unwrap().next().is_none());
    let theory = [
        "plan",
        "--d",
        "2",
        "--n",
        "4",
        "--sigma",
        "0.1",
        "--linear-theory",
        r,
    ];
    assert_refused(
        &plateau(&theory),
        "--linear-theory needs --results",
        "theory plan",
    );
}
