//! `plateau.DiagonalModel`: the general linear Gaussian model for users' own spectra
//! (`plateau_theory::gaussian`, derivation in `theory/gaussian.md`).

use numpy::{PyArray1, PyReadonlyArray1};
use plateau_theory::gaussian::DiagonalModel;
use pyo3::prelude::*;

use crate::value_error;

/// The linear Gaussian model `y = A x + z`, diagonal in the signal's eigenbasis: signal
/// variances `lambda_i` (`spectrum`, the covariance eigenvalues), operator gains `a_i`
/// (`gains`), noise `z ~ N(0, sigma^2 I)`. Risks are per coordinate,
/// `E ||W y - x||^2 / n` with `n = len(spectrum)`; the floor is the LMMSE risk
/// `(1/n) sum lambda_i sigma^2 / (a_i^2 lambda_i + sigma^2)`.
#[pyclass(name = "DiagonalModel", module = "plateau", frozen)]
pub struct PyDiagonalModel {
    inner: DiagonalModel,
    /// Dimension `n` (number of coordinates).
    #[pyo3(get)]
    dim: usize,
    /// Noise variance `sigma^2`.
    #[pyo3(get)]
    sigma2: f64,
    /// The LMMSE floor per coordinate (the risk of the best linear estimator, known covariance).
    #[pyo3(get)]
    floor: f64,
    /// Signal power per coordinate, `(1/n) sum lambda_i` (the risk of `W = 0`).
    #[pyo3(get)]
    signal_power: f64,
    /// Rank `p` of the input covariance (coordinates with `a_i^2 lambda_i + sigma^2 > 0`).
    #[pyo3(get)]
    input_rank: usize,
}

impl From<DiagonalModel> for PyDiagonalModel {
    /// The class of `inner`, its read-only attributes computed once (the class is frozen).
    fn from(inner: DiagonalModel) -> Self {
        Self {
            dim: inner.dim(),
            sigma2: inner.sigma2(),
            floor: inner.floor(),
            signal_power: inner.signal_power(),
            input_rank: inner.input_rank(),
            inner,
        }
    }
}

fn sizes(n_train: usize) -> PyResult<usize> {
    if n_train == 0 {
        return Err(value_error("n_train must be at least 1"));
    }
    Ok(n_train)
}

#[pymethods]
impl PyDiagonalModel {
    #[new]
    fn new(
        spectrum: PyReadonlyArray1<'_, f64>,
        gains: PyReadonlyArray1<'_, f64>,
        sigma: f64,
    ) -> PyResult<Self> {
        let lambda = spectrum.as_array().to_vec();
        let gains = gains.as_array().to_vec();
        DiagonalModel::new(&lambda, &gains, sigma)
            .map(Self::from)
            .map_err(value_error)
    }

    /// Deterministic equivalent of the expected risk of ridge
    /// `W = X Y^T (Y Y^T + N lam I)^{-1}` learned from `n_train` examples (`lam > 0`, in the
    /// units of `Y Y^T / N`).
    fn ridge(&self, py: Python<'_>, n_train: usize, lam: f64) -> PyResult<f64> {
        let m = &self.inner;
        py.detach(|| m.ridge(n_train, lam)).map_err(value_error)
    }

    /// The optimally tuned ridge: `(lam*, risk)`.
    fn ridge_optimal(&self, py: Python<'_>, n_train: usize) -> PyResult<(f64, f64)> {
        let m = &self.inner;
        py.detach(|| m.ridge_optimal(n_train)).map_err(value_error)
    }

    /// Expected risk of min-norm least squares `W = X pinv(Y)`: exact
    /// `floor (1 + p / (N - p - 1))` for `N > p + 1`, `inf` for `N` in `{p-1, p, p+1}` (when
    /// the floor is positive), the deterministic equivalent below.
    fn least_squares(&self, py: Python<'_>, n_train: usize) -> PyResult<f64> {
        let m = &self.inner;
        let r = py
            .detach(|| m.least_squares(n_train))
            .map_err(value_error)?;
        Ok(r.unwrap_or(f64::INFINITY))
    }

    /// Expected risk of gradient descent from `W = 0` with step `eta = c / N` after
    /// `k = 0..=iters` steps (`path[0]` is the signal power); `c` defaults to `1 / L`, `L` the
    /// top of the limiting spectrum of `Y Y^T / N`. Stable for `c < 2 / L`.
    #[pyo3(signature = (n_train, iters=5000, c=None))]
    fn gd_path<'py>(
        &self,
        py: Python<'py>,
        n_train: usize,
        iters: usize,
        c: Option<f64>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        sizes(n_train)?;
        plateau_theory::montecarlo::check_iters(iters).map_err(value_error)?;
        if let Some(c) = c.filter(|c| !(c.is_finite() && *c > 0.0)) {
            return Err(value_error(format!(
                "c must be finite and positive, got {c}"
            )));
        }
        let m = &self.inner;
        let path = py.detach(|| -> PyResult<Vec<f64>> {
            let eq = m.equivalent(n_train).map_err(value_error)?;
            let c = c.unwrap_or_else(|| 1.0 / eq.top_eigenvalue().max(f64::MIN_POSITIVE));
            Ok(eq.gd_path(c, iters))
        })?;
        Ok(PyArray1::from_vec(py, path))
    }

    /// Early-stopped gradient descent `(k_opt, risk)`: the minimum of `gd_path` over
    /// `k <= 5000`, step `c / N` (`c = 1 / L` by default).
    #[pyo3(signature = (n_train, c=None))]
    fn gd_early_stopped(
        &self,
        py: Python<'_>,
        n_train: usize,
        c: Option<f64>,
    ) -> PyResult<(usize, f64)> {
        sizes(n_train)?;
        let m = &self.inner;
        py.detach(|| -> PyResult<(usize, f64)> {
            let eq = m.equivalent(n_train).map_err(value_error)?;
            Ok(eq.gd_early_stopped(c))
        })
    }

    /// Expected risk of gradient flow at time `t` (`psi = exp(-t x)`).
    fn gradient_flow(&self, py: Python<'_>, n_train: usize, t: f64) -> PyResult<f64> {
        sizes(n_train)?;
        if !(t.is_finite() && t >= 0.0) {
            return Err(value_error(format!(
                "t must be finite and non-negative, got {t}"
            )));
        }
        let m = &self.inner;
        py.detach(|| -> PyResult<f64> {
            let eq = m.equivalent(n_train).map_err(value_error)?;
            Ok(eq.gradient_flow(t))
        })
    }

    fn __repr__(&self) -> String {
        let (dim, sigma2, floor) = (self.dim, self.sigma2, self.floor);
        format!("DiagonalModel(dim={dim}, sigma2={sigma2:?}, floor={floor:.6e})")
    }
}
