//! [`SpectralEquivalent`]: the deterministic equivalent of one `(setup, N)` of the subspace
//! model, and the [`Prediction`] of one estimator from it.

use super::filter::{exp_divided_difference, RiskKernel};
use super::finite_size::{FiniteSize, BULK_NODES};
use super::gd::{best_iterate, GD_ITERS};
use super::noise_block::NoiseModel;
use super::pca::pca_risk;
use super::quadrature::Grid;
use super::ridge::{
    effective_ridge, least_squares_exact, min_norm_real_term, ridge_at_kappa, ridge_correction,
};
use super::two_atom::TwoAtom;
use crate::{Estimator, Setup, StepSize, TheoryError};

/// Initial quadrature nodes per support interval; the grid doubles them until the measures'
/// total masses (known in closed form) are exact to 1e-11. Doubling the converged grid moves no
/// paper-setup prediction by more than 1e-6 of the excess risk
/// (`theory/tests/analytic_equivalents.rs`).
pub const DEFAULT_NODES: usize = 64;

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
    pub(crate) fn finite(risk: f64) -> Self {
        Self {
            risk: Some(risk),
            k_opt: None,
        }
    }
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
    pop: TwoAtom,
    grid: Grid,
    finite: Option<FiniteSize>,
    /// Section 8's correction with the flat noise block (`N + d < n`), for ridge and min-norm
    /// least squares, whose degrees-of-freedom term (section 6) is built on it.
    finite_flat: Option<FiniteSize>,
    /// Whether least squares below the threshold carries the real-Gaussian degrees-of-freedom
    /// term ([`min_norm_real_term`]); off in [`Self::proportional_limit`].
    real_gaussian: bool,
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
        let pop = two_atom(setup, n_train);
        let grid = Grid::adaptive(&pop, nodes);
        Ok(Self {
            setup: *setup,
            n_train,
            pop,
            grid,
            finite: finite_size(setup, n_train),
            finite_flat: finite_size_flat(setup, n_train),
            real_gaussian: true,
        })
    }

    /// The proportional limit alone, without the finite-`d` correction (which every risk of
    /// [`Self::new`] includes where it applies: see [`Self::has_finite_size_correction`]) nor the
    /// real-Gaussian term of least squares below the threshold.
    pub fn proportional_limit(mut self) -> Self {
        self.finite = None;
        self.finite_flat = None;
        self.real_gaussian = false;
        self
    }

    /// Whether the risks include the leading finite-`d` correction for real Gaussian data
    /// (`theory/analytic.md`, sections 8 and 8b): every `N != d` whose smallest signal
    /// eigenvalue clears the noise bulk (least squares: `N + d < n`).
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
        let (esd, u, e, p1) = self.grid.masses();
        let atom_esd = 1.0 - self.pop.sample_rank() as f64 / self.setup.n() as f64;
        (esd + atom_esd, u, e, p1)
    }

    /// The risk kernel of the proportional limit (without the finite-`d` correction).
    fn kernel(&self) -> RiskKernel<'_> {
        RiskKernel {
            measures: self.grid.measures(),
            floor: self.setup.floor(),
            bias_scale: 1.0 / (self.pop.a * self.pop.a),
        }
    }

    /// Expected risk of gradient descent after `k = 0..=iters` steps of size `eta` (`path[0] = 1`).
    ///
    /// Cost `O(iters * nodes)`, one fused pass over the nodes per step.
    pub fn gd_path(&self, eta: f64, iters: usize) -> Vec<f64> {
        self.gd_path_until(eta, iters, false)
    }

    /// The GD path; with `stop_early`, it ends as soon as no later iterate can beat the best one
    /// so far (see `RiskKernel::gd_path`).
    fn gd_path_until(&self, eta: f64, iters: usize, stop_early: bool) -> Vec<f64> {
        let c = eta * self.n_train as f64;
        let correction = self
            .finite
            .as_ref()
            .map_or_else(Vec::new, |f| f.gd_path(c, iters + 1));
        self.kernel().gd_path(c, iters, &correction, stop_early)
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
        correction + self.kernel().filter(psi, dd)
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
        pca_risk(&self.pop, &self.grid, self.finite.as_ref())
    }

    /// Deterministic equivalent of ridge `W = X Y^T (Y Y^T + N lambda I)^{-1}` (closed form in
    /// the effective regularisation `kappa`); `lambda = 0` is min-norm least squares, whose
    /// equivalent is finite for `N != n` (the exact expectation is used by
    /// [`least_squares`](super::least_squares)).
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
        // Ridge and min-norm keep section 8's flat block: section 6's term is built on it, and
        // ridge must tend to min-norm as lambda -> 0 (test `min_norm_is_ridgeless_limit`).
        let correction = self
            .finite_flat
            .as_ref()
            .map_or(0.0, |f| ridge_correction(f, lambda));
        Some(ridge_at_kappa(&self.pop, self.setup.floor(), kappa) + correction)
    }

    /// Expected risk of min-norm least squares: exact where known (see
    /// [`least_squares`](super::least_squares)), else the equivalent [`Self::ridge_risk`] at 0.
    /// Below the threshold (`N < n - 1`, with noise) it adds the real-Gaussian
    /// degrees-of-freedom term of the variance ([`min_norm_real_term`]).
    pub(crate) fn least_squares_risk(&self) -> Option<f64> {
        let floor = self.setup.floor();
        least_squares_exact(&self.pop, floor).unwrap_or_else(|| {
            let limit = self.ridge_risk(0.0)?;
            let below = self.n_train + 1 < self.setup.n() && floor > 0.0;
            match (self.real_gaussian && below, self.grid.kappa0) {
                (true, Some(kappa0)) => {
                    let term =
                        min_norm_real_term(&self.pop, floor, kappa0, self.finite_flat.is_some())?;
                    Some(limit + term)
                }
                _ => Some(limit),
            }
        })
    }

    /// Predicted expected risk of `estimator` (gradient descent: the minimum over
    /// `k <= GD_ITERS` of the predicted path, with its argmin as `k_opt`).
    pub fn predict(&self, estimator: Estimator, step: StepSize) -> Prediction {
        self.predict_iters(estimator, step, GD_ITERS)
    }

    /// [`Self::predict`] with early stopping over `k <= iters` (`theory --analytic --iters`).
    /// Cost `O(k_stop * nodes)` for gradient descent, `k_stop <= iters` the step where no
    /// later iterate can beat the best so far (the finite-`d` correction's path, where it
    /// applies, costs `O(iters * nodes)`).
    pub fn predict_iters(&self, estimator: Estimator, step: StepSize, iters: usize) -> Prediction {
        match estimator {
            Estimator::Optimal => Prediction::finite(self.setup.floor()),
            Estimator::Pca => Prediction::finite(self.pca_risk()),
            Estimator::LeastSquares => Prediction {
                risk: self.least_squares_risk(),
                k_opt: None,
            },
            Estimator::GdEarlyStopped => {
                let path = self.gd_path_until(step.eta(&self.setup, self.n_train), iters, true);
                let (k, r) = best_iterate(&path);
                Prediction {
                    risk: Some(r),
                    k_opt: Some(k as f64),
                }
            }
        }
    }
}

/// The two-atom population of `setup` seen through `n_train` samples.
pub(crate) fn two_atom(setup: &Setup, n_train: usize) -> TwoAtom {
    TwoAtom::new(setup.d(), setup.n(), setup.sigma2(), n_train)
}

/// Section 8's finite-`d` correction for `(setup, N)`, with the flat noise block (`N + d < n`):
/// ridge and min-norm least squares.
pub(crate) fn finite_size_flat(setup: &Setup, n_train: usize) -> Option<FiniteSize> {
    FiniteSize::new(
        setup.d(),
        setup.n(),
        setup.sigma2(),
        n_train,
        NoiseModel::Flat,
    )
}

/// The finite-`d` correction for `(setup, N)` with the Marchenko-Pastur noise block (section
/// 8b), where it applies: gradient descent, any filter, PCA.
pub(crate) fn finite_size(setup: &Setup, n_train: usize) -> Option<FiniteSize> {
    let model = NoiseModel::MarchenkoPastur { bulk: BULK_NODES };
    FiniteSize::new(setup.d(), setup.n(), setup.sigma2(), n_train, model)
}

/// `Ok` for a training-set size of at least 1.
///
/// # Errors
/// [`TheoryError::InvalidArgument`] for `n_train == 0`.
pub(crate) fn check_n_train(n_train: usize) -> Result<(), TheoryError> {
    crate::setup::check_train_size(n_train)
}
