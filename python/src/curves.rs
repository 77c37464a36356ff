//! `plateau.fit` and `plateau.plan`: the scaling-law fits and data plans of `plateau fit` and
//! `plateau plan`, on arrays. Each returns the CLI's JSON object for one curve, as a string
//! (the same serde types, so the Python side's `json.loads` equals the CLI's output).

use anyhow::{bail, Result};
use plateau::analysis::plan::{plan_curve, targets_or_default, PlanOptions};
use plateau::analysis::plan_theory::TheoryModel;
use plateau::commands::curve_args::BootstrapArgs;
use plateau::commands::fit::parse_range;
use plateau::fit::backtest::{fit_curve_backtested, SelectBy};
use plateau::fit::{Curve, FitOptions, ModelChoice};
use pyo3::prelude::*;

use crate::setup::PySetup;
use crate::{anyhow_error, runtime_error};

/// The curve of points `(x[i], y[i])` (repeated `x` are draws), with the standard error of
/// `ln y` from `std` and `runs` when given for one row per `x` (as `plateau fit` reads a
/// `plateau theory` CSV).
fn curve(x: &[f64], y: &[f64], std: Option<Vec<f64>>, runs: Option<Vec<f64>>) -> Result<Curve> {
    let curve = Curve::new(x, y)?;
    let (Some(std), Some(runs)) = (std, runs) else {
        return Ok(curve);
    };
    if std.len() != x.len() || runs.len() != x.len() {
        bail!(
            "std and runs need one value per point ({} points, {} std, {} runs)",
            x.len(),
            std.len(),
            runs.len()
        );
    }
    if curve.len() != x.len() {
        return Ok(curve);
    }
    let mut order: Vec<usize> = (0..x.len()).collect();
    order.sort_by(|&i, &j| x[i].total_cmp(&x[j]));
    let s: Vec<f64> = order.iter().map(|&i| std[i]).collect();
    let r: Vec<f64> = order.iter().map(|&i| runs[i]).collect();
    Ok(curve.with_std_runs(&s, &r))
}

fn select_by(s: &str) -> Result<SelectBy> {
    match s {
        "aicc" => Ok(SelectBy::Aicc),
        "backtest" => Ok(SelectBy::Backtest),
        _ => bail!("unknown select '{s}' (expected aicc or backtest)"),
    }
}

fn to_json<T: serde::Serialize>(value: &T) -> PyResult<String> {
    serde_json::to_string(value).map_err(runtime_error)
}

/// `plateau fit` on one curve: the JSON object of group `group`.
#[pyfunction]
#[pyo3(signature = (x, y, model, range, bootstrap, reps, seed, at, backtest, select, group, std=None, runs=None))]
#[allow(clippy::too_many_arguments)]
pub fn fit(
    py: Python<'_>,
    x: Vec<f64>,
    y: Vec<f64>,
    model: &str,
    range: Option<&str>,
    bootstrap: String,
    reps: usize,
    seed: u64,
    at: Vec<(String, f64)>,
    backtest: bool,
    select: &str,
    group: &str,
    std: Option<Vec<f64>>,
    runs: Option<Vec<f64>>,
) -> PyResult<String> {
    let run = || -> Result<_> {
        let model: ModelChoice = model.parse()?;
        let bootstrap = BootstrapArgs {
            bootstrap: bootstrap.parse()?,
            reps,
            seed,
        }
        .options()?;
        let range = range.map(parse_range).transpose()?;
        let select = select_by(select)?;
        let curve = curve(&x, &y, std, runs)?;
        let opts = FitOptions {
            model,
            range,
            bootstrap,
            at,
        };
        fit_curve_backtested(group, &curve, &opts, backtest, select)
    };
    let report = py.detach(run).map_err(anyhow_error)?;
    to_json(&report)
}

/// `plateau plan --input` on one curve: the JSON object of group `group`.
#[pyfunction]
#[pyo3(signature = (x, y, within, within_db, target_mse, target_psnr, at, peak, floor, backtest, bootstrap, reps, seed, group))]
#[allow(clippy::too_many_arguments)]
pub fn plan(
    py: Python<'_>,
    x: Vec<f64>,
    y: Vec<f64>,
    within: Vec<f64>,
    within_db: Vec<f64>,
    target_mse: Vec<f64>,
    target_psnr: Vec<f64>,
    at: Vec<f64>,
    peak: f64,
    floor: Option<f64>,
    backtest: bool,
    bootstrap: String,
    reps: usize,
    seed: u64,
    group: &str,
) -> PyResult<String> {
    let run = || -> Result<_> {
        if !(peak.is_finite() && peak > 0.0) {
            bail!("peak {peak} must be positive and finite");
        }
        if let Some(n) = at.iter().find(|n| !(n.is_finite() && **n > 0.0)) {
            bail!("at {n} must be a positive training-set size");
        }
        if let Some(f) = floor.filter(|f| !(f.is_finite() && *f >= 0.0)) {
            bail!("floor {f} must be finite and non-negative");
        }
        let opts = PlanOptions {
            targets: targets_or_default(&within, &within_db, &target_mse, &target_psnr),
            at,
            peak,
            bootstrap: BootstrapArgs {
                bootstrap: bootstrap.parse()?,
                reps,
                seed,
            }
            .options()?,
            backtest,
        };
        plan_curve(group, &Curve::new(&x, &y)?, floor, &opts)
    };
    let plan = py.detach(run).map_err(anyhow_error)?;
    to_json(&plan)
}

/// `plateau plan --d --n --sigma`: per estimator, the `N` from which the expected risk stays
/// within each fraction of the floor, the power-law regime, and the risk at `at`.
#[pyfunction]
#[pyo3(signature = (setup, within, at))]
pub fn plan_theory(
    py: Python<'_>,
    setup: PySetup,
    within: Vec<f64>,
    at: Vec<f64>,
) -> PyResult<String> {
    let model = TheoryModel::Subspace(setup.inner);
    let plans = py
        .detach(|| plateau::analysis::plan_theory::plan_theory(&model, &within, &at))
        .map_err(anyhow_error)?;
    to_json(&plans)
}
