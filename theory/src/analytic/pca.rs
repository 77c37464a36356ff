//! PCA in the subspace model: the limiting overlap of the top sample eigenvectors with the
//! signal block, and the risk of `W = U_hat U_hat^T / alpha`.

use super::finite_size::FiniteSize;
use super::quadrature::Grid;
use super::two_atom::TwoAtom;

/// Limiting `1 - ||U^T U_hat||_F^2 / d` for `U_hat` the top-`d` sample eigenvectors: the `P1`
/// mass at and below `q`, the `d/n` upper quantile of the limiting spectrum (the quadrature cell
/// that straddles `q` taken in proportion; the measure `rho_e / x` plus its atom at 0 has total
/// mass exactly 1). Cost `O(nodes)`.
///
/// The deficit, not the overlap, is summed: for large `N` the overlap is `1 - O(1/N)`, and
/// summing the small deficit over the bulk keeps its relative accuracy, where summing the overlap
/// over the signal cluster (whose width shrinks like `N^{-1/2}`) loses it. The grid's masses are
/// exact to about `1e-11`, so the eigenvalue count at the end of the noise cluster may miss
/// `rank - d` by `1e-9`; such a miss must not spill into the signal cluster's first cell, whose
/// `esd` weight can be as small (with `sigma = 1e-6` it put PCA 50% above its floor at
/// `N = 75000`), hence the tolerance `COUNT_TOL` on the count.
pub(crate) fn top_deficit(grid: &Grid, d: usize, n: usize, rank: usize) -> f64 {
    const COUNT_TOL: f64 = 1e-6;
    let (d, n) = (d as f64, n as f64);
    // Eigenvalues below the top d: rank - d of them (none when rank <= d).
    let below = (rank as f64 - d).max(0.0);
    let mut count = 0.0;
    let mut deficit = grid.atom_bias;
    for i in 0..grid.x.len() {
        let cell = n * grid.esd[i];
        let p1 = grid.we[i] / grid.x[i];
        if count + cell >= below - COUNT_TOL {
            deficit += p1 * ((below - count) / cell).clamp(0.0, 1.0);
            break;
        }
        count += cell;
        deficit += p1;
    }
    deficit
}

/// Training-set sizes from `LARGE_N_FACTOR * n` on use [`pca_risk_large_n`]. Its neglected term
/// is relative `O(n/N)` (measured on the eight paper setups: at most `0.1 n/N` of the excess, so
/// below 1e-4 at the switch), while above about `1e4 n` the quadrature starts losing the `O(1/N)`
/// excess to rounding (6% at d = 10, n = 1000, sigma = 0.05, N = 1e8; 0.0237 instead of 0.0099
/// at d = 10, n = 100, sigma = 0.1, N = 1e14). Test: `pca_is_stable_up_to_the_size_bound_and_refuses_beyond_it` in
/// `theory/tests/analytic_equivalents.rs`.
pub(crate) const LARGE_N_FACTOR: f64 = 1e3;

/// Expected risk of PCA, `W = U_hat U_hat^T / alpha` with `U_hat` the top `min(d, rank Y)`
/// sample eigenvectors: `1 + (1/alpha^2 - 2/alpha) o + s min(d, rank)/(d alpha^2)` with `1 - o`
/// the [`top_deficit`], plus the finite-`d` correction where it applies; for
/// `N >= LARGE_N_FACTOR * n`, [`pca_risk_large_n`]. Cost `O(nodes)`.
pub(crate) fn pca_risk(pop: &TwoAtom, grid: &Grid, finite: Option<&FiniteSize>) -> f64 {
    if pop.n_train as f64 >= LARGE_N_FACTOR * pop.n as f64 {
        return pca_risk_large_n(pop);
    }
    let deficit = top_deficit(grid, pop.d, pop.n, pop.sample_rank());
    let kept = pop.d.min(pop.sample_rank());
    let (a, s, d) = (pop.a, pop.s, pop.d as f64);
    let correction = finite.map_or(0.0, FiniteSize::pca);
    // `1 + (1/a^2 - 2/a)(1 - deficit)` with `a = 1 + s`, as `(s/a)^2 + (2a - 1)/a^2 deficit`: the
    // same number without the cancellation of O(1) terms, which at `sigma = 1e-6` left rounding
    // errors as large as the floor `s/a`.
    (s / a) * (s / a)
        + (2.0 * a - 1.0) / (a * a) * deficit
        + s * kept as f64 / (d * a * a)
        + correction
}

/// PCA's risk to first order in `1/N` (`N >> n`): the floor `s/alpha` plus
/// `(2 alpha - 1)/alpha^2 (1 - o)`, with the overlap deficit from first-order perturbation of the
/// sample covariance, `1 - o = (1/N) (n - d) alpha s / (alpha - s)^2` (signal eigenvalue
/// `alpha = 1 + s`, noise eigenvalue `s`, gap 1). Derivation: `theory/analytic.md`, "PCA at very
/// large N". Cost `O(1)`.
pub(crate) fn pca_risk_large_n(pop: &TwoAtom) -> f64 {
    let (a, s) = (pop.a, pop.s);
    let deficit = (pop.n - pop.d) as f64 * a * s / ((a - s) * (a - s)) / pop.n_train as f64;
    s / a + (2.0 * a - 1.0) / (a * a) * deficit
}

#[cfg(test)]
mod tests {
    use crate::analytic::SpectralEquivalent;
    use crate::Setup;

    /// With little noise the excess over the floor is far below the O(1) terms of the risk: at
    /// `sigma = 1e-6` (floor `1e-12`) it is positive, decreasing in `N`, and within 5% of its
    /// first-order value `(2a - 1)/a^2 (n - d) a s/((a - s)^2 N)` from `N = 20 n` on (relative
    /// error `O(n/N)`). The cancelling form and the spill of the eigenvalue count into the signal
    /// cluster gave `1.5e-12` at `N = 75000` (50% above the floor) and `plan` a wrong `N`.
    #[test]
    fn small_noise_excess_is_smooth_and_first_order() {
        let setup = Setup::new(10, 100, 1e-6).unwrap();
        let (a, s) = (1.0 + 1e-12, 1e-12);
        let mut last = f64::INFINITY;
        for n_train in (2000..=98_000).step_by(1000) {
            let excess = SpectralEquivalent::new(&setup, n_train).unwrap().pca_risk() - s / a;
            let first =
                (2.0 * a - 1.0) / (a * a) * 90.0 * a * s / ((a - s) * (a - s) * n_train as f64);
            assert!(
                excess > 0.0 && excess < last,
                "N {n_train}: excess {excess:e} after {last:e}"
            );
            assert!(
                (excess / first - 1.0).abs() < 0.05,
                "N {n_train}: {excess:e} vs {first:e}"
            );
            last = excess;
        }
    }

    /// A noise variance below `NEGLIGIBLE_NOISE` is the noiseless model (the Python hypothesis
    /// test found PCA at risk 1 for `sigma = 2.1e-156`, `d = 1`, `n = 2`).
    #[test]
    fn negligible_noise_is_noiseless() {
        for (d, n, n_train) in [(1, 2, 4), (1, 2, 8), (10, 100, 200)] {
            let risk = |sigma| {
                let setup = Setup::new(d, n, sigma).unwrap();
                SpectralEquivalent::new(&setup, n_train).unwrap().pca_risk()
            };
            let noiseless = risk(0.0);
            for sigma in [2.1e-156, 1e-60] {
                assert!(
                    (risk(sigma) - noiseless).abs() < 1e-15,
                    "{d} {n} {n_train} {sigma}"
                );
            }
        }
    }
}
