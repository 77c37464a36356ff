//! The linear Gaussian theory of a real-data denoising curve, read from a `plateau spectrum`
//! run (its `summary.json` and `predictions.csv`), and where the measured curve stands against
//! it.
//!
//! `plateau spectrum` (crate `plateau-experiments`, which reads the images) estimates the
//! second moment of the training images exactly as training sees them and predicts from its
//! eigenvalues (`theory/gaussian.md` section 4): the best linear map's error (the LMMSE,
//! `estimator = linear_floor`: the lowest error of any linear map, a floor for linear
//! estimators only) and the expected error of tuned ridge and early-stopped gradient descent
//! learned from `N` examples, each with a 95% bootstrap band over the images. This module only
//! reads those files, so the `plateau` package stays free of LibTorch.
//!
//! The comparison ([`standing`]) is at the largest measured `N`: the measured error, with its
//! 95% interval (1.96 test-set standard errors), against the LMMSE band. Above the band the
//! network has not yet learned what a linear map can; below it, it exploits structure beyond
//! the second moments; overlapping, the data do not say which. The gap is
//! `10 log10(measured / LMMSE)` dB. All errors are per-pixel MSEs in the images' units (those
//! of `test_mse`).

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use plateau_run::problem::{Data, Problem, Task};
use serde::{Deserialize, Serialize};

use super::estimate::Estimate;
use super::scaling::GroupSummary;
use super::PredictedCurve;

/// The folder a sweep's spectrum run is looked for in when none is named:
/// `<results>/spectrum` (what `plateau reproduce` writes for real-data denoising sweeps).
pub const DEFAULT_SUBDIR: &str = "spectrum";

/// Legend of the LMMSE level on the figures.
pub const BEST_LINEAR_LABEL: &str = "best linear map (Gaussian LMMSE, data's spectrum)";

/// The fields of `plateau spectrum`'s `summary.json` used here.
#[derive(Debug, Deserialize)]
struct SummaryFile {
    data: String,
    image_size: usize,
    color: String,
    noise_std: f64,
    pool: usize,
    linear_floor: (f64, f64, f64),
}

/// One row of `predictions.csv`.
#[derive(Debug, Deserialize)]
struct Row {
    #[serde(rename = "N")]
    n: usize,
    estimator: String,
    mse: f64,
    mse_lo: f64,
    mse_hi: f64,
}

/// A learned linear estimator's predicted error at each `N` of the spectrum run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LearnedCurve {
    /// `ridge_tuned` or `gd_early_stopped` (the names of `predictions.csv`).
    pub estimator: String,
    /// `(N, expected per-pixel MSE with its 95% band)`, increasing `N`.
    pub points: Vec<(f64, Estimate)>,
}

/// A `plateau spectrum` run: what it describes and what it predicts.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DataSpectrum {
    /// The run's folder.
    pub dir: PathBuf,
    /// `--data` as written (`skimage`, `folder:PATH`, ...).
    pub data: String,
    /// Image side `s` (pixels).
    pub image_size: usize,
    /// `gray`, `rgb` or `rgb-split`.
    pub color: String,
    /// Noise standard deviation (pixel units).
    pub noise_std: f64,
    /// Training images whose second moment was estimated.
    pub pool: usize,
    /// The LMMSE (per-pixel MSE) with its 95% bootstrap band.
    pub best_linear_map: Estimate,
    /// Tuned ridge and early-stopped gradient descent, in that order (those present).
    pub learned: Vec<LearnedCurve>,
}

/// Reads the spectrum run in `dir`.
///
/// # Errors
/// A missing or unreadable `summary.json` / `predictions.csv`, or values that are not finite
/// positive errors (one line naming the file).
pub fn load(dir: &Path) -> Result<DataSpectrum> {
    let summary_path = dir.join("summary.json");
    let text = std::fs::read_to_string(&summary_path).with_context(|| {
        format!(
            "cannot read {} (a `plateau spectrum --out DIR` folder is expected)",
            summary_path.display()
        )
    })?;
    let s: SummaryFile = serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not a plateau spectrum summary",
            summary_path.display()
        )
    })?;
    let (f, lo, hi) = s.linear_floor;
    if !(f > 0.0 && lo > 0.0 && hi >= lo && f.is_finite() && hi.is_finite()) {
        bail!(
            "{}: linear_floor {f:e} (95% {lo:e} to {hi:e}) is not a positive error with its band",
            summary_path.display()
        );
    }
    Ok(DataSpectrum {
        dir: dir.to_path_buf(),
        data: s.data,
        image_size: s.image_size,
        color: s.color,
        noise_std: s.noise_std,
        pool: s.pool,
        best_linear_map: Estimate::new(f, [lo, hi]),
        learned: read_predictions(&dir.join("predictions.csv"))?,
    })
}

/// The learned-estimator rows of `predictions.csv`, grouped by estimator, increasing `N`.
fn read_predictions(path: &Path) -> Result<Vec<LearnedCurve>> {
    let mut reader =
        csv::Reader::from_path(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut curves: Vec<LearnedCurve> = ["ridge_tuned", "gd_early_stopped"]
        .iter()
        .map(|e| LearnedCurve {
            estimator: (*e).to_string(),
            points: Vec::new(),
        })
        .collect();
    for (i, row) in reader.deserialize::<Row>().enumerate() {
        let r = row.map_err(|e| anyhow!("{}: row {}: {e}", path.display(), i + 2))?;
        let ok = [r.mse, r.mse_lo, r.mse_hi]
            .iter()
            .all(|v| v.is_finite() && *v > 0.0);
        if !ok || r.n == 0 {
            bail!(
                "{}: row {}: N = {} with mse {:e} ({:e} to {:e}) is not a positive error",
                path.display(),
                i + 2,
                r.n,
                r.mse,
                r.mse_lo,
                r.mse_hi
            );
        }
        if let Some(c) = curves.iter_mut().find(|c| c.estimator == r.estimator) {
            c.points
                .push((r.n as f64, Estimate::new(r.mse, [r.mse_lo, r.mse_hi])));
        }
    }
    curves.retain(|c| !c.points.is_empty());
    for c in &mut curves {
        c.points.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    if curves.is_empty() {
        bail!(
            "{} has no ridge_tuned or gd_early_stopped row",
            path.display()
        );
    }
    Ok(curves)
}

impl DataSpectrum {
    /// Whether the run describes the data of `problem`: denoising of the same real images
    /// (source, colour handling, side) at the same noise level (relative difference below
    /// `1e-6`). Synthetic data have exact theory of their own and never match.
    pub fn matches(&self, problem: &Problem) -> bool {
        let Task::Denoise { sigma } = problem.task() else {
            return false;
        };
        let Data::Real { source, color } = problem.data() else {
            return false;
        };
        source.to_string() == self.data
            && color.name() == self.color
            && problem.image_size() == self.image_size
            && (sigma - self.noise_std).abs() <= 1e-6 * sigma.abs()
    }

    /// What it is, for messages: `skimage 16x16 gray, sigma 0.098`.
    pub fn describe(&self) -> String {
        format!(
            "{} {s}x{s} {}, sigma {}",
            self.data,
            self.color,
            self.noise_std,
            s = self.image_size
        )
    }

    /// The learned linear curves for the figures (the predictions' `N`, value only).
    pub fn curves(&self) -> Vec<PredictedCurve> {
        self.learned
            .iter()
            .map(|c| PredictedCurve {
                label: format!(
                    "learned linear, {} (Gaussian theory, data's spectrum)",
                    learner_name(&c.estimator)
                ),
                points: c.points.iter().map(|(n, e)| (*n, e.value)).collect(),
            })
            .collect()
    }
}

/// `tuned ridge` / `early-stopped GD` for the estimator names of `predictions.csv`.
fn learner_name(estimator: &str) -> &str {
    match estimator {
        "ridge_tuned" => "tuned ridge",
        "gd_early_stopped" => "early-stopped GD",
        other => other,
    }
}

/// The spectrum run of a sweep: `explicit` when given, else `<results>/`[`DEFAULT_SUBDIR`] when
/// it holds a `predictions.csv`, else none.
///
/// # Errors
/// An unreadable run ([`load`]).
pub fn find(results: &Path, explicit: Option<&Path>) -> Result<Option<DataSpectrum>> {
    if let Some(dir) = explicit {
        return load(dir).map(Some);
    }
    let auto = results.join(DEFAULT_SUBDIR);
    if auto.join("predictions.csv").is_file() {
        return load(&auto).map(Some);
    }
    Ok(None)
}

/// Refuses a spectrum run named on the command line that matches none of the curves.
///
/// # Errors
/// One line naming what the run describes and what the curves are.
pub fn check_used(spectrum: &DataSpectrum, groups: &[GroupSummary]) -> Result<()> {
    if groups.iter().any(|g| spectrum.matches(&g.key.problem)) {
        return Ok(());
    }
    bail!(
        "the spectrum run {} is of {} (denoising); no curve of the results is: {}",
        spectrum.dir.display(),
        spectrum.describe(),
        groups
            .iter()
            .map(|g| g.label.as_str())
            .collect::<Vec<_>>()
            .join("; ")
    )
}

/// Where the measured error stands against the best linear map.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The measured interval lies above the LMMSE band.
    Above,
    /// It lies below.
    Below,
    /// They overlap.
    Indistinguishable,
}

/// A learned linear estimator's predicted error at the measured curve's largest `N`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LearnedAt {
    /// `ridge_tuned` or `gd_early_stopped`.
    pub estimator: String,
    /// Its predicted per-pixel MSE with the 95% band.
    pub mse: Estimate,
    /// `10 log10(measured / predicted)`: positive when the network is worse.
    pub db_above: f64,
}

/// The measured curve at its largest `N` against the spectrum's linear theory.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LinearStanding {
    /// The spectrum run's folder.
    pub spectrum: PathBuf,
    /// The largest measured `N`.
    pub n: f64,
    /// The measured error there (per-pixel MSE).
    pub measured_mse: f64,
    /// Its standard error (seeds, else the test set), when recorded.
    pub measured_se: Option<f64>,
    /// The best linear map's error (LMMSE) with its 95% band.
    pub best_linear_map: Estimate,
    /// `10 log10(measured / LMMSE)`: positive above the best linear map.
    pub db_above_best_linear: f64,
    /// Above, below or indistinguishable (95% intervals).
    pub verdict: Verdict,
    /// The learned linear maps at the same `N` (where the predictions' sizes bracket it).
    pub learned: Vec<LearnedAt>,
}

/// The standing of `g`'s largest-`N` point against `spectrum` (`None` when the curve has no
/// point or the run is of other data).
pub fn standing(g: &GroupSummary, spectrum: &DataSpectrum) -> Option<LinearStanding> {
    if !spectrum.matches(&g.key.problem) {
        return None;
    }
    let last = g.best.last()?;
    let (m, se) = (last.test_mse, last.test_mse_se);
    let half = 1.96 * se.unwrap_or(0.0);
    let lmmse = &spectrum.best_linear_map;
    let verdict = if m - half > lmmse.ci95[1] {
        Verdict::Above
    } else if m + half < lmmse.ci95[0] {
        Verdict::Below
    } else {
        Verdict::Indistinguishable
    };
    let learned = spectrum
        .learned
        .iter()
        .filter_map(|c| {
            let e = interpolate(&c.points, last.n)?;
            Some(LearnedAt {
                estimator: c.estimator.clone(),
                db_above: 10.0 * (m / e.value).log10(),
                mse: e,
            })
        })
        .collect();
    Some(LinearStanding {
        spectrum: spectrum.dir.clone(),
        n: last.n,
        measured_mse: m,
        measured_se: se,
        best_linear_map: *lmmse,
        db_above_best_linear: 10.0 * (m / lmmse.value).log10(),
        verdict,
        learned,
    })
}

/// The estimate at `n`, linear in `(ln N, ln MSE)` between the two sizes bracketing it (value
/// and band ends alike); `None` outside the sizes.
fn interpolate(points: &[(f64, Estimate)], n: f64) -> Option<Estimate> {
    if let Some((_, e)) = points.iter().find(|(x, _)| *x == n) {
        return Some(*e);
    }
    let i = points.iter().position(|(x, _)| *x > n)?;
    let ((x0, e0), (x1, e1)) = (points.get(i.checked_sub(1)?)?, &points[i]);
    let t = (n.ln() - x0.ln()) / (x1.ln() - x0.ln());
    let at = |a: f64, b: f64| (a.ln() + t * (b.ln() - a.ln())).exp();
    Some(Estimate::new(
        at(e0.value, e1.value),
        [at(e0.ci95[0], e1.ci95[0]), at(e0.ci95[1], e1.ci95[1])],
    ))
}

/// The sentences of a standing, each line indented by two spaces (for `plan`'s summary and
/// `scaling`'s report).
pub fn standing_text(s: &LinearStanding) -> String {
    use std::fmt::Write as _;
    let e = |v: f64| format!("{v:.4e}");
    let lm = &s.best_linear_map;
    let gap = s.db_above_best_linear.abs();
    let verdict = match s.verdict {
        Verdict::Above => format!(
            "is {gap:.2} dB above it: the network has not yet learned what a linear map can"
        ),
        Verdict::Below => format!(
            "is {gap:.2} dB below it: the network exploits structure beyond the second \
             moments, by {gap:.2} dB"
        ),
        Verdict::Indistinguishable => format!(
            "is within the uncertainty of it ({:+.2} dB): the data do not tell above from below",
            s.db_above_best_linear
        ),
    };
    let mut out = format!(
        "  best linear map (Gaussian LMMSE from the data's spectrum, {}): {} (95% {} to {}); \
         the measured {} at N = {} {verdict}\n",
        s.spectrum.display(),
        e(lm.value),
        e(lm.ci95[0]),
        e(lm.ci95[1]),
        e(s.measured_mse),
        super::estimate::fmt_n(s.n),
    );
    for l in &s.learned {
        let side = if l.db_above >= 0.0 { "above" } else { "below" };
        let _ = writeln!(
            out,
            "  learned linear, {} (Gaussian theory) at N = {}: {} (95% {} to {}); the measured \
             error is {:.2} dB {side} it",
            learner_name(&l.estimator),
            super::estimate::fmt_n(s.n),
            e(l.mse.value),
            e(l.mse.ci95[0]),
            e(l.mse.ci95[1]),
            l.db_above.abs()
        );
    }
    out
}
