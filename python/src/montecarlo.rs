//! Monte Carlo and analytic risks of the subspace model: `plateau theory` and `plateau path`.

use faer::Par;
use numpy::PyArray1;
use plateau_theory::engine::{Engine, SpectralDraw};
use plateau_theory::montecarlo::{summarise, Draw, MonteCarlo, Summary};
use plateau_theory::{Estimator, Setup, StepSize};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::setup::{estimators, PySetup};
use crate::{report_progress, value_error};

/// A Monte Carlo experiment configured as `plateau theory` configures it.
struct Experiment {
    setup: Setup,
    runs: usize,
    seed: u64,
    estimators: Vec<Estimator>,
    step: StepSize,
    iters: usize,
    engine: Engine,
}

impl Experiment {
    fn on(&self, sizes: Vec<usize>) -> MonteCarlo {
        MonteCarlo::new(self.setup, sizes, self.runs, self.seed)
            .estimators(self.estimators.clone())
            .step(self.step)
            .iters(self.iters)
            .engine(self.engine)
    }
}

/// Consecutive groups of sizes with at least `8 threads` draws each (the last may have fewer):
/// between groups the GIL is taken back to check for Ctrl-C and report progress; within a
/// group all draws share the pool, so the idle tail at a group's end is at most about 1/8 of it.
fn batches(sizes: &[usize], runs: usize, threads: usize) -> Vec<Vec<usize>> {
    let per_batch = (8 * threads).div_ceil(runs.max(1)).max(1);
    sizes.chunks(per_batch).map(<[usize]>::to_vec).collect()
}

fn step_of(step: Option<f64>) -> PyResult<StepSize> {
    let s = step.map_or(StepSize::Paper, StepSize::Fixed);
    s.validate().map_err(value_error)?;
    Ok(s)
}

/// Every draw of `exp` at `sizes`, in batches with the GIL released; Ctrl-C stops between
/// batches. Draw `j` at size `N` is the same as in one `MonteCarlo::run` (keyed by `(N, j)`).
fn draws_in_batches(
    py: Python<'_>,
    exp: &Experiment,
    sizes: &[usize],
    progress: Option<&Py<PyAny>>,
) -> PyResult<Vec<Draw>> {
    exp.on(sizes.to_vec()).validate().map_err(value_error)?;
    let total = sizes.len() * exp.runs;
    let mut draws = Vec::with_capacity(total);
    for batch in batches(sizes, exp.runs, rayon::current_num_threads()) {
        let mc = exp.on(batch);
        let new = py.detach(|| mc.draws(|| {})).map_err(value_error)?;
        draws.extend(new);
        py.check_signals()?;
        report_progress(py, progress, draws.len(), total)?;
    }
    Ok(draws)
}

/// The columns of the `plateau theory` CSV (`d,n,sigma,N,estimator,mean,std,runs,k_opt_mean`):
/// numbers as numpy arrays (`std`, `k_opt_mean`: NaN where empty), estimators as a list.
fn columns<'py>(py: Python<'py>, setup: &Setup, rows: &[Summary]) -> PyResult<Bound<'py, PyDict>> {
    let len = rows.len();
    let out = PyDict::new(py);
    out.set_item("d", PyArray1::from_vec(py, vec![setup.d() as u64; len]))?;
    out.set_item("n", PyArray1::from_vec(py, vec![setup.n() as u64; len]))?;
    out.set_item("sigma", PyArray1::from_vec(py, vec![setup.sigma(); len]))?;
    let col = |f: &dyn Fn(&Summary) -> f64| rows.iter().map(f).collect::<Vec<f64>>();
    let n: Vec<u64> = rows.iter().map(|r| r.n_train as u64).collect();
    out.set_item("N", PyArray1::from_vec(py, n))?;
    let names: Vec<&str> = rows.iter().map(|r| r.estimator.name()).collect();
    out.set_item("estimator", names)?;
    out.set_item("mean", PyArray1::from_vec(py, col(&|r| r.mean)))?;
    out.set_item(
        "std",
        PyArray1::from_vec(py, col(&|r| r.std.unwrap_or(f64::NAN))),
    )?;
    let runs: Vec<u64> = rows.iter().map(|r| r.runs as u64).collect();
    out.set_item("runs", PyArray1::from_vec(py, runs))?;
    let k = col(&|r| r.k_opt_mean.unwrap_or(f64::NAN));
    out.set_item("k_opt_mean", PyArray1::from_vec(py, k))?;
    Ok(out)
}

/// `plateau theory`: mean, sample standard deviation and mean early-stopping iteration of each
/// estimator's exact risk over `runs` draws at each size (see `plateau.monte_carlo`).
#[pyfunction]
#[pyo3(signature = (setup, train_sizes, runs, seed, estimators, iters, engine, step=None, progress=None))]
#[allow(clippy::too_many_arguments)]
pub fn monte_carlo<'py>(
    py: Python<'py>,
    setup: PySetup,
    train_sizes: Vec<usize>,
    runs: usize,
    seed: u64,
    estimators: Vec<String>,
    iters: usize,
    engine: &str,
    step: Option<f64>,
    progress: Option<Py<PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let exp = experiment(setup, runs, seed, &estimators, iters, engine, step)?;
    let draws = draws_in_batches(py, &exp, &train_sizes, progress.as_ref())?;
    let rows = summarise(&draws, &train_sizes, &exp.estimators);
    if let Some(r) = rows.iter().find(|r| !r.mean.is_finite()) {
        return Err(value_error(format!(
            "the risk of {} at N = {} is not finite (gradient descent diverges or overflows{})",
            r.estimator,
            r.n_train,
            step.map_or("", |_| "; use a smaller step"),
        )));
    }
    columns(py, &setup.inner, &rows)
}

fn experiment(
    setup: PySetup,
    runs: usize,
    seed: u64,
    names: &[String],
    iters: usize,
    engine: &str,
    step: Option<f64>,
) -> PyResult<Experiment> {
    Ok(Experiment {
        setup: setup.inner,
        runs,
        seed,
        estimators: estimators(names)?,
        step: step_of(step)?,
        iters,
        engine: engine.parse().map_err(value_error)?,
    })
}

/// One draw at `n_train` (draw 0 of `monte_carlo(..., runs=1, seed)`): `(estimator names,
/// risks, k_opt)` with `k_opt` the early-stopping iteration of gradient descent, else `None`.
#[pyfunction]
#[pyo3(signature = (setup, n_train, seed, estimators, iters, engine, step=None))]
#[allow(clippy::too_many_arguments, clippy::type_complexity)]
pub fn exact_risks(
    py: Python<'_>,
    setup: PySetup,
    n_train: usize,
    seed: u64,
    estimators: Vec<String>,
    iters: usize,
    engine: &str,
    step: Option<f64>,
) -> PyResult<(Vec<&'static str>, Vec<f64>, Vec<Option<usize>>)> {
    let exp = experiment(setup, 1, seed, &estimators, iters, engine, step)?;
    let draws = draws_in_batches(py, &exp, &[n_train], None)?;
    let risks = &draws[0].risks;
    Ok((
        risks.iter().map(|r| r.0.name()).collect(),
        risks.iter().map(|r| r.1).collect(),
        risks.iter().map(|r| r.2).collect(),
    ))
}

/// `plateau path` (method spectral): the exact risk of every gradient-descent iterate
/// `k = 0..=iters` on the training set drawn from `seed`.
#[pyfunction]
#[pyo3(signature = (setup, n_train, seed, iters, engine, step=None))]
pub fn gd_path<'py>(
    py: Python<'py>,
    setup: PySetup,
    n_train: usize,
    seed: u64,
    iters: usize,
    engine: &str,
    step: Option<f64>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let s = setup.inner;
    check_path_args(n_train, iters)?;
    let step = step_of(step)?;
    let engine: Engine = engine.parse().map_err(value_error)?;
    let eta = step.eta(&s, n_train);
    let path = py.detach(|| -> PyResult<Vec<f64>> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let draw = SpectralDraw::draw(&s, n_train, &mut rng).map_err(value_error)?;
        let spectrum = match engine.resolve(&s, n_train) {
            Engine::Dense => draw.dense(Par::rayon(0)),
            _ => draw.structured(Par::rayon(0)),
        };
        let top = spectrum.eigenvalues().first().copied().unwrap_or(0.0);
        converges(eta, top, "this training set")?;
        Ok(spectrum.gd_risk_path(eta, iters, Par::rayon(0)))
    })?;
    finite_path(&path)?;
    Ok(PyArray1::from_vec(py, path))
}

/// `plateau path --analytic`: the deterministic equivalent of the expected risk of every
/// gradient-descent iterate `k = 0..=iters`.
#[pyfunction]
#[pyo3(signature = (setup, n_train, iters, step=None))]
pub fn analytic_gd_path<'py>(
    py: Python<'py>,
    setup: PySetup,
    n_train: usize,
    iters: usize,
    step: Option<f64>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let s = setup.inner;
    check_path_args(n_train, iters)?;
    let eta = step_of(step)?.eta(&s, n_train);
    let path = py.detach(|| -> PyResult<Vec<f64>> {
        let eq =
            plateau_theory::analytic::SpectralEquivalent::new(&s, n_train).map_err(value_error)?;
        // Y Y^T = N (Y Y^T / N): the top of the limiting spectrum, times N.
        let top = eq.support().iter().map(|s| s.1).fold(0.0, f64::max);
        converges(eta, top * n_train as f64, "the limiting spectrum's edge")?;
        Ok(eq.gd_path(eta, iters))
    })?;
    finite_path(&path)?;
    Ok(PyArray1::from_vec(py, path))
}

fn check_path_args(n_train: usize, iters: usize) -> PyResult<()> {
    if n_train == 0 {
        return Err(value_error("n_train must be at least 1"));
    }
    plateau_theory::montecarlo::check_iters(iters).map_err(value_error)
}

fn finite_path(path: &[f64]) -> PyResult<()> {
    match path.iter().position(|r| !r.is_finite()) {
        Some(k) => Err(value_error(format!(
            "the risk is not finite from iteration {k} (numerical overflow); use a smaller step"
        ))),
        None => Ok(()),
    }
}

/// Refuses a step with which gradient descent diverges (`eta lambda_max(Y Y^T) >= 2`), as
/// `plateau path` does.
fn converges(eta: f64, lambda_max: f64, of: &str) -> PyResult<()> {
    if eta * lambda_max >= 2.0 {
        return Err(value_error(format!(
            "gradient descent diverges: step {eta:e} times lambda_max(Y Y^T) = {lambda_max:.4e} \
             ({of}) is {:.3e} >= 2; use a step below {:.4e}",
            eta * lambda_max,
            2.0 / lambda_max
        )));
    }
    Ok(())
}

/// `plateau theory --analytic`: the deterministic-equivalent predictions in the same columns
/// (`runs` 0, `std` NaN, `mean` inf where the expectation is infinite).
#[pyfunction]
#[pyo3(signature = (setup, train_sizes, estimators, step=None))]
pub fn analytic<'py>(
    py: Python<'py>,
    setup: PySetup,
    train_sizes: Vec<usize>,
    estimators: Vec<String>,
    step: Option<f64>,
) -> PyResult<Bound<'py, PyDict>> {
    let s = setup.inner;
    let wanted = crate::setup::estimators(&estimators)?;
    let step = step_of(step)?;
    if train_sizes.is_empty() {
        return Err(value_error("at least one training-set size is needed"));
    }
    if train_sizes.contains(&0) {
        return Err(value_error("training-set size N must be at least 1"));
    }
    if let Some(n) = plateau_theory::montecarlo::first_duplicate(&train_sizes) {
        return Err(value_error(format!(
            "training-set size N = {n} is listed twice"
        )));
    }
    if wanted.is_empty() {
        return Err(value_error("at least one estimator is needed"));
    }
    let mut points = py
        .detach(|| plateau_theory::analytic::curve(&s, &train_sizes, step))
        .map_err(value_error)?;
    // Only the estimators asked for are checked: an overflow elsewhere is not this call's error.
    points.retain(|p| wanted.contains(&p.estimator));
    if let Some(p) = points
        .iter()
        .find(|p| p.prediction.risk.is_some_and(|r| !r.is_finite()))
    {
        return Err(value_error(format!(
            "the predicted risk of {} at N = {} is not finite (numerical overflow)",
            p.estimator, p.n_train
        )));
    }
    let rows: Vec<Summary> = points
        .iter()
        .map(|p| Summary {
            n_train: p.n_train,
            estimator: p.estimator,
            mean: p.prediction.risk.unwrap_or(f64::INFINITY),
            std: None,
            stderr: None,
            runs: 0,
            k_opt_mean: p.prediction.k_opt,
        })
        .collect();
    columns(py, &s, &rows)
}
