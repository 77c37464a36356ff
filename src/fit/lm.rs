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

/// When the minimiser stops: a step below `xtol` of the parameters (in the scaled norm) or an
/// accepted step that lowers the sum of squares by less than `ftol` of it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Tolerance {
    /// Relative step size (in the scaled norm) below which the minimiser stops.
    pub xtol: f64,
    /// Relative decrease of the sum of squares below which the minimiser stops.
    pub ftol: f64,
}

impl Tolerance {
    /// To the rounding level: the fits that are reported.
    pub const TIGHT: Tolerance = Tolerance {
        xtol: 1e-13,
        ftol: 1e-15,
    };

    /// For bootstrap refits, warm started from the reported fit. A replicate's parameters are
    /// one draw of a spread of percents whose percentiles carry a Monte Carlo error of about
    /// `1/sqrt(reps)` of it; stopping at `1e-9` moves them by about `1e-6` relative (measured on
    /// the 240-row Huber table of `docs/capacity.md`), a thousand times below that error, and
    /// saves a third of the refits' iterations (Huber's converge linearly).
    pub const REPLICATE: Tolerance = Tolerance {
        xtol: 1e-9,
        ftol: 1e-12,
    };
}

/// Minimises `sum r_i^2` over the box `lower <= theta <= upper` from `theta0` (clipped into the
/// box) to [`Tolerance::TIGHT`]. `m` is the number of residuals. Returns `None` when the start
/// cannot be evaluated.
pub(crate) fn minimize(
    model: &impl Residuals,
    m: usize,
    theta0: &[f64],
    lower: &[f64],
    upper: &[f64],
) -> Option<LmResult> {
    minimize_to(model, m, theta0, (lower, upper), Tolerance::TIGHT)
}

/// The best of several local fits: [`minimize`] from the lowest-scored of `starts`
/// (`(theta, score)`: three, or one when a `warm` start is given) and from `warm`, the result of
/// smallest `rss` (the first on a tie). The bootstrap passes the fit to the original data as
/// `warm`, which saves each replicate two of the three grid starts. `None` when no start can be
/// evaluated. `m` residuals, `P` parameters within `(lower, upper)`.
pub(crate) fn best_of_starts<const P: usize>(
    model: &impl Residuals,
    m: usize,
    mut starts: Vec<([f64; P], f64)>,
    warm: Option<[f64; P]>,
    (lower, upper): (&[f64; P], &[f64; P]),
) -> Option<LmResult> {
    starts.sort_by(|a, b| a.1.total_cmp(&b.1));
    starts.truncate(if warm.is_some() { 1 } else { 3 });
    starts.extend(warm.map(|theta| (theta, 0.0)));
    starts
        .iter()
        .filter_map(|(theta, _)| minimize(model, m, theta, lower, upper))
        .min_by(|a, b| a.rss.total_cmp(&b.rss))
}

/// [`minimize`] to the tolerance `tol`, within the box `(lower, upper)`.
pub(crate) fn minimize_to(
    model: &impl Residuals,
    m: usize,
    theta0: &[f64],
    (lower, upper): (&[f64], &[f64]),
    tol: Tolerance,
) -> Option<LmResult> {
    const MAX_ITER: usize = 300;
    let mut lm = Lm::start(model, m, theta0, lower, upper)?;
    lm.tol = tol;
    for _ in 0..MAX_ITER {
        lm.normal_equations();
        if !lm.rescale() {
            break;
        }
        let Some(free) = lm.free_parameters() else {
            break;
        };
        if let Iteration::Stop = lm.damped_step(&free) {
            break;
        }
    }
    Some(LmResult {
        theta: lm.theta,
        rss: lm.rss,
    })
}

/// Damping beyond which no step can lower the cost any more.
const MU_MAX: f64 = 1e30;

/// How an iteration ended.
enum Iteration {
    /// A step was accepted; iterate again.
    Continue,
    /// Converged, or no step lowers the cost.
    Stop,
}

/// The minimiser's state: the current point with its residuals and Jacobian, the normal
/// equations there, and the damping.
struct Lm<'a, M> {
    model: &'a M,
    lower: &'a [f64],
    upper: &'a [f64],
    /// Number of parameters.
    p: usize,
    theta: Vec<f64>,
    r: Vec<f64>,
    jac: Vec<f64>,
    rss: f64,
    /// Residuals and Jacobian at the trial point (swapped in when it is accepted).
    r_new: Vec<f64>,
    jac_new: Vec<f64>,
    /// `D`: the running maximum of `diag(J^T J)`.
    scale: Vec<f64>,
    /// Marquardt's damping (negative until the first iteration sets it) and Nielsen's factor.
    mu: f64,
    nu: f64,
    /// `J^T r` (length `p`) and `J^T J` (`p x p` row-major).
    g: Vec<f64>,
    a: Vec<f64>,
    /// When to stop.
    tol: Tolerance,
}

/// Clips `t` into the box.
fn clip(t: &mut [f64], lower: &[f64], upper: &[f64]) {
    for j in 0..t.len() {
        t[j] = t[j].clamp(lower[j], upper[j]);
    }
}

impl<'a, M: Residuals> Lm<'a, M> {
    /// The state at `theta0` clipped into the box; `None` when it cannot be evaluated.
    fn start(
        model: &'a M,
        m: usize,
        theta0: &[f64],
        lower: &'a [f64],
        upper: &'a [f64],
    ) -> Option<Self> {
        let p = theta0.len();
        let mut theta = theta0.to_vec();
        clip(&mut theta, lower, upper);
        let mut r = vec![0.0; m];
        let mut jac = vec![0.0; m * p];
        if !model.eval(&theta, &mut r, &mut jac) {
            return None;
        }
        let rss: f64 = r.iter().map(|v| v * v).sum();
        if !rss.is_finite() {
            return None;
        }
        Some(Lm {
            model,
            lower,
            upper,
            p,
            theta,
            r,
            jac,
            rss,
            r_new: vec![0.0; m],
            jac_new: vec![0.0; m * p],
            scale: vec![0.0; p],
            mu: -1.0,
            nu: 2.0,
            g: vec![0.0; p],
            a: vec![0.0; p * p],
            tol: Tolerance::TIGHT,
        })
    }

    /// `g = J^T r`, `A = J^T J` at the current point.
    fn normal_equations(&mut self) {
        let (m, p) = (self.r.len(), self.p);
        for j in 0..p {
            self.g[j] = (0..m).map(|i| self.jac[i * p + j] * self.r[i]).sum();
            for k in 0..=j {
                let v: f64 = (0..m)
                    .map(|i| self.jac[i * p + j] * self.jac[i * p + k])
                    .sum();
                self.a[j * p + k] = v;
                self.a[k * p + j] = v;
            }
        }
    }

    /// Raises the scaling `D` to the new `diag(J^T J)` (at least `1e-12` of its largest entry);
    /// `false` when `J^T J` vanishes or is not finite.
    fn rescale(&mut self) -> bool {
        let p = self.p;
        let amax = (0..p).fold(0.0_f64, |acc, j| acc.max(self.a[j * p + j]));
        if amax == 0.0 || !amax.is_finite() {
            return false;
        }
        for j in 0..p {
            self.scale[j] = self.scale[j].max(self.a[j * p + j]).max(1e-12 * amax);
        }
        if self.mu < 0.0 {
            self.mu = 1e-3;
        }
        true
    }

    /// The parameters not held on a bound by an outward gradient; `None` when none is free to
    /// move (the point is stationary in the box).
    fn free_parameters(&self) -> Option<Vec<usize>> {
        let (theta, g) = (&self.theta, &self.g);
        let free: Vec<usize> = (0..self.p)
            .filter(|&j| {
                !((theta[j] <= self.lower[j] && g[j] > 0.0)
                    || (theta[j] >= self.upper[j] && g[j] < 0.0))
            })
            .collect();
        if free.is_empty() || free.iter().all(|&j| g[j] == 0.0) {
            return None;
        }
        Some(free)
    }

    /// Tries damped steps on the `free` parameters, raising the damping after each failure,
    /// until one lowers the cost (accepted) or the step or damping says to stop.
    fn damped_step(&mut self, free: &[usize]) -> Iteration {
        loop {
            let Some(step_f) = self.solve_damped(free) else {
                if self.raise_damping() {
                    return Iteration::Stop;
                }
                continue;
            };
            let mut cand = self.theta.clone();
            for (u, &j) in free.iter().enumerate() {
                cand[j] += step_f[u];
            }
            clip(&mut cand, self.lower, self.upper);
            let step: Vec<f64> = (0..self.p).map(|j| cand[j] - self.theta[j]).collect();
            let xtol = self.tol.xtol;
            if self.scaled_norm(&step) <= xtol * (self.scaled_norm(&self.theta) + xtol) {
                return Iteration::Stop;
            }
            let ok = self.model.eval(&cand, &mut self.r_new, &mut self.jac_new);
            let rss_new: f64 = if ok {
                self.r_new.iter().map(|v| v * v).sum()
            } else {
                f64::INFINITY
            };
            if rss_new.is_finite() && rss_new < self.rss {
                return self.accept(cand, &step, rss_new);
            }
            if self.raise_damping() {
                return Iteration::Stop;
            }
        }
    }

    /// Solves `(A + mu D) s = -g` restricted to the `free` parameters; `None` when the matrix
    /// is not numerically positive definite.
    fn solve_damped(&self, free: &[usize]) -> Option<Vec<f64>> {
        let (p, q) = (self.p, free.len());
        let mut mat = vec![0.0; q * q];
        let mut rhs = vec![0.0; q];
        for (u, &j) in free.iter().enumerate() {
            rhs[u] = -self.g[j];
            for (v, &k) in free.iter().enumerate() {
                mat[u * q + v] = self.a[j * p + k];
            }
            mat[u * q + u] += self.mu * self.scale[j];
        }
        solve_spd(&mat, &rhs, q)
    }

    /// Norm in the scaling `diag(J^T J)` of the damping.
    fn scaled_norm(&self, v: &[f64]) -> f64 {
        v.iter()
            .zip(&self.scale)
            .map(|(x, d)| x * x * d)
            .sum::<f64>()
            .sqrt()
    }

    /// After a failed step: `mu *= nu`, `nu *= 2`; `true` when the damping is past [`MU_MAX`].
    fn raise_damping(&mut self) -> bool {
        self.mu *= self.nu;
        self.nu *= 2.0;
        self.mu > MU_MAX
    }

    /// Moves to `cand` (reached by `step`, cost `rss_new`) and lowers the damping by
    /// Nielsen's rule from the gain ratio.
    fn accept(&mut self, cand: Vec<f64>, step: &[f64], rss_new: f64) -> Iteration {
        let pred = self.predicted_decrease(step);
        let rho = if pred > 0.0 {
            (self.rss - rss_new) / pred
        } else {
            0.5
        };
        let improvement = self.rss - rss_new;
        self.theta = cand;
        std::mem::swap(&mut self.r, &mut self.r_new);
        std::mem::swap(&mut self.jac, &mut self.jac_new);
        let converged = improvement <= self.tol.ftol * self.rss;
        self.rss = rss_new;
        self.mu *= (1.0 - (2.0 * rho - 1.0).powi(3)).max(1.0 / 3.0);
        self.nu = 2.0;
        if converged {
            Iteration::Stop
        } else {
            Iteration::Continue
        }
    }

    /// Decrease of the quadratic model `-2 g.s - s^T A s` for the step `s` actually taken.
    fn predicted_decrease(&self, step: &[f64]) -> f64 {
        let p = self.p;
        let mut pred = 0.0;
        for j in 0..p {
            pred -= 2.0 * self.g[j] * step[j];
            for k in 0..p {
                pred -= step[j] * self.a[j * p + k] * step[k];
            }
        }
        pred
    }
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
