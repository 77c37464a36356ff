//! Saturating power law `R = a * N^(-b) + c`, fitted by least squares in log space.
//!
//! `c >= 0` is the floor the data see, `a > 0` the scale of the learnable part and `b >= 0` its
//! decay exponent. The residuals are `ln y_i - ln(a x_i^(-b) + c)` (relative errors, the same
//! scale as the power-law fit, so the criteria of [`crate::fit::select`] compare like with
//! like).
//!
//! Internally the parameters are `theta = (ln a, b, c)` with bounds `ln a in [-500, 500]`,
//! `b in [0, 10]`, `c in [0, max y]`. Starts: for each trial floor `c = q min(y)`,
//! `q in {0, 0.5, 0.75, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999}`, the line through
//! `(ln x, ln(y - c))` gives `(ln a, b)`; the best starts are refined by the bounded
//! Levenberg-Marquardt of [`crate::fit`] with the analytic Jacobian. Cost `O(n)` per iteration.

use anyhow::Result;
use serde::Serialize;

use super::lm::best_of_starts;
use super::{check_log_data, ModelKind};

/// A fitted saturating power law `R = a * N^(-b) + c`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct SaturatingFit {
    /// Scale `a > 0` of the decaying part, units of `y` (times `N^b`).
    pub a: f64,
    /// Decay exponent `b >= 0` (dimensionless); the risk above the floor falls as `N^(-b)`.
    pub b: f64,
    /// Floor `c >= 0`, units of `y`: the limit of `R` as `N -> infinity`.
    pub c: f64,
    /// Residual sum of squares of `ln y` (dimensionless).
    pub rss_log: f64,
    /// Number of points fitted.
    pub n: usize,
    /// Lower bound the floor `c` was constrained to (0: the free fit). A known floor minus its
    /// test-set uncertainty ([`fit_saturating_floored`]); the bootstrap's refits keep it.
    #[serde(skip)]
    pub c_min: f64,
}

impl SaturatingFit {
    /// `a x^(-b) + c`.
    pub fn predict(&self, x: f64) -> f64 {
        self.ln_predict(x.ln()).exp()
    }

    /// `ln(a e^(-b ln_x) + c)`, evaluated without overflow.
    pub fn ln_predict(&self, ln_x: f64) -> f64 {
        ln_model(&[self.a.ln(), self.b, self.c], ln_x).0
    }

    fn theta(&self) -> [f64; 3] {
        [self.a.ln(), self.b, self.c]
    }
}

/// `(f, w)` with `f = ln(e^t + c)`, `t = ln a - b L`, and `w = e^t / (e^t + c)`.
fn ln_model(theta: &[f64], l: f64) -> (f64, f64) {
    let t = theta[0] - theta[1] * l;
    let c = theta[2];
    if c <= 0.0 {
        return (t, 1.0);
    }
    let (f, w, _) = ln_model_at(t, c, c.ln());
    (f, w)
}

/// [`ln_model`] at `t = ln a - b L` with `ln c` given (`c > 0`): the fits evaluate it at every
/// point with one `theta`, so `ln c` is taken once, and the one exponential `e = e^(-|t - ln c|)`
/// serves `f`, the sigmoid `w` (the same values as computing each separately) and
/// `g = e^(-f) = 1/(e^t + c)`, which is `1/((1 + e) c)` below `t = ln c` and `e/((1 + e) c)`
/// above it (within a few ulps of `exp(-f)`).
fn ln_model_at(t: f64, c: f64, lc: f64) -> (f64, f64, f64) {
    debug_assert!(c > 0.0);
    let (hi, d) = if t >= lc { (t, lc - t) } else { (lc, t - lc) };
    let e = d.exp();
    let f = hi + e.ln_1p();
    // w = sigmoid(t - ln c)
    let (w, g) = if t >= lc {
        (1.0 / (1.0 + e), e / ((1.0 + e) * c))
    } else {
        (e / (1.0 + e), 1.0 / ((1.0 + e) * c))
    };
    (f, w, g)
}

/// `(f, w, e^(-f))` of [`ln_model`] as a function of `ln x` for one `theta` (its `ln c` taken
/// once).
fn ln_model_of(theta: &[f64]) -> impl Fn(f64) -> (f64, f64, f64) + '_ {
    let c = theta[2];
    let lc = if c > 0.0 { c.ln() } else { f64::NEG_INFINITY };
    move |l| {
        let t = theta[0] - theta[1] * l;
        if c <= 0.0 {
            (t, 1.0, (-t).exp())
        } else {
            ln_model_at(t, c, lc)
        }
    }
}

/// Fits `R = a N^(-b) + c` (`c >= 0`) to `(xs[i], ys[i])` by least squares of `ln y`.
///
/// # Errors
/// Lengths differ, fewer than 4 points, a value that is not finite and positive, or no start
/// could be evaluated.
pub fn fit_saturating(xs: &[f64], ys: &[f64]) -> Result<SaturatingFit> {
    let (ls, lys) = check_log_data(xs, ys, ModelKind::Saturating)?;
    fit_saturating_log(&ls, &lys, None)
        .ok_or_else(|| anyhow::anyhow!("saturating fit failed to converge"))
}

/// Fits `R = a N^(-b) + c` with the floor constrained to `c >= c_min` (a known floor minus
/// its uncertainty, units of `y`); `c_min = 0` is [`fit_saturating`].
///
/// # Errors
/// As [`fit_saturating`], and a `c_min` that is negative or not finite.
pub fn fit_saturating_floored(xs: &[f64], ys: &[f64], c_min: f64) -> Result<SaturatingFit> {
    if !(c_min.is_finite() && c_min >= 0.0) {
        anyhow::bail!("the floor's lower bound {c_min:e} must be finite and non-negative");
    }
    let (ls, lys) = check_log_data(xs, ys, ModelKind::Saturating)?;
    fit_saturating_log_floored(&ls, &lys, None, c_min)
        .ok_or_else(|| anyhow::anyhow!("saturating fit failed to converge"))
}

/// Fit on log data; `warm` adds a start (the bootstrap passes the fit to the original data)
/// and carries the floor's lower bound `c_min` of that fit.
pub(crate) fn fit_saturating_log(
    ls: &[f64],
    lys: &[f64],
    warm: Option<&SaturatingFit>,
) -> Option<SaturatingFit> {
    fit_saturating_log_floored(ls, lys, warm, warm.map_or(0.0, |w| w.c_min))
}

/// As [`fit_saturating_log`] with `c >= c_min`. Trial floors run from `c_min` up to just below
/// the smallest point (`c_min + q (min y - c_min)`); where `c_min` is at or above a point, the
/// start's line goes through `max(y - c, 1e-6 y)`.
pub(crate) fn fit_saturating_log_floored(
    ls: &[f64],
    lys: &[f64],
    warm: Option<&SaturatingFit>,
    c_min: f64,
) -> Option<SaturatingFit> {
    let n = ls.len();
    let (lymin, lymax) = super::min_max(lys);
    let (ymin, ymax) = (lymin.exp(), lymax.exp());
    let lower = [-500.0, 0.0, c_min];
    let upper = [500.0, 10.0, ymax.max(c_min)];
    let starts = starts_from_trial_floors(ls, lys, c_min, ymin, &lower, &upper);
    let model = |theta: &[f64], r: &mut [f64], jac: &mut [f64]| -> bool {
        residuals_and_jacobian(theta, ls, lys, r, jac)
    };
    let warm = warm.map(SaturatingFit::theta);
    let mut best = best_of_starts(&model, n, starts, warm, (&lower, &upper))?;
    if best.theta[1] <= 0.0 {
        // b = 0: the law is the constant a + c, a curve that has saturated. Its floor is that
        // constant (a at its lower bound keeps the predictions unchanged).
        best.theta[2] = (best.theta[0].exp() + best.theta[2]).min(upper[2]);
        best.theta[0] = lower[0];
    }
    Some(SaturatingFit {
        a: best.theta[0].exp(),
        // `+ 0.0` turns a clamped `-0.0` into `0.0`.
        b: best.theta[1] + 0.0,
        c: best.theta[2] + 0.0,
        rss_log: best.rss,
        n,
        c_min,
    })
}

/// The log residuals `r_i = ln(a x_i^(-b) + c) - ln y_i` at `theta = (ln a, b, c)` and their
/// Jacobian `jac` (row-major, `n x 3`): `dr/d ln a = w`, `dr/db = -w ln x`, `dr/dc = 1 / R`,
/// with `w` the share of the decaying part in `R`. `false` where a prediction is not finite.
/// Cost `O(n)`.
fn residuals_and_jacobian(
    theta: &[f64],
    ls: &[f64],
    lys: &[f64],
    r: &mut [f64],
    jac: &mut [f64],
) -> bool {
    let at = ln_model_of(theta);
    for (i, (&l, &ly)) in ls.iter().zip(lys).enumerate() {
        let (f, w, g) = at(l);
        if !f.is_finite() {
            return false;
        }
        r[i] = f - ly;
        jac[i * 3] = w;
        jac[i * 3 + 1] = -w * l;
        jac[i * 3 + 2] = g;
    }
    true
}

/// Starting points of the saturating fit with `c >= c_min`: for each trial floor `c` from `c_min`
/// up to just below the smallest point, the least-squares line through `ln max(y - c, 1e-6 y)`
/// against `ln N`, clamped to the bounds, with its log-residual sum of squares (unsorted).
/// Cost `O(9 n)`.
fn starts_from_trial_floors(
    ls: &[f64],
    lys: &[f64],
    c_min: f64,
    ymin: f64,
    lower: &[f64; 3],
    upper: &[f64; 3],
) -> Vec<([f64; 3], f64)> {
    let n = ls.len();
    let cost = |theta: &[f64]| -> f64 {
        let at = ln_model_of(theta);
        ls.iter()
            .zip(lys)
            .map(|(&l, &ly)| {
                let r = at(l).0 - ly;
                r * r
            })
            .sum()
    };
    // Shared by the nine trial floors (the bootstrap refits them for every replicate).
    let ys: Vec<f64> = lys.iter().map(|ly| ly.exp()).collect();
    // The line through (ln N, z) in closed form, about the mean of ln N (no cancellation).
    let l_mean = ls.iter().sum::<f64>() / n as f64;
    let sxx: f64 = ls.iter().map(|l| (l - l_mean) * (l - l_mean)).sum();
    let line = |z: &[f64]| -> Option<[f64; 2]> {
        let z_mean = z.iter().sum::<f64>() / n as f64;
        let sxz: f64 = ls.iter().zip(z).map(|(l, z)| (l - l_mean) * z).sum();
        let slope = sxz / sxx;
        (sxx > 0.0 && slope.is_finite()).then_some([z_mean - slope * l_mean, slope])
    };
    let mut starts: Vec<([f64; 3], f64)> = Vec::new();
    for q in [0.0, 0.5, 0.75, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999] {
        let c = c_min + q * (ymin - c_min).max(0.0);
        let z: Vec<f64> = ys.iter().map(|&y| (y - c).max(1e-6 * y).ln()).collect();
        if z.iter().any(|v| !v.is_finite()) {
            continue;
        }
        let Some(coef) = line(&z) else {
            continue;
        };
        let theta = [
            coef[0].clamp(lower[0], upper[0]),
            (-coef[1]).clamp(lower[1], upper[1]),
            c.clamp(lower[2], upper[2]),
        ];
        let s = cost(&theta);
        if s.is_finite() {
            starts.push((theta, s));
        }
    }
    starts
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `ln(a x^(-b) + c)` written out directly, independent of [`ln_model`]'s stable form.
    fn ln_law(theta: &[f64; 3], l: f64) -> f64 {
        (theta[0].exp() * (-theta[1] * l).exp() + theta[2]).ln()
    }

    #[test]
    fn stable_log_model_is_the_law() {
        for theta in [[1.5, 0.8, 0.02], [-2.0, 0.3, 0.5], [0.0, 1.2, 0.0]] {
            for l in [0.0, 2.0, 7.0, 12.0] {
                let (f, _) = ln_model(&theta, l);
                assert!((f - ln_law(&theta, l)).abs() < 1e-12, "{theta:?} {l}: {f}");
            }
        }
    }

    /// The Jacobian the fit hands to Levenberg-Marquardt against central finite differences of
    /// the directly written law (one-sided at the bound `c = 0`). The truncation error of a
    /// central difference is about `h^2 f''' / 6`, below 1e-9 here, and the rounding error
    /// `eps |f| / h` about 1e-10: the tolerance 1e-6 is far above both and far below a wrong
    /// term (the smallest entries checked are order 1e-2).
    #[test]
    fn jacobian_of_the_fit_matches_finite_differences_of_the_law() {
        let ls = [0.0, 2.0, 7.0, 12.0];
        let lys = [0.3, -0.5, -2.0, -3.0];
        let thetas = [
            [1.5, 0.8, 0.02],
            [-2.0, 0.3, 0.5],
            [0.0, 1.2, 0.0],
            [3.0, 0.5, 1e-3],
        ];
        for theta in thetas {
            let mut r = [0.0; 4];
            let mut jac = [0.0; 12];
            assert!(residuals_and_jacobian(&theta, &ls, &lys, &mut r, &mut jac));
            for (i, &l) in ls.iter().enumerate() {
                assert!((r[i] - (ln_law(&theta, l) - lys[i])).abs() < 1e-12);
                for j in 0..3 {
                    // Steps small next to the scale of each parameter (`c` next to R itself).
                    let h = if j == 2 {
                        1e-6 * ln_law(&theta, l).exp()
                    } else {
                        1e-5
                    };
                    let (mut up, mut dn) = (theta, theta);
                    up[j] += h;
                    dn[j] -= h;
                    if dn[2] < 0.0 {
                        dn = theta;
                    }
                    let fd = (ln_law(&up, l) - ln_law(&dn, l)) / (up[j] - dn[j]);
                    let got = jac[i * 3 + j];
                    assert!(
                        (fd - got).abs() < 1e-6 * (1.0 + got.abs()),
                        "theta {theta:?}, L {l}, j {j}: fd {fd} vs {got}"
                    );
                }
            }
        }
    }
}
