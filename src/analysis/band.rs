//! Interval bands of a fitted scaling law: the 95% bootstrap interval of the fitted curve at
//! every point of a grid of `N`, for the shaded extrapolations of the scaling figures.

use anyhow::Result;

use crate::fit::{bootstrap, fit_model, BootstrapOptions, Curve, ModelKind};

/// Points of a band: `(N, lo, hi)`, increasing `N`.
pub type Band = Vec<(f64, f64, f64)>;

/// Fits `kind` to all points of `curve`, bootstraps it ([`crate::fit::bootstrap()`], method of
/// `opts`) and returns the 95% percentile interval of the fitted curve at each `grid` point.
/// Cost: `opts.reps` refits.
///
/// # Errors
/// The fit or the bootstrap fails (too few points, non-positive values).
pub fn fit_band(
    curve: &Curve,
    kind: ModelKind,
    grid: &[f64],
    opts: &BootstrapOptions,
) -> Result<Band> {
    fit_band_floored(curve, kind, grid, opts, 0.0)
}

/// As [`fit_band`], the saturating law's floor constrained to `c >= c_min` (every replicate
/// too), so no band edge lies below `c_min`.
///
/// # Errors
/// As [`fit_band`].
pub fn fit_band_floored(
    curve: &Curve,
    kind: ModelKind,
    grid: &[f64],
    opts: &BootstrapOptions,
    c_min: f64,
) -> Result<Band> {
    let fit = if kind == ModelKind::Saturating {
        crate::fit::Fit::Saturating(crate::fit::saturating::fit_saturating_floored(
            &curve.xs, &curve.ys, c_min,
        )?)
    } else {
        fit_model(kind, &curve.xs, &curve.ys)?
    };
    let boot = bootstrap(curve, &fit, grid, opts)?;
    Ok(grid
        .iter()
        .enumerate()
        .map(|(j, &n)| {
            let [lo, hi] = boot.prediction_interval(j, 0.95);
            (n, lo, hi)
        })
        .filter(|(_, lo, hi)| lo.is_finite() && hi.is_finite())
        .collect())
}
