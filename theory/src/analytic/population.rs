//! The population spectrum seen through `N` samples: what the Silverstein equation, the
//! quadrature grid and the risk formulas need of it, behind one trait.
//!
//! A population is `Sigma = diag(v_1 I_{n_1}, ..., v_K I_{n_K})` (plus zero-variance directions,
//! which carry no eigenvalue) with bias weights `A_k >= 0`. With `c_k = n_k / N`, the Stieltjes
//! transform `mt(z)` of the companion matrix `Y^T Y / N` (`N x N`) solves
//!
//! ```text
//! z = x(mt),    x(m) = -1/m + sum_k c_k v_k / (1 + v_k m),
//! ```
//!
//! and the support edges of the limiting spectrum are the values of `x(m)` at its real critical
//! points (Silverstein & Choi 1995). Two implementations:
//! - [`TwoAtom`](super::two_atom::TwoAtom): the paper's subspace model,
//!   `Sigma = diag(alpha I_d, sigma^2 I_{n-d})` with the signal projector as bias weight (a
//!   cubic, solved in closed form);
//! - [`Discrete`](super::discrete::Discrete): any discrete population (the general Gaussian model
//!   of `theory/gaussian.md`), solved by Newton continuation.

use super::poly::C64;
use super::quadrature::Quadrature;
use super::scalar::bisect;

/// A discrete population spectrum seen through `n_train` samples, with bias weights.
pub(crate) trait Population {
    /// The quadrature that discretises this population's measures (see
    /// [`Grid::adaptive`](super::quadrature::Grid::adaptive)).
    const QUADRATURE: Quadrature;

    /// Ambient dimension `n` (zero-variance directions included).
    fn n(&self) -> usize;

    /// Number of samples `N`.
    fn n_train(&self) -> usize;

    /// `rank(Sigma) = sum_k n_k`, the number of directions with positive variance.
    fn rank(&self) -> f64;

    /// The atoms `(v_k, c_k)` with positive variance and `c_k > 0`.
    fn atoms(&self) -> impl Iterator<Item = (f64, f64)> + '_;

    /// `mt(x + i0)` for `x` inside the support (`Im mt > 0`), or `None` outside it; `guess` is the
    /// root at a nearby point, from which the solve is much cheaper.
    fn stieltjes(&self, x: f64, guess: Option<C64>) -> Option<C64>;

    /// Candidate support edges: `x(m)` at the real critical points of `x` (and wherever else the
    /// quadrature should split an interval). Non-finite and non-positive values are ignored.
    fn edge_candidates(&self) -> Vec<f64>;

    /// The bias transform `E(z) = sum_k A_k / (1 + v_k mt(z))` as a function of `mt`.
    fn bias_transform(&self, mt: C64) -> C64;

    /// `E(0) = sum_k A_k kappa0 / (v_k + kappa0)`: the bias measure's atom at 0.
    fn bias_atom(&self, kappa0: f64) -> f64;

    /// The exact total masses `(sum_k A_k v_k, sum_k A_k)` of `rho_E` and of `rho_E / x` plus
    /// `E(0)`.
    fn bias_masses(&self) -> (f64, f64);

    /// `(1/N) tr Sigma = sum_k c_k v_k`.
    fn trace_over_n(&self) -> f64 {
        self.atoms().map(|(v, c)| c * v).sum()
    }

    /// Rank of `Y` (almost surely), `min(N, rank(Sigma))`, over `n`: the mass of the continuous
    /// part of the limiting spectrum of `Sigma_hat = Y Y^T / N`.
    fn sample_fraction(&self) -> f64 {
        self.rank().min(self.n_train() as f64) / self.n() as f64
    }

    /// `kappa0 = 1/mt(0)`: the positive root of `sum_k c_k v_k / (v_k + kappa) = 1`, which exists
    /// when the population has more non-zero directions than samples (then `Sigma_hat` has an
    /// atom at 0). It is the effective ridge of the min-norm interpolator. Cost: one bisection
    /// (`O(K)` per step).
    fn kappa0(&self) -> Option<f64> {
        if self.rank() <= self.n_train() as f64 {
            return None;
        }
        let g = |k: f64| self.atoms().map(|(v, c)| c * v / (v + k)).sum::<f64>() - 1.0;
        // g decreases from rank/N - 1 > 0 at 0 to -1 at infinity.
        let mut hi = self.trace_over_n();
        while g(hi) > 0.0 {
            hi *= 2.0;
        }
        Some(bisect(g, 0.0, hi))
    }

    /// Support intervals of the continuous part of the limiting spectrum of `Sigma_hat`, in
    /// ascending order (adjacent intervals may touch): the gaps between consecutive edge
    /// candidates (and 0) in which `mt` has an imaginary part.
    fn support(&self) -> Vec<(f64, f64)> {
        intervals_between(self.edge_candidates(), |x| {
            self.stieltjes(x, None).is_some()
        })
    }
}

/// The intervals between consecutive `candidates` (and 0; non-finite and non-positive ones
/// ignored, near-duplicates merged) whose midpoint is `inside` the support, ascending.
pub(crate) fn intervals_between(
    candidates: Vec<f64>,
    inside: impl Fn(f64) -> bool,
) -> Vec<(f64, f64)> {
    let mut cands = vec![0.0];
    cands.extend(candidates.into_iter().filter(|x| x.is_finite() && *x > 0.0));
    cands.sort_by(f64::total_cmp);
    cands.dedup_by(|p, q| (*p - *q).abs() <= 1e-13 * q.abs().max(1e-300));
    cands
        .windows(2)
        .map(|w| (w[0], w[1]))
        .filter(|&(l, r)| r > l && inside(0.5 * (l + r)))
        .collect()
}
