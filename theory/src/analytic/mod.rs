//! Deterministic equivalents of the **expected** risk: no sampling.
//!
//! Derivations, assumptions and the accuracy measured against Monte Carlo: `theory/analytic.md`.
//!
//! # Reduction
//! In the basis `[U, U_perp]` the task is multi-output linear regression with inputs
//! `y ~ N(0, Sigma)`, `Sigma = diag(alpha I_d, s I_{n-d})` (`alpha = 1 + sigma^2`, `s = sigma^2`),
//! target map `B* = [I_d / alpha, 0]` and label noise `tau^2 = s / alpha` (= the floor). A spectral
//! estimator `W = X Y^T h(Y Y^T)` acts through the filter `phi(x) = x h(N x)` on the eigenvalues
//! `x` of `Sigma_hat = Y Y^T / N`; with `psi = 1 - phi`,
//!
//! ```text
//! R = floor + bias + variance,
//! bias     = 1/(d alpha^2) tr(P1 psi(Sigma_hat) Sigma psi(Sigma_hat)),
//! variance = tau^2 (1/N) tr(Sigma phi(Sigma_hat)^2 Sigma_hat^{-1}).
//! ```
//!
//! # Deterministic equivalents
//! Let `mt(z)` solve the Silverstein equation (see `population.rs`, `two_atom.rs`) and put
//! `u(z) = 1/(z mt(z))`, `e(z) = 1/(1 + alpha mt(z))`, with spectral measures `rho_u`, `rho_e`
//! (`F(z) = F(inf) + int rho_F(y)/(z - y) dy`; `rho_u` has an atom `kappa0 = 1/mt(0)` at 0 when
//! `N < n`). The first-order equivalent `(z - Sigma_hat)^{-1} ~ (1/z)(I + mt Sigma)^{-1}` gives
//! `(1/N) tr(Sigma (z - Sigma_hat)^{-1}) ~ 1 + u(z)`, hence
//!
//! ```text
//! variance = tau^2 int rho_u(y) phi(y)^2 / y dy.
//! ```
//!
//! The second-order (two-resolvent) equivalent, written with the identity
//! `1/(1 - D12/N) = (kappa1 - kappa2)/(lambda1 - lambda2)`, collapses to
//! `1/(d alpha^2) tr(P1 R(z1) Sigma R(z2)) ~ -(1/alpha^2) u(z1) u(z2) [e(z1) - e(z2)]/(z1 - z2)`,
//! and the double contour integral of `psi(z1) psi(z2)` against it is a single integral:
//!
//! ```text
//! bias = (1/alpha^2) int rho_e(x) J(x)^2 dx,
//! J(x) = -psi(x) + int rho_u(y) (psi(y) - psi(x))/(y - x) dy        (atom at 0 included).
//! ```
//!
//! For gradient descent `psi_k(x) = (1 - c x)^k` with `c = eta N`, and
//! `J_{k+1}(x) = (1 - c x) J_k(x) - c int rho_u psi_k`, `J_0 = -1`: the whole path costs
//! `O(iters * nodes)`. Ridge and min-norm least squares have closed forms in the effective
//! regularisation `kappa` (`lambda = kappa (1 - (1/N) tr(Sigma (Sigma + kappa)^{-1}))`); PCA uses
//! the limiting overlap of the top-`d` sample eigenvectors with the signal block,
//! `int_{x > q} rho_e(x)/x dx`, `q` the `d/n` upper quantile of the limiting spectrum.
//!
//! # Finite-`d` correction
//! Every risk adds the leading `O(1/N)` correction for real Gaussian data (see `finite_size.rs`,
//! `noise_block.rs`): the signal block is kept exactly, and the real Wishart eigenvalue
//! density's first correction `(1/2)[(delta_- + delta_+)/2 - arcsine]` is integrated against the
//! risk per signal eigenvalue. GD, gradient flow, filters and PCA model the noise block as a
//! Marchenko-Pastur matrix (every `N != d`); ridge and min-norm least squares replace it by its
//! mean (`N + d < n`, `N != d`).
//! [`SpectralEquivalent::proportional_limit`] gives the limit alone.

//!
//! # Modules
//! - `equivalent`: [`SpectralEquivalent`] and [`Prediction`]; `curves`: [`curve`], [`curves`];
//!   `shortcuts`: the one-call functions ([`expected_risk`], [`ridge`], ...).
//! - `population` (the population spectrum behind one trait), `two_atom` (the paper's model, a
//!   cubic), `discrete` (any discrete population, for [`crate::gaussian`]), `quadrature` (the
//!   measures on an adaptive quadrature grid), `poly` and `scalar` (root finding).
//! - The risk kernels, shared by both models: `filter` (any spectral filter, gradient flow), `gd`
//!   (the gradient-descent path and early stopping); and the subspace model's closed forms:
//!   `ridge` (ridge, least squares), `pca` (eigenvector overlaps), `finite_size` and
//!   `noise_block` (the finite-`d` correction).

mod critical;
mod curves;
pub(crate) mod discrete;
mod equivalent;
pub(crate) mod filter;
mod finite_size;
pub(crate) mod gd;
mod noise_block;
mod pca;
mod poly;
mod population;
pub(crate) mod quadrature;
mod ridge;
pub(crate) mod scalar;
mod shortcuts;
mod two_atom;

pub use curves::{curve, curve_iters, curves, CurvePoint};
pub(crate) use equivalent::check_n_train;
pub use equivalent::{Prediction, SpectralEquivalent, DEFAULT_NODES};
pub use gd::GD_ITERS;
pub use shortcuts::{
    expected_risk, floor, gd_path, gradient_flow, least_squares, pca, ridge, ridge_optimal,
};
