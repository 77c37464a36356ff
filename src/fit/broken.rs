//! Smoothly broken power law, fitted by least squares in log space.
//!
//! ```text
//! R = beta * N^alpha1 * (1 + (N / n_break)^(1/delta))^((alpha2 - alpha1) * delta)
//! ln R = ln beta + alpha1 ln N + (alpha2 - alpha1) * delta * softplus((ln N - ln n_break) / delta)
//! ```
//! (the smoothly broken power law of astronomy, e.g. astropy's `SmoothlyBrokenPowerLaw1D`,
//! written with the paper's sign convention `R ~ N^alpha`). For `N << n_break` it is
//! `beta N^alpha1`, for `N >> n_break` it is `beta n_break^(alpha1 - alpha2) N^alpha2`; the local
//! log-log slope is exactly halfway between `alpha1` and `alpha2` at `N = n_break`, and `delta`
//! is the width of the bend in units of `ln N` (`delta -> 0`: a sharp corner). The saturating
//! law `a N^(-b) + c` is the special case `alpha2 = 0`, `alpha1 = -b`, `delta = 1/b`,
//! `beta = a`, `n_break = (a/c)^(1/b)`.
//!
//! Bounds (so that every parameter is seen by the data): `n_break` within the fitted range of
//! `x`, `delta in [0.05, 10]`, `alpha1, alpha2 in [-20, 20]`.
//!
//! Estimation: for fixed `(n_break, delta)` the model is linear in `(ln beta, alpha1, alpha2)`
//! (variable projection), so a 20 x 6 grid over `(ln n_break, ln delta)` is solved by least
//! squares, and the three best grid points start the bounded Levenberg-Marquardt over all five
//! parameters `theta = (ln beta, alpha1, alpha2, ln n_break, ln delta)` with the analytic
//! Jacobian. Cost `O(120 n)` for the grid plus `O(n)` per iteration.

use anyhow::Result;
use serde::Serialize;

use super::linalg::lstsq;
use super::lm::best_of_starts;
use super::{check_log_data, ModelKind};

/// Smallest and largest `delta`.
pub const DELTA_BOUNDS: [f64; 2] = [0.05, 10.0];

/// A fitted smoothly broken power law (see the module docs for the formula).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct BrokenFit {
    /// Prefactor `beta > 0`, units of `y`: `R ~ beta N^alpha1` well below the break.
    pub beta: f64,
    /// Exponent below the break (dimensionless).
    pub alpha1: f64,
    /// Exponent above the break (dimensionless); `0` is a flat floor.
    pub alpha2: f64,
    /// Break point, units of `x`: the local slope is `(alpha1 + alpha2) / 2` there.
    pub n_break: f64,
    /// Smoothness: width of the bend in `ln N` (dimensionless).
    pub delta: f64,
    /// Residual sum of squares of `ln y` (dimensionless).
    pub rss_log: f64,
    /// Number of points fitted.
    pub n: usize,
}

impl BrokenFit {
    /// `R(x)`.
    pub fn predict(&self, x: f64) -> f64 {
        self.ln_predict(x.ln()).exp()
    }

    /// `ln R` at `ln x`.
    pub fn ln_predict(&self, ln_x: f64) -> f64 {
        eval(&self.theta(), ln_x).0
    }

    /// Local log-log slope `d ln R / d ln N` at `x`.
    pub fn slope(&self, x: f64) -> f64 {
        let u = (x.ln() - self.n_break.ln()) / self.delta;
        self.alpha1 + (self.alpha2 - self.alpha1) * sigmoid(u)
    }

    fn theta(&self) -> [f64; 5] {
        [
            self.beta.ln(),
            self.alpha1,
            self.alpha2,
            self.n_break.ln(),
            self.delta.ln(),
        ]
    }
}

fn softplus(u: f64) -> f64 {
    if u > 0.0 {
        u + (-u).exp().ln_1p()
    } else {
        u.exp().ln_1p()
    }
}

fn sigmoid(u: f64) -> f64 {
    if u >= 0.0 {
        1.0 / (1.0 + (-u).exp())
    } else {
        let e = u.exp();
        e / (1.0 + e)
    }
}

/// `(ln R, d ln R / d theta)` at `L = ln x`.
fn eval(theta: &[f64], l: f64) -> (f64, [f64; 5]) {
    let [lb, a1, a2, lnb, ldelta] = [theta[0], theta[1], theta[2], theta[3], theta[4]];
    let delta = ldelta.exp();
    let u = (l - lnb) / delta;
    let sp = softplus(u);
    let sg = sigmoid(u);
    let s = delta * sp;
    let f = lb + a1 * l + (a2 - a1) * s;
    let grad = [
        1.0,
        l - s,
        s,
        -(a2 - a1) * sg,
        (a2 - a1) * delta * (sp - u * sg),
    ];
    (f, grad)
}

/// Fits the smoothly broken power law to `(xs[i], ys[i])` by least squares of `ln y`.
///
/// # Errors
/// Lengths differ, fewer than 6 points, a value that is not finite and positive, or no start
/// could be solved (e.g. all `x` equal).
pub fn fit_broken(xs: &[f64], ys: &[f64]) -> Result<BrokenFit> {
    let (ls, lys) = check_log_data(xs, ys, ModelKind::Broken)?;
    fit_broken_log(&ls, &lys, None)
        .ok_or_else(|| anyhow::anyhow!("broken power-law fit failed: x values too few or equal"))
}

/// Fit on log data; `warm` adds a start (the bootstrap passes the fit to the original data).
pub(crate) fn fit_broken_log(
    ls: &[f64],
    lys: &[f64],
    warm: Option<&BrokenFit>,
) -> Option<BrokenFit> {
    let n = ls.len();
    let (lmin, lmax) = super::min_max(ls);
    if lmax <= lmin {
        return None;
    }
    let lower = [-500.0, -20.0, -20.0, lmin, DELTA_BOUNDS[0].ln()];
    let upper = [500.0, 20.0, 20.0, lmax, DELTA_BOUNDS[1].ln()];
    let starts = grid_starts(ls, lys, &lower, &upper);
    let warm = warm.map(|w| {
        let mut t = w.theta();
        for j in 0..5 {
            t[j] = t[j].clamp(lower[j], upper[j]);
        }
        t
    });
    let model = |theta: &[f64], r: &mut [f64], jac: &mut [f64]| -> bool {
        for (i, (&l, &ly)) in ls.iter().zip(lys).enumerate() {
            let (f, g) = eval(theta, l);
            if !f.is_finite() {
                return false;
            }
            r[i] = f - ly;
            jac[i * 5..i * 5 + 5].copy_from_slice(&g);
        }
        true
    };
    let best = best_of_starts(&model, n, starts, warm, (&lower, &upper))?;
    let t = &best.theta;
    Some(BrokenFit {
        beta: t[0].exp(),
        alpha1: t[1],
        alpha2: t[2],
        n_break: t[3].exp(),
        delta: t[4].exp(),
        rss_log: best.rss,
        n,
    })
}

/// Starts on a grid of break points (evenly spaced in `ln x` over the bounds' range) and
/// smoothnesses: at fixed `(n_break, delta)` the law is linear in `(ln beta, alpha1, alpha2)`,
/// solved by least squares and clipped into the box. Each with its RSS; `O(120 n)`.
fn grid_starts(
    ls: &[f64],
    lys: &[f64],
    lower: &[f64; 5],
    upper: &[f64; 5],
) -> Vec<([f64; 5], f64)> {
    const GRID_BREAK: usize = 20;
    const GRID_DELTA: [f64; 6] = [0.05, 0.15, 0.4, 1.0, 2.5, 6.0];
    let n = ls.len();
    let (lmin, lmax) = (lower[3], upper[3]);
    let mut starts: Vec<([f64; 5], f64)> = Vec::new();
    let mut design = vec![0.0; n * 3];
    for i in 0..GRID_BREAK {
        let lnb = lmin + (lmax - lmin) * (i as f64 + 0.5) / GRID_BREAK as f64;
        for &delta in &GRID_DELTA {
            for (k, &l) in ls.iter().enumerate() {
                let s = delta * softplus((l - lnb) / delta);
                design[k * 3] = 1.0;
                design[k * 3 + 1] = l - s;
                design[k * 3 + 2] = s;
            }
            let Some((coef, rss)) = lstsq(&design, n, 3, lys) else {
                continue;
            };
            let theta = [
                coef[0].clamp(lower[0], upper[0]),
                coef[1].clamp(lower[1], upper[1]),
                coef[2].clamp(lower[2], upper[2]),
                lnb,
                delta.ln(),
            ];
            starts.push((theta, rss));
        }
    }
    starts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn analytic_derivatives_match_finite_differences() {
        for theta in [
            [0.7, -1.0, -0.1, 5.0, (0.5_f64).ln()],
            [-1.0, -0.3, 0.2, 1.0, (3.0_f64).ln()],
        ] {
            for l in [0.0, 3.0, 5.0, 9.0] {
                let (_, grad) = eval(&theta, l);
                for j in 0..5 {
                    let h = 1e-6;
                    let (mut up, mut dn) = (theta, theta);
                    up[j] += h;
                    dn[j] -= h;
                    let fd = (eval(&up, l).0 - eval(&dn, l).0) / (2.0 * h);
                    assert!(
                        (fd - grad[j]).abs() < 1e-6 * (1.0 + grad[j].abs()),
                        "theta {theta:?}, L {l}, j {j}: fd {fd} vs {}",
                        grad[j]
                    );
                }
            }
        }
    }

    #[test]
    fn asymptotes_and_slope_at_the_break() {
        let f = BrokenFit {
            beta: 2.0,
            alpha1: -1.0,
            alpha2: -0.2,
            n_break: 100.0,
            delta: 0.3,
            rss_log: 0.0,
            n: 0,
        };
        assert!((f.predict(1e-3) / (2.0 * 1e3) - 1.0).abs() < 1e-12);
        let far = 2.0 * 100.0_f64.powf(-1.0 + 0.2) * 1e9_f64.powf(-0.2);
        assert!((f.predict(1e9) / far - 1.0).abs() < 1e-12);
        assert!((f.slope(100.0) + 0.6).abs() < 1e-15);
    }
}
