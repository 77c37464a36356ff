//! The learned-linear-estimator curves drawn beside the U-Net on the scaling figure.
//!
//! For denoising synthetic Gaussian data (`gaussian-field`, `subspace`) the training pairs are
//! the linear Gaussian model of `theory/gaussian.md` with `a = 1`: coordinates of the field's
//! Fourier basis (or of the DCT subspace) with the data's covariance eigenvalues. So the
//! expected per-pixel MSE of a linear map `W` (pixels x pixels) learned from the same `N`
//! training pairs has a deterministic equivalent, computed here for the optimally tuned ridge
//! and for early-stopped gradient descent (step `1/L`, `L` the limiting largest eigenvalue of
//! `Y Y^T / N`, stopped at the best of `k <= 5000`). Both are per-pixel MSEs, the units of
//! `test_mse`.

use anyhow::{anyhow, Result};
use plateau_theory::field::FieldSpectrum;
use plateau_theory::gaussian::DiagonalModel;
use plateau_theory::grid::{log_spaced_sizes, points_per_decade};
use serde_json::{Map, Value};

use crate::figures::scaling::NamedCurve;

/// Sizes per decade of the predicted curves.
const PER_DECADE: usize = 6;

/// The linear Gaussian model of a group's data, when the group is denoising of synthetic
/// Gaussian images (`None` for other tasks or data: their learned-linear risk has no
/// deterministic equivalent here).
///
/// # Errors
/// A one-line message when a key the data needs is missing or out of range.
pub fn model_of(key: &Map<String, Value>) -> Result<Option<DiagonalModel>> {
    let text = |k: &str| key.get(k).and_then(Value::as_str);
    let num = |k: &str| {
        key.get(k)
            .and_then(Value::as_f64)
            .ok_or_else(|| anyhow!("the results lack a numeric '{k}'"))
    };
    if text("task") != Some("denoise") {
        return Ok(None);
    }
    let side = num("image_size")? as usize;
    let sigma = num("noise_std")?;
    let lambda = match text("data") {
        Some("gaussian-field") => {
            let std = num("field_std")?;
            FieldSpectrum::new(
                side,
                num("field_exponent")?,
                num("field_cutoff")?,
                std * std,
            )
            .map_err(|e| anyhow!("{e}"))?
            .eigenvalues()
            .to_vec()
        }
        Some("subspace") => {
            let d = num("subspace_dim")? as usize;
            (0..side * side)
                .map(|i| f64::from(u8::from(i < d)))
                .collect()
        }
        _ => return Ok(None),
    };
    Ok(Some(
        DiagonalModel::denoising(&lambda, sigma).map_err(|e| anyhow!("{e}"))?,
    ))
}

/// Log-spaced training-set sizes from `lo` to `hi` (inclusive, rounded to integers; `lo` at
/// least 1), [`PER_DECADE`] per decade.
///
/// # Errors
/// When `hi < lo`.
fn sizes(lo: f64, hi: f64) -> Result<Vec<usize>> {
    let lo = lo.max(1.0);
    let points = points_per_decade(lo, hi, PER_DECADE);
    log_spaced_sizes(lo.round() as usize, hi.round() as usize, points).map_err(|e| anyhow!("{e}"))
}

/// The optimally tuned ridge and early-stopped GD curves of `model` for `N` from `lo` to `hi`.
///
/// # Errors
/// When `hi < lo`, or if the theory rejects a size (it cannot for `N >= 1`).
pub fn curves(model: &DiagonalModel, lo: f64, hi: f64) -> Result<Vec<NamedCurve>> {
    let mut ridge = Vec::new();
    let mut gd = Vec::new();
    for n in sizes(lo, hi)? {
        let (_, r) = model.ridge_optimal(n).map_err(|e| anyhow!("{e}"))?;
        ridge.push((n as f64, r));
        let (_, g) = model
            .equivalent(n)
            .map_err(|e| anyhow!("{e}"))?
            .gd_early_stopped(None);
        gd.push((n as f64, g));
    }
    Ok(vec![
        NamedCurve {
            label: "learned linear, tuned ridge (theory)".into(),
            points: ridge,
        },
        NamedCurve {
            label: "learned linear, early-stopped GD (theory)".into(),
            points: gd,
        },
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn field_denoising_curves_decrease_towards_the_floor() {
        let k = key(
            json!({"task": "denoise", "data": "gaussian-field", "image_size": 8,
            "noise_std": 0.1, "field_exponent": 2.0, "field_cutoff": 0.05, "field_std": 0.25}),
        );
        let model = model_of(&k).unwrap().unwrap();
        let floor = FieldSpectrum::new(8, 2.0, 0.05, 0.0625)
            .unwrap()
            .mmse_floor(0.1);
        assert!((model.floor() - floor).abs() < 1e-12 * floor);
        for c in curves(&model, 4.0, 1e6).unwrap() {
            assert!(c.points.len() > 20, "{}", c.label);
            for w in c.points.windows(2) {
                assert!(w[1].1 < w[0].1 && w[1].1 > floor, "{}: {w:?}", c.label);
            }
            let last = c.points.last().unwrap().1;
            assert!(last < 1.01 * floor, "{}: {last} vs floor {floor}", c.label);
        }
    }

    #[test]
    fn other_tasks_have_no_curve_and_missing_keys_are_errors() {
        let k = key(json!({"task": "mri", "data": "gaussian-field"}));
        assert!(model_of(&k).unwrap().is_none());
        let k = key(
            json!({"task": "denoise", "data": "phantoms", "image_size": 8,
            "noise_std": 0.1}),
        );
        assert!(model_of(&k).unwrap().is_none());
        let k = key(
            json!({"task": "denoise", "data": "gaussian-field", "image_size": 8,
            "noise_std": 0.1}),
        );
        assert!(model_of(&k).is_err());
    }
}
