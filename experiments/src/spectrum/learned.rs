//! The learned linear map on real images, exact in `f64`: the check of the Gaussian theory of
//! [`super::predict`] on data that are not Gaussian (`theory/gaussian.md` section 4).
//!
//! From `N` clean images `X` (`n x N`, one per column) and `Y = X + sigma Z`, with
//! `Y Y^T = V diag(mu) V^T`, every spectral estimator is `W = G diag(f(mu)) V^T`, `G = X Y^T V`:
//! ridge `f = 1 / (mu + N lambda)`, and gradient descent from `W_0 = 0` on
//! `1/2 ||W Y - X||_F^2` with step `eta` after `k` steps `f = (1 - (1 - eta mu)^k) / mu`
//! (the iteration `plateau train --model linear` runs in `f32` with autograd). Its risk on a
//! population with second moment `M` (averaged over the noise exactly) is
//!
//! ```text
//! R(W) = ( tr((W - I) M (W - I)^T) + sigma^2 ||W||_F^2 ) / n
//!      = ( f^T (P o Q) f - 2 f . diag(V^T M G) + tr M + sigma^2 f . diag(Q) f ) / n
//! ```
//!
//! with `P = V^T M V`, `Q = G^T G` (`o`: entrywise product): after `O(n^3)` set-up each filter
//! costs `O(n^2)`, so the whole 5000-step path and a ridge grid are cheap.

use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, Par, Side};
use rand::Rng;
use rand_distr::StandardNormal;

/// Gradient-descent steps considered for early stopping (the theory's `GD_ITERS`).
pub const GD_STEPS: usize = plateau_theory::montecarlo::DEFAULT_ITERS;

/// Risks (per pixel) of the learned linear maps of one training set, each at its best
/// (oracle) penalty or stopping step for the population `M`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Learned {
    /// Ridge at the best penalty of a log grid.
    pub ridge: f64,
    /// Gradient descent at its best step `k <= GD_STEPS`.
    pub gd: f64,
    /// That step.
    pub gd_step: usize,
}

/// The filter-risk quadratic form of one training set against a population `M`.
struct Quadratic {
    /// `P o Q`, column-major (`h[j n + i]`).
    h: Vec<f64>,
    /// `diag(V^T M G)`.
    lin: Vec<f64>,
    /// `diag(Q)`.
    q: Vec<f64>,
    trace_m: f64,
    sigma2: f64,
    /// Eigenvalues `mu` of `Y Y^T`.
    mu: Vec<f64>,
}

fn mul(a: faer::MatRef<'_, f64>, b: faer::MatRef<'_, f64>) -> Mat<f64> {
    let mut out = Mat::zeros(a.nrows(), b.ncols());
    matmul(out.as_mut(), Accum::Replace, a, b, 1.0, Par::Seq);
    out
}

impl Quadratic {
    /// Set-up for clean `x` (`n x N`), noise `sigma` (drawn from `rng`) and population `m`
    /// (`n x n`). `O(n^2 N + n^3)`.
    fn new<R: Rng + ?Sized>(x: &Mat<f64>, sigma: f64, m: &Mat<f64>, rng: &mut R) -> Self {
        let (n, nt) = (x.nrows(), x.ncols());
        let y = Mat::from_fn(n, nt, |i, j| {
            x[(i, j)] + sigma * rng.sample::<f64, _>(StandardNormal)
        });
        let yyt = mul(y.as_ref(), y.transpose());
        let evd = yyt
            .self_adjoint_eigen(Side::Lower)
            .expect("eigendecomposition of Y Y^T");
        let v = evd.U().to_owned();
        let mu: Vec<f64> = (0..n).map(|i| evd.S()[i].max(0.0)).collect();
        let g = mul(mul(x.as_ref(), y.transpose()).as_ref(), v.as_ref());
        let p = mul(mul(v.transpose(), m.as_ref()).as_ref(), v.as_ref());
        let q = mul(g.transpose(), g.as_ref());
        let vmg = mul(mul(v.transpose(), m.as_ref()).as_ref(), g.as_ref());
        Quadratic {
            h: (0..n * n)
                .map(|k| p[(k % n, k / n)] * q[(k % n, k / n)])
                .collect(),
            lin: (0..n).map(|i| vmg[(i, i)]).collect(),
            q: (0..n).map(|i| q[(i, i)]).collect(),
            trace_m: (0..n).map(|i| m[(i, i)]).sum(),
            sigma2: sigma * sigma,
            mu,
        }
    }

    /// Risk per pixel of the filter `f` (one value per eigenvalue). `O(n^2)`.
    fn risk(&self, f: &[f64]) -> f64 {
        let n = f.len();
        let mut quad = 0.0;
        for (col, fj) in self.h.chunks_exact(n).zip(f) {
            let s: f64 = col.iter().zip(f).map(|(h, fi)| h * fi).sum();
            quad += s * fj;
        }
        let lin: f64 = f.iter().zip(&self.lin).map(|(a, b)| a * b).sum();
        let noise: f64 = f.iter().zip(&self.q).map(|(a, b)| a * a * b).sum();
        (quad - 2.0 * lin + self.trace_m + self.sigma2 * noise) / n as f64
    }

    /// Best ridge risk over `lambda = scale 10^(e / 10)`, `e = -100..=20` (`scale` = mean of
    /// `mu / N`, the mean input variance).
    fn best_ridge(&self, n_train: usize) -> f64 {
        let nt = n_train as f64;
        let scale = self.mu.iter().sum::<f64>() / (nt * self.mu.len() as f64);
        (-100..=20)
            .map(|e| {
                let l = scale * 10f64.powf(f64::from(e) / 10.0);
                let f: Vec<f64> = self.mu.iter().map(|&m| 1.0 / (m + nt * l)).collect();
                self.risk(&f)
            })
            .fold(f64::INFINITY, f64::min)
    }

    /// Best gradient-descent risk over `k = 1..=GD_STEPS` with `eta = 1 / mu_max` (the theory's
    /// default step `c = 1 / top eigenvalue of Y Y^T / N`), and its step.
    fn best_gd(&self) -> (f64, usize) {
        let eta = 1.0 / self.mu.iter().copied().fold(0.0, f64::max);
        let mut residual = vec![1.0; self.mu.len()];
        let mut best = (f64::INFINITY, 0);
        let mut f = vec![0.0; self.mu.len()];
        for k in 1..=GD_STEPS {
            for (i, &m) in self.mu.iter().enumerate() {
                residual[i] *= 1.0 - eta * m;
                // mu = 0 (N < n): the filter's limit k eta; its column of G is zero anyway.
                f[i] = if m > 0.0 {
                    (1.0 - residual[i]) / m
                } else {
                    k as f64 * eta
                };
            }
            let r = self.risk(&f);
            if r < best.0 {
                best = (r, k);
            }
        }
        best
    }
}

/// Trains the learned linear maps on clean images `x` (`n x N`) with fresh noise `sigma` (from
/// `rng`) and returns their best risks on the population `m` (`n x n` second moment).
/// `O(n^2 N + n^3 + GD_STEPS n^2)`.
pub fn learned_linear<R: Rng + ?Sized>(
    x: &Mat<f64>,
    sigma: f64,
    m: &Mat<f64>,
    rng: &mut R,
) -> Learned {
    let qf = Quadratic::new(x, sigma, m, rng);
    let (gd, gd_step) = qf.best_gd();
    Learned {
        ridge: qf.best_ridge(x.ncols()),
        gd,
        gd_step,
    }
}

/// `count` Gaussian images with second moment `m` (`n x n`, symmetric positive semi-definite):
/// `x = V diag(sqrt(lambda)) g`, `g ~ N(0, I)`, as an `n x count` matrix. The control of the
/// check: the same spectrum as the real images, the fourth moments of a Gaussian.
/// `O(n^3 + n^2 count)`.
pub fn gaussian_like<R: Rng + ?Sized>(m: &Mat<f64>, count: usize, rng: &mut R) -> Mat<f64> {
    let n = m.nrows();
    let evd = m
        .self_adjoint_eigen(Side::Lower)
        .expect("eigendecomposition of the second moment");
    let root = Mat::from_fn(n, n, |i, j| evd.U()[(i, j)] * evd.S()[j].max(0.0).sqrt());
    let g = Mat::from_fn(n, count, |_, _| rng.sample::<f64, _>(StandardNormal));
    mul(root.as_ref(), g.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;
    use faer::linalg::solvers::DenseSolveCore;
    use rand::SeedableRng;

    /// The quadratic form against a direct evaluation of `R(W)` for an explicit `W`.
    #[test]
    fn filter_risk_matches_the_explicit_map() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let (n, nt, sigma) = (5, 9, 0.3);
        let x = Mat::from_fn(n, nt, |_, _| rng.sample::<f64, _>(StandardNormal));
        let a = Mat::from_fn(n, n, |_, _| rng.sample::<f64, _>(StandardNormal));
        let m = mul(a.as_ref(), a.transpose());
        let mut r1 = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let qf = Quadratic::new(&x, sigma, &m, &mut r1);
        // Rebuild Y with the same stream, then W = X Y^T (Y Y^T + c I)^-1 explicitly.
        let mut r2 = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let y = Mat::from_fn(n, nt, |i, j| {
            x[(i, j)] + sigma * r2.sample::<f64, _>(StandardNormal)
        });
        let c = 0.7;
        let mut s = mul(y.as_ref(), y.transpose());
        (0..n).for_each(|i| s[(i, i)] += c);
        let w = mul(
            mul(x.as_ref(), y.transpose()).as_ref(),
            s.as_ref().partial_piv_lu().inverse().as_ref(),
        );
        let mut wi = w.clone();
        (0..n).for_each(|i| wi[(i, i)] -= 1.0);
        let bias = mul(mul(wi.as_ref(), m.as_ref()).as_ref(), wi.transpose());
        let direct = ((0..n).map(|i| bias[(i, i)]).sum::<f64>()
            + sigma * sigma * w.squared_norm_l2())
            / n as f64;
        let f: Vec<f64> = qf.mu.iter().map(|&mu| 1.0 / (mu + c)).collect();
        assert!(
            (qf.risk(&f) - direct).abs() < 1e-10 * direct,
            "{} {direct}",
            qf.risk(&f)
        );
    }
}
