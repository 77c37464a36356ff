//! Scaling-law fits: how the risk `R` of an estimator falls with the training-set size `N`, and
//! where it stops falling.
//!
//! All models are fitted by least squares on `ln R` (relative errors), as the paper fits its
//! power laws in log-log space:
//! - [`fit_power`]: `R = beta N^alpha` ([`power`]);
//! - [`fit_saturating`]: `R = a N^(-b) + c`, `c >= 0` the floor seen by the data
//!   ([`saturating`]);
//! - [`fit_broken`]: the smoothly broken power law
//!   `R = beta N^alpha1 (1 + (N/n_break)^(1/delta))^((alpha2 - alpha1) delta)` ([`broken`]).
//!
//! [`detect_regime`] finds the steep power-law segment of a curve and where it bends into the
//! plateau; [`select`] compares models by AICc; [`bootstrap()`] gives 95% intervals;
//! [`fit_curve`] runs the whole pipeline for one curve and returns the [`FitReport`] that
//! `plateau fit` prints as JSON; [`read_curves`] reads the CSV. `docs/fits.md` describes the
//! methods.
//!
//! Shapes: every function takes `xs` (`N`, any positive unit) and `ys` (`R`, positive) as
//! equal-length slices; the fitted parameters are in the units of `x` and `y` (exponents are
//! dimensionless). All fits are `O(n)` per optimiser iteration for `n` points, except
//! [`detect_regime`] (`O(n^2)`).

pub mod backtest;
pub mod bootstrap;
pub mod broken;
pub mod data;
pub mod identified;
pub mod input;
pub mod joint;
mod linalg;
mod lm;
pub mod nullable;
pub mod power;
pub mod regime;
pub mod report;
pub mod saturating;
pub mod select;

use anyhow::{bail, Result};
use serde::Serialize;
use strum::{Display, EnumString, VariantNames};

pub use bootstrap::{bootstrap, percentile_interval, BootstrapOptions, BootstrapSamples, Method};
pub use broken::{fit_broken, BrokenFit};
pub use data::Curve;
pub use input::{read_curves, CsvOptions, Curves, Group, GroupBy};
pub use power::{fit_power, PowerFit};
pub use regime::{detect_regime, Regime, Segment};
pub use report::{fit_curve, FitOptions, FitReport, ModelChoice};
pub use saturating::{fit_saturating, SaturatingFit};
pub use select::{aicc, bic, select_model, Candidate, Selection};

/// The parametric models, named in lower case on the command line and in the JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Display, EnumString, VariantNames)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase", parse_err_ty = anyhow::Error, parse_err_fn = unknown_model)]
pub enum ModelKind {
    /// `R = beta N^alpha`.
    Power,
    /// `R = a N^(-b) + c`.
    Saturating,
    /// Smoothly broken power law.
    Broken,
}

impl ModelKind {
    /// All models, simplest first.
    pub const ALL: [ModelKind; 3] = [ModelKind::Power, ModelKind::Saturating, ModelKind::Broken];

    /// Parameter names, in report order.
    pub fn param_names(self) -> &'static [&'static str] {
        match self {
            ModelKind::Power => &["beta", "alpha"],
            ModelKind::Saturating => &["a", "b", "c"],
            ModelKind::Broken => &["beta", "alpha1", "alpha2", "n_break", "delta"],
        }
    }

    /// Number of fitted parameters `p`.
    pub fn n_params(self) -> usize {
        self.param_names().len()
    }

    /// Fewest distinct points a fit needs: `p + 1` (one residual degree of freedom).
    pub fn min_points(self) -> usize {
        self.n_params() + 1
    }
}

/// The error of `s` as a [`ModelKind`], listing the models.
fn unknown_model(s: &str) -> anyhow::Error {
    crate::text::unknown("model", s, ModelKind::VARIANTS)
}

/// A fitted model of any kind.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Fit {
    /// See [`PowerFit`].
    Power(PowerFit),
    /// See [`SaturatingFit`].
    Saturating(SaturatingFit),
    /// See [`BrokenFit`].
    Broken(BrokenFit),
}

impl Fit {
    /// Which model.
    pub fn kind(&self) -> ModelKind {
        match self {
            Fit::Power(_) => ModelKind::Power,
            Fit::Saturating(_) => ModelKind::Saturating,
            Fit::Broken(_) => ModelKind::Broken,
        }
    }

    /// Predicted `R` at `x`.
    pub fn predict(&self, x: f64) -> f64 {
        self.ln_predict(x.ln()).exp()
    }

    /// Predicted `ln R` at `ln x`.
    pub fn ln_predict(&self, ln_x: f64) -> f64 {
        match self {
            Fit::Power(f) => f.ln_predict(ln_x),
            Fit::Saturating(f) => f.ln_predict(ln_x),
            Fit::Broken(f) => f.ln_predict(ln_x),
        }
    }

    /// Parameter values, in the order of [`ModelKind::param_names`].
    pub fn params(&self) -> Vec<f64> {
        match self {
            Fit::Power(f) => vec![f.beta, f.alpha],
            Fit::Saturating(f) => vec![f.a, f.b, f.c],
            Fit::Broken(f) => vec![f.beta, f.alpha1, f.alpha2, f.n_break, f.delta],
        }
    }

    /// Residual sum of squares of `ln y`.
    pub fn rss_log(&self) -> f64 {
        match self {
            Fit::Power(f) => f.rss_log,
            Fit::Saturating(f) => f.rss_log,
            Fit::Broken(f) => f.rss_log,
        }
    }

    /// Number of points fitted.
    pub fn n(&self) -> usize {
        match self {
            Fit::Power(f) => f.n,
            Fit::Saturating(f) => f.n,
            Fit::Broken(f) => f.n,
        }
    }
}

/// Fits `kind` to `(xs[i], ys[i])` by least squares on `ln y`.
///
/// # Errors
/// As [`fit_power`], [`fit_saturating`] and [`fit_broken`].
pub fn fit_model(kind: ModelKind, xs: &[f64], ys: &[f64]) -> Result<Fit> {
    Ok(match kind {
        ModelKind::Power => Fit::Power(fit_power(xs, ys)?),
        ModelKind::Saturating => Fit::Saturating(fit_saturating(xs, ys)?),
        ModelKind::Broken => Fit::Broken(fit_broken(xs, ys)?),
    })
}

/// Fits `kind` to log data; `warm` is an extra start of the same kind. `None` when it fails.
pub(crate) fn fit_model_log(
    kind: ModelKind,
    ls: &[f64],
    lys: &[f64],
    warm: Option<&Fit>,
) -> Option<Fit> {
    match kind {
        ModelKind::Power => power::fit_power_log(ls, lys).map(Fit::Power),
        ModelKind::Saturating => {
            let w = match warm {
                Some(Fit::Saturating(f)) => Some(f),
                _ => None,
            };
            saturating::fit_saturating_log(ls, lys, w).map(Fit::Saturating)
        }
        ModelKind::Broken => {
            let w = match warm {
                Some(Fit::Broken(f)) => Some(f),
                _ => None,
            };
            broken::fit_broken_log(ls, lys, w).map(Fit::Broken)
        }
    }
}

/// The smallest and the largest of `v`: `(inf, -inf)` when it is empty; NaN entries are
/// ignored. Cost `O(len)`.
pub fn min_max(v: &[f64]) -> (f64, f64) {
    v.iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
            (lo.min(x), hi.max(x))
        })
}

/// Validates `(xs, ys)` for a log-space fit of `kind` and returns `(ln x, ln y)`.
pub(crate) fn check_log_data(
    xs: &[f64],
    ys: &[f64],
    kind: ModelKind,
) -> Result<(Vec<f64>, Vec<f64>)> {
    if xs.len() != ys.len() {
        bail!(
            "x and y have different lengths ({} and {})",
            xs.len(),
            ys.len()
        );
    }
    check_min_points(xs.len(), kind)?;
    for (&x, &y) in xs.iter().zip(ys) {
        if !(x.is_finite() && x > 0.0) {
            bail!("x = {x} is not positive and finite; a log-scale fit needs x > 0");
        }
        if !(y.is_finite() && y > 0.0) {
            bail!("y = {y} at x = {x} is not positive and finite; a log-scale fit needs y > 0");
        }
    }
    Ok((
        xs.iter().map(|x| x.ln()).collect(),
        ys.iter().map(|y| y.ln()).collect(),
    ))
}

/// Errors unless `n` points suffice for `kind`.
pub(crate) fn check_min_points(n: usize, kind: ModelKind) -> Result<()> {
    if n < kind.min_points() {
        bail!(
            "{n} points, but the {kind} model has {} parameters and needs at least {} points",
            kind.n_params(),
            kind.min_points()
        );
    }
    Ok(())
}

/// The smallest residual sum of squares of `ln y` treated as different from zero when comparing
/// fits: `n (1e-10 (1 + max |ln y|))^2`, far above rounding and far below any real noise, so
/// that exact (noiseless) fits tie and the simpler model wins.
pub(crate) fn rss_floor(lys: &[f64]) -> f64 {
    let scale = 1.0 + lys.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
    lys.len() as f64 * (1e-10 * scale).powi(2)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The derived names read and print as the hand-written tables did, and an unknown name
    /// is refused with the list of valid ones.
    #[test]
    fn names_round_trip_and_unknown_names_list_the_valid() {
        for kind in ModelKind::ALL {
            assert_eq!(kind.to_string().parse::<ModelKind>().unwrap(), kind);
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.to_string());
        }
        let unknown = |r: Result<(), anyhow::Error>| r.unwrap_err().to_string();
        assert_eq!(
            unknown("cubic".parse::<ModelKind>().map(drop)),
            "unknown model 'cubic' (expected power, saturating or broken)"
        );
        assert_eq!(
            unknown("cubic".parse::<ModelChoice>().map(drop)),
            "unknown model 'cubic' (expected power, saturating, broken or auto)"
        );
        assert_eq!("auto".parse::<ModelChoice>().unwrap(), ModelChoice::Auto);
        assert_eq!(
            unknown("jackknife".parse::<Method>().map(drop)),
            "unknown bootstrap method 'jackknife' (expected auto, draws, parametric, residuals, \
             cells or none)"
        );
        for name in ["auto", "draws", "parametric", "residuals", "cells", "none"] {
            let m: Method = name.parse().unwrap();
            assert_eq!(serde_json::to_value(m).unwrap(), name);
        }
    }
}
