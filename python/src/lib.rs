//! `plateau._plateau`: the compiled core of the `plateau` Python package.
//!
//! Thin bindings over the same library functions the `plateau` command line calls
//! (`plateau_theory` and the `plateau` crate's fits and plans): same names, defaults, seeds and
//! numbers. The Python package (`plateau/__init__.py`) checks the arguments, names them in its
//! errors and builds the column-wise tables; this module does the computing, with the GIL
//! released, checking for signals (Ctrl-C) between batches.

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;

mod curves;
mod gaussian;
mod montecarlo;
mod setup;
mod validate;

pub use setup::PySetup;

/// A theory error as `ValueError` with the CLI's one-line message (all of them are bad input).
pub(crate) fn value_error(e: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(e.to_string())
}

/// An `anyhow` error as `ValueError` with the CLI's one line (`{:#}` joins the context chain).
pub(crate) fn anyhow_error(e: anyhow::Error) -> PyErr {
    PyValueError::new_err(format!("{e:#}"))
}

/// A serialisation failure (a bug, not bad input).
pub(crate) fn runtime_error(e: impl std::fmt::Display) -> PyErr {
    PyRuntimeError::new_err(e.to_string())
}

/// Calls `progress(done, total)` when a callback was given.
pub(crate) fn report_progress(
    py: Python<'_>,
    progress: Option<&Py<PyAny>>,
    done: usize,
    total: usize,
) -> PyResult<()> {
    if let Some(f) = progress {
        f.call1(py, (done, total))?;
    }
    Ok(())
}

#[pymodule]
fn _plateau(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PySetup>()?;
    m.add_class::<gaussian::PyDiagonalModel>()?;
    m.add_function(wrap_pyfunction!(montecarlo::monte_carlo, m)?)?;
    m.add_function(wrap_pyfunction!(montecarlo::exact_risks, m)?)?;
    m.add_function(wrap_pyfunction!(montecarlo::gd_path, m)?)?;
    m.add_function(wrap_pyfunction!(montecarlo::analytic, m)?)?;
    m.add_function(wrap_pyfunction!(montecarlo::analytic_gd_path, m)?)?;
    m.add_function(wrap_pyfunction!(validate::validate, m)?)?;
    m.add_function(wrap_pyfunction!(curves::fit, m)?)?;
    m.add_function(wrap_pyfunction!(curves::plan, m)?)?;
    m.add_function(wrap_pyfunction!(curves::plan_theory, m)?)?;
    m.add("DEFAULT_ITERS", plateau_theory::montecarlo::DEFAULT_ITERS)?;
    m.add(
        "ESTIMATORS",
        plateau_theory::Estimator::ALL.map(|e| e.name()),
    )?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
