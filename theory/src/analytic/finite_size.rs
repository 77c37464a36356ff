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
//! equivalent of the full model. With the flat noise block above ([`NoiseModel::Flat`], ridge and
//! min-norm) it is derived for `d << N < n - d` and applied for `N + d < n`, `N != d` (at `N = d`
//! the lower edge is hard). With the Marchenko-Pastur block ([`NoiseModel::MarchenkoPastur`],
//! `noise_block.rs`, `theory/analytic.md` section 8b: GD, filters, PCA) `h` is built from each
//! direction's outlier, leak into the noise bulk and atom at 0, and it applies at every
//! `N != d`. Without noise (`s = 0`) the reduced model is exact and the correction applies at
//! every `N != d`.
//!
//! The arcsine integral uses Gauss-Chebyshev quadrature. `h` is analytic on a neighbourhood of the
//! support (its poles lie at `a <= 0`), so the rule converges geometrically; the number of nodes
//! follows from the distance of the lower edge to 0.

use super::noise_block::{decompose, Atom, NoiseModel};

/// Bounds on the Gauss-Chebyshev nodes of the arcsine integral. The rule's error decays like
/// `r^(2 nodes)` with `r = sqrt(min(N, d)/max(N, d))`, so nodes are chosen for `r^(2 nodes) <
/// 1e-13` within these bounds.
const MIN_NODES: usize = 16;
const MAX_NODES: usize = 4096;

/// A noise variance at or below this is treated as none, here and in the subspace model's
/// population ([`TwoAtom`](super::two_atom::TwoAtom)). The flat block then differs from the
/// exact one by `O(s)` relative to the signal eigenvalues (`alpha >= 1`), below rounding, while
/// the Marchenko-Pastur block's products of `s` with the noise eigenvalues (`O(s^2)`) underflow
/// to 0 for `s` below about `1e-154` (the Python hypothesis test found an infinite GD risk at
/// `sigma = 2e-156`; test `negligible_noise_is_the_noiseless_limit`).
pub(crate) const NEGLIGIBLE_NOISE: f64 = 1e-100;

/// Gauss-Chebyshev nodes on the noise block's Marchenko-Pastur bulk (section 8b; test
/// `finite_size::tests::bulk_quadrature_is_converged`).
pub(crate) const BULK_NODES: usize = 48;

/// One node of the arcsine rule: its weight and the decomposition of the signal direction with
/// that Wishart eigenvalue.
#[derive(Clone, Debug)]
struct Node {
    weight: f64,
    atoms: Vec<Atom>,
}

/// The correction's quadrature, `correction = sum weight h(a)`, with `h` evaluated from each
/// node's decomposition, and the constants of `h`.
#[derive(Clone, Debug)]
pub(crate) struct FiniteSize {
    nodes: Vec<Node>,
    d: f64,
    n_train: f64,
    alpha: f64,
    s: f64,
    tau2: f64,
}

impl FiniteSize {
    /// The correction for `d` signal directions in dimension `n` with noise variance `s` and
    /// `n_train` examples, with the noise block modelled by `model`; `None` outside its domain:
    /// `N = d`; for [`NoiseModel::Flat`] with noise, `N + d >= n`; for
    /// [`NoiseModel::MarchenkoPastur`], a signal eigenvalue at the edge `a_-` within
    /// [`noise_block`](super::noise_block)'s BBP margin.
    pub(crate) fn new(
        d: usize,
        n: usize,
        s: f64,
        n_train: usize,
        model: NoiseModel,
    ) -> Option<Self> {
        // Without noise dimensions (n = d) there is no noise block to model: the flat form,
        // whose domain with noise is N + d < n, that is, no correction.
        let model = if n > d { model } else { NoiseModel::Flat };
        let noiseless = s <= NEGLIGIBLE_NOISE;
        if n_train == d || (!noiseless && model == NoiseModel::Flat && n_train + d >= n) {
            return None;
        }
        let (df, nf) = (d as f64, n_train as f64);
        let alpha = 1.0 + s;
        let gamma = (n - d) as f64 / nf;
        // Without noise the block is 0 and the outlier is exact: the flat form with beta = 0.
        let model = if noiseless { NoiseModel::Flat } else { model };
        let nodes = arcsine_rule(df, nf)
            .into_iter()
            .map(|(a, weight)| {
                let atoms = decompose(model, alpha * a / nf, s, gamma)?;
                Some(Node { weight, atoms })
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Self {
            nodes,
            d: df,
            n_train: nf,
            alpha,
            s,
            tau2: s / alpha,
        })
    }

    /// The reduced model's risk carried by one signal direction, from `A = int psi dnu`,
    /// `B = int psi^2 dnu` and `C = int phi^2/x d(nu + s kappa)`:
    /// `h = (s B + A^2)/(d alpha^2) + (tau^2/N) C`.
    fn h(&self, a: f64, b: f64, c: f64) -> f64 {
        (self.s * b + a * a) / (self.d * self.alpha * self.alpha) + self.tau2 / self.n_train * c
    }

    /// The correction for the filter `phi` on the eigenvalues of `Sigma_hat` (`phi(0) = 0`).
    /// Cost `O(nodes * atoms)`.
    pub(crate) fn filter(&self, phi: impl Fn(f64) -> f64) -> f64 {
        self.nodes
            .iter()
            .map(|node| {
                let (mut a, mut b, mut c) = (0.0, 0.0, 0.0);
                for atom in &node.atoms {
                    let f = if atom.x > 0.0 { phi(atom.x) } else { 0.0 };
                    let psi = 1.0 - f;
                    a += atom.nu * psi;
                    b += atom.nu * psi * psi;
                    if atom.x > 0.0 {
                        c += (atom.nu + self.s * atom.kappa) * f * f / atom.x;
                    }
                }
                node.weight * self.h(a, b, c)
            })
            .sum()
    }

    /// The correction for PCA (`W = U_hat U_hat^T / alpha`, the top `d` sample eigenvectors). In
    /// the reduced model these are the outliers, so the risk is
    /// `const + sum_i (1/alpha^2 - 2/alpha) w_i / d`, `w_i` the outlier's `nu`-weight (the first
    /// atom). Cost `O(nodes)`.
    pub(crate) fn pca(&self) -> f64 {
        let al = self.alpha;
        let scale = (1.0 / (al * al) - 2.0 / al) / self.d;
        self.nodes
            .iter()
            .map(|node| node.weight * scale * node.atoms[0].nu)
            .sum()
    }

    /// The correction for gradient descent with `c = eta N` after `k = 0..len` steps (filter
    /// `psi_k = (1 - c x)^k`). Every node's atoms are its outlier, its atom at 0 and the noise
    /// atoms, whose eigenvalues all nodes share ([`decompose`]); the terms linear in the
    /// measures are summed over the nodes once, so a step costs `O(nodes * shared)` for the
    /// squares `A^2` only. Test `gd_path_is_the_filter_at_every_step`.
    pub(crate) fn gd_path(&self, c: f64, len: usize) -> Vec<f64> {
        let shared: Vec<f64> = self.nodes[0].atoms[2..].iter().map(|a| a.x).collect();
        // sum over nodes of weight * nu and weight * (nu + s kappa)/x on the shared atoms.
        let (mut lin_b, mut lin_c) = (vec![0.0; shared.len()], vec![0.0; shared.len()]);
        for node in &self.nodes {
            for (j, atom) in node.atoms[2..].iter().enumerate() {
                debug_assert_eq!(atom.x, shared[j]);
                lin_b[j] += node.weight * atom.nu;
                // As in `filter`: an atom at 0 carries no `C` (its filter value is 0).
                if atom.x > 0.0 {
                    lin_c[j] += node.weight * (atom.nu + self.s * atom.kappa) / atom.x;
                }
            }
        }
        let scale = 1.0 / (self.d * self.alpha * self.alpha);
        let mut p = vec![1.0; shared.len()];
        let mut q = vec![1.0; self.nodes.len()];
        (0..len)
            .map(|_| {
                let mut corr = 0.0;
                for j in 0..p.len() {
                    let phi = 1.0 - p[j];
                    corr += self.s * scale * lin_b[j] * p[j] * p[j]
                        + self.tau2 / self.n_train * lin_c[j] * phi * phi;
                }
                for (node, q) in self.nodes.iter().zip(q.iter_mut()) {
                    let [out, zero] = [node.atoms[0], node.atoms[1]];
                    let shared_a: f64 = node.atoms[2..].iter().zip(&p).map(|(a, p)| a.nu * p).sum();
                    let a = out.nu * *q + zero.nu + shared_a;
                    let b = out.nu * *q * *q + zero.nu;
                    let v = (out.nu + self.s * out.kappa) * (1.0 - *q) * (1.0 - *q) / out.x;
                    corr += node.weight * self.h(a, b, v);
                    *q = flushed(*q * (1.0 - c * out.x));
                }
                for (p, x) in p.iter_mut().zip(&shared) {
                    *p = flushed(*p * (1.0 - c * x));
                }
                corr
            })
            .collect()
    }
}

/// Zero below 1e-200, before subnormals slow the loop (as in the limit's path).
fn flushed(p: f64) -> f64 {
    if p.abs() < 1e-200 {
        0.0
    } else {
        p
    }
}

/// The arcsine rule `(a, weight)` of the correction functional for `d` directions and `N`
/// samples: `(1/2)[(h(a_-) + h(a_+))/2 - mean of h under the arcsine law on [a_-, a_+]]`,
/// `a_-/+ = (sqrt N -/+ sqrt d)^2`, Gauss-Chebyshev for the arcsine mean.
fn arcsine_rule(df: f64, nf: f64) -> Vec<(f64, f64)> {
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
    nodes
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
            let rule = arcsine_rule(d as f64, n as f64);
            let (p, q) = (d.min(n) as f64, d.max(n) as f64);
            let m = q - p;
            let corr = |g: &dyn Fn(f64) -> f64| rule.iter().map(|&(a, w)| w * g(a)).sum::<f64>();
            let c1 = corr(&|a| 1.0 / a);
            let want = p / (m * m);
            assert!((c1 - want).abs() < 1e-10 * want, "N={n}: {c1} vs {want}");
            let c2 = corr(&|a| 1.0 / (a * a));
            let want = p * (3.0 * q + p) / m.powi(4);
            assert!((c2 - want).abs() < 1e-9 * want, "N={n}: {c2} vs {want}");
        }
    }

    /// Outside the domain there is no correction: the flat block stops at `N = n - d`, the
    /// Marchenko-Pastur block does not.
    #[test]
    fn domain() {
        let mp = NoiseModel::MarchenkoPastur { bulk: BULK_NODES };
        for model in [NoiseModel::Flat, mp] {
            assert!(FiniteSize::new(10, 1000, 0.01, 10, model).is_none());
            assert!(FiniteSize::new(10, 1000, 0.01, 989, model).is_some());
            assert!(FiniteSize::new(10, 1000, 0.0, 5000, model).is_some());
        }
        assert!(FiniteSize::new(10, 1000, 0.01, 990, NoiseModel::Flat).is_none());
        assert!(FiniteSize::new(10, 1000, 0.01, 990, mp).is_some());
        assert!(FiniteSize::new(10, 1000, 0.01, 5000, mp).is_some());
    }

    /// The Marchenko-Pastur block's bulk rule is converged at [`BULK_NODES`]: four times as many
    /// nodes move the GD correction path by less than 1e-3 of its largest value, on the
    /// `n = 100` paper setups across `N = n - d`.
    #[test]
    fn bulk_quadrature_is_converged() {
        for s in [0.0025, 0.01, 0.04] {
            for n_train in [44, 89, 90, 95, 100, 256] {
                let path = |bulk| {
                    let model = NoiseModel::MarchenkoPastur { bulk };
                    let f = FiniteSize::new(10, 100, s, n_train, model).unwrap();
                    f.gd_path(1.0 / (1.0 + s), 3000)
                };
                let (coarse, fine) = (path(BULK_NODES), path(4 * BULK_NODES));
                let scale = fine.iter().fold(0.0f64, |m, x| m.max(x.abs()));
                let diff = coarse
                    .iter()
                    .zip(&fine)
                    .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
                assert!(diff < 1e-3 * scale, "s={s} N={n_train}: {diff} vs {scale}");
            }
        }
    }

    /// The correction is continuous across `N = n - d`, where section 8's flat block stopped:
    /// on `(10, 100, s)` the step from `N = 89` to `90` (PCA; GD path, largest over `k`) is at
    /// most twice the step from 88 to 89, where the flat block's step was the whole correction.
    #[test]
    fn continuous_across_n_minus_d() {
        let mp = NoiseModel::MarchenkoPastur { bulk: BULK_NODES };
        for s in [0.0025, 0.01, 0.04] {
            let f: Vec<FiniteSize> = (88..=90)
                .map(|n_train| FiniteSize::new(10, 100, s, n_train, mp).unwrap())
                .collect();
            let step = |a: usize, b: usize| (f[a].pca() - f[b].pca()).abs();
            assert!(step(2, 1) < 2.0 * step(1, 0), "s={s}: PCA");
            let c = 1.0 / (1.0 + s);
            let paths: Vec<Vec<f64>> = f.iter().map(|f| f.gd_path(c, 300)).collect();
            let step = |a: usize, b: usize| {
                (0..300).fold(0.0f64, |m, k| m.max((paths[a][k] - paths[b][k]).abs()))
            };
            assert!(step(2, 1) < 2.0 * step(1, 0), "s={s}: GD");
        }
        assert!(FiniteSize::new(10, 100, 0.01, 90, NoiseModel::Flat).is_none());
    }

    /// A noise variance at or below [`NEGLIGIBLE_NOISE`] gives the noiseless correction, finite
    /// (the Marchenko-Pastur block overflowed at `s = 4.4e-312`, `sigma = 2.1e-156`), and just
    /// above it the Marchenko-Pastur block agrees with that limit: no jump at the threshold.
    #[test]
    fn negligible_noise_is_the_noiseless_limit() {
        let mp = NoiseModel::MarchenkoPastur { bulk: BULK_NODES };
        for (d, n, n_train) in [(1, 2, 4), (10, 100, 95), (10, 100, 44)] {
            let exact = FiniteSize::new(d, n, 0.0, n_train, mp).unwrap();
            let (pca, path) = (exact.pca(), exact.gd_path(0.5, 200));
            let scale = path.iter().fold(pca.abs(), |m, x| m.max(x.abs()));
            for s in [2.1e-156f64.powi(2), 1e-120, 1e-90] {
                let f = FiniteSize::new(d, n, s, n_train, mp).unwrap();
                let close = |a: f64, b: f64| a.is_finite() && (a - b).abs() <= 1e-9 * scale;
                assert!(
                    close(f.pca(), pca),
                    "{d} {n} {n_train} s={s}: PCA {}",
                    f.pca()
                );
                for (k, (a, b)) in f.gd_path(0.5, 200).iter().zip(&path).enumerate() {
                    assert!(close(*a, *b), "{d} {n} {n_train} s={s} k={k}: {a} vs {b}");
                }
            }
        }
    }

    /// The fast path (shared noise atoms, linear terms summed once) equals the general filter
    /// `phi = 1 - (1 - c x)^k` at every step, for both noise blocks.
    #[test]
    fn gd_path_is_the_filter_at_every_step() {
        let mp = NoiseModel::MarchenkoPastur { bulk: BULK_NODES };
        for (model, n_train) in [(mp, 44), (mp, 95), (mp, 256), (NoiseModel::Flat, 64)] {
            let f = FiniteSize::new(10, 100, 0.04, n_train, model).unwrap();
            let c = 0.6;
            let path = f.gd_path(c, 400);
            for k in [0, 1, 7, 50, 399] {
                let want = f.filter(|x| 1.0 - (1.0 - c * x).powi(k as i32));
                // Relative to the path's scale (at k = 0 both are rounding-level zeros).
                let tol = 1e-12 * path.iter().fold(0.0f64, |m, x| m.max(x.abs()));
                assert!(
                    (path[k] - want).abs() < tol,
                    "N={n_train} k={k}: {} vs {want}",
                    path[k]
                );
            }
        }
    }
}
