//! `plateau scaling` on a results store with a known answer: runs drawn from a saturating law
//! `a N^-b + c` whose floor `c` is the recorded `floor_mse`, two widths per `N` of which the one
//! with the better validation PSNR is the worse on test at one size.

use crate::common;

use std::path::Path;

use serde_json::{json, Value};

use common::plateau;

const FLOOR: f64 = 7.3e-3;

fn truth(n: f64) -> f64 {
    0.02 * n.powf(-0.6) + FLOOR
}

fn line(id: &str, n: u64, width: i64, val: f64, test: f64) -> String {
    json!({
        "id": id, "index": 0, "sweep": "synthetic", "status": "ok",
        "params": {"train_size": n, "channels": width},
        "metrics": {
            "task": "denoise", "data": "gaussian-field", "model": "unet", "pools": 2,
            "image_size": 32, "noise_std": 0.1, "field_exponent": 2.0, "field_cutoff": 0.05,
            "field_std": 0.25, "batch_size": 16, "lr": 1e-3, "epochs": 30, "early_stop": 6,
            "val_size": 128, "test_size": 512,
            "train_size": n, "channels": width, "seed": 0, "best_val_psnr": val,
            "test_mse": test, "test_mse_stderr": 1e-5, "floor_mse": FLOOR,
            "oracle_test_mse": FLOOR * 0.998, "status": "ok"
        },
        "error": null, "seconds": 1.0, "host": "h", "finished_unix": 0
    })
    .to_string()
}

fn write_store(dir: &Path) {
    let mut text = String::new();
    for (i, n) in [16u64, 64, 256, 1024, 4096].into_iter().enumerate() {
        let y = truth(n as f64);
        // Width 16 is the better one (higher validation PSNR, lower test MSE), except at
        // N = 64 where width 8 wins on validation though it is worse on test.
        let (v8, v16) = if n == 64 { (30.0, 29.0) } else { (29.0, 30.0) };
        text.push_str(&line(&format!("a{i}"), n, 8, v8, y * 1.01));
        text.push('\n');
        text.push_str(&line(&format!("b{i}"), n, 16, v16, y));
        text.push('\n');
    }
    // A failed cell and a torn last line are ignored.
    text.push_str(
        &json!({"id": "f", "index": 0, "sweep": "s", "status": "failed", "params": {},
                "metrics": null, "error": "boom", "seconds": 0.0, "host": "h",
                "finished_unix": 0})
        .to_string(),
    );
    text.push_str("\n{\"id\": \"torn");
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("results.jsonl"), text).unwrap();
}

#[test]
fn scaling_picks_widths_on_validation_fits_the_floor_and_draws_the_figure() {
    let tmp = tempfile::tempdir().unwrap();
    let res = tmp.path().join("res");
    let fig = tmp.path().join("fig");
    write_store(&res);
    let (res_s, fig_s) = (res.to_str().unwrap(), fig.to_str().unwrap());
    let out = common::plateau_ok(&["scaling", "--results", res_s, "--out", fig_s]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("ignoring unparseable line"), "{err}");
    let groups: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(groups.len(), 1);
    let g = &groups[0];
    assert_eq!(g["selection_metric"], "best_val_psnr");
    let widths: Vec<i64> = g["best"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["width"].as_i64().unwrap())
        .collect();
    assert_eq!(widths, [16, 8, 16, 16, 16]);
    assert_eq!(g["fit"]["model"], "saturating");
    let ratio = g["fitted_floor_over_floor"].as_f64().unwrap();
    // The N = 64 point is 1% high, so the fit is close to, not exactly, the truth.
    assert!((ratio - 1.0).abs() < 0.02, "fitted floor / floor = {ratio}");
    let at = g["fit"]["extrapolation"]["1e6"].as_f64().unwrap();
    assert!((at / truth(1e6) - 1.0).abs() < 0.02, "{at}");
    assert_eq!(g["below_floor"], 0);

    let tag = g["tag"].as_str().unwrap();
    for ext in ["png", "svg", "csv", "json"] {
        let p = fig.join(format!("scaling_{tag}.{ext}"));
        assert!(
            std::fs::metadata(&p)
                .map(|m| m.len() > 100)
                .unwrap_or(false),
            "{}",
            p.display()
        );
    }
    let csv = std::fs::read_to_string(fig.join(format!("scaling_{tag}.csv"))).unwrap();
    assert_eq!(csv.lines().count(), 11);
    assert_eq!(csv.lines().filter(|l| l.contains(",true,")).count(), 5);
    let svg = std::fs::read_to_string(fig.join(format!("scaling_{tag}.svg"))).unwrap();
    assert!(svg.contains("predicted floor"));
    assert!(svg.contains("best width per N"));
}

#[test]
fn scaling_without_results_is_a_one_line_error() {
    let tmp = tempfile::tempdir().unwrap();
    let out = plateau(&["scaling", "--results", tmp.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("results.jsonl"), "{err}");
}
