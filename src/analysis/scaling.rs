//! The empirical scaling curve of a results store, set against the predicted floor.
//!
//! Finished `ok` runs are grouped into curves by their [`CurveKey`]: everything a run is except
//! its training-set size, width and seed, so runs that differ in any other setting (task, data,
//! loss, learning rate, augmentation, downsampling, ...) are never averaged or fitted together.
//! Within a curve, for each training-set size `N`, the width (`channels`) with the best mean
//! validation PSNR over seeds is kept, as the paper keeps the best width per `N` (selection never
//! looks at the test set). The test MSE of those best widths against `N` is fitted with the
//! saturating power law `a N^-b + c` of [`crate::fit`] (a plain power law when there are too few
//! sizes), and extrapolated to `N = 1e6`; the fitted `c` is compared with the exact floor
//! `floor_mse`.

use std::collections::BTreeMap;

use anyhow::Result;
use plateau_run::record::{CurveKey, RunRecord, Status};
use serde::Serialize;
use serde_json::Value;

use crate::analysis::plan::{check_floor, FloorContradiction, KnownFloor};
use crate::fit::report::fit_curve_floored;
use crate::fit::report::FitReport;
use crate::fit::{fit_power, BootstrapOptions, Curve, FitOptions, Method, ModelChoice, ModelKind};
use crate::sweep::Record;

/// The width-selection metric (higher is better).
pub const SELECTION_METRIC: &str = "best_val_psnr";

/// The order in which a curve's settings appear in its label and file name: the problem first
/// (as earlier versions named files), then anything else in the key's own order.
const LABEL_ORDER: [&str; 18] = [
    "task",
    "data",
    "model",
    "color",
    "image_size",
    "noise_std",
    "subspace_dim",
    "field_exponent",
    "field_cutoff",
    "field_std",
    "acceleration",
    "center_fraction",
    "mask",
    "mask_seed",
    "mri_input",
    "scale",
    "downsample",
    "pools",
];

/// Settings always shown in a label (they say what is learned); the others only where curves
/// differ in them.
const ALWAYS_SHOWN: usize = 17;

/// Largest training-set size of the extrapolation.
pub const EXTRAPOLATE_TO: f64 = 1e6;

/// One finished run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunPoint {
    /// Cell id.
    pub id: String,
    /// Training-set size `N`.
    pub n: f64,
    /// U-Net width (channels of the first layer); `None` for models without one.
    pub width: Option<i64>,
    /// Seed.
    pub seed: Option<i64>,
    /// Trainable parameters of the network (`None` when the record lacks them).
    pub params: Option<i64>,
    /// Test MSE (pixel units squared).
    pub test_mse: f64,
    /// The selection metric on the validation set.
    pub val_metric: Option<f64>,
    /// The Bayes-optimal denoiser's MSE on the same test images.
    pub oracle_test_mse: Option<f64>,
}

/// The best width at one `N`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BestPoint {
    /// Training-set size.
    pub n: f64,
    /// Width chosen on validation.
    pub width: Option<i64>,
    /// Mean test MSE over the seeds of that width.
    pub test_mse: f64,
    /// Standard error of that mean: over seeds when there are several, else the test-set
    /// standard error `test_mse_stderr` of the single run.
    pub test_mse_se: Option<f64>,
    /// Mean validation metric of that width.
    pub val_metric: Option<f64>,
    /// Seeds averaged.
    pub seeds: usize,
    /// `test_mse / floor_mse`.
    pub over_floor: Option<f64>,
    /// Mean over the seeds of `test_mse / oracle_test_mse` (the Bayes denoiser on the same test
    /// images, which removes the test set's own sampling noise from the comparison).
    pub over_oracle: Option<f64>,
}

/// A curve's exact floor, as its runs record it, and the bound it puts on the fit.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CurveFloor {
    /// Exact floor (Bayes error per pixel), the mean over the curve's runs.
    pub floor_mse: f64,
    /// Monte Carlo standard error of `floor_mse` where it is estimated (MRI with random masks).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub floor_mse_stderr: Option<f64>,
    /// The lower bound the fitted floor is constrained to, `floor_mse` minus one test-set
    /// standard error ([`KnownFloor::bound`]). No number of the report or its figures is below
    /// it.
    pub floor_bound: f64,
    /// The floor `c` of the free saturating fit, a diagnostic (not used); absent without a
    /// saturating fit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub free_floor: Option<f64>,
    /// What `floor_mse` is: `Bayes error`, or, where the network lacks the floor's information
    /// (MRI's magnitude input), `Bayes error given complex data: a lower bound for magnitude
    /// input` ([`plateau_run::problem::Task::floor_label`]).
    pub floor_label: String,
    /// Fit of the best curve's excess over `floor_mse` (at least 3 sizes above the floor).
    pub anchored_fit: Option<AnchoredFit>,
    /// The fitted floor `c` of the (constrained) saturating fit divided by `floor_mse`.
    pub fitted_floor_over_floor: Option<f64>,
    /// Runs whose test MSE is below `floor_mse` (possible only through the test set's sampling
    /// noise; compare `below_oracle`).
    pub below_floor: usize,
}

/// The excess over the known floor fitted as a power law: `R = floor_mse + beta N^alpha`.
///
/// The free saturating fit estimates the floor from the data alone and, with few sizes, can
/// land below the Bayes error; this fit takes the floor from theory, so its extrapolation never
/// crosses it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AnchoredFit {
    /// Prefactor of the excess, MSE units.
    pub beta: f64,
    /// Exponent of the excess (negative when the excess falls with `N`).
    pub alpha: f64,
    /// Sizes fitted (those whose test MSE is above the floor).
    pub n_points: usize,
    /// Prediction at `N = 1e6`.
    pub at_1e6: f64,
}

/// One curve: a learning problem, its runs, the best-width curve and its fit.
#[derive(Clone, Debug, Serialize)]
pub struct GroupSummary {
    /// Human-readable description (`denoise gaussian-field unet, image_size=32, ...`).
    pub label: String,
    /// File-name stem (letters, digits, `-`, `_`, `.`).
    pub tag: String,
    /// What defines the curve.
    pub key: CurveKey,
    /// Metric used to pick the best width ([`SELECTION_METRIC`]; `None` when every `N` has a
    /// single width).
    pub selection_metric: Option<String>,
    /// The data's exact floor and what the fit made of it, when every run of the curve
    /// records one (its fields stand at the JSON's top level; absent without a floor).
    #[serde(flatten)]
    pub floor: Option<CurveFloor>,
    /// `--mask fixed`: the one mask's sampled columns, when every run of the curve recorded the
    /// same (`mask_columns` in `metrics.json`); the learned-linear theory needs it.
    pub mask_columns: Option<Vec<usize>>,
    /// Every run.
    pub points: Vec<RunPoint>,
    /// The best width per `N`, increasing `N`.
    pub best: Vec<BestPoint>,
    /// Fit of the best curve (saturating when there are at least 4 sizes, else power law when
    /// there are 3; `None` below that or when the fit fails).
    pub fit: Option<FitReport>,
    /// Why there is no fit.
    pub fit_note: Option<String>,
    /// Runs whose test MSE is below the Bayes denoiser's on the same images.
    pub below_oracle: usize,
}

impl GroupSummary {
    /// The exact floor `floor_mse`, where known.
    pub fn floor_mse(&self) -> Option<f64> {
        self.floor.as_ref().map(|f| f.floor_mse)
    }

    /// The fitted curve at `n`, `None` without a fit.
    pub fn predict(&self, n: f64) -> Option<f64> {
        let fit = self.fit.as_ref()?;
        let p = |k: &str| fit.params.get(k).copied();
        match fit.model {
            ModelKind::Saturating => Some(p("a")? * n.powf(-p("b")?) + p("c")?),
            ModelKind::Power => Some(p("beta")? * n.powf(p("alpha")?)),
            ModelKind::Broken => None,
        }
    }
}

/// The known floor of a curve: `floor_mse`, seen through the test set with the standard error
/// of the best point at the largest `N` (the test-set noise of a near-floor estimator's MSE)
/// combined with the floor's own Monte Carlo error. `None` without `floor_mse`.
pub fn known_floor(g: &GroupSummary) -> Option<KnownFloor> {
    let f = g.floor.as_ref()?;
    floor_of(Some(f.floor_mse), f.floor_mse_stderr, &g.best)
}

fn floor_of(mse: Option<f64>, mc: Option<f64>, best: &[BestPoint]) -> Option<KnownFloor> {
    let test = best.last().and_then(|b| b.test_mse_se).unwrap_or(0.0);
    Some(KnownFloor {
        mse: mse?,
        se: test.hypot(mc.unwrap_or(0.0)),
    })
}

/// Errors when best points of `g` lie more than [`crate::analysis::plan::CONTRADICTION_SES`]
/// standard errors below its exact floor.
///
/// # Errors
/// The [`FloorContradiction`] naming them.
pub fn check_group_floor(g: &GroupSummary) -> std::result::Result<(), FloorContradiction> {
    let Some(floor) = known_floor(g) else {
        return Ok(());
    };
    let xs: Vec<f64> = g.best.iter().map(|b| b.n).collect();
    let ys: Vec<f64> = g.best.iter().map(|b| b.test_mse).collect();
    let ses: Vec<Option<f64>> = g.best.iter().map(|b| b.test_mse_se).collect();
    check_floor(&g.label, &xs, &ys, &ses, floor)
}

fn short(k: &str) -> &str {
    match k {
        "image_size" => "s",
        "noise_std" => "sigma",
        "subspace_dim" => "d",
        "field_exponent" => "exp",
        "field_cutoff" => "f0",
        "field_std" => "std",
        "acceleration" => "acc",
        "center_fraction" => "cf",
        "mri_input" => "input",
        "mask_seed" => "maskseed",
        other => other,
    }
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Groups the finished `ok` records into curves and computes each curve's best-width points
/// and fit. Records that are not `ok`, or have no `test_mse`, are left out.
///
/// # Errors
/// An `ok` record whose `test_mse` is not positive and finite, or whose training-set size is
/// 0 (a corrupt record: leaving it out would change the curve silently), naming the record.
/// A failing fit is not an error (see [`GroupSummary::fit_note`]).
pub fn analyse(records: &[Record]) -> Result<Vec<GroupSummary>> {
    type Runs<'a> = Vec<(&'a str, &'a RunRecord)>;
    let mut groups: BTreeMap<String, (CurveKey, Runs)> = BTreeMap::new();
    for r in records {
        let Some(m) = r.metrics.as_ref() else {
            continue;
        };
        let (ok, mse) = (m.results.status == Status::Ok, m.results.test_mse);
        if !ok || mse.is_none() {
            continue;
        }
        if let Some(v) = mse.filter(|v| !(v.is_finite() && *v > 0.0)) {
            anyhow::bail!(
                "record {}: status ok but test_mse is {} (a test MSE is positive and finite; \
                 remove or rerun the record)",
                r.id,
                crate::text::number(v)
            );
        }
        if m.config.train_size == 0 {
            anyhow::bail!(
                "record {}: status ok but train_size is 0 (remove or rerun the record)",
                r.id
            );
        }
        let key = &m.config.curve;
        groups
            .entry(key.canonical())
            .or_insert_with(|| (key.clone(), Vec::new()))
            .1
            .push((r.id.as_str(), m));
    }
    let keys: Vec<serde_json::Map<String, Value>> =
        groups.values().map(|(k, _)| k.to_map()).collect();
    let shown = shown_settings(&keys);
    Ok(groups
        .into_values()
        .zip(&keys)
        .map(|((key, runs), map)| summarise(key, map, &shown, &runs))
        .collect())
}

/// The settings a label shows: the problem's, and every other one whose value differs between
/// the curves (so two curves never get the same label or file name).
fn shown_settings(keys: &[serde_json::Map<String, Value>]) -> Vec<String> {
    let mut names: Vec<String> = LABEL_ORDER.iter().map(|k| k.to_string()).collect();
    for k in keys.iter().flat_map(|m| m.keys()) {
        if !names.contains(k) {
            names.push(k.clone());
        }
    }
    names
        .into_iter()
        .enumerate()
        .filter(|(i, k)| *i < ALWAYS_SHOWN || keys.iter().any(|m| m.get(k) != keys[0].get(k)))
        .map(|(_, k)| k)
        .collect()
}

fn summarise(
    key: CurveKey,
    map: &serde_json::Map<String, Value>,
    shown: &[String],
    runs: &[(&str, &RunRecord)],
) -> GroupSummary {
    let has_val = runs.iter().all(|(_, m)| m.results.best_val_psnr.is_some());
    let points = run_points(runs);
    let (floor_mse, floor_mse_stderr) = curve_floor(runs);
    let stderr_of: BTreeMap<&str, f64> = runs
        .iter()
        .filter_map(|(id, m)| Some((*id, m.results.test_mse_stderr?)))
        .collect();
    let by_n = by_size_and_width(&points);
    let multi_width = by_n.values().any(|w| w.len() > 1);
    let best: Vec<BestPoint> = by_n
        .values()
        .filter_map(|widths| best_width(widths, has_val, &stderr_of, floor_mse))
        .collect();
    let label = label_of(map, shown);
    let known = floor_of(floor_mse, floor_mse_stderr, &best);
    let (fit, fit_note) = fit_best(&label, &best, known.map_or(0.0, |k| k.bound()));
    let saturating = fit.as_ref().filter(|f| f.model == ModelKind::Saturating);
    let floor = known.map(|k| CurveFloor {
        floor_mse: k.mse,
        floor_mse_stderr,
        floor_bound: k.bound(),
        free_floor: saturating.and_then(|_| free_saturating_floor(&best)),
        floor_label: key.problem.task().floor_label().to_string(),
        anchored_fit: anchored(&best, k.mse),
        fitted_floor_over_floor: saturating.and_then(|f| Some(f.params.get("c")? / k.mse)),
        below_floor: points.iter().filter(|p| p.test_mse < k.mse).count(),
    });
    let below_oracle = points
        .iter()
        .filter(|p| p.oracle_test_mse.is_some_and(|o| p.test_mse < o))
        .count();
    GroupSummary {
        label,
        tag: tag_of(map, shown),
        selection_metric: (multi_width && has_val).then(|| SELECTION_METRIC.to_string()),
        mask_columns: common_mask(runs),
        key,
        floor,
        points,
        best,
        fit,
        fit_note,
        below_oracle,
    }
}

/// Every run of a curve as a point (`test_mse` NaN where the record has none).
fn run_points(runs: &[(&str, &RunRecord)]) -> Vec<RunPoint> {
    runs.iter()
        .map(|(id, m)| RunPoint {
            id: id.to_string(),
            n: m.config.train_size as f64,
            width: m.config.channels,
            seed: i64::try_from(m.config.seed).ok(),
            params: m.results.params,
            test_mse: m.results.test_mse.unwrap_or(f64::NAN),
            val_metric: m.results.best_val_psnr,
            oracle_test_mse: m.results.oracle_test_mse,
        })
        .collect()
}

/// The curve's exact floor (the mean over its runs, `None` unless every run has one) and the
/// largest Monte Carlo standard error recorded for it.
fn curve_floor(runs: &[(&str, &RunRecord)]) -> (Option<f64>, Option<f64>) {
    let floors: Vec<f64> = runs
        .iter()
        .filter_map(|(_, m)| m.results.floor_mse)
        .collect();
    // The floor is a property of the data model, the same for every run of the curve.
    let floor_mse = (floors.len() == runs.len() && !floors.is_empty())
        .then(|| floors.iter().sum::<f64>() / floors.len() as f64);
    let floor_mse_stderr = runs
        .iter()
        .filter_map(|(_, m)| m.results.floor_mse_stderr)
        .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))));
    (floor_mse, floor_mse_stderr)
}

/// The fixed mask's columns, when every run recorded the same one.
fn common_mask(runs: &[(&str, &RunRecord)]) -> Option<Vec<usize>> {
    let masks: Vec<Option<&Vec<usize>>> = runs
        .iter()
        .map(|(_, m)| m.results.mask_columns.as_ref())
        .collect();
    masks
        .first()
        .copied()
        .flatten()
        .filter(|m| masks.iter().all(|o| *o == Some(*m)))
        .cloned()
}

/// The runs of one width at one training-set size (its seeds).
type Seeds<'a> = Vec<&'a RunPoint>;

/// The runs by training-set size, then width (both increasing).
fn by_size_and_width(points: &[RunPoint]) -> BTreeMap<u64, BTreeMap<Option<i64>, Seeds<'_>>> {
    let mut by_n: BTreeMap<u64, BTreeMap<Option<i64>, Seeds<'_>>> = BTreeMap::new();
    for p in points {
        by_n.entry(p.n as u64)
            .or_default()
            .entry(p.width)
            .or_default()
            .push(p);
    }
    by_n
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// The best width at one training-set size, averaged over its seeds: by the validation metric
/// when every run has one, else the only (first) width. `stderr_of` gives a single run's
/// recorded test-set standard error by record id.
fn best_width(
    widths: &BTreeMap<Option<i64>, Seeds<'_>>,
    has_val: bool,
    stderr_of: &BTreeMap<&str, f64>,
    floor_mse: Option<f64>,
) -> Option<BestPoint> {
    let candidates: Vec<(Option<i64>, &Seeds<'_>, Option<f64>)> = widths
        .iter()
        .map(|(w, runs)| {
            let vals: Option<Vec<f64>> = runs.iter().map(|r| r.val_metric).collect();
            (*w, runs, vals.map(|v| mean(&v)))
        })
        .collect();
    let chosen = if has_val {
        candidates
            .iter()
            .max_by(|a, b| a.2.unwrap_or(f64::NAN).total_cmp(&b.2.unwrap_or(f64::NAN)))
    } else {
        // Without a validation metric only a single width per N can be reported.
        candidates.first()
    };
    let (width, runs, val) = chosen?;
    let mses: Vec<f64> = runs.iter().map(|r| r.test_mse).collect();
    let m = mean(&mses);
    let se = if mses.len() >= 2 {
        let var = mses.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (mses.len() - 1) as f64;
        Some((var / mses.len() as f64).sqrt())
    } else {
        stderr_of.get(runs[0].id.as_str()).copied()
    };
    let ratios: Option<Vec<f64>> = runs
        .iter()
        .map(|r| r.oracle_test_mse.map(|o| r.test_mse / o))
        .collect();
    Some(BestPoint {
        n: runs[0].n,
        width: *width,
        test_mse: m,
        test_mse_se: se,
        val_metric: *val,
        seeds: runs.len(),
        over_floor: floor_mse.map(|f| m / f),
        over_oracle: ratios.map(|r| mean(&r)),
    })
}

/// The floor `c` of the unconstrained saturating fit of the best points (a diagnostic).
fn free_saturating_floor(best: &[BestPoint]) -> Option<f64> {
    let (xs, ys): (Vec<f64>, Vec<f64>) = best.iter().map(|b| (b.n, b.test_mse)).unzip();
    crate::fit::fit_saturating(&xs, &ys).ok().map(|f| f.c)
}

fn fit_best(label: &str, best: &[BestPoint], c_min: f64) -> (Option<FitReport>, Option<String>) {
    let kind = match best.len() {
        n if n >= ModelKind::Saturating.min_points() => ModelKind::Saturating,
        n if n >= ModelKind::Power.min_points() => ModelKind::Power,
        n => {
            return (
                None,
                Some(format!(
                    "{n} training-set size(s): a fit needs at least {}",
                    ModelKind::Power.min_points()
                )),
            )
        }
    };
    let xs: Vec<f64> = best.iter().map(|b| b.n).collect();
    let ys: Vec<f64> = best.iter().map(|b| b.test_mse).collect();
    let curve = match Curve::new(&xs, &ys) {
        Ok(c) => c,
        Err(e) => return (None, Some(format!("{e:#}"))),
    };
    let opts = |method| FitOptions {
        model: ModelChoice::Model(kind),
        range: None,
        bootstrap: BootstrapOptions {
            method,
            reps: 500,
            seed: 0,
        },
        at: vec![("1e6".into(), EXTRAPOLATE_TO)],
    };
    // Residual bootstrap first; with very few points it can fail, and then the fit alone is
    // still worth reporting.
    match fit_curve_floored(label, &curve, &opts(Method::Auto), c_min)
        .or_else(|_| fit_curve_floored(label, &curve, &opts(Method::None), c_min))
    {
        Ok(r) => (Some(r), None),
        Err(e) => (None, Some(format!("{e:#}"))),
    }
}

fn anchored(best: &[BestPoint], floor: f64) -> Option<AnchoredFit> {
    let (xs, ys): (Vec<f64>, Vec<f64>) = best
        .iter()
        .filter(|b| b.test_mse > floor)
        .map(|b| (b.n, b.test_mse - floor))
        .unzip();
    if xs.len() < ModelKind::Power.min_points() {
        return None;
    }
    let f = fit_power(&xs, &ys).ok()?;
    Some(AnchoredFit {
        beta: f.beta,
        alpha: f.alpha,
        n_points: xs.len(),
        at_1e6: floor + f.predict(EXTRAPOLATE_TO),
    })
}

fn label_of(key: &serde_json::Map<String, Value>, shown: &[String]) -> String {
    let head: Vec<String> = ["task", "data", "model"]
        .iter()
        .filter_map(|k| key.get(*k).map(value_text))
        .collect();
    let rest: Vec<String> = shown
        .iter()
        .filter(|k| !["task", "data", "model"].contains(&k.as_str()))
        .filter_map(|k| {
            let v = key.get(k).filter(|v| !v.is_null())?;
            Some(format!("{}={}", short(k), value_text(v)))
        })
        .collect();
    let mut s = head.join(" ");
    if !rest.is_empty() {
        s.push_str(", ");
        s.push_str(&rest.join(", "));
    }
    s
}

fn tag_of(key: &serde_json::Map<String, Value>, shown: &[String]) -> String {
    let parts: Vec<String> = shown
        .iter()
        .filter_map(|k| {
            let v = value_text(key.get(k).filter(|v| !v.is_null())?);
            Some(if ["task", "data", "model"].contains(&k.as_str()) {
                // A data path keeps only its last component.
                v.rsplit('/').next().unwrap_or(&v).to_string()
            } else {
                format!("{}{v}", short(k))
            })
        })
        .collect();
    parts
        .join("_")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// One row of a curve's CSV.
#[derive(Serialize)]
struct CsvRow<'a> {
    /// Training-set sizes are whole numbers (a record's `train_size`): written as integers.
    #[serde(rename = "N")]
    n: u64,
    width: Option<i64>,
    seed: Option<i64>,
    test_mse: f64,
    val_metric: Option<f64>,
    oracle_test_mse: Option<f64>,
    best: bool,
    id: &'a str,
}

/// The CSV of every run of a group: `N,width,seed,test_mse,val_metric,oracle_test_mse,best,id`,
/// sorted by `N`, width and seed.
pub fn points_csv(g: &GroupSummary) -> String {
    let mut pts: Vec<&RunPoint> = g.points.iter().collect();
    pts.sort_by(|a, b| {
        (a.n, a.width, a.seed)
            .partial_cmp(&(b.n, b.width, b.seed))
            .expect("sizes are finite")
    });
    let mut w = csv::Writer::from_writer(Vec::new());
    for p in pts {
        let row = CsvRow {
            n: p.n as u64,
            width: p.width,
            seed: p.seed,
            test_mse: p.test_mse,
            val_metric: p.val_metric,
            oracle_test_mse: p.oracle_test_mse,
            best: g.best.iter().any(|b| b.n == p.n && b.width == p.width),
            id: &p.id,
        };
        w.serialize(row).expect("writing to memory cannot fail");
    }
    String::from_utf8(w.into_inner().expect("writing to memory cannot fail"))
        .expect("the CSV is UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn metrics(n: u64, width: i64, seed: i64, val: f64, test: f64) -> Value {
        json!({
            "task": "denoise", "data": "gaussian-field", "model": "unet", "pools": 2,
            "field_exponent": 2.0, "field_cutoff": 0.05, "field_std": 0.25,
            "image_size": 32, "noise_std": 0.1, "train_size": n, "channels": width,
            "batch_size": 16, "lr": 1e-3, "lr_patience": 6, "min_lr": 1e-5, "epochs": 30,
            "early_stop": 6, "val_size": 128, "test_size": 512,
            "seed": seed, "best_val_psnr": val, "test_mse": test, "floor_mse": 1.0,
            "oracle_test_mse": 0.99, "test_mse_stderr": 0.01, "status": "ok",
        })
    }

    fn from_metrics(id: &str, m: Value) -> Record {
        Record {
            id: id.into(),
            index: 0,
            sweep: "t".into(),
            status: "ok".into(),
            params: serde_json::Map::new(),
            metrics: Some(serde_json::from_value(m).unwrap()),
            error: None,
            seconds: 1.0,
            host: "h".into(),
            finished_unix: 0,
        }
    }

    fn rec(id: &str, n: u64, width: i64, seed: i64, val: f64, test: f64) -> Record {
        from_metrics(id, metrics(n, width, seed, val, test))
    }

    #[test]
    fn best_width_is_chosen_on_validation_not_test() {
        // At N = 10 width 8 has the better validation PSNR but the worse test MSE: the
        // selection must follow validation.
        let recs = vec![
            rec("a", 10, 8, 0, 30.0, 2.0),
            rec("b", 10, 16, 0, 29.0, 1.5),
            rec("c", 20, 8, 0, 29.0, 1.6),
            rec("d", 20, 16, 0, 31.0, 1.4),
            rec("e", 20, 16, 1, 31.0, 1.2),
        ];
        let g = analyse(&recs).unwrap();
        assert_eq!(g.len(), 1);
        let g = &g[0];
        assert_eq!(g.selection_metric.as_deref(), Some("best_val_psnr"));
        assert_eq!(g.best.len(), 2);
        assert_eq!((g.best[0].width, g.best[0].test_mse), (Some(8), 2.0));
        assert_eq!(g.best[1].width, Some(16));
        assert!((g.best[1].test_mse - 1.3).abs() < 1e-12);
        assert_eq!(g.best[1].seeds, 2);
        assert!((g.best[1].test_mse_se.unwrap() - 0.1).abs() < 1e-12);
        assert_eq!(g.best[0].test_mse_se, Some(0.01));
        assert_eq!(g.floor_mse(), Some(1.0));
        assert!(g.fit.is_none() && g.fit_note.is_some());
        assert_eq!(
            g.tag,
            "denoise_gaussian-field_unet_s32_sigma0.1_exp2.0_f00.05_std0.25"
        );
        let csv = points_csv(g);
        assert_eq!(csv.lines().count(), 6);
        assert!(csv.contains("10,8,0,2.0,30.0,0.99,true,a"), "{csv}");
    }

    #[test]
    fn saturating_fit_recovers_a_synthetic_floor() {
        let recs: Vec<Record> = [10u64, 30, 100, 300, 1000, 3000]
            .iter()
            .enumerate()
            .map(|(i, &n)| {
                let y = 2.0 * (n as f64).powf(-0.7) + 1.0;
                rec(&format!("r{i}"), n, 16, 0, 30.0, y)
            })
            .collect();
        let g = &analyse(&recs).unwrap()[0];
        let fit = g.fit.as_ref().expect("fit");
        assert_eq!(fit.model, ModelKind::Saturating);
        let floor = g.floor.as_ref().expect("the runs' floor");
        assert!((floor.fitted_floor_over_floor.unwrap() - 1.0).abs() < 1e-3);
        assert!((g.predict(1e6).unwrap() - (2.0 * 1e6f64.powf(-0.7) + 1.0)).abs() < 1e-3);
        // The floor recorded is the true one: the anchored fit recovers the excess exactly.
        let anchored = floor.anchored_fit.as_ref().expect("anchored fit");
        assert!((anchored.alpha + 0.7).abs() < 1e-9 && (anchored.beta - 2.0).abs() < 1e-9);
        assert_eq!(anchored.n_points, 6);
        assert_eq!(floor.below_floor, 0);
    }

    #[test]
    fn runs_differing_in_a_training_setting_are_separate_curves() {
        // Same problem, same sizes; one set trained with L1. Earlier versions averaged them.
        let mut recs = Vec::new();
        for (i, loss) in ["mse", "l1"].iter().enumerate() {
            for (j, n) in [10u64, 20].iter().enumerate() {
                let mut m = metrics(*n, 8, 0, 30.0, 1.5 + i as f64);
                m["loss"] = json!(loss);
                recs.push(from_metrics(&format!("r{i}{j}"), m));
            }
        }
        let g = analyse(&recs).unwrap();
        assert_eq!(g.len(), 2);
        assert_ne!(g[0].tag, g[1].tag);
        assert!(
            g.iter().any(|g| g.label.contains("loss=l1")),
            "{:?}",
            g[0].label
        );
        assert!(g.iter().all(|g| g.best.iter().all(|b| b.seeds == 1)));
    }
}
