//! PCA in the subspace model: the limiting overlap of the top sample eigenvectors with the
//! signal block, and the risk of `W = U_hat U_hat^T / alpha`.

use super::finite_size::FiniteSize;
use super::quadrature::Grid;
use super::two_atom::TwoAtom;

/// Limiting `||U^T U_hat||_F^2 / d` for `U_hat` the top-`d` sample eigenvectors:
/// `int_{x > q} rho_e(x) / x dx`, `q` the `d/n` upper quantile of the limiting spectrum (the
/// quadrature cell that straddles `q` taken in proportion). Cost `O(nodes)`.
pub(crate) fn top_overlap(grid: &Grid, d: usize, n: usize) -> f64 {
    let (d, n) = (d as f64, n as f64);
    // Walk down from the largest eigenvalue until d eigenvalues (n * esd mass) are taken.
    let mut count = 0.0;
    let mut overlap = 0.0;
    for i in (0..grid.x.len()).rev() {
        let cell = n * grid.esd[i];
        let p1 = grid.we[i] / grid.x[i];
        if count + cell >= d {
            overlap += p1 * (d - count) / cell;
            break;
        }
        count += cell;
        overlap += p1;
    }
    overlap
}

/// Expected risk of PCA, `W = U_hat U_hat^T / alpha` with `U_hat` the top `min(d, rank Y)`
/// sample eigenvectors: `1 + (1/alpha^2 - 2/alpha) o + s min(d, rank)/(d alpha^2)` with `o` the
/// [`top_overlap`], plus the finite-`d` correction where it applies. Cost `O(nodes)`.
pub(crate) fn pca_risk(pop: &TwoAtom, grid: &Grid, finite: Option<&FiniteSize>) -> f64 {
    let overlap = top_overlap(grid, pop.d, pop.n);
    let kept = pop.d.min(pop.sample_rank());
    let (a, d) = (pop.a, pop.d as f64);
    let correction = finite.map_or(0.0, FiniteSize::pca);
    1.0 + (1.0 / (a * a) - 2.0 / a) * overlap + pop.s * kept as f64 / (d * a * a) + correction
}
