//! Bootstrap intervals for the fitted parameters and the extrapolated values.
//!
//! Each replicate builds a new curve `ln y*` on the same `x`, refits the same model on the same
//! points (the original fit is an extra start) and records the parameters and the predictions
//! at the requested `x`. Intervals are percentile intervals of the replicates. Methods:
//!
//! - `draws` (the curve has at least two draws at every `x`): at each `x`, resample its `k`
//!   draws with replacement and take the mean; deviations from the mean are inflated by
//!   `sqrt(k / (k - 1))` so that the resampled mean has the unbiased variance `s^2 / k`
//!   (the plain bootstrap of `k = 5` draws would be 10% too narrow in standard deviation);
//! - `parametric` (one row per `x` with `std` and `runs >= 2`):
//!   `ln y*_i = ln y_i + se_i z_i`, `z_i ~ N(0, 1)`, `se_i = std_i / (y_i sqrt(runs_i))`;
//! - `residuals` (otherwise): `ln y*_i = fitted_i + e*_i`, `e*` drawn with replacement from the
//!   centred log residuals inflated by `sqrt(n / (n - p))`;
//! - `none`: no interval.
//!
//! `auto` resamples the draws (or uses `std` and `runs`) only when the model fits within the
//! draw-to-draw noise: the reduced chi-square of the log residuals against the standard errors
//! of the means, `chi2_dof = sum_i (r_i / se_i)^2 / (n - p)`, must not exceed the 99% quantile
//! of `chi2_(n-p) / (n - p)` (Wilson-Hilferty). Otherwise the model misses the points by more
//! than their sampling noise, intervals from that noise alone would be too narrow, and `auto`
//! resamples the residuals, whose spread includes the misfit. Without draw-level information
//! `auto` is `residuals`.
//!
//! Reproducible: replicate `r` draws from the ChaCha8 stream `r` of the generator seeded with
//! `seed`, so the output depends on `(seed, reps)` only, not on the number of threads. Failed
//! replicates (a non-positive resampled mean, a fit that fails) are counted and left out.
//! Cost: `reps` refits, spread over the rayon pool.

use anyhow::{bail, Result};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use strum::{EnumString, VariantNames};

use super::{fit_model_log, Curve, Fit};

/// How replicates are drawn (see the module docs). The command line's `--bootstrap` takes it
/// through clap (`ValueEnum`); the Python package parses its string through `FromStr`.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    EnumString,
    VariantNames,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase", parse_err_ty = anyhow::Error, parse_err_fn = unknown_method)]
#[value(rename_all = "lowercase")]
pub enum Method {
    /// `draws` when every `x` has two or more draws, else `parametric` when `std` and `runs`
    /// are known, provided the model fits within that noise; else `residuals`.
    Auto,
    /// Resample the draws at each `x`.
    Draws,
    /// Gaussian noise on `ln y` with the standard error from `std` and `runs`.
    Parametric,
    /// Resample the log residuals of the fit.
    Residuals,
    /// Resample the cells `(N, P)` of a joint fit with replacement, each with all its seeds
    /// (a case bootstrap; the joint law's only, `--p`).
    Cells,
    /// No bootstrap.
    None,
}

/// The error of `s` as a [`Method`], listing the methods.
fn unknown_method(s: &str) -> anyhow::Error {
    crate::text::unknown("bootstrap method", s, Method::VARIANTS)
}

impl Method {
    /// Resolves `Auto` for `fit`, fitted to all points of `curve` (see the module docs).
    ///
    /// # Errors
    /// `Draws` without two draws at every `x`, or `Parametric` without standard errors.
    pub fn resolve(self, curve: &Curve, fit: &Fit) -> Result<Method> {
        let within_noise =
            || chi2_dof(curve, fit).is_some_and(|c| c <= chi2_dof_limit(curve.len(), fit));
        Ok(match self {
            Method::Auto if curve.has_replicates() && within_noise() => Method::Draws,
            Method::Auto if curve.se_log.is_some() && within_noise() => Method::Parametric,
            Method::Auto => Method::Residuals,
            Method::Draws if !curve.has_replicates() => {
                bail!("bootstrap over draws needs at least two rows at every x")
            }
            Method::Parametric if curve.se_log.is_none() => {
                bail!(
                    "parametric bootstrap needs 'std' and 'runs' (>= 2) columns with one row per x"
                )
            }
            Method::Cells => bail!(
                "bootstrap over cells resamples the (N, P) cells of a joint fit (--model joint \
                 with --p); a curve resamples draws, parametric or residuals"
            ),
            m => m,
        })
    }
}

/// Standard error of each `ln y` from the draws (`s_x / (sqrt(k) y_x)`, delta method) or from
/// `std` and `runs`; `None` without draw-level information.
pub fn se_log(curve: &Curve) -> Option<Vec<f64>> {
    if curve.has_replicates() {
        Some(se_log_of_draws(&curve.draws, &curve.ys))
    } else {
        curve.se_log.clone()
    }
}

/// Standard error of `ln ys[i]` from the draws `draws[i]` (at least two each) whose mean is
/// `ys[i]`: `s_i / (sqrt(k_i) ys[i])` (delta method).
pub(crate) fn se_log_of_draws(draws: &[Vec<f64>], ys: &[f64]) -> Vec<f64> {
    draws
        .iter()
        .zip(ys)
        .map(|(d, &y)| {
            let k = d.len() as f64;
            let var = d.iter().map(|v| (v - y).powi(2)).sum::<f64>() / (k - 1.0);
            (var / k).sqrt() / y.abs()
        })
        .collect()
}

/// Reduced chi-square `sum_i ((ln y_i - ln f(x_i)) / se_i)^2 / (n - p)` of `fit` against the
/// draw-level standard errors of `curve` ([`se_log`]); `None` without them. A point with
/// `se = 0` counts 0 when the fit passes through it (to `1e-12`) and makes the value infinite
/// otherwise.
pub fn chi2_dof(curve: &Curve, fit: &Fit) -> Option<f64> {
    let se = se_log(curve)?;
    let p = fit.kind().n_params();
    let n = curve.len();
    if n <= p {
        return None;
    }
    let resid: Vec<f64> = curve
        .xs
        .iter()
        .zip(&curve.ys)
        .map(|(&x, &y)| y.ln() - fit.ln_predict(x.ln()))
        .collect();
    Some(chi2_sum(&resid, &se) / (n - p) as f64)
}

/// `sum_i (resid_i / se_i)^2`; a point with `se = 0` counts 0 when its residual is within
/// `1e-12` of zero and makes the sum infinite otherwise.
pub(crate) fn chi2_sum(resid: &[f64], se: &[f64]) -> f64 {
    resid
        .iter()
        .zip(se)
        .map(|(&r, &s)| {
            if s > 0.0 {
                (r / s).powi(2)
            } else if r.abs() <= 1e-12 {
                0.0
            } else {
                f64::INFINITY
            }
        })
        .sum()
}

/// 99% quantile of `chi2_k / k`, `k = n - p`, for `fit` on `n` points ([`chi2_dof_quantile`]).
fn chi2_dof_limit(n: usize, fit: &Fit) -> f64 {
    chi2_dof_quantile(n.saturating_sub(fit.kind().n_params()))
}

/// 99% quantile of `chi2_k / k` (`k` taken as at least 1) by the Wilson-Hilferty
/// approximation `(1 - 2/(9k) + z sqrt(2/(9k)))^3`, `z = 2.3263`.
pub(crate) fn chi2_dof_quantile(k: usize) -> f64 {
    let h = 2.0 / (9.0 * k.max(1) as f64);
    (1.0 - h + 2.3263 * h.sqrt()).powi(3)
}

/// The log residuals `lys - fitted` centred and inflated by `sqrt(n / (n - p))` (`p`
/// parameters fitted to `n` points; no inflation when `n <= p`), the pool the residual
/// bootstrap and the new-observation errors are drawn from.
pub(crate) fn centred_residuals(lys: &[f64], fitted: &[f64], p: usize) -> Vec<f64> {
    let n = lys.len();
    let r: Vec<f64> = lys.iter().zip(fitted).map(|(y, f)| y - f).collect();
    let mean = r.iter().sum::<f64>() / n as f64;
    let infl = if n > p {
        (n as f64 / (n - p) as f64).sqrt()
    } else {
        1.0
    };
    r.iter().map(|v| (v - mean) * infl).collect()
}

/// One replicate of the means: at each point, its `k` draws resampled with replacement, the
/// deviations from the mean `ys[i]` inflated by `sqrt(k / (k - 1))`; `ln` of the new means,
/// `None` when one is not positive.
pub(crate) fn resample_draws_log(
    draws: &[Vec<f64>],
    ys: &[f64],
    rng: &mut impl Rng,
) -> Option<Vec<f64>> {
    draws
        .iter()
        .zip(ys)
        .map(|(d, &y)| {
            let k = d.len();
            let infl = (k as f64 / (k as f64 - 1.0)).sqrt();
            let s: f64 = (0..k).map(|_| d[rng.random_range(0..k)] - y).sum();
            let m = y + infl * s / k as f64;
            (m > 0.0).then(|| m.ln())
        })
        .collect()
}

/// One replicate of the residual bootstrap: `fitted_i + e*_i`, `e*` drawn from `resid`.
pub(crate) fn resample_residuals(fitted: &[f64], resid: &[f64], rng: &mut impl Rng) -> Vec<f64> {
    fitted
        .iter()
        .map(|&f| f + resid[rng.random_range(0..resid.len())])
        .collect()
}

/// Bootstrap settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BootstrapOptions {
    /// Method (resolved with [`Method::resolve`]).
    pub method: Method,
    /// Number of replicates `B`.
    pub reps: usize,
    /// Seed of the ChaCha8 generator.
    pub seed: u64,
}

impl Default for BootstrapOptions {
    fn default() -> Self {
        BootstrapOptions {
            method: Method::Auto,
            reps: 1000,
            seed: 0,
        }
    }
}

/// The successful replicates.
#[derive(Clone, Debug, PartialEq)]
pub struct BootstrapSamples {
    /// The method used (never `Auto`).
    pub method: Method,
    /// [`chi2_dof`] of the fit, when the data carry draw-level standard errors.
    pub chi2_dof: Option<f64>,
    /// Replicates asked for.
    pub reps: usize,
    /// Replicates that failed and are left out.
    pub failed: usize,
    /// `params[r]`: the parameters of replicate `r`, order of [`crate::fit::ModelKind::param_names`].
    pub params: Vec<Vec<f64>>,
    /// `predictions[r][j]`: the prediction of replicate `r` at `at[j]`.
    pub predictions: Vec<Vec<f64>>,
}

impl BootstrapSamples {
    /// Percentile interval of parameter `j`.
    pub fn param_interval(&self, j: usize, level: f64) -> [f64; 2] {
        let v: Vec<f64> = self.params.iter().map(|p| p[j]).collect();
        percentile_interval(&v, level)
    }

    /// Percentile interval of the prediction at `at[j]`.
    pub fn prediction_interval(&self, j: usize, level: f64) -> [f64; 2] {
        let v: Vec<f64> = self.predictions.iter().map(|p| p[j]).collect();
        percentile_interval(&v, level)
    }
}

/// Central percentile interval `[q((1-level)/2), q((1+level)/2)]` of the finite `values`
/// (quantiles interpolated linearly between order statistics); `[NaN, NaN]` when none is
/// finite. Cost `O(m log m)`.
pub fn percentile_interval(values: &[f64], level: f64) -> [f64; 2] {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return [f64::NAN, f64::NAN];
    }
    v.sort_by(f64::total_cmp);
    let q = |p: f64| {
        let h = p * (v.len() - 1) as f64;
        let i = h.floor() as usize;
        let j = (i + 1).min(v.len() - 1);
        v[i] + (h - i as f64) * (v[j] - v[i])
    };
    [q((1.0 - level) / 2.0), q((1.0 + level) / 2.0)]
}

/// Bootstraps `fit`, which was fitted to all points of `curve`, and predicts at `at`.
///
/// # Errors
/// The method does not suit the curve (see [`Method::resolve`]), or `fit` was not fitted to
/// `curve`'s points.
pub fn bootstrap(
    curve: &Curve,
    fit: &Fit,
    at: &[f64],
    opts: &BootstrapOptions,
) -> Result<BootstrapSamples> {
    if fit.n() != curve.len() {
        bail!(
            "the fit has {} points but the curve {}; bootstrap the curve the model was fitted to",
            fit.n(),
            curve.len()
        );
    }
    let method = opts.method.resolve(curve, fit)?;
    let empty = BootstrapSamples {
        method,
        chi2_dof: chi2_dof(curve, fit),
        reps: opts.reps,
        failed: 0,
        params: vec![],
        predictions: vec![],
    };
    if method == Method::None || opts.reps == 0 {
        return Ok(BootstrapSamples { reps: 0, ..empty });
    }
    let ls: Vec<f64> = curve.xs.iter().map(|x| x.ln()).collect();
    let lys: Vec<f64> = curve.ys.iter().map(|y| y.ln()).collect();
    let fitted: Vec<f64> = ls.iter().map(|&l| fit.ln_predict(l)).collect();
    let resid = centred_residuals(&lys, &fitted, fit.kind().n_params());
    let pools = Pools {
        curve,
        lys: &lys,
        fitted: &fitted,
        resid: &resid,
    };
    let replicate = |rep: usize| -> Option<(Vec<f64>, Vec<f64>)> {
        let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
        rng.set_stream(rep as u64);
        let lys_star = pools.resample(method, &mut rng)?;
        let f = fit_model_log(fit.kind(), &ls, &lys_star, Some(fit))?;
        let params = f.params();
        let preds: Vec<f64> = at.iter().map(|&x| f.predict(x)).collect();
        params
            .iter()
            .chain(&preds)
            .all(|v| !v.is_nan())
            .then_some((params, preds))
    };
    let results: Vec<Option<(Vec<f64>, Vec<f64>)>> =
        (0..opts.reps).into_par_iter().map(replicate).collect();
    Ok(empty.with_replicates(results))
}

impl BootstrapSamples {
    /// These samples with the successful `results` (parameters, predictions) added in order,
    /// the failed ones counted.
    fn with_replicates(mut self, results: Vec<Option<(Vec<f64>, Vec<f64>)>>) -> Self {
        for r in results {
            match r {
                Some((pa, pr)) => {
                    self.params.push(pa);
                    self.predictions.push(pr);
                }
                None => self.failed += 1,
            }
        }
        self
    }
}

/// What the replicates of a curve are drawn from: its draws and standard errors, its log
/// means, the fitted values and the centred residuals.
struct Pools<'a> {
    curve: &'a Curve,
    lys: &'a [f64],
    fitted: &'a [f64],
    resid: &'a [f64],
}

impl Pools<'_> {
    /// One replicate of `ln y` by `method` (resolved); `None` when a resampled mean is not
    /// positive.
    fn resample(&self, method: Method, rng: &mut ChaCha8Rng) -> Option<Vec<f64>> {
        Some(match method {
            Method::Draws => resample_draws_log(&self.curve.draws, &self.curve.ys, rng)?,
            Method::Parametric => {
                let se = self.curve.se_log.as_ref().expect("resolved");
                self.lys
                    .iter()
                    .zip(se)
                    .map(|(&ly, &s)| ly + s * rng.sample::<f64, _>(StandardNormal))
                    .collect()
            }
            Method::Residuals => resample_residuals(self.fitted, self.resid, rng),
            Method::Auto | Method::Cells | Method::None => unreachable!("resolved above"),
        })
    }
}
