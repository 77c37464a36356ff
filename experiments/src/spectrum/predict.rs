//! What the linear Gaussian model predicts from a second-moment spectrum: the LMMSE floor and
//! the expected risk of learned linear maps (`plateau_theory::gaussian::DiagonalModel`, whose
//! coordinates are the spectrum's eigenbasis, in which denoising is diagonal), a power law
//! fitted to the spectrum, and the training-set size at which tuned ridge is within a fraction
//! of the floor. All risks are per-pixel MSEs in the images' units.

use plateau_theory::gaussian::DiagonalModel;
use rayon::prelude::*;
use serde::Serialize;

use super::moments::quantile;

/// The linear estimators of `predictions.csv`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, strum::IntoStaticStr)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Estimator {
    /// The LMMSE error: the lowest of any linear map (independent of `N`).
    LinearFloor,
    /// Ridge with the penalty minimising the expected risk.
    RidgeTuned,
    /// Gradient descent from 0, stopped at the iteration minimising the expected risk.
    GdEarlyStopped,
}

impl Estimator {
    /// All three, in `predictions.csv` order.
    pub const ALL: [Estimator; 3] = [
        Estimator::LinearFloor,
        Estimator::RidgeTuned,
        Estimator::GdEarlyStopped,
    ];

    /// The CSV name: `linear_floor`, `ridge_tuned`, `gd_early_stopped`.
    pub fn name(self) -> &'static str {
        self.into()
    }
}

/// The denoising model of `spectrum` (eigenvalues of `E[x x^T]`) at noise `sigma`.
///
/// # Errors
/// One line when the spectrum is zero or invalid (see `DiagonalModel::new`).
pub fn model(spectrum: &[f64], sigma: f64) -> anyhow::Result<DiagonalModel> {
    DiagonalModel::denoising(spectrum, sigma).map_err(|e| anyhow::anyhow!("{e}"))
}

/// `[floor, tuned ridge, early-stopped GD]` expected per-pixel MSE from `n_train` examples.
/// Cost: the ridge `O(atoms)` per evaluation; gradient descent builds the deterministic
/// equivalent (`O(atoms^2)` support search) and runs `plateau_theory`'s 5000-step path.
///
/// # Errors
/// `n_train == 0`.
pub fn risks(model: &DiagonalModel, n_train: usize) -> anyhow::Result<[f64; 3]> {
    let err = |e: plateau_theory::TheoryError| anyhow::anyhow!("{e}");
    let (_, ridge) = model.ridge_optimal(n_train).map_err(err)?;
    let (_, gd) = model
        .equivalent(n_train)
        .map_err(err)?
        .gd_early_stopped(None);
    Ok([model.floor(), ridge, gd])
}

/// One row of `predictions.csv`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Prediction {
    /// Training-set size `N`.
    #[serde(rename = "N")]
    pub n_train: usize,
    /// Which estimator.
    pub estimator: Estimator,
    /// Expected per-pixel MSE for the pooled spectrum, bias-corrected by the bootstrap
    /// ([`basic_bootstrap`]).
    pub mse: f64,
    /// Lower end of the basic 95% bootstrap interval.
    pub mse_lo: f64,
    /// Upper end.
    pub mse_hi: f64,
}

/// The predictions for every `N` of `sizes`: from `spectrum` and the same predictions on each of
/// `resamples` (bootstrap spectra), the bias-corrected value and 95% interval
/// ([`basic_bootstrap`]). Cost `(1 + resamples)
/// sizes` evaluations of [`risks`], in parallel.
///
/// # Errors
/// An invalid spectrum, or `N = 0`.
pub fn predictions(
    spectrum: &[f64],
    resamples: &[Vec<f64>],
    sigma: f64,
    sizes: &[usize],
) -> anyhow::Result<Vec<Prediction>> {
    let point = model(spectrum, sigma)?;
    let boot: Vec<DiagonalModel> = resamples
        .iter()
        .map(|s| model(s, sigma))
        .collect::<anyhow::Result<_>>()?;
    let mut rows = Vec::new();
    for &n in sizes {
        let mid = risks(&point, n)?;
        let draws: Vec<[f64; 3]> = boot
            .par_iter()
            .map(|m| risks(m, n))
            .collect::<anyhow::Result<_>>()?;
        for (e, est) in Estimator::ALL.into_iter().enumerate() {
            let values: Vec<f64> = draws.iter().map(|d| d[e]).collect();
            let (mse, mse_lo, mse_hi) = basic_bootstrap(mid[e], &values);
            rows.push(Prediction {
                n_train: n,
                estimator: est,
                mse,
                mse_lo,
                mse_hi,
            });
        }
    }
    Ok(rows)
}

/// The bootstrap's bias-corrected estimate and basic 95% interval of a statistic with plug-in
/// value `point` and bootstrap values `boot`: `2 point - mean(boot)` and
/// `[2 point - q_97.5, 2 point - q_2.5]` (`point` three times when `boot` is empty). The plug-in
/// predictions are biased low by `O(n / K)`: a pool's eigenvalues are more spread out than the
/// population's, and the floor is a concave function of them; the resamples, spread out once
/// more, estimate that bias (`theory/gaussian.md` section 4).
pub fn basic_bootstrap(point: f64, boot: &[f64]) -> (f64, f64, f64) {
    if boot.is_empty() {
        return (point, point, point);
    }
    let mean = boot.iter().sum::<f64>() / boot.len() as f64;
    (
        2.0 * point - mean,
        2.0 * point - quantile(boot, 0.975),
        2.0 * point - quantile(boot, 0.025),
    )
}

/// The smallest `N <= 2^40` at which tuned ridge's expected risk is at most `(1 + fraction)`
/// times the floor (`None`: not by `2^40`). Ridge risk decreases with `N`, so: doubling, then
/// bisection; about 80 evaluations of `O(atoms)` each.
///
/// # Errors
/// Never in practice (`N >= 1` throughout); kept for the theory's typed errors.
pub fn within(model: &DiagonalModel, fraction: f64) -> anyhow::Result<Option<usize>> {
    let target = (1.0 + fraction) * model.floor();
    let ok = |n: usize| -> anyhow::Result<bool> {
        let (_, r) = model.ridge_optimal(n).map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(r <= target)
    };
    let mut hi = 1usize;
    while !ok(hi)? {
        if hi >= 1 << 40 {
            return Ok(None);
        }
        hi *= 2;
    }
    let mut lo = hi / 2; // fails (or 0)
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if ok(mid)? {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Ok(Some(hi))
}

/// A power law `lambda_r = scale r^(-exponent)` fitted by least squares to `ln lambda_r` against
/// `ln r` over the ranks `first..=last`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct PowerLaw {
    /// Decay exponent `alpha`.
    pub exponent: f64,
    /// `lambda_1` of the fitted line.
    pub scale: f64,
    /// First rank fitted (1-based).
    pub first: usize,
    /// Last rank fitted.
    pub last: usize,
}

impl PowerLaw {
    /// Fits ranks 2 to `n / 2` (rank 1 is the images' mean brightness in an uncentred second
    /// moment; the smallest eigenvalues are the most biased by a finite pool), skipping zero
    /// eigenvalues. `None` with fewer than 2 usable ranks.
    pub fn fit(spectrum: &[f64]) -> Option<PowerLaw> {
        let (first, last) = (2, (spectrum.len() / 2).max(3).min(spectrum.len()));
        let pts: Vec<(f64, f64)> = (first..=last)
            .filter(|&r| spectrum[r - 1] > 0.0)
            .map(|r| ((r as f64).ln(), spectrum[r - 1].ln()))
            .collect();
        if pts.len() < 2 {
            return None;
        }
        let m = pts.len() as f64;
        let (mx, my) = (
            pts.iter().map(|p| p.0).sum::<f64>() / m,
            pts.iter().map(|p| p.1).sum::<f64>() / m,
        );
        let sxx: f64 = pts.iter().map(|p| (p.0 - mx).powi(2)).sum();
        let sxy: f64 = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
        let slope = sxy / sxx;
        Some(PowerLaw {
            exponent: -slope,
            scale: (my - slope * mx).exp(),
            first,
            last,
        })
    }

    /// The fitted `lambda_r`.
    pub fn at(&self, rank: f64) -> f64 {
        self.scale * rank.powf(-self.exponent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn power_law_recovers_its_exponent() {
        let s: Vec<f64> = (1..=64).map(|r| 3.0 * (r as f64).powf(-1.7)).collect();
        let p = PowerLaw::fit(&s).unwrap();
        assert!((p.exponent - 1.7).abs() < 1e-12 && (p.scale - 3.0).abs() < 1e-10);
        assert_eq!((p.first, p.last), (2, 32));
        assert!(PowerLaw::fit(&[1.0, 0.0, 0.0, 0.0]).is_none());
    }

    #[test]
    fn basic_bootstrap_reflects_the_resamples_about_the_point() {
        // Resamples 1 below the point on average: the plug-in is biased 1 low.
        let (m, lo, hi) = basic_bootstrap(10.0, &[8.0, 9.0, 10.0]);
        let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
        assert!(
            close(m, 11.0) && close(lo, 10.05) && close(hi, 11.95),
            "{m} {lo} {hi}"
        );
        assert_eq!(basic_bootstrap(2.0, &[]), (2.0, 2.0, 2.0));
    }

    #[test]
    fn within_is_the_first_size_inside_the_band() {
        let s: Vec<f64> = (1..=32).map(|r| (r as f64).powf(-1.5)).collect();
        let m = model(&s, 0.3).unwrap();
        let n = within(&m, 0.1).unwrap().unwrap();
        let r = |n| m.ridge_optimal(n).unwrap().1;
        assert!(r(n) <= 1.1 * m.floor() && r(n - 1) > 1.1 * m.floor());
    }
}
