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
//! Let `mt(z)` solve the Silverstein equation (see `silverstein.rs`) and put
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
//! Every risk (GD, gradient flow, ridge, min-norm least squares, PCA) adds the leading
//! `O(1/N)` correction for real Gaussian data where `N + d < n`, `N != d` (see `finite_size.rs`):
//! the signal block is kept exactly and the noise block replaced by its mean, and the real
//! Wishart eigenvalue density's first correction
//! `(1/2)[(delta_- + delta_+)/2 - arcsine]` is integrated against the risk per signal eigenvalue.
//! [`SpectralEquivalent::proportional_limit`] gives the limit alone.

mod finite_size;
pub(crate) mod general;
mod silverstein;

use rayon::prelude::*;

use crate::{Estimator, Setup, StepSize, TheoryError};
use finite_size::FiniteSize;
pub(crate) use silverstein::bisect;
use silverstein::{Grid, Population};

/// Largest gradient-descent iteration considered for early stopping (as in the paper and the
/// Monte Carlo engine).
pub const GD_ITERS: usize = crate::montecarlo::DEFAULT_ITERS;

/// Initial quadrature nodes per support interval; the grid doubles them until the measures'
/// total masses (known in closed form) are exact to 1e-11. Doubling the converged grid moves no
/// paper-setup prediction by more than 1e-6 of the excess risk
/// (`theory/tests/analytic_equivalents.rs`).
pub const DEFAULT_NODES: usize = 64;

/// Accumulator lanes of the GD-path loop (a multiple of the SIMD width).
const LANES: usize = 8;

/// A predicted expected risk.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Prediction {
    /// Expected risk (normalised as `R(W)`); `None` when the expectation is infinite
    /// (least squares at `N` in `{n - 1, n, n + 1}`).
    pub risk: Option<f64>,
    /// Predicted optimal stopping iteration (gradient descent only).
    pub k_opt: Option<f64>,
}

impl Prediction {
    fn finite(risk: f64) -> Self {
        Self {
            risk: Some(risk),
            k_opt: None,
        }
    }
}

/// One point of an analytic learning curve.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CurvePoint {
    /// Training-set size `N`.
    pub n_train: usize,
    /// The estimator.
    pub estimator: Estimator,
    /// Its predicted expected risk.
    pub prediction: Prediction,
}

/// The deterministic equivalent of one `(setup, N)`: the limiting spectral measures on a
/// quadrature grid. Build once, then evaluate any filter, the whole GD path, PCA or ridge.
///
/// Construction costs `O(nodes)` cubic solves (Newton continuation, well under a microsecond
/// each), and a few doublings where the two spectral clusters nearly touch.
#[derive(Clone, Debug)]
pub struct SpectralEquivalent {
    setup: Setup,
    n_train: usize,
    pop: Population,
    grid: Grid,
    finite: Option<FiniteSize>,
}

impl SpectralEquivalent {
    /// The equivalent with at least [`DEFAULT_NODES`] nodes per support interval (doubled
    /// until the quadrature reproduces the measures' exact masses).
    ///
    /// # Errors
    /// [`TheoryError::InvalidArgument`] when `n_train == 0`.
    pub fn new(setup: &Setup, n_train: usize) -> Result<Self, TheoryError> {
        Self::with_nodes(setup, n_train, DEFAULT_NODES)
    }

    /// The equivalent with at least `nodes` quadrature nodes per support interval
    /// (`nodes >= 8`; doubled adaptively as in [`Self::new`]).
    ///
    /// # Errors
    /// [`TheoryError::InvalidArgument`] when `n_train == 0` or `nodes < 8`.
    pub fn with_nodes(setup: &Setup, n_train: usize, nodes: usize) -> Result<Self, TheoryError> {
        check_n_train(n_train)?;
        if nodes < 8 {
            return Err(TheoryError::InvalidArgument(format!(
                "at least 8 quadrature nodes are needed, got {nodes}"
            )));
        }
        let pop = Population::new(setup.d(), setup.n(), setup.sigma2(), n_train);
        let grid = Grid::adaptive(&pop, nodes);
        Ok(Self {
            setup: *setup,
            n_train,
            pop,
            grid,
            finite: finite_size(setup, n_train),
        })
    }

    /// The proportional limit alone, without the finite-`d` correction (which every risk of
    /// [`Self::new`] includes where it applies: see [`Self::has_finite_size_correction`]).
    pub fn proportional_limit(mut self) -> Self {
        self.finite = None;
        self
    }

    /// Whether the risks include the leading finite-`d` correction for real Gaussian data
    /// (`theory/analytic.md`, section 8): for `N + d < n` and `N != d` (every `N != d` without
    /// noise).
    pub fn has_finite_size_correction(&self) -> bool {
        self.finite.is_some()
    }

    /// The support intervals of the limiting spectrum of `Y Y^T / N` (excluding the atom at 0).
    pub fn support(&self) -> &[(f64, f64)] {
        &self.grid.support
    }

    /// `kappa0 = 1 / mt(0)`, the effective ridge of the min-norm interpolator, when `N < n`.
    pub fn kappa0(&self) -> Option<f64> {
        self.grid.kappa0
    }

    /// Masses of the discretised measures `(esd + atom, rho_u + atom, rho_e, P1 measure)`; they
    /// should be `(1, tr(Sigma)/N, alpha, 1)` up to quadrature error. For tests.
    pub fn masses(&self) -> (f64, f64, f64, f64) {
        let g = &self.grid;
        let atom_esd = 1.0 - self.pop.sample_rank() as f64 / self.setup.n() as f64;
        (
            g.esd.iter().sum::<f64>() + atom_esd,
            g.wu.iter().sum::<f64>() + g.atom_u,
            g.we.iter().sum::<f64>(),
            g.we.iter().zip(&g.x).map(|(w, x)| w / x).sum::<f64>() + g.atom_p1,
        )
    }

    /// The discretised limiting measures.
    fn measures(&self) -> Measures<'_> {
        let g = &self.grid;
        Measures {
            x: &g.x,
            we: &g.we,
            wu: &g.wu,
            atom_u: g.atom_u,
        }
    }

    /// Expected risk of gradient descent after `k = 0..=iters` steps of size `eta` (`path[0] = 1`).
    ///
    /// Cost `O(iters * nodes)`, one fused pass over the nodes per step.
    pub fn gd_path(&self, eta: f64, iters: usize) -> Vec<f64> {
        self.gd_path_until(eta, iters, false)
    }

    /// The GD path; with `stop_early`, it ends as soon as no later iterate can beat the best one
    /// so far (see [`gd_path_on`]).
    fn gd_path_until(&self, eta: f64, iters: usize, stop_early: bool) -> Vec<f64> {
        let c = eta * self.n_train as f64;
        let correction = self
            .finite
            .as_ref()
            .map_or_else(Vec::new, |f| f.gd_path(c, iters + 1));
        gd_path_on(
            self.measures(),
            c,
            self.setup.floor(),
            1.0 / (self.pop.a * self.pop.a),
            iters,
            &correction,
            stop_early,
        )
    }

    /// Expected risk of the spectral estimator with residual filter `psi = 1 - phi`, given as
    /// `psi` and its divided difference `dd(y, x) = (psi(y) - psi(x)) / (y - x)` (with
    /// `dd(x, x) = psi'(x)`). `psi` must be analytic on a neighbourhood of the spectrum
    /// (including 0); `phi(0) = 0` is assumed for the variance.
    ///
    /// Cost `O(nodes^2)`.
    pub fn filter_risk(&self, psi: impl Fn(f64) -> f64, dd: impl Fn(f64, f64) -> f64) -> f64 {
        let correction = self
            .finite
            .as_ref()
            .map_or(0.0, |f| f.filter(|x| 1.0 - psi(x)));
        correction
            + filter_risk_on(
                self.measures(),
                self.setup.floor(),
                1.0 / (self.pop.a * self.pop.a),
                psi,
                dd,
            )
    }

    /// Expected risk of gradient flow `dW/dt = -grad (L / N)` at time `t` (`psi = exp(-t x)`;
    /// GD with step `eta` after `k` steps is close to `t = eta N k`). Cost `O(nodes^2)`.
    pub fn gradient_flow(&self, t: f64) -> f64 {
        self.filter_risk(|x| (-t * x).exp(), |y, x| exp_divided_difference(t, y, x))
    }

    /// Expected risk of PCA, `W = U_hat U_hat^T / alpha` with `U_hat` the top `min(d, rank Y)`
    /// sample eigenvectors: `1 + (1/alpha^2 - 2/alpha) o + s min(d, rank)/(d alpha^2)` with `o` the
    /// limiting mean squared overlap `||U^T U_hat||_F^2 / d`. Cost `O(nodes)`.
    pub fn pca_risk(&self) -> f64 {
        let g = &self.grid;
        let (d, n) = (self.setup.d() as f64, self.setup.n() as f64);
        let rank = self.pop.sample_rank();
        let kept = self.setup.d().min(rank);
        // Walk down from the largest eigenvalue until d eigenvalues (n * esd mass) are taken.
        let mut count = 0.0;
        let mut overlap = 0.0;
        for i in (0..g.x.len()).rev() {
            let cell = n * g.esd[i];
            let p1 = g.we[i] / g.x[i];
            if count + cell >= d {
                overlap += p1 * (d - count) / cell;
                break;
            }
            count += cell;
            overlap += p1;
        }
        let a = self.pop.a;
        let correction = self.finite.as_ref().map_or(0.0, FiniteSize::pca);
        1.0 + (1.0 / (a * a) - 2.0 / a) * overlap
            + self.setup.sigma2() * kept as f64 / (d * a * a)
            + correction
    }

    /// Deterministic equivalent of ridge `W = X Y^T (Y Y^T + N lambda I)^{-1}` (closed form in
    /// the effective regularisation `kappa`); `lambda = 0` is min-norm least squares, whose
    /// equivalent is finite for `N != n` (the exact expectation is used by [`least_squares`]).
    ///
    /// `bias = kappa^2 / (alpha (alpha + kappa)^2 (1 - D/N))`, `variance = tau^2 (D/N)/(1 - D/N)`,
    /// `D = tr(Sigma^2 (Sigma + kappa)^{-2})`. Returns `None` for `lambda = 0` at `N = n`.
    pub fn ridge_risk(&self, lambda: f64) -> Option<f64> {
        let kappa = if lambda > 0.0 {
            effective_ridge(&self.pop, lambda)
        } else {
            self.grid.kappa0.unwrap_or(0.0)
        };
        // Interpolation threshold: D = N, the variance diverges (unless there is no noise).
        if kappa == 0.0 && self.pop.pop_rank() == self.n_train && self.setup.floor() > 0.0 {
            return None;
        }
        let correction = self
            .finite
            .as_ref()
            .map_or(0.0, |f| ridge_correction(f, lambda));
        Some(ridge_at_kappa(&self.setup, &self.pop, kappa) + correction)
    }

    /// Predicted expected risk of `estimator` (gradient descent: the minimum over
    /// `k <= GD_ITERS` of the predicted path, with its argmin as `k_opt`).
    pub fn predict(&self, estimator: Estimator, step: StepSize) -> Prediction {
        match estimator {
            Estimator::Optimal => Prediction::finite(self.setup.floor()),
            Estimator::Pca => Prediction::finite(self.pca_risk()),
            Estimator::LeastSquares => Prediction {
                risk: least_squares_from(self),
                k_opt: None,
            },
            Estimator::GdEarlyStopped => {
                let path = self.gd_path_until(step.eta(&self.setup, self.n_train), GD_ITERS, true);
                let (k, r) = argmin(&path);
                Prediction {
                    risk: Some(r),
                    k_opt: Some(k as f64),
                }
            }
        }
    }
}

/// The discretised measures the risk of a spectral filter needs: nodes `x`, the bias measure
/// `we` (`rho_e`, or `rho_E` of the general model), `rho_u` as `wu` and its atom at 0.
#[derive(Clone, Copy)]
pub(crate) struct Measures<'a> {
    pub x: &'a [f64],
    pub we: &'a [f64],
    pub wu: &'a [f64],
    pub atom_u: f64,
}

/// Expected risk of gradient descent with `c = eta N` after `k = 0..=iters` steps:
/// `floor + bias_scale int rho_e J_k^2 + floor int rho_u phi_k^2 / x + offset_k` (`offset`:
/// empty, or one term per step, e.g. the finite-`d` correction). With `stop_early`, the path
/// ends as soon as no later iterate can beat the best one so far: when every node has
/// `0 <= c x <= 1`, `phi_k` and hence the variance are non-decreasing in `k`, and
/// `R_j >= floor + var_j + offset_j >= floor + var_k + min_{i >= k} offset_i` for `j >= k`.
///
/// Cost `O(iters * nodes)`, one fused pass over the nodes per step.
pub(crate) fn gd_path_on(
    m: Measures<'_>,
    c: f64,
    floor: f64,
    bias_scale: f64,
    iters: usize,
    offset: &[f64],
    stop_early: bool,
) -> Vec<f64> {
    debug_assert!(offset.is_empty() || offset.len() == iters + 1);
    let monotone = m.x.iter().all(|&x| (0.0..=1.0).contains(&(c * x)));
    let offset_at = |k: usize| offset.get(k).copied().unwrap_or(0.0);
    // Suffix minima of the offset, for the early-exit bound.
    let mut offset_floor = vec![0.0; offset.len()];
    let mut low = f64::INFINITY;
    for k in (0..offset.len()).rev() {
        low = low.min(offset[k]);
        offset_floor[k] = low;
    }
    // Blocks of LANES nodes, padded with zero weights, so that the loop vectorises.
    let block = |v: &[f64], fill: f64| -> Vec<[f64; LANES]> {
        v.chunks(LANES)
            .map(|ch| std::array::from_fn(|l| ch.get(l).copied().unwrap_or(fill)))
            .collect()
    };
    let x = block(m.x, 1.0);
    let we = block(m.we, 0.0);
    let wu = block(m.wu, 0.0);
    // The variance weight tau^2 rho_u / x.
    let wv: Vec<[f64; LANES]> = wu
        .iter()
        .zip(&x)
        .map(|(w, x)| std::array::from_fn(|l| floor * w[l] / x[l]))
        .collect();
    let cx: Vec<[f64; LANES]> = x.iter().map(|x| x.map(|x| c * x)).collect();
    let blocks = x.len();
    // psi_k = (1 - c x)^k; phi_k = 1 - psi_k, tracked separately to avoid cancellation.
    // J_k(x) = G_k(x) + beta_k with G_{k+1} = (1 - c x) G_k - c x beta_k and
    // beta_{k+1} = beta_k - c M_k, M_k = int rho_u psi_k (atom included): the same recursion
    // as J_{k+1} = (1 - c x) J_k - c M_k, but one pass per step.
    let mut psi = vec![[1.0; LANES]; blocks];
    let mut phi = vec![[0.0; LANES]; blocks];
    let mut gk = vec![[0.0; LANES]; blocks];
    let mut beta = -1.0;
    let mut best = f64::INFINITY;
    let mut path = Vec::with_capacity(iters + 1);
    for k in 0..=iters {
        let [bias, var, moment] = sweep(
            Blocks {
                we: &we,
                wv: &wv,
                wu: &wu,
                cx: &cx,
            },
            &mut gk,
            &mut phi,
            &mut psi,
            beta,
        );
        let risk = floor + bias_scale * bias + var + offset_at(k);
        path.push(risk);
        best = best.min(risk);
        let later_offset = offset_floor.get(k).copied().unwrap_or(0.0);
        if stop_early && monotone && floor + var + later_offset > best {
            break;
        }
        beta -= c * (moment + m.atom_u);
    }
    path
}

/// `floor + bias_scale int rho_e J^2 + floor int rho_u phi^2 / x` for the residual filter `psi`
/// with divided difference `dd` (see [`SpectralEquivalent::filter_risk`]). Cost `O(nodes^2)`.
pub(crate) fn filter_risk_on(
    m: Measures<'_>,
    floor: f64,
    bias_scale: f64,
    psi: impl Fn(f64) -> f64,
    dd: impl Fn(f64, f64) -> f64,
) -> f64 {
    let psi_x: Vec<f64> = m.x.iter().map(|&x| psi(x)).collect();
    let mut bias = 0.0;
    let mut var = 0.0;
    for (j, &xj) in m.x.iter().enumerate() {
        let mut jj = -psi_x[j] + m.atom_u * dd(0.0, xj);
        for (i, &xi) in m.x.iter().enumerate() {
            jj += m.wu[i] * dd(xi, xj);
        }
        bias += m.we[j] * jj * jj;
        let phi = 1.0 - psi_x[j];
        var += m.wu[j] * phi * phi / xj;
    }
    floor + bias_scale * bias + floor * var
}

/// `(exp(-t y) - exp(-t x)) / (y - x)`, and `-t exp(-t x)` at `y = x`: the divided difference of
/// the gradient-flow residual filter, without cancellation.
pub(crate) fn exp_divided_difference(t: f64, y: f64, x: f64) -> f64 {
    let h = y - x;
    if h == 0.0 {
        -t * (-t * x).exp()
    } else {
        (-t * x).exp() * (-t * h).exp_m1() / h
    }
}

/// Read-only per-node data of the GD-path loop, in blocks of `LANES`.
#[derive(Clone, Copy)]
struct Blocks<'a> {
    we: &'a [[f64; LANES]],
    wv: &'a [[f64; LANES]],
    wu: &'a [[f64; LANES]],
    cx: &'a [[f64; LANES]],
}

/// One GD step over all nodes: returns `(int rho_e J_k^2, variance_k, M_k without atom)` and
/// advances `G`, `phi`, `psi` to `k + 1`. Dispatches to an AVX2+FMA build of the same loop when
/// the CPU has it (the default target only guarantees SSE2); the results differ only by FMA
/// rounding.
fn sweep(
    b: Blocks<'_>,
    gk: &mut [[f64; LANES]],
    phi: &mut [[f64; LANES]],
    psi: &mut [[f64; LANES]],
    beta: f64,
) -> [f64; 3] {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            // SAFETY: the features this function is compiled for were detected at run time.
            return unsafe { sweep_avx2(b, gk, phi, psi, beta) };
        }
    }
    sweep_body(b, gk, phi, psi, beta)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn sweep_avx2(
    b: Blocks<'_>,
    gk: &mut [[f64; LANES]],
    phi: &mut [[f64; LANES]],
    psi: &mut [[f64; LANES]],
    beta: f64,
) -> [f64; 3] {
    sweep_body(b, gk, phi, psi, beta)
}

#[inline(always)]
fn sweep_body(
    b: Blocks<'_>,
    gk: &mut [[f64; LANES]],
    phi: &mut [[f64; LANES]],
    psi: &mut [[f64; LANES]],
    beta: f64,
) -> [f64; 3] {
    let (mut ab, mut av, mut am) = ([0.0; LANES], [0.0; LANES], [0.0; LANES]);
    let rows = gk.iter_mut().zip(phi.iter_mut()).zip(psi.iter_mut());
    let data = b.we.iter().zip(b.wv).zip(b.wu).zip(b.cx);
    for (((gb, pb), qb), (((web, wvb), wub), cxb)) in rows.zip(data) {
        for l in 0..LANES {
            let j = gb[l] + beta;
            ab[l] += web[l] * j * j;
            av[l] += wvb[l] * pb[l] * pb[l];
            am[l] += wub[l] * qb[l];
            gb[l] -= cxb[l] * j;
            pb[l] += cxb[l] * qb[l];
            // Flush to zero long before subnormals, which are ~100x slower on x86.
            let q = qb[l] - cxb[l] * qb[l];
            qb[l] = if q.abs() < 1e-200 { 0.0 } else { q };
        }
    }
    [ab.iter().sum(), av.iter().sum(), am.iter().sum()]
}

fn check_n_train(n_train: usize) -> Result<(), TheoryError> {
    if n_train == 0 {
        return Err(TheoryError::InvalidArgument(
            "training-set size N must be at least 1".into(),
        ));
    }
    Ok(())
}

/// First index of the smallest finite entry.
fn argmin(path: &[f64]) -> (usize, f64) {
    let mut best = (0, f64::INFINITY);
    for (k, &r) in path.iter().enumerate() {
        if r < best.1 {
            best = (k, r);
        }
    }
    best
}

/// `kappa > 0` with `kappa (1 - c1 a/(a + kappa) - c2 s/(s + kappa)) = lambda` (unique: the
/// left side is convex in `kappa`, 0 at 0, and grows without bound).
fn effective_ridge(pop: &Population, lambda: f64) -> f64 {
    let g =
        |k: f64| k * (1.0 - pop.c1 * pop.a / (pop.a + k) - pop.c2 * pop.s / (pop.s + k)) - lambda;
    bisect(g, lambda, lambda + pop.trace_over_n())
}

fn least_squares_from(eq: &SpectralEquivalent) -> Option<f64> {
    let (n, nt, s) = (eq.setup.n(), eq.n_train, eq.setup.sigma2());
    if s > 0.0 && nt + 1 >= n && nt <= n + 1 {
        return None;
    }
    if s > 0.0 && nt > n + 1 {
        // Exact: E tr(Sigma (Y Y^T)^{-1}) = n / (N - n - 1) (inverse Wishart), no bias.
        return Some(eq.setup.floor() * (nt - 1) as f64 / (nt - n - 1) as f64);
    }
    eq.ridge_risk(0.0)
}

/// Predicted expected risk of `estimator` trained on `n_train` examples.
///
/// # Errors
/// [`TheoryError::InvalidArgument`] for `n_train == 0` or a non-positive step.
pub fn expected_risk(
    setup: &Setup,
    n_train: usize,
    estimator: Estimator,
    step: StepSize,
) -> Result<Prediction, TheoryError> {
    step.validate()?;
    if estimator == Estimator::Optimal {
        check_n_train(n_train)?;
        return Ok(Prediction::finite(setup.floor()));
    }
    Ok(SpectralEquivalent::new(setup, n_train)?.predict(estimator, step))
}

/// All four estimators at every `N` of `train_sizes`, one spectral solve per `N`, in parallel.
/// Ordered by size then [`Estimator::ALL`].
///
/// # Errors
/// As [`expected_risk`].
pub fn curve(
    setup: &Setup,
    train_sizes: &[usize],
    step: StepSize,
) -> Result<Vec<CurvePoint>, TheoryError> {
    step.validate()?;
    let per_size: Result<Vec<Vec<CurvePoint>>, TheoryError> = train_sizes
        .par_iter()
        .map(|&n_train| {
            let eq = SpectralEquivalent::new(setup, n_train)?;
            Ok(Estimator::ALL
                .iter()
                .map(|&estimator| CurvePoint {
                    n_train,
                    estimator,
                    prediction: eq.predict(estimator, step),
                })
                .collect())
        })
        .collect();
    Ok(per_size?.into_iter().flatten().collect())
}

/// [`curve`] for several setups over their paper grids ([`Setup::default_train_sizes`]), with
/// all `(setup, N)` pairs spread over the rayon pool at once (better balanced than one setup at
/// a time). One curve per setup, in the order given.
///
/// # Errors
/// As [`expected_risk`].
pub fn curves(setups: &[Setup], step: StepSize) -> Result<Vec<Vec<CurvePoint>>, TheoryError> {
    step.validate()?;
    let tasks: Vec<(usize, usize)> = setups
        .iter()
        .enumerate()
        .flat_map(|(i, s)| s.default_train_sizes().into_iter().map(move |n| (i, n)))
        .collect();
    let points: Vec<Vec<CurvePoint>> = tasks
        .par_iter()
        .map(|&(i, n_train)| {
            let eq = SpectralEquivalent::new(&setups[i], n_train)?;
            Ok(Estimator::ALL
                .iter()
                .map(|&estimator| CurvePoint {
                    n_train,
                    estimator,
                    prediction: eq.predict(estimator, step),
                })
                .collect())
        })
        .collect::<Result<_, TheoryError>>()?;
    let mut out = vec![Vec::new(); setups.len()];
    for (&(i, _), p) in tasks.iter().zip(points) {
        out[i].extend(p);
    }
    Ok(out)
}

/// Predicted expected risk of gradient descent for `k = 0..=iters` (`path[0] = 1`).
///
/// # Errors
/// As [`expected_risk`].
pub fn gd_path(
    setup: &Setup,
    n_train: usize,
    step: StepSize,
    iters: usize,
) -> Result<Vec<f64>, TheoryError> {
    step.validate()?;
    Ok(SpectralEquivalent::new(setup, n_train)?.gd_path(step.eta(setup, n_train), iters))
}

/// Predicted expected risk of gradient flow at time `t >= 0` (in units where GD with step
/// `eta` after `k` steps is `t ~ eta N k`).
///
/// # Errors
/// [`TheoryError::InvalidArgument`] for `n_train == 0` or `t` negative or not finite.
pub fn gradient_flow(setup: &Setup, n_train: usize, t: f64) -> Result<f64, TheoryError> {
    if !(t.is_finite() && t >= 0.0) {
        return Err(TheoryError::InvalidArgument(format!(
            "time must be finite and non-negative, got {t}"
        )));
    }
    Ok(SpectralEquivalent::new(setup, n_train)?.gradient_flow(t))
}

/// Predicted expected risk of ridge `W = X Y^T (Y Y^T + N lambda I)^{-1}` (the minimiser of
/// `||W Y - X||_F^2 / (2N) + lambda ||W||_F^2 / 2`), `lambda > 0`. Cost: one scalar root.
///
/// # Errors
/// [`TheoryError::InvalidArgument`] for `n_train == 0` or `lambda` not finite and positive.
pub fn ridge(setup: &Setup, n_train: usize, lambda: f64) -> Result<f64, TheoryError> {
    check_n_train(n_train)?;
    if !(lambda.is_finite() && lambda > 0.0) {
        return Err(TheoryError::InvalidArgument(format!(
            "ridge penalty must be finite and positive, got {lambda}"
        )));
    }
    let pop = Population::new(setup.d(), setup.n(), setup.sigma2(), n_train);
    Ok(ridge_closed_form(
        setup,
        &pop,
        finite_size(setup, n_train).as_ref(),
        lambda,
    ))
}

/// The finite-`d` correction for `(setup, N)`, where it applies.
fn finite_size(setup: &Setup, n_train: usize) -> Option<FiniteSize> {
    FiniteSize::new(setup.d(), setup.n(), setup.sigma2(), n_train)
}

/// The correction of ridge with penalty `lambda >= 0` (filter `x/(x + lambda)`; `1` off 0 for
/// `lambda = 0`).
fn ridge_correction(f: &FiniteSize, lambda: f64) -> f64 {
    f.filter(|x| x / (x + lambda))
}

fn ridge_closed_form(
    setup: &Setup,
    pop: &Population,
    finite: Option<&FiniteSize>,
    lambda: f64,
) -> f64 {
    let correction = finite.map_or(0.0, |f| ridge_correction(f, lambda));
    ridge_at_kappa(setup, pop, effective_ridge(pop, lambda)) + correction
}

/// Ridge risk at effective regularisation `kappa`:
/// `floor + kappa^2 / (alpha (alpha + kappa)^2 (1 - D/N)) + tau^2 (D/N) / (1 - D/N)`,
/// `D = tr(Sigma^2 (Sigma + kappa)^{-2})`.
fn ridge_at_kappa(setup: &Setup, pop: &Population, kappa: f64) -> f64 {
    let (a, s) = (pop.a, pop.s);
    let dn =
        pop.c1 * a * a / ((a + kappa) * (a + kappa)) + pop.c2 * s * s / ((s + kappa) * (s + kappa));
    // sigma = 0 at N >= d: exact recovery (kappa = 0, no noise); avoid 0/0.
    let bias = if kappa > 0.0 {
        kappa * kappa / (a * (a + kappa) * (a + kappa) * (1.0 - dn))
    } else {
        0.0
    };
    let floor = setup.floor();
    let var = if floor > 0.0 {
        floor * dn / (1.0 - dn)
    } else {
        0.0
    };
    floor + bias + var
}

/// The optimally tuned ridge: `(lambda_opt, risk)`, minimising the deterministic equivalent over
/// `lambda in [1e-10, 1e4]` (log grid, then golden section).
///
/// # Errors
/// [`TheoryError::InvalidArgument`] for `n_train == 0`.
pub fn ridge_optimal(setup: &Setup, n_train: usize) -> Result<(f64, f64), TheoryError> {
    check_n_train(n_train)?;
    let pop = Population::new(setup.d(), setup.n(), setup.sigma2(), n_train);
    let finite = finite_size(setup, n_train);
    let f = |log_l: f64| ridge_closed_form(setup, &pop, finite.as_ref(), log_l.exp());
    let (x, r) = minimise_log(f, 1e-10f64.ln(), 1e4f64.ln());
    Ok((x.exp(), r))
}

/// Minimises `f` over `[lo, hi]`: the best of 141 equally spaced points, refined by golden
/// section within one grid step of it. For the smooth, unimodal-near-the-minimum risk curves in
/// `log lambda` of ridge. Returns `(argmin, min)`.
pub(crate) fn minimise_log(f: impl Fn(f64) -> f64, lo: f64, hi: f64) -> (f64, f64) {
    let steps = 140;
    let h = (hi - lo) / steps as f64;
    let best = (0..=steps)
        .map(|i| lo + h * i as f64)
        .min_by(|p, q| f(*p).total_cmp(&f(*q)))
        .unwrap_or(lo);
    let (mut l, mut r) = ((best - h).max(lo), (best + h).min(hi));
    let gr = 0.5 * (5f64.sqrt() - 1.0);
    for _ in 0..80 {
        let (m1, m2) = (r - gr * (r - l), l + gr * (r - l));
        if f(m1) < f(m2) {
            r = m2;
        } else {
            l = m1;
        }
    }
    let x = 0.5 * (l + r);
    (x, f(x))
}

/// Expected risk of min-norm least squares `W_inf = X pinv(Y)`: exact
/// `floor (N - 1)/(N - n - 1)` for `N > n + 1`, `None` (infinite) for `N in {n-1, n, n+1}`, the
/// deterministic equivalent for `N < n - 1` (`sigma > 0`; with `sigma = 0` the equivalent at
/// every `N != n`).
///
/// # Errors
/// [`TheoryError::InvalidArgument`] for `n_train == 0`.
pub fn least_squares(setup: &Setup, n_train: usize) -> Result<Option<f64>, TheoryError> {
    Ok(least_squares_from(&SpectralEquivalent::new(
        setup, n_train,
    )?))
}

/// Expected risk of PCA (see [`SpectralEquivalent::pca_risk`]).
///
/// # Errors
/// [`TheoryError::InvalidArgument`] for `n_train == 0`.
pub fn pca(setup: &Setup, n_train: usize) -> Result<f64, TheoryError> {
    Ok(SpectralEquivalent::new(setup, n_train)?.pca_risk())
}

/// The error floor `sigma^2 / (1 + sigma^2)`: the risk of the optimal estimator, and the limit of
/// every consistent estimator as `N -> infinity`.
pub fn floor(setup: &Setup) -> f64 {
    setup.floor()
}
