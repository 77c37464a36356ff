//! "More data or a bigger network?": the joint law `R(N, P)` of a sweep over sizes and widths
//! ([`crate::fit::joint`]) and what follows from it, each with a 95% bootstrap interval.
//!
//! - **Joint fit.** The cells `(N, width)` of one curve (mean test MSE over the seeds), with `P`
//!   the trainable parameters the records carry. The family (`additive` or `power_mean`) is the
//!   one that best predicts the held-out large-`N`, large-`P` corner
//!   ([`crate::fit::joint::corner`]); it is then refitted on every cell. `E` is the exact floor
//!   `floor_mse` when the data have one, else fitted.
//! - **Optimal width per N** (compute-free: cost is not counted): the smallest width in the
//!   swept range whose predicted error is within [`WIDTH_TOLERANCE_DB`] (0.1 dB) of the smallest
//!   predicted error over that range. Widths are continuous, `P(width)` interpolated linearly
//!   in log-log between the measured widths ([`WidthMap`]). Under a law that falls with `P` at
//!   every `N` the plain minimiser is always the largest width; the tolerance makes the rule
//!   say which width is *enough*, which is what grows with `N`.
//! - **Saturation size of each width**: the `N` beyond which more data can lower the excess
//!   over the floor at that width by at most [`SATURATION_FRACTION`] (10%)
//!   ([`JointLaw::saturation_n`]).
//! - **Doubling gains** at a cell `(N, P)`: `10 log10(R(N, P) / R(2N, P))` (data) and
//!   `10 log10(R(N, P) / R(N, 2P))` (parameters), and which is larger: the one whose
//!   difference's interval excludes zero, else "uncertain".
//!
//! Every interval is the percentile interval of the quantity over the bootstrap replicates of
//! the law, so it carries the parameters' joint uncertainty (not that of the family choice).
//!
//! This module computes; the JSON types it fills are in `schema` and their text in `text`
//! (both re-exported here). The checks of `plateau plan --width`/`--params` are in
//! `crate::commands::plan`.

mod schema;
mod text;

use anyhow::{bail, Result};

pub use self::schema::{
    Better, Capacity, DoublingGain, FloorSource, JointFitReport, JointParams, OptimalWidth,
    WidthGrowth, WidthSaturation,
};
pub use self::text::{capacity_text, doubling_text};
use crate::analysis::estimate::{BootstrapSummary, Estimate};
use crate::analysis::scaling::GroupSummary;
use crate::fit::joint::report::{param_verdicts, JointValues};
use crate::fit::joint::{
    bootstrap_joint, corner_backtest, fit_joint, Family, JointData, JointLaw, JointPoint,
    JointSamples,
};
use crate::fit::BootstrapOptions;

/// Tolerance of the optimal-width rule, dB.
pub const WIDTH_TOLERANCE_DB: f64 = 0.1;

/// A width is saturated once more data can lower its excess over the floor by at most this
/// fraction.
pub const SATURATION_FRACTION: f64 = 0.1;

/// Widths searched by the optimal-width rule: log-spaced over the swept range.
const WIDTH_GRID: usize = 241;

/// The parameter count of each width of a sweep's network, interpolated linearly in
/// `(ln width, ln P)` between the measured widths (the end segments extrapolate). At least two
/// widths, increasing.
#[derive(Clone, Debug, PartialEq)]
pub struct WidthMap {
    /// `(width, P)`, increasing width.
    points: Vec<(f64, f64)>,
}

impl WidthMap {
    /// From the `(width, P)` of every run.
    ///
    /// # Errors
    /// A non-positive value, one width with two parameter counts, or fewer than two widths.
    pub fn new(pairs: &[(f64, f64)]) -> Result<WidthMap> {
        let mut v = pairs.to_vec();
        v.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
        v.dedup();
        if let Some(w) = v.windows(2).find(|w| w[0].0 == w[1].0) {
            bail!(
                "width {} has two parameter counts ({} and {}): P is not a function of the width",
                w[0].0,
                w[0].1,
                w[1].1
            );
        }
        if v.iter().any(|(w, p)| !(*w > 0.0 && *p > 0.0)) {
            bail!("widths and parameter counts must be positive");
        }
        if v.len() < 2 {
            bail!(
                "the joint fit needs at least two widths and two sizes; these runs have one width"
            );
        }
        Ok(WidthMap { points: v })
    }

    /// The measured widths, increasing.
    pub fn widths(&self) -> Vec<f64> {
        self.points.iter().map(|(w, _)| *w).collect()
    }

    /// `P` of `width` (interpolated, see the type).
    pub fn params(&self, width: f64) -> f64 {
        let pts = &self.points;
        let i = pts
            .partition_point(|(w, _)| *w < width)
            .clamp(1, pts.len() - 1);
        let ((w0, p0), (w1, p1)) = (pts[i - 1], pts[i]);
        let t = (width / w0).ln() / (w1 / w0).ln();
        p0 * (p1 / p0).powf(t)
    }

    /// `[smallest, largest]` measured width.
    pub fn range(&self) -> [f64; 2] {
        [self.points[0].0, self.points[self.points.len() - 1].0]
    }
}

/// The optimal width at `n` under `law` (see the module docs): the smallest width of a
/// `WIDTH_GRID`-point log grid over the swept range whose predicted error is within
/// [`WIDTH_TOLERANCE_DB`] of the grid's smallest. Cost `O(WIDTH_GRID)`.
pub fn optimal_width(law: &JointLaw, n: f64, widths: &WidthMap) -> f64 {
    let [lo, hi] = widths.range();
    let grid = plateau_theory::grid::log_spaced(lo, hi, WIDTH_GRID).unwrap_or_else(|_| vec![hi]);
    let errs: Vec<f64> = grid
        .iter()
        .map(|&w| law.predict(n, widths.params(w)))
        .collect();
    let best = errs.iter().copied().fold(f64::INFINITY, f64::min);
    let tol = best * 10f64.powf(WIDTH_TOLERANCE_DB / 10.0);
    errs.iter()
        .position(|&e| e <= tol)
        .map_or(f64::NAN, |i| grid[i])
}

/// The fitted law and what it was fitted to (for figures and `plateau plan`).
#[derive(Clone, Debug)]
pub struct CapacityModel {
    /// The law fitted to every cell.
    pub law: JointLaw,
    /// Its bootstrap replicates.
    pub samples: JointSamples,
    /// Width to parameter count.
    pub widths: WidthMap,
    /// The cells.
    pub data: JointData,
}

impl CapacityModel {
    fn estimate(&self, f: impl Fn(&JointLaw) -> f64) -> Estimate {
        Estimate::new(f(&self.law), self.samples.interval(f))
    }

    /// Doubling gains at `(n, p)` (`width` only labels the cell).
    pub fn doubling(&self, n: f64, p: f64, width: Option<f64>) -> DoublingGain {
        doubling_gain(&self.law, &self.samples, (n, p), width)
    }
}

/// The gains of doubling `N` and of doubling `P` at the cell `(n, p)` under `law`, with
/// intervals over its replicates `samples` (`width` only labels the cell).
pub fn doubling_gain(
    law: &JointLaw,
    samples: &JointSamples,
    (n, p): (f64, f64),
    width: Option<f64>,
) -> DoublingGain {
    let estimate = |f: &dyn Fn(&JointLaw) -> f64| Estimate::new(f(law), samples.interval(f));
    let data = |l: &JointLaw| l.gain_db((n, p), (2.0 * n, p));
    let params = |l: &JointLaw| l.gain_db((n, p), (n, 2.0 * p));
    let difference = estimate(&|l| data(l) - params(l));
    let [lo, hi] = difference.ci95;
    let better = if lo > 0.0 {
        Better::Data
    } else if hi < 0.0 {
        Better::Params
    } else {
        Better::Uncertain
    };
    DoublingGain {
        at_n: n,
        at_width: width,
        at_params: p,
        data: estimate(&data),
        params: estimate(&params),
        difference,
        better,
    }
}

/// A curve's capacity analysis: the report and, when there is a fit, the model.
#[derive(Clone, Debug, Default)]
pub struct CapacityAnalysis {
    /// What the JSON gets.
    pub report: Capacity,
    /// The fit.
    pub model: Option<CapacityModel>,
}

/// The cells of `g`'s runs and their widths' parameter counts; errors name what is missing.
fn cells(g: &GroupSummary) -> Result<(JointData, WidthMap)> {
    let missing = g.points.iter().filter(|p| p.params.is_none()).count();
    if missing > 0 {
        bail!(
            "P (the parameter count) is missing from {missing} of {} runs: the joint fit needs \
             at least two widths and two sizes with the parameter count of every run",
            g.points.len()
        );
    }
    let mut pts = Vec::new();
    let mut pairs = Vec::new();
    for p in &g.points {
        let (Some(w), Some(params)) = (p.width, p.params) else {
            bail!("a run has no width (not a U-Net): the joint fit needs the width of every run");
        };
        pts.push(JointPoint {
            n: p.n,
            p: params as f64,
            y: p.test_mse,
        });
        pairs.push((w as f64, params as f64));
    }
    Ok((JointData::new(&pts)?, WidthMap::new(&pairs)?))
}

/// Fits the joint law to the runs of `g` and derives the optimal widths, saturation sizes and
/// doubling gains (see the module docs). Never fails: what cannot be done is said in
/// `joint_fit_note`. Cost: two corner fits and the final fit, each with `opts.reps` bootstrap
/// refits.
pub fn analyse_capacity(g: &GroupSummary, opts: &BootstrapOptions) -> CapacityAnalysis {
    match fit_model(g, opts) {
        Ok((model, fit_report)) => CapacityAnalysis {
            report: derive(g, &model, fit_report),
            model: Some(model),
        },
        Err(e) => CapacityAnalysis {
            report: Capacity {
                joint_fit_note: Some(format!("{e:#}")),
                ..Capacity::default()
            },
            model: None,
        },
    }
}

fn fit_model(g: &GroupSummary, opts: &BootstrapOptions) -> Result<(CapacityModel, JointFitReport)> {
    let (data, widths) = cells(g)?;
    let floor = g.floor_mse().filter(|f| f.is_finite() && *f > 0.0);
    let (selection, selection_note) = match corner_backtest(&data, floor, opts) {
        Ok(c) => (Some(c), None),
        Err(e) => (None, Some(format!("{e:#}; the additive law is used"))),
    };
    let family = selection
        .as_ref()
        .and_then(|c| c.best)
        .unwrap_or(Family::Additive);
    let fit = fit_joint(&data, family, floor)?;
    let samples = bootstrap_joint(&data, &fit, opts)?;
    let model = CapacityModel {
        law: fit.law,
        samples,
        widths,
        data,
    };
    let ymax = model
        .data
        .cells()
        .iter()
        .map(|c| c.mean)
        .fold(0.0, f64::max);
    let params = joint_params(&model, floor.is_none(), ymax);
    let report = JointFitReport {
        family,
        formula: family.formula().to_string(),
        floor: if floor.is_some() {
            FloorSource::Exact
        } else {
            FloorSource::Fitted
        },
        params,
        cells: model.data.len(),
        sizes: model.data.sizes().len(),
        widths: model.data.param_counts().len(),
        rss_log: fit.rss_log,
        chi2_dof: model.samples.chi2_dof,
        bootstrap: BootstrapSummary {
            method: model.samples.method,
            reps: model.samples.laws.len(),
            failed: model.samples.failed,
            seed: opts.seed,
        },
        selection,
        selection_note,
    };
    Ok((model, report))
}

/// The joint law's parameters with their intervals, each flagged when the data do not identify
/// it (the rules of [`param_verdicts`]).
fn joint_params(model: &CapacityModel, fitted_e: bool, ymax: f64) -> JointParams {
    let law = &model.law;
    let ci = JointValues::of(law, |f| model.samples.interval(f));
    let why = param_verdicts(law, &ci, fitted_e, ymax);
    let est = |v: f64, c: [f64; 2], w| Estimate::new(v, c).flag(w);
    JointParams {
        e: est(law.e, ci.e, why.e),
        a: est(law.a, ci.a, why.a),
        alpha: est(law.alpha, ci.alpha, why.alpha),
        b: est(law.b, ci.b, why.b),
        beta: est(law.beta, ci.beta, why.beta),
        q: ci.q.map(|c| est(law.q, c, why.q.flatten())),
    }
}

fn derive(g: &GroupSummary, model: &CapacityModel, fit: JointFitReport) -> Capacity {
    let sizes = model.data.sizes();
    let map = &model.widths;
    let optimal: Vec<OptimalWidth> = sizes
        .iter()
        .map(|&n| OptimalWidth {
            n,
            width: model.estimate(|l| optimal_width(l, n, map)),
            params: model.estimate(|l| map.params(optimal_width(l, n, map))),
            measured_best_width: g.best.iter().find(|b| b.n == n).and_then(|b| b.width),
        })
        .collect();
    let saturation = map
        .widths()
        .into_iter()
        .map(|w| {
            let p = map.params(w);
            WidthSaturation {
                width: w,
                params: p,
                n: model
                    .estimate(|l| l.saturation_n(p, SATURATION_FRACTION))
                    .as_size(),
            }
        })
        .collect();
    let n_max = sizes[sizes.len() - 1];
    let p_max = model
        .data
        .cells()
        .iter()
        .filter(|c| c.n == n_max)
        .map(|c| c.p)
        .fold(0.0, f64::max);
    let w_max = map
        .widths()
        .into_iter()
        .find(|&w| (map.params(w) / p_max - 1.0).abs() < 1e-9);
    Capacity {
        joint_fit: Some(fit),
        joint_fit_note: None,
        optimal_width_growth: growth(g, model, &optimal),
        optimal_width: optimal,
        width_saturation: saturation,
        doubling_gain_db: Some(model.doubling(n_max, p_max, w_max)),
    }
}

fn growth(
    g: &GroupSummary,
    model: &CapacityModel,
    optimal: &[OptimalWidth],
) -> Option<WidthGrowth> {
    let (first, last) = (optimal.first()?, optimal.last()?);
    let step = (model.widths.range()[1] / model.widths.range()[0]).powf(1.0 / WIDTH_GRID as f64);
    let grows = |a: f64, b: f64| b > a * step;
    let map = &model.widths;
    let reps = &model.samples.laws;
    let growing = reps
        .iter()
        .filter(|l| {
            grows(
                optimal_width(l, first.n, map),
                optimal_width(l, last.n, map),
            )
        })
        .count();
    let measured = match (g.best.first(), g.best.last()) {
        (Some(a), Some(b)) => a.width.zip(b.width).map(|(a, b)| b > a),
        _ => None,
    };
    Some(WidthGrowth {
        grows: grows(first.width.value, last.width.value),
        from: first.width.value,
        to: last.width.value,
        replicates_growing: (!reps.is_empty()).then(|| growing as f64 / reps.len() as f64),
        measured_grows: measured,
    })
}

/// The cell of the doubling question (`plateau plan --width` or `--params`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum CellChoice {
    /// A width (its parameter count interpolated between the measured widths).
    Width(f64),
    /// A parameter count.
    Params(f64),
}

/// The doubling gains of `g` at the largest measured `N` and the cell `cell`.
///
/// # Errors
/// Why the joint law cannot be fitted to `g` (one width, `P` missing, ...).
pub fn doubling_plan(
    g: &GroupSummary,
    cell: CellChoice,
    opts: &BootstrapOptions,
) -> Result<DoublingGain> {
    let cap = analyse_capacity(g, opts);
    let Some(model) = cap.model else {
        bail!(
            "{}",
            cap.report
                .joint_fit_note
                .unwrap_or_else(|| "no joint fit".into())
        );
    };
    let sizes = model.data.sizes();
    let n = sizes[sizes.len() - 1];
    Ok(match cell {
        CellChoice::Width(w) => model.doubling(n, model.widths.params(w), Some(w)),
        CellChoice::Params(p) => model.doubling(n, p, None),
    })
}
