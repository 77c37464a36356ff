//! Regime detection: the steep power-law segment of a curve and where it bends into the plateau.
//!
//! Algorithm (segmented regression in log-log space): with `L = ln x`, `Y = ln y`, fit
//! continuous piecewise-linear functions with `K = 1, 2, 3` segments,
//!
//! ```text
//! Y = b0 + b1 L + sum_{j < K-1} b_{j+2} (L - psi_j)_+ ,
//! ```
//!
//! the break points `psi_j` ranging exhaustively over the interior data points (each segment
//! spans at least 3 points, the break point counting in both), each candidate solved by least
//! squares. `K` is chosen by BIC, `n ln(RSS / n) + k ln n` with `k = 2K + 1` (intercept, slope,
//! a slope change and a location per break, the noise variance); a larger `K` must lower the
//! BIC strictly, and RSS is floored at the rounding level so that an exact power law stays one
//! segment. `K <= 3` covers "flat start (risk near 1 for tiny N), steep power law, plateau".
//!
//! The *steep segment* is the segment with the most negative slope; its data range is the
//! power-law range. The *plateau* is the last of the segments that follow the steep one
//! without rising (a segment whose slope exceeds `RISE * |steep slope|`, `RISE = 0.25`, ends
//! the run: e.g. the interpolation peak of least squares at `N = n`); the *fit range* runs from
//! the start of the steep segment to the end of the plateau. The *bend* is where the steep
//! segment's line meets the plateau's line (for adjacent segments, their shared break point):
//! for a curve `a N^(-b) + c` that is `(a / c)^(1/b)`, where the power law would cross the
//! floor. Cost `O(n^3)` least-squares solves of size `n x 4` at most, for `n` points.

use anyhow::{bail, Result};
use serde::Serialize;

use super::linalg::lstsq;
use super::{check_log_data, rss_floor, ModelKind};

/// One segment of the piecewise power law.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Segment {
    /// First `x` of the segment (a data point).
    pub lo: f64,
    /// Last `x` of the segment (a data point, shared with the next segment).
    pub hi: f64,
    /// Index of the first point in the sorted data.
    pub start: usize,
    /// Index of the last point.
    pub end: usize,
    /// Exponent `d ln y / d ln x` on the segment.
    pub slope: f64,
    /// `ln y` intercept of the segment's line at `x = 1`.
    pub intercept: f64,
}

/// The detected regimes.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Regime {
    /// The segments of the chosen piecewise fit, in increasing `x`.
    pub segments: Vec<Segment>,
    /// Index into `segments` of the steep (most negative slope) segment.
    pub steep: usize,
    /// `[lo, hi]`: the data range of the steep segment.
    pub steep_range: [f64; 2],
    /// Exponent of the steep segment.
    pub steep_slope: f64,
    /// Index into `segments` of the plateau (`== steep` when no flatter segment follows).
    pub plateau: usize,
    /// `[lo, hi]`: from the start of the steep segment to the end of the plateau.
    pub fit_range: [f64; 2],
    /// Where the steep segment's line meets the plateau's line; `None` when no flatter segment
    /// follows the steep one (or the lines meet outside the fit range).
    pub bend: Option<f64>,
    /// BIC of the best fit with `K = 1, 2, 3` segments (`None` where too few points).
    pub bic: Vec<Option<f64>>,
}

/// A segment after the steep one whose slope exceeds `RISE * |steep slope|` rises: it ends the
/// plateau.
pub const RISE: f64 = 0.25;

/// Detects the regimes of the curve `(xs, ys)` (any order; `x` distinct).
///
/// # Errors
/// Fewer than 3 points, a non-positive or non-finite value, or repeated `x`.
pub fn detect_regime(xs: &[f64], ys: &[f64]) -> Result<Regime> {
    let (ls, lys) = check_log_data(xs, ys, ModelKind::Power)?;
    let mut order: Vec<usize> = (0..ls.len()).collect();
    order.sort_by(|&i, &j| ls[i].total_cmp(&ls[j]));
    let xs: Vec<f64> = order.iter().map(|&i| xs[i]).collect();
    let ls: Vec<f64> = order.iter().map(|&i| ls[i]).collect();
    let lys: Vec<f64> = order.iter().map(|&i| lys[i]).collect();
    if xs.windows(2).any(|w| w[0] == w[1]) {
        bail!("regime detection needs distinct x values");
    }
    detect_regime_log(&xs, &ls, &lys)
}

/// Best continuous piecewise-linear fit with the given break indices: `(coef, rss)`.
fn hinge_fit(ls: &[f64], lys: &[f64], breaks: &[usize]) -> Option<(Vec<f64>, f64)> {
    let n = ls.len();
    let p = 2 + breaks.len();
    let mut design = Vec::with_capacity(n * p);
    for &l in ls {
        design.push(1.0);
        design.push(l);
        for &b in breaks {
            design.push((l - ls[b]).max(0.0));
        }
    }
    lstsq(&design, n, p, lys)
}

/// Detection on sorted data with distinct `xs`; `ls = ln xs`, `lys = ln ys`.
pub(crate) fn detect_regime_log(xs: &[f64], ls: &[f64], lys: &[f64]) -> Result<Regime> {
    let n = ls.len();
    if n < 3 {
        bail!("{n} points, regime detection needs at least 3");
    }
    let floor = rss_floor(lys);
    let nf = n as f64;
    let bic_of = |rss: f64, k: usize| nf * (rss.max(floor) / nf).ln() + k as f64 * nf.ln();
    const MIN_SEG: usize = 3;
    // (break indices, hinge coefficients, rss) of the best fit with K = 1, 2, 3 segments.
    type Piecewise = (Vec<usize>, Vec<f64>, f64);
    let mut best: Vec<Option<Piecewise>> = vec![None, None, None];
    // K = 1.
    if let Some((coef, rss)) = hinge_fit(ls, lys, &[]) {
        best[0] = Some((vec![], coef, rss));
    }
    // K = 2 and K = 3: exhaustive over break indices. K segments need n >= K (MIN_SEG - 1) + 1
    // points, and more points than the 2K + 1 parameters of the BIC: n >= 6 for K = 2 and
    // n >= 8 for K = 3.
    let lo = MIN_SEG - 1;
    if n > 2 * 2 + 1 {
        for j in lo..=(n - MIN_SEG) {
            if let Some((coef, rss)) = hinge_fit(ls, lys, &[j]) {
                if best[1].as_ref().is_none_or(|b| rss < b.2) {
                    best[1] = Some((vec![j], coef, rss));
                }
            }
        }
    }
    if n > 2 * 3 + 1 {
        for j1 in lo..=(n - MIN_SEG) {
            for j2 in (j1 + MIN_SEG - 1)..=(n - MIN_SEG) {
                if let Some((coef, rss)) = hinge_fit(ls, lys, &[j1, j2]) {
                    if best[2].as_ref().is_none_or(|b| rss < b.2) {
                        best[2] = Some((vec![j1, j2], coef, rss));
                    }
                }
            }
        }
    }
    let bic: Vec<Option<f64>> = best
        .iter()
        .enumerate()
        .map(|(k, b)| b.as_ref().map(|b| bic_of(b.2, 2 * (k + 1) + 1)))
        .collect();
    let mut chosen = None;
    for (k, v) in bic.iter().enumerate() {
        if let Some(v) = v {
            if chosen.is_none_or(|(_, cv): (usize, f64)| *v < cv) {
                chosen = Some((k, *v));
            }
        }
    }
    let Some((k, _)) = chosen else {
        bail!("regime detection failed: the x values must not all be equal");
    };
    let (breaks, coef, _) = best[k].clone().expect("chosen has a fit");
    // Segment lines from the hinge coefficients.
    let mut segments = Vec::new();
    let mut slope = coef[1];
    let mut intercept = coef[0];
    let mut start = 0;
    for s in 0..=breaks.len() {
        if s > 0 {
            let psi = ls[breaks[s - 1]];
            slope += coef[1 + s];
            intercept -= coef[1 + s] * psi;
        }
        let end = if s < breaks.len() { breaks[s] } else { n - 1 };
        segments.push(Segment {
            lo: xs[start],
            hi: xs[end],
            start,
            end,
            slope,
            intercept,
        });
        start = end;
    }
    let steep = (0..segments.len())
        .min_by(|&a, &b| segments[a].slope.total_cmp(&segments[b].slope))
        .expect("at least one segment");
    let rise = RISE * segments[steep].slope.abs();
    let mut plateau = steep;
    while plateau + 1 < segments.len() && segments[plateau + 1].slope <= rise {
        plateau += 1;
    }
    let (s, t) = (&segments[steep], &segments[plateau]);
    let bend = if plateau == steep || t.slope <= s.slope {
        None
    } else if plateau == steep + 1 {
        // Adjacent segments meet at their shared break point.
        Some(s.hi)
    } else {
        let b = ((t.intercept - s.intercept) / (s.slope - t.slope)).exp();
        (b >= s.lo && b <= t.hi).then_some(b)
    };
    let fit_range = [s.lo, t.hi];
    Ok(Regime {
        steep_range: [segments[steep].lo, segments[steep].hi],
        steep_slope: segments[steep].slope,
        segments,
        steep,
        plateau,
        fit_range,
        bend,
        bic,
    })
}
