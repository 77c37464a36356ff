//! Model selection by AICc on the log residuals.
//!
//! With Gaussian errors on `ln y` and the variance profiled out, the log-likelihood of a fit with
//! residual sum of squares `RSS` on `n` points is `-(n/2) ln(RSS/n) + const`, so
//!
//! ```text
//! AICc = n ln(RSS/n) + 2k + 2k(k+1)/(n - k - 1),   BIC = n ln(RSS/n) + k ln n,
//! ```
//!
//! with `k = p + 1` (the `p` model parameters and the noise variance). AICc is defined only for
//! `n > k + 1`, i.e. `n >= p + 3` points. `RSS` is floored at the rounding level (see
//! `rss_floor`) so that exact fits tie and the simpler model wins. All candidates must be
//! fitted to the same points.

use serde::Serialize;

use super::{fit_model_log, rss_floor, Fit, ModelKind};

/// Small-sample corrected Akaike criterion of a fit with `p` parameters and residual sum of
/// squares `rss` (of `ln y`) on `n` points; `None` when `n <= p + 2`.
pub fn aicc(rss: f64, n: usize, p: usize) -> Option<f64> {
    let k = (p + 1) as f64;
    let nf = n as f64;
    (nf > k + 1.0).then(|| nf * (rss / nf).ln() + 2.0 * k + 2.0 * k * (k + 1.0) / (nf - k - 1.0))
}

/// Bayesian information criterion, `n ln(rss/n) + (p + 1) ln n`.
pub fn bic(rss: f64, n: usize, p: usize) -> f64 {
    let nf = n as f64;
    nf * (rss / nf).ln() + (p + 1) as f64 * nf.ln()
}

/// One model considered by [`select_model`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Candidate {
    /// The model.
    pub model: ModelKind,
    /// Its number of parameters `p`.
    pub n_params: usize,
    /// Residual sum of squares of `ln y`.
    pub rss_log: f64,
    /// AICc (`None` when undefined or the fit failed).
    pub aicc: Option<f64>,
    /// Akaike weight `exp(-dAICc/2) / sum`, the relative support of the candidates.
    pub weight: Option<f64>,
}

/// The outcome of [`select_model`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Selection {
    /// Always `"AICc"`.
    pub criterion: &'static str,
    /// All candidates, simplest first.
    pub candidates: Vec<Candidate>,
}

/// Fits every model of [`ModelKind::ALL`] with enough points to the log data and returns the
/// one of lowest AICc (ties go to the simpler model) with the table of candidates; `None` when
/// no model has a defined AICc.
pub(crate) fn select_log(ls: &[f64], lys: &[f64]) -> Option<(Fit, Selection)> {
    let n = ls.len();
    let floor = rss_floor(lys);
    let mut fits: Vec<(Candidate, Option<Fit>)> = Vec::new();
    for kind in ModelKind::ALL {
        let p = kind.n_params();
        let fit = (n >= kind.min_points())
            .then(|| fit_model_log(kind, ls, lys, None))
            .flatten();
        let rss = fit.map_or(f64::NAN, |f| f.rss_log());
        let a = fit.and_then(|f| aicc(f.rss_log().max(floor), n, p));
        fits.push((
            Candidate {
                model: kind,
                n_params: p,
                rss_log: rss,
                aicc: a,
                weight: None,
            },
            fit,
        ));
    }
    let min = fits
        .iter()
        .filter_map(|(c, _)| c.aicc)
        .fold(f64::INFINITY, f64::min);
    if !min.is_finite() {
        return None;
    }
    let total: f64 = fits
        .iter()
        .filter_map(|(c, _)| c.aicc)
        .map(|a| (-(a - min) / 2.0).exp())
        .sum();
    for (c, _) in &mut fits {
        c.weight = c.aicc.map(|a| (-(a - min) / 2.0).exp() / total);
    }
    let chosen = fits
        .iter()
        .find(|(c, _)| c.aicc == Some(min))
        .and_then(|(_, f)| *f)?;
    Some((
        chosen,
        Selection {
            criterion: "AICc",
            candidates: fits.into_iter().map(|(c, _)| c).collect(),
        },
    ))
}

/// Fits power, saturating and broken models to `(xs, ys)` and picks the one of lowest AICc.
///
/// # Errors
/// Invalid data (see [`crate::fit::fit_power`]) or too few points for any AICc (`n < 5`).
pub fn select_model(xs: &[f64], ys: &[f64]) -> anyhow::Result<(Fit, Selection)> {
    let (ls, lys) = super::check_log_data(xs, ys, ModelKind::Power)?;
    select_log(&ls, &lys).ok_or_else(|| {
        anyhow::anyhow!(
            "{} points: model selection by AICc needs at least {}",
            ls.len(),
            ModelKind::Power.n_params() + 3
        )
    })
}
