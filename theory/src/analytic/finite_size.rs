//! Leading finite-`d` correction of the subspace-model equivalents for real Gaussian data.
//!
//! The deterministic equivalents are proportional limits. For real Gaussian data their first
//! correction is `O(1/N)` and of fixed sign, and it is largest where only a few (`d = 10`) signal
//! directions carry the error. This module computes that correction from a reduced model in which
//! the signal block is kept exactly and the noise block is replaced by its mean.
//!
//! # Reduced model
//! Write the training inputs in the basis `[U, U_perp]` as `Y = [sqrt(alpha) Z1; sqrt(s) Z2]`,
//! `Z1` (`d x N`) and `Z2` (`(n-d) x N`) standard Gaussian. For `N < n - d` the noise Gram matrix
//! `s Z2^T Z2` (an `N x N` Wishart matrix with `n - d` degrees of freedom) is replaced by its
//! mean `beta I`, `beta = s (n - d)`. Then, with `a_i` the `min(N, d)` non-zero eigenvalues of
//! `Z1 Z1^T` (a real `d x d` Wishart matrix with `N` degrees of freedom; for `N < d` the other
//! signal directions are unseen and contribute a constant), `Sigma_hat = Y Y^T / N` has the signal
//! eigenvalues `mu_i = (alpha a_i + beta)/N`, whose eigenvectors put the weight
//! `w_i = alpha a_i/(alpha a_i + beta)` on the signal block, and `N - d` eigenvalues `beta/N`
//! orthogonal to it (when `N > d`). The risk of a spectral filter `phi` is `const + sum_i h(a_i)`
//! with
//!
//! ```text
//! h(a) = [s (1 - (1 - psi^2) w) + (1 - phi w)^2] / (d alpha^2)
//!        + (tau^2 / N) (phi^2 / mu) (alpha^2 a + s beta)/(alpha a + beta),     phi = phi(mu(a)).
//! ```
//!
//! PCA keeps the top `d` sample eigenvectors, which in the reduced model are the signal ones, so
//! its risk is `const + sum_i (1/alpha^2 - 2/alpha) w_i / d`.
//!
//! # Correction
//! `sum_i h(a_i)` is a linear statistic of the real Wishart eigenvalues. For a one-cut
//! beta-ensemble with soft edges `a_- < a_+`, the mean eigenvalue density is the limiting
//! (Marchenko-Pastur) density plus `(1/beta - 1/2) [ (delta(a - a_-) + delta(a - a_+))/2 -
//! 1/(pi sqrt((a - a_-)(a_+ - a))) ] + O(1/N^2)`. Real data has `beta = 1`, so
//!
//! ```text
//! correction = (1/2) [ (h(a_-) + h(a_+))/2 - int h(a) da / (pi sqrt((a - a_-)(a_+ - a))) ],
//! a_(-/+) = (sqrt(N) -/+ sqrt(d))^2.
//! ```
//!
//! This reproduces the exact `E tr W^{-1} = d/(N - d - 1)` and
//! `E tr W^{-2} = d (N - 1)/((N - d)(N - d - 1)(N - d - 3))` to first order. It is added to the
//! equivalent of the full model. It is derived for `d << N < n - d`, and it is only applied for
//! `N + d < n` and `N != d` (at `N = d` the lower edge is hard). Without noise (`s = 0`) the
//! reduced model is exact and the correction applies at every `N != d`.
//!
//! The arcsine integral uses Gauss-Chebyshev quadrature. `h` is analytic on a neighbourhood of the
//! support (its poles lie at `a <= 0`), so the rule converges geometrically; the number of nodes
//! follows from the distance of the lower edge to 0.

/// Bounds on the Gauss-Chebyshev nodes of the arcsine integral. The rule's error decays like
/// `r^(2 nodes)` with `r = sqrt(min(N, d)/max(N, d))`, so nodes are chosen for `r^(2 nodes) <
/// 1e-13` within these bounds.
const MIN_NODES: usize = 16;
const MAX_NODES: usize = 4096;

/// The correction's quadrature: `(a, weight)` with `correction = sum weight h(a)`, and the
/// reduced model's constants.
#[derive(Clone, Debug)]
pub(crate) struct FiniteSize {
    nodes: Vec<(f64, f64)>,
    d: f64,
    n_train: f64,
    alpha: f64,
    s: f64,
    beta: f64,
    tau2: f64,
}

impl FiniteSize {
    /// The correction for `d` signal directions in dimension `n` with noise variance `s` and
    /// `n_train` examples, or `None` outside its domain (`N + d >= n` with noise, or `N = d`).
    pub(crate) fn new(d: usize, n: usize, s: f64, n_train: usize) -> Option<Self> {
        if n_train == d || (s > 0.0 && n_train + d >= n) {
            return None;
        }
        let (df, nf) = (d as f64, n_train as f64);
        let (lo, hi) = (
            (nf.sqrt() - df.sqrt()).powi(2),
            (nf.sqrt() + df.sqrt()).powi(2),
        );
        let r = (df.min(nf) / df.max(nf)).sqrt();
        let count = ((13.0 * std::f64::consts::LN_10 / (-2.0 * r.ln())).ceil() as usize)
            .clamp(MIN_NODES, MAX_NODES);
        let mut nodes = vec![(lo, 0.25), (hi, 0.25)];
        nodes.extend((0..count).map(|j| {
            let theta = std::f64::consts::PI * (j as f64 + 0.5) / count as f64;
            (
                0.5 * (lo + hi) - 0.5 * (hi - lo) * theta.cos(),
                -0.5 / count as f64,
            )
        }));
        let alpha = 1.0 + s;
        Some(Self {
            nodes,
            d: df,
            n_train: nf,
            alpha,
            s,
            beta: s * (n - d) as f64,
            tau2: s / alpha,
        })
    }

    /// Eigenvalue of `Sigma_hat` carried by the Wishart eigenvalue `a`.
    fn mu(&self, a: f64) -> f64 {
        (self.alpha * a + self.beta) / self.n_train
    }

    /// The reduced model's risk carried by one signal eigenvalue `a`, as a quadratic in the
    /// residual filter value `psi = 1 - phi` at `mu(a)`: `h = c0 + c1 psi + c2 psi^2`.
    fn coefficients(&self, a: f64) -> [f64; 3] {
        let (al, s, beta) = (self.alpha, self.s, self.beta);
        let w = al * a / (al * a + beta);
        let scale = 1.0 / (self.d * al * al);
        // bias: [s (1 - w + w psi^2) + (1 - w + w psi)^2] / (d alpha^2)
        let mut c = [
            scale * ((1.0 - w) * (1.0 - w) + s * (1.0 - w)),
            scale * 2.0 * (1.0 - w) * w,
            scale * (w * w + s * w),
        ];
        if self.tau2 > 0.0 {
            // variance: K (1 - psi)^2
            let k =
                self.tau2 / self.n_train / self.mu(a) * (al * al * a + s * beta) / (al * a + beta);
            c[0] += k;
            c[1] -= 2.0 * k;
            c[2] += k;
        }
        c
    }

    /// The correction for the filter `phi` on the eigenvalues of `Sigma_hat`. Cost `O(nodes)`.
    pub(crate) fn filter(&self, phi: impl Fn(f64) -> f64) -> f64 {
        self.nodes
            .iter()
            .map(|&(a, w)| {
                let psi = 1.0 - phi(self.mu(a));
                let [c0, c1, c2] = self.coefficients(a);
                w * (c0 + psi * (c1 + psi * c2))
            })
            .sum()
    }

    /// The correction for PCA (`W = U_hat U_hat^T / alpha`, the top `d` sample eigenvectors). In
    /// the reduced model these are the signal eigenvectors, so the risk is
    /// `const + sum_i (1/alpha^2 - 2/alpha) w_i / d`. Cost `O(nodes)`.
    pub(crate) fn pca(&self) -> f64 {
        let (al, beta) = (self.alpha, self.beta);
        let scale = (1.0 / (al * al) - 2.0 / al) / self.d;
        self.nodes
            .iter()
            .map(|&(a, w)| w * scale * al * a / (al * a + beta))
            .sum()
    }

    /// The correction for gradient descent with `c = eta N` after `k = 0..len` steps (filter
    /// `psi_k = (1 - c mu)^k`). Cost `O(len nodes)`.
    pub(crate) fn gd_path(&self, c: f64, len: usize) -> Vec<f64> {
        // Per node: weight times the coefficients, and the factor 1 - c mu.
        let nodes: Vec<([f64; 3], f64)> = self
            .nodes
            .iter()
            .map(|&(a, w)| (self.coefficients(a).map(|x| w * x), 1.0 - c * self.mu(a)))
            .collect();
        let constant: f64 = nodes.iter().map(|(k, _)| k[0]).sum();
        let mut psi = vec![1.0; nodes.len()];
        (0..len)
            .map(|_| {
                let mut corr = constant;
                for (p, ([_, c1, c2], f)) in psi.iter_mut().zip(&nodes) {
                    corr += *p * (c1 + *p * c2);
                    // Flushed to zero before subnormals slow the loop (as in the limit's path).
                    *p = if p.abs() < 1e-200 { 0.0 } else { *p * f };
                }
                corr
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rule gives the first-order terms of the exact real-Wishart inverse moments over the
    /// `p = min(N, d)` non-zero eigenvalues (`q = max(N, d)`, `m = q - p`), expanded in `1/m`:
    /// `E tr W^{-1} = p/(m - 1) = p/m + p/m^2 + ...` and
    /// `E tr W^{-2} = p (q - 1)/(m (m - 1)(m - 3)) = p q/m^3 + p (3q + p)/m^4 + ...`, whose leading
    /// terms are the Marchenko-Pastur values.
    #[test]
    fn arcsine_rule_reproduces_wishart_inverse_moments_to_first_order() {
        for (d, n) in [
            (10usize, 44usize),
            (10, 64),
            (10, 12),
            (10, 200),
            (50, 512),
            (50, 20),
        ] {
            let f = FiniteSize::new(d, 1_000_000, 0.0, n).unwrap();
            let (p, q) = (d.min(n) as f64, d.max(n) as f64);
            let m = q - p;
            let corr = |g: &dyn Fn(f64) -> f64| f.nodes.iter().map(|&(a, w)| w * g(a)).sum::<f64>();
            let c1 = corr(&|a| 1.0 / a);
            let want = p / (m * m);
            assert!((c1 - want).abs() < 1e-10 * want, "N={n}: {c1} vs {want}");
            let c2 = corr(&|a| 1.0 / (a * a));
            let want = p * (3.0 * q + p) / m.powi(4);
            assert!((c2 - want).abs() < 1e-9 * want, "N={n}: {c2} vs {want}");
        }
    }

    /// Outside the domain there is no correction.
    #[test]
    fn domain() {
        assert!(FiniteSize::new(10, 1000, 0.01, 10).is_none());
        assert!(FiniteSize::new(10, 1000, 0.01, 990).is_none());
        assert!(FiniteSize::new(10, 1000, 0.01, 989).is_some());
        assert!(FiniteSize::new(10, 1000, 0.0, 5000).is_some());
    }
}
