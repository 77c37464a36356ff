//! PCA in the subspace model: the limiting overlap of the top sample eigenvectors with the
//! signal block, and the risk of `W = U_hat U_hat^T / alpha`.

use super::finite_size::FiniteSize;
use super::quadrature::Grid;
use super::two_atom::TwoAtom;

/// Limiting `||U^T U_hat||_F^2 / d` for `U_hat` the top-`d` sample eigenvectors:
/// `int_{x > q} rho_e(x) / x dx`, `q` the `d/n` upper quantile of the limiting spectrum (the
/// quadrature cell that straddles `q` taken in proportion). Cost `O(nodes)`.
///
/// Computed as `1 - deficit`, the deficit being the `P1` mass at and below `q` (the measure
/// `rho_e / x` plus its atom at 0 has total mass exactly 1): for large `N` the overlap is
/// `1 - O(1/N)`, and summing the small deficit over the bulk keeps its relative accuracy, where
/// summing the overlap over the signal cluster (whose width shrinks like `N^{-1/2}`) loses it.
pub(crate) fn top_overlap(grid: &Grid, d: usize, n: usize, rank: usize) -> f64 {
    let (d, n) = (d as f64, n as f64);
    // Eigenvalues below the top d: rank - d of them (none when rank <= d).
    let below = (rank as f64 - d).max(0.0);
    let mut count = 0.0;
    let mut deficit = grid.atom_bias;
    for i in 0..grid.x.len() {
        let cell = n * grid.esd[i];
        let p1 = grid.we[i] / grid.x[i];
        if count + cell >= below {
            deficit += p1 * (below - count) / cell;
            break;
        }
        count += cell;
        deficit += p1;
    }
    1.0 - deficit
}

/// Training-set sizes from `LARGE_N_FACTOR * n` on use [`pca_risk_large_n`]. Its neglected term
/// is relative `O(n/N)` (measured on the eight paper setups: at most `0.1 n/N` of the excess, so
/// below 1e-4 at the switch), while above about `1e4 n` the quadrature starts losing the `O(1/N)`
/// excess to rounding (6% at d = 10, n = 1000, sigma = 0.05, N = 1e8; 0.0237 instead of 0.0099
/// at d = 10, n = 100, sigma = 0.1, N = 1e14). Test: `pca_is_stable_up_to_the_size_bound_and_refuses_beyond_it` in
/// `theory/tests/analytic_equivalents.rs`.
pub(crate) const LARGE_N_FACTOR: f64 = 1e3;

/// Expected risk of PCA, `W = U_hat U_hat^T / alpha` with `U_hat` the top `min(d, rank Y)`
/// sample eigenvectors: `1 + (1/alpha^2 - 2/alpha) o + s min(d, rank)/(d alpha^2)` with `o` the
/// [`top_overlap`], plus the finite-`d` correction where it applies; for
/// `N >= LARGE_N_FACTOR * n`, [`pca_risk_large_n`]. Cost `O(nodes)`.
pub(crate) fn pca_risk(pop: &TwoAtom, grid: &Grid, finite: Option<&FiniteSize>) -> f64 {
    if pop.n_train as f64 >= LARGE_N_FACTOR * pop.n as f64 {
        return pca_risk_large_n(pop);
    }
    let overlap = top_overlap(grid, pop.d, pop.n, pop.sample_rank());
    let kept = pop.d.min(pop.sample_rank());
    let (a, d) = (pop.a, pop.d as f64);
    let correction = finite.map_or(0.0, FiniteSize::pca);
    1.0 + (1.0 / (a * a) - 2.0 / a) * overlap + pop.s * kept as f64 / (d * a * a) + correction
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
