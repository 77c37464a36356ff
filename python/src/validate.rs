//! `plateau.validate`: a user's predictions against the exact Monte Carlo (`plateau validate`'s
//! harness and JSON report).

use plateau::commands::validate::{to_json, Verdict, POOLED_LEVEL};
use plateau_theory::validate::{compare, Config, Criterion, Point, Report, Target};
use plateau_theory::{Estimator, StepSize};
use pyo3::prelude::*;

use crate::setup::PySetup;
use crate::{report_progress, runtime_error, value_error};

/// Compares `predicted[i]` (the expected risk of `estimator` at `points[i]`) with the Monte
/// Carlo, one point after the other with the GIL released (Ctrl-C stops between points), and
/// returns `plateau validate`'s JSON report (without `--strict`) as a string. The draws and the
/// numbers are those of `plateau_theory::validate::compare_formula` for the same seed.
#[pyfunction]
#[pyo3(signature = (points, predicted, estimator, tol_excess, tol_z, target_rel_se, max_draws, seed, iters, step=None, progress=None))]
#[allow(clippy::too_many_arguments)]
pub fn validate(
    py: Python<'_>,
    points: Vec<(PySetup, usize)>,
    predicted: Vec<f64>,
    estimator: &str,
    tol_excess: f64,
    tol_z: f64,
    target_rel_se: f64,
    max_draws: usize,
    seed: u64,
    iters: usize,
    step: Option<f64>,
    progress: Option<Py<PyAny>>,
) -> PyResult<String> {
    let estimator: Estimator = estimator.parse().map_err(value_error)?;
    let criterion =
        Criterion::new(tol_excess, tol_z, target_rel_se, max_draws).map_err(value_error)?;
    plateau_theory::montecarlo::check_iters(iters).map_err(value_error)?;
    let config = Config {
        criterion,
        seed,
        step: step.map_or(StepSize::Paper, StepSize::Fixed),
        iters,
        ..Config::default()
    };
    if points.len() != predicted.len() {
        return Err(value_error(format!(
            "points and predictions have different lengths ({} and {})",
            points.len(),
            predicted.len()
        )));
    }
    let start = std::time::Instant::now();
    let targets: Vec<Target> = points
        .iter()
        .zip(&predicted)
        .map(|(&(setup, n_train), &predicted)| Target {
            setup: setup.inner,
            n_train,
            estimator,
            predicted,
            caveat: None,
        })
        .collect();
    let report = Report {
        criterion,
        seed,
        noise_averaged: config.noise_averaged,
        common_draws: config.common_draws,
        points: compare_each(py, &targets, &config, progress.as_ref())?,
    };
    let verdict = Verdict {
        points_pass: report.all_pass(),
        pooled_rejects: report.pooled_rejects(POOLED_LEVEL),
        strict: false,
    };
    let json = to_json(&report, &[], &verdict, start.elapsed().as_secs_f64());
    serde_json::to_string(&json).map_err(runtime_error)
}

/// Compares the targets one after the other with the GIL released, checking for Ctrl-C and
/// reporting progress between them.
fn compare_each(
    py: Python<'_>,
    targets: &[Target],
    config: &Config,
    progress: Option<&Py<PyAny>>,
) -> PyResult<Vec<Point>> {
    let mut done = Vec::with_capacity(targets.len());
    for target in targets {
        let one = py
            .detach(|| compare(std::slice::from_ref(target), config, |_| {}))
            .map_err(value_error)?;
        done.extend(one.points);
        py.check_signals()?;
        report_progress(py, progress, done.len(), targets.len())?;
    }
    Ok(done)
}
