//! Pure power law `R = beta * N^alpha`, fitted by least squares in log-log space.
//!
//! `ln R = ln beta + alpha ln N`: ordinary least squares of `ln y` on `ln x`, as the paper does.
//! Closed form, `O(n)` for `n` points.

use anyhow::Result;
use serde::Serialize;

use super::linalg::lstsq;
use super::{check_log_data, ModelKind};

/// A fitted power law `R = beta * N^alpha` (`alpha < 0` for a decreasing risk).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct PowerFit {
    /// Prefactor `beta > 0`, the value at `N = 1`, in the units of `y`.
    pub beta: f64,
    /// Exponent `alpha` (dimensionless): `d ln R / d ln N`.
    pub alpha: f64,
    /// Residual sum of squares of `ln y` (dimensionless).
    pub rss_log: f64,
    /// Number of points fitted.
    pub n: usize,
}

impl PowerFit {
    /// `beta * x^alpha`.
    pub fn predict(&self, x: f64) -> f64 {
        self.beta * x.powf(self.alpha)
    }

    /// `ln beta + alpha ln_x`.
    pub fn ln_predict(&self, ln_x: f64) -> f64 {
        self.beta.ln() + self.alpha * ln_x
    }
}

/// Fits `R = beta * N^alpha` to points `(xs[i], ys[i])` by least squares of `ln y` on `ln x`.
///
/// # Errors
/// Lengths differ, fewer than 3 points (one residual degree of freedom is required), a value
/// that is not finite and positive, or all `x` equal.
pub fn fit_power(xs: &[f64], ys: &[f64]) -> Result<PowerFit> {
    let (ls, lys) = check_log_data(xs, ys, ModelKind::Power)?;
    fit_power_log(&ls, &lys)
        .ok_or_else(|| anyhow::anyhow!("power-law fit failed: the x values must not all be equal"))
}

/// Least squares on log data (`ls = ln x`, `lys = ln y`); `None` when degenerate.
pub(crate) fn fit_power_log(ls: &[f64], lys: &[f64]) -> Option<PowerFit> {
    let n = ls.len();
    let design: Vec<f64> = ls.iter().flat_map(|&l| [1.0, l]).collect();
    let (coef, rss) = lstsq(&design, n, 2, lys)?;
    Some(PowerFit {
        beta: coef[0].exp(),
        alpha: coef[1],
        rss_log: rss,
        n,
    })
}
