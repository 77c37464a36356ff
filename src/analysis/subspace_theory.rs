//! The paper's linear estimators on the paper's own data: for denoising `subspace` pictures
//! (the `d` lowest 2-D DCT modes with `N(0, 1)` coefficients, noise `sigma` per pixel), the
//! training pairs are exactly the subspace model `(d, n = pixels, sigma)` of
//! [`plateau_theory::Setup`] in an orthonormal basis. So the expected risk of PCA and of
//! early-stopped gradient descent (the paper's step rule) learned from the same `N` examples is
//! the deterministic equivalent of [`plateau_theory::analytic`] (finite-`d` correction
//! included; accuracy in `theory/analytic.md`), converted to per-pixel MSE, the units of
//! `test_mse`: the paper's risk is normalised by `E||x||^2 = d`, a pixel MSE by `n`, so
//! `MSE = risk d / n`.

use anyhow::{anyhow, Result};
use plateau_run::problem::{Problem, Synthetic, Task};
use plateau_theory::grid::{log_spaced_sizes, points_per_decade};
use plateau_theory::{Estimator, Setup, StepSize};

use super::PredictedCurve;

/// Sizes per decade of the predicted curves.
const PER_DECADE: usize = 8;

/// The subspace setup of a problem: denoising of `subspace` data; `None` otherwise.
///
/// # Errors
/// When the data's parameters are out of the theory's range (`d > n`).
pub fn setup_of(problem: &Problem) -> Result<Option<Setup>> {
    let (Task::Denoise { sigma }, Some(Synthetic::Subspace { dim })) =
        (problem.task(), problem.synthetic())
    else {
        return Ok(None);
    };
    let side = problem.image_size();
    Ok(Some(
        Setup::new(dim, side * side, sigma).map_err(|e| anyhow!("{e}"))?,
    ))
}

/// PCA and early-stopped gradient descent of `setup` in per-pixel MSE, for `N` from `lo` to
/// `hi`. Least squares is left out: it is infinite at the interpolation threshold `N = n`,
/// inside the usual range. Cost: one spectral solve per size.
///
/// # Errors
/// When `hi < lo`.
pub fn curves(setup: &Setup, lo: f64, hi: f64) -> Result<Vec<PredictedCurve>> {
    let lo = lo.max(1.0);
    let points = points_per_decade(lo, hi, PER_DECADE);
    let sizes = log_spaced_sizes(lo.round() as usize, hi.round() as usize, points)
        .map_err(|e| anyhow!("{e}"))?;
    let scale = setup.d() as f64 / setup.n() as f64;
    let all = plateau_theory::analytic::curve(setup, &sizes, StepSize::Paper)
        .map_err(|e| anyhow!("{e}"))?;
    let pick = |e: Estimator| -> Vec<(f64, f64)> {
        all.iter()
            .filter(|p| p.estimator == e)
            .filter_map(|p| Some((p.n_train as f64, p.prediction.risk? * scale)))
            .collect()
    };
    Ok(vec![
        PredictedCurve {
            label: "early-stopped GD, same data (theory)".into(),
            points: pick(Estimator::GdEarlyStopped),
        },
        PredictedCurve {
            label: "PCA, same data (theory)".into(),
            points: pick(Estimator::Pca),
        },
    ])
}

#[cfg(test)]
mod tests {
    use plateau_run::problem::Data;

    use super::*;

    #[test]
    fn subspace_pictures_are_the_subspace_model_in_pixel_units() {
        let problem = Problem::new(
            Task::Denoise { sigma: 0.2 },
            Data::Synthetic(Synthetic::Subspace { dim: 10 }),
            16,
        )
        .unwrap();
        let setup = setup_of(&problem).unwrap().unwrap();
        assert_eq!((setup.d(), setup.n()), (10, 256));
        let floor_mse = setup.floor() * 10.0 / 256.0;
        for c in curves(&setup, 16.0, 1e5).unwrap() {
            let last = c.points.last().unwrap().1;
            // Both learn the subspace: close to the pixel floor at N = 1e5, never below it.
            assert!(c.points.iter().all(|p| p.1 > floor_mse), "{}", c.label);
            assert!(
                last < 1.05 * floor_mse,
                "{}: {last} vs {floor_mse}",
                c.label
            );
        }
    }
}
