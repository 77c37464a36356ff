//! A small bound-constrained Levenberg-Marquardt minimiser of `sum_i r_i(theta)^2`.
//!
//! Written here rather than taken from a crate because the fits need simple box bounds (the
//! floor `c >= 0`, a break point inside the data, a bounded smoothness) that the maintained Rust
//! LM crates do not offer.
//!
//! Method: Marquardt's damped Gauss-Newton step `(J^T J + mu D) s = -J^T r` with `D` the running
//! maximum of `diag(J^T J)` (MINPACK-style scaling, so the step does not depend on the units of
//! the parameters), Nielsen's update of `mu` from the gain ratio, and bounds handled by
//! projection with an active set: a parameter sitting on a bound whose gradient points outwards
//! is held fixed for that iteration, the others take the reduced step, which is then clipped to
//! the box. A step is accepted only when it lowers the sum of squares, so the cost is
//! monotone. Each iteration costs one residual-and-Jacobian evaluation per trial step plus
//! `O(m p^2 + p^3)` for `m` residuals and `p` parameters.

use super::linalg::solve_spd;

/// Residuals `r` (length `m`) and Jacobian `J` (`m x p` row-major, `J[i*p+j] = d r_i / d theta_j`)
/// at `theta`; returns `false` when the model cannot be evaluated there.
pub(crate) trait Residuals {
    fn eval(&self, theta: &[f64], r: &mut [f64], jac: &mut [f64]) -> bool;
}

impl<F: Fn(&[f64], &mut [f64], &mut [f64]) -> bool> Residuals for F {
    fn eval(&self, theta: &[f64], r: &mut [f64], jac: &mut [f64]) -> bool {
        self(theta, r, jac)
    }
}

/// The minimiser found.
#[derive(Clone, Debug)]
pub(crate) struct LmResult {
    /// Parameters at the end.
    pub theta: Vec<f64>,
    /// `sum_i r_i^2` there.
    pub rss: f64,
}

/// Minimises `sum r_i^2` over the box `lower <= theta <= upper` from `theta0` (clipped into the
/// box). `m` is the number of residuals. Returns `None` when the start cannot be evaluated.
pub(crate) fn minimize(
    model: &impl Residuals,
    m: usize,
    theta0: &[f64],
    lower: &[f64],
    upper: &[f64],
) -> Option<LmResult> {
    const MAX_ITER: usize = 300;
    const XTOL: f64 = 1e-13;
    const FTOL: f64 = 1e-15;
    let p = theta0.len();
    let clip = |t: &mut [f64]| {
        for j in 0..p {
            t[j] = t[j].clamp(lower[j], upper[j]);
        }
    };
    let mut theta = theta0.to_vec();
    clip(&mut theta);
    let mut r = vec![0.0; m];
    let mut jac = vec![0.0; m * p];
    if !model.eval(&theta, &mut r, &mut jac) {
        return None;
    }
    let mut rss: f64 = r.iter().map(|v| v * v).sum();
    if !rss.is_finite() {
        return None;
    }
    let mut r_new = vec![0.0; m];
    let mut jac_new = vec![0.0; m * p];
    let mut scale = vec![0.0_f64; p];
    let mut mu = -1.0_f64;
    let mut nu = 2.0_f64;
    let mut g = vec![0.0; p];
    let mut a = vec![0.0; p * p];
    'outer: for _ in 0..MAX_ITER {
        // g = J^T r, A = J^T J.
        for j in 0..p {
            g[j] = (0..m).map(|i| jac[i * p + j] * r[i]).sum();
            for k in 0..=j {
                let v: f64 = (0..m).map(|i| jac[i * p + j] * jac[i * p + k]).sum();
                a[j * p + k] = v;
                a[k * p + j] = v;
            }
        }
        let amax = (0..p).fold(0.0_f64, |acc, j| acc.max(a[j * p + j]));
        if amax == 0.0 || !amax.is_finite() {
            break;
        }
        for j in 0..p {
            scale[j] = scale[j].max(a[j * p + j]).max(1e-12 * amax);
        }
        if mu < 0.0 {
            mu = 1e-3;
        }
        let free: Vec<usize> = (0..p)
            .filter(|&j| {
                !((theta[j] <= lower[j] && g[j] > 0.0) || (theta[j] >= upper[j] && g[j] < 0.0))
            })
            .collect();
        if free.is_empty() || free.iter().all(|&j| g[j] == 0.0) {
            break;
        }
        let q = free.len();
        loop {
            let mut mat = vec![0.0; q * q];
            let mut rhs = vec![0.0; q];
            for (u, &j) in free.iter().enumerate() {
                rhs[u] = -g[j];
                for (v, &k) in free.iter().enumerate() {
                    mat[u * q + v] = a[j * p + k];
                }
                mat[u * q + u] += mu * scale[j];
            }
            let Some(step_f) = solve_spd(&mat, &rhs, q) else {
                mu *= nu;
                nu *= 2.0;
                if mu > 1e30 {
                    break 'outer;
                }
                continue;
            };
            let mut cand = theta.clone();
            for (u, &j) in free.iter().enumerate() {
                cand[j] += step_f[u];
            }
            clip(&mut cand);
            let step: Vec<f64> = (0..p).map(|j| cand[j] - theta[j]).collect();
            // Norms in the scaling diag(J^T J) of the damping.
            let scaled_norm = |v: &[f64]| -> f64 {
                v.iter()
                    .zip(&scale)
                    .map(|(x, d)| x * x * d)
                    .sum::<f64>()
                    .sqrt()
            };
            if scaled_norm(&step) <= XTOL * (scaled_norm(&theta) + XTOL) {
                break 'outer;
            }
            let ok = model.eval(&cand, &mut r_new, &mut jac_new);
            let rss_new: f64 = if ok {
                r_new.iter().map(|v| v * v).sum()
            } else {
                f64::INFINITY
            };
            if rss_new.is_finite() && rss_new < rss {
                // Predicted decrease of the quadratic model for the step actually taken.
                let mut pred = 0.0;
                for j in 0..p {
                    pred -= 2.0 * g[j] * step[j];
                    for k in 0..p {
                        pred -= step[j] * a[j * p + k] * step[k];
                    }
                }
                let rho = if pred > 0.0 {
                    (rss - rss_new) / pred
                } else {
                    0.5
                };
                let improvement = rss - rss_new;
                theta = cand;
                std::mem::swap(&mut r, &mut r_new);
                std::mem::swap(&mut jac, &mut jac_new);
                let converged = improvement <= FTOL * rss;
                rss = rss_new;
                mu *= (1.0 - (2.0 * rho - 1.0).powi(3)).max(1.0 / 3.0);
                nu = 2.0;
                if converged {
                    break 'outer;
                }
                break;
            }
            mu *= nu;
            nu *= 2.0;
            if mu > 1e30 {
                break 'outer;
            }
        }
    }
    Some(LmResult { theta, rss })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rosenbrock as least squares: r = (10 (t1 - t0^2), 1 - t0), minimum 0 at (1, 1).
    fn rosen(t: &[f64], r: &mut [f64], j: &mut [f64]) -> bool {
        r[0] = 10.0 * (t[1] - t[0] * t[0]);
        r[1] = 1.0 - t[0];
        j.copy_from_slice(&[-20.0 * t[0], 10.0, -1.0, 0.0]);
        true
    }

    #[test]
    fn finds_rosenbrock_minimum() {
        let inf = f64::INFINITY;
        let res = minimize(&rosen, 2, &[-1.2, 1.0], &[-inf, -inf], &[inf, inf]).unwrap();
        assert!((res.theta[0] - 1.0).abs() < 1e-9, "{:?}", res.theta);
        assert!((res.theta[1] - 1.0).abs() < 1e-9, "{:?}", res.theta);
        assert!(res.rss < 1e-20);
    }

    #[test]
    fn respects_active_bound() {
        // With t0 <= 0.5 the constrained minimum is at t0 = 0.5, t1 = 0.25.
        let inf = f64::INFINITY;
        let res = minimize(&rosen, 2, &[-1.2, 1.0], &[-inf, -inf], &[0.5, inf]).unwrap();
        assert_eq!(res.theta[0], 0.5);
        assert!((res.theta[1] - 0.25).abs() < 1e-9, "{:?}", res.theta);
    }
}
