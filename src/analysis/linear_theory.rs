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
//!
//! MRI on the field with one fixed mask and complex input ([`mri_model_of`]) is the same model
//! without noise: the two channels `[Re z, Im z]` are, in an orthonormal basis, the field's
//! Fourier coordinates with gain 1 where a column and its mirror are sampled and `1/sqrt 2`
//! where only one of them is (`theory/field.md`, "A fixed mask and the learned-linear theory").

use anyhow::{anyhow, Result};
use plateau_run::problem::{MaskKind, MriInput, Problem, Synthetic, Task};
use plateau_theory::field::FieldSpectrum;
use plateau_theory::gaussian::DiagonalModel;
use plateau_theory::grid::{log_spaced_sizes, points_per_decade};

use super::PredictedCurve;

/// Sizes per decade of the predicted curves.
const PER_DECADE: usize = 6;

/// The linear Gaussian model of a problem's data, when it is denoising of synthetic Gaussian
/// images (`None` for other tasks or data: their learned-linear risk has no deterministic
/// equivalent here).
///
/// # Errors
/// A one-line message when the data's parameters are out of the theory's range.
pub fn model_of(problem: &Problem) -> Result<Option<DiagonalModel>> {
    let Task::Denoise { sigma } = problem.task() else {
        return Ok(None);
    };
    let side = problem.image_size();
    let lambda = match problem.synthetic() {
        Some(Synthetic::GaussianField {
            exponent,
            cutoff,
            std,
        }) => FieldSpectrum::new(side, exponent, cutoff, std * std)
            .map_err(|e| anyhow!("{e}"))?
            .eigenvalues()
            .to_vec(),
        Some(Synthetic::Subspace { dim }) => (0..side * side)
            .map(|i| f64::from(u8::from(i < dim)))
            .collect(),
        None => return Ok(None),
    };
    Ok(Some(
        DiagonalModel::denoising(&lambda, sigma).map_err(|e| anyhow!("{e}"))?,
    ))
}

/// The linear Gaussian model of MRI with one fixed mask (sampled centred columns
/// `mask_columns`) and complex input on `gaussian-field` images; `None` for any other problem
/// (per-example masks are not a fixed linear map, magnitude input is not linear).
///
/// # Errors
/// A one-line message when the field's parameters are out of the theory's range or a column
/// is outside the image.
pub fn mri_model_of(problem: &Problem, mask_columns: &[usize]) -> Result<Option<DiagonalModel>> {
    let fixed_complex = matches!(
        problem.task(),
        Task::Mri {
            mask: MaskKind::Fixed,
            input: MriInput::Complex,
            ..
        }
    );
    let Some(Synthetic::GaussianField {
        exponent,
        cutoff,
        std,
    }) = problem.synthetic()
    else {
        return Ok(None);
    };
    if !fixed_complex {
        return Ok(None);
    }
    let side = problem.image_size();
    let field =
        FieldSpectrum::new(side, exponent, cutoff, std * std).map_err(|e| anyhow!("{e}"))?;
    let mut mask = vec![false; side];
    for &c in mask_columns {
        *mask
            .get_mut(c)
            .ok_or_else(|| anyhow!("mask column {c} outside a {side}-column k-space"))? = true;
    }
    let gains = field.mri_two_channel_gains(&mask);
    Ok(Some(
        DiagonalModel::new(field.eigenvalues(), &gains, 0.0).map_err(|e| anyhow!("{e}"))?,
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
pub fn curves(model: &DiagonalModel, lo: f64, hi: f64) -> Result<Vec<PredictedCurve>> {
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
        PredictedCurve {
            label: "learned linear, tuned ridge (theory)".into(),
            points: ridge,
        },
        PredictedCurve {
            label: "learned linear, early-stopped GD (theory)".into(),
            points: gd,
        },
    ])
}

#[cfg(test)]
mod tests {
    use plateau_run::problem::{Color, Data, Source};

    use super::*;

    fn field(task: Task) -> Problem {
        let data = Data::Synthetic(Synthetic::GaussianField {
            exponent: 2.0,
            cutoff: 0.05,
            std: 0.25,
        });
        Problem::new(task, data, 8).unwrap()
    }

    #[test]
    fn field_denoising_curves_decrease_towards_the_floor() {
        let model = model_of(&field(Task::Denoise { sigma: 0.1 }))
            .unwrap()
            .unwrap();
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
    fn fixed_mask_mri_curves_decrease_towards_the_masks_floor() {
        let task = |mask, input| Task::Mri {
            acceleration: 4,
            center_fraction: 0.25,
            mask,
            mask_seed: Default::default(),
            input,
        };
        let columns = [1usize, 3, 4, 5];
        let model = mri_model_of(&field(task(MaskKind::Fixed, MriInput::Complex)), &columns)
            .unwrap()
            .unwrap();
        let spectrum = FieldSpectrum::new(8, 2.0, 0.05, 0.0625).unwrap();
        let probs: Vec<f64> = (0..8)
            .map(|c| f64::from(u8::from(columns.contains(&c))))
            .collect();
        let floor = spectrum.mri_floor(&probs);
        assert!((model.floor() - floor).abs() < 1e-12 * floor);
        for c in curves(&model, 4.0, 1e5).unwrap() {
            for w in c.points.windows(2) {
                assert!(
                    w[1].1 <= w[0].1 * (1.0 + 1e-9) && w[1].1 > floor,
                    "{}: {w:?}",
                    c.label
                );
            }
        }
        for other in [
            task(MaskKind::Fixed, MriInput::Magnitude),
            task(MaskKind::Random, MriInput::Complex),
        ] {
            assert!(mri_model_of(&field(other), &columns).unwrap().is_none());
        }
        assert!(mri_model_of(&field(task(MaskKind::Fixed, MriInput::Complex)), &[8]).is_err());
    }

    #[test]
    fn other_tasks_and_real_data_have_no_curve() {
        let mri = field(Task::Mri {
            acceleration: 4,
            center_fraction: 0.25,
            mask: Default::default(),
            mask_seed: Default::default(),
            input: plateau_run::problem::MriInput::Magnitude,
        });
        assert!(model_of(&mri).unwrap().is_none());
        let photos = Problem::new(
            Task::Denoise { sigma: 0.1 },
            Data::Real {
                source: Source::Phantoms,
                color: Color::Gray,
            },
            8,
        )
        .unwrap();
        assert!(model_of(&photos).unwrap().is_none());
    }
}
