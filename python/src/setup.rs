//! `plateau.Setup`: the subspace denoising model `(d, n, sigma)`.

use plateau_theory::{Estimator, Setup};
use pyo3::prelude::*;

use crate::value_error;

/// The subspace denoising model of Klug & Heckel (2023): a signal `x = U c` in a random
/// `d`-dimensional subspace of `R^n` (`c ~ N(0, I_d)`), observed as `y = x + z`,
/// `z ~ N(0, sigma^2 I_n)`. Risks are `E ||W y - x||^2 / d` (normalised by `E ||x||^2 = d`).
///
/// Requires `1 <= d <= n` and `0 <= sigma <= 1e6` finite; raises `ValueError` otherwise.
#[pyclass(name = "Setup", module = "plateau", frozen, eq)]
#[derive(Clone, Copy, PartialEq)]
pub struct PySetup {
    pub(crate) inner: Setup,
    /// Subspace dimension `d`.
    #[pyo3(get)]
    d: usize,
    /// Ambient dimension `n`.
    #[pyo3(get)]
    n: usize,
    /// Noise standard deviation `sigma`.
    #[pyo3(get)]
    sigma: f64,
    /// Noise variance `sigma^2`.
    #[pyo3(get)]
    sigma2: f64,
    /// Variance of a measurement along the signal subspace, `alpha = 1 + sigma^2`.
    #[pyo3(get)]
    alpha: f64,
    /// The error floor `sigma^2 / (1 + sigma^2)`: the risk of `W* = U U^T / (1 + sigma^2)`.
    #[pyo3(get)]
    floor: f64,
}

impl From<Setup> for PySetup {
    /// The class of `inner`, its read-only attributes computed once (the class is frozen).
    fn from(inner: Setup) -> Self {
        Self {
            d: inner.d(),
            n: inner.n(),
            sigma: inner.sigma(),
            sigma2: inner.sigma2(),
            alpha: inner.alpha(),
            floor: inner.floor(),
            inner,
        }
    }
}

#[pymethods]
impl PySetup {
    #[new]
    fn new(d: i64, n: i64, sigma: f64) -> PyResult<Self> {
        let dim = |name: &str, v: i64| {
            usize::try_from(v).map_err(|_| {
                value_error(format!(
                    "invalid setup: {name} must be a non-negative integer, got {v}"
                ))
            })
        };
        Setup::new(dim("d", d)?, dim("n", n)?, sigma)
            .map(Self::from)
            .map_err(value_error)
    }

    /// The estimators by name, in report order.
    #[classattr]
    fn estimators() -> Vec<&'static str> {
        Estimator::ALL.iter().map(|e| e.name()).collect()
    }

    /// The training-set sizes of the paper's figures for `d` in {10, 50, 100}, else the powers
    /// of two from 1 to 16384 (the default of `monte_carlo` and `plateau theory`).
    fn default_train_sizes(&self) -> Vec<usize> {
        self.inner.default_train_sizes()
    }

    /// The eight setups of the paper's theory figures, in the paper's order.
    #[staticmethod]
    fn paper() -> Vec<PySetup> {
        Setup::paper_setups().into_iter().map(Self::from).collect()
    }

    fn __repr__(&self) -> String {
        format!("Setup(d={}, n={}, sigma={:?})", self.d, self.n, self.sigma)
    }
}

/// Parses estimator names (the CLI's), in the order given.
pub(crate) fn estimators(names: &[String]) -> PyResult<Vec<Estimator>> {
    names
        .iter()
        .map(|s| s.parse::<Estimator>().map_err(value_error))
        .collect()
}
