//! Backtesting an extrapolation: fit on the small training-set sizes only, predict the larger
//! ones that were held out, and compare.
//!
//! The points with `x <= max(x) / 4` ([`HOLDOUT_FACTOR`]) are the training part, the others are
//! held out. Every candidate model ([`ModelKind::ALL`]) with enough training points is fitted
//! to the training part and predicts each held-out `x`; the report gives the error of the
//! prediction in `ln y` and whether a 95% **prediction interval** covered the observed value.
//!
//! The interval is a bootstrap prediction interval (Davison and Hinkley 1997, algorithm 6.4):
//! replicate `r` refits the model on resampled training data ([`crate::fit::bootstrap()`], any
//! method), predicts `ln f*_r(x)` and adds a new-observation error `e*_r` drawn from the
//! training fit's centred log residuals inflated by `sqrt(n / (n - p))`; the interval is the
//! 2.5% and 97.5% percentiles of `exp(ln f*_r(x) + e*_r)`. A confidence interval of the curve
//! alone would ignore that the held-out point is itself a noisy measurement, and under-cover.
//! With Gaussian log errors and a model that is right, coverage is close to
//! `P(|T_(n-p)| <= 1.96)` (tested in `tests/fit_backtest.rs`); a wrong model shows up as
//! held-out points outside their intervals.
//!
//! [`Backtest::best`] is the candidate of smallest root-mean-square held-out error in `ln y`,
//! the model choice of `--select backtest` (see `docs/fits.md`).
//!
//! Cost: per candidate one fit and `reps` bootstrap refits of the training part.

use anyhow::{bail, Context, Result};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use super::bootstrap::centred_residuals;
use super::report::{fit_curve, FitOptions, FitReport, ModelChoice};
use super::{bootstrap, fit_model, percentile_interval, BootstrapOptions, Curve, Fit, ModelKind};

/// Training points are those with `x <= max(x) / HOLDOUT_FACTOR`.
pub const HOLDOUT_FACTOR: f64 = 4.0;

/// Level of the prediction intervals.
const LEVEL: f64 = 0.95;

/// Stream of the generator of the new-observation errors (the bootstrap uses streams
/// `0..reps`).
const NOISE_STREAM: u64 = u64::MAX;

/// One held-out point and its prediction.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HeldOut {
    /// Training-set size `N`.
    pub x: f64,
    /// Measured `y`.
    pub observed: f64,
    /// Predicted `y` by the fit on the training part.
    pub predicted: f64,
    /// `ln(observed / predicted)`: the relative error of the prediction.
    pub log_error: f64,
    /// 95% bootstrap prediction interval (`[null, null]` without bootstrap).
    pub ci95: [f64; 2],
    /// Whether `ci95` contains `observed` (`None` without an interval).
    pub covered: Option<bool>,
}

/// One model's backtest.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BacktestCandidate {
    /// The model.
    pub model: ModelKind,
    /// Why it was not backtested (too few training points, fit failed); `None` when it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Its predictions of the held-out points.
    pub held_out: Vec<HeldOut>,
    /// `sqrt(mean log_error^2)` over the held-out points.
    pub rms_log_error: Option<f64>,
    /// Fraction of held-out points inside their interval.
    pub coverage: Option<f64>,
}

/// The whole backtest of one curve.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Backtest {
    /// `[lo, hi]` of the training part.
    pub train_range: [f64; 2],
    /// Distinct `x` in the training part.
    pub n_train: usize,
    /// The held-out `x`.
    pub held_out_x: Vec<f64>,
    /// Every model, simplest first.
    pub candidates: Vec<BacktestCandidate>,
    /// The backtested model of smallest `rms_log_error` (ties to the simpler).
    pub best: Option<ModelKind>,
}

/// Splits `curve` into its training part (`x <= max(x) / 4`) and the held-out rest.
///
/// # Errors
/// When no point is held out or none is left to train on.
pub fn split(curve: &Curve) -> Result<(Curve, Curve)> {
    let Some(&max) = curve.xs.last() else {
        bail!("no data points to backtest");
    };
    let cut = max / HOLDOUT_FACTOR;
    let train = curve.restrict(f64::NEG_INFINITY, cut);
    let test = curve.restrict(cut.next_up(), f64::INFINITY);
    if train.is_empty() {
        bail!("no point with N <= {cut} (a quarter of the largest N) to fit a backtest on");
    }
    Ok((train, test))
}

/// Backtests every model of [`ModelKind::ALL`] on `curve` (see the module docs).
///
/// # Errors
/// As [`split`], or when the curve has a non-positive value.
pub fn backtest(curve: &Curve, opts: &BootstrapOptions) -> Result<Backtest> {
    let (train, test) = split(curve)?;
    if let Some(y) = curve.ys.iter().find(|y| **y <= 0.0) {
        bail!("y = {y} is not positive; a log-scale backtest needs y > 0");
    }
    let candidates = ModelKind::ALL
        .iter()
        .map(|&kind| candidate(kind, &train, &test, opts))
        .collect::<Vec<_>>();
    let best = candidates
        .iter()
        .filter_map(|c| Some((c.model, c.rms_log_error?)))
        .fold(None::<(ModelKind, f64)>, |acc, (m, e)| match acc {
            Some((_, b)) if b <= e => acc,
            _ => Some((m, e)),
        })
        .map(|(m, _)| m);
    Ok(Backtest {
        train_range: [train.xs[0], train.xs[train.len() - 1]],
        n_train: train.len(),
        held_out_x: test.xs.clone(),
        candidates,
        best,
    })
}

fn candidate(
    kind: ModelKind,
    train: &Curve,
    test: &Curve,
    opts: &BootstrapOptions,
) -> BacktestCandidate {
    let skipped = |note: String| BacktestCandidate {
        model: kind,
        note: Some(note),
        held_out: vec![],
        rms_log_error: None,
        coverage: None,
    };
    if train.len() < kind.min_points() {
        return skipped(format!(
            "{} training points, the {kind} model needs {}",
            train.len(),
            kind.min_points()
        ));
    }
    let fit = match fit_model(kind, &train.xs, &train.ys) {
        Ok(f) => f,
        Err(e) => return skipped(format!("fit failed: {e:#}")),
    };
    let intervals = match prediction_intervals(train, &fit, &test.xs, opts) {
        Ok(i) => i,
        Err(e) => return skipped(format!("bootstrap failed: {e:#}")),
    };
    let held_out: Vec<HeldOut> = test
        .xs
        .iter()
        .zip(&test.ys)
        .zip(intervals)
        .map(|((&x, &y), ci)| {
            let predicted = fit.predict(x);
            HeldOut {
                x,
                observed: y,
                predicted,
                log_error: (y / predicted).ln(),
                ci95: ci,
                covered: ci[0].is_finite().then(|| ci[0] <= y && y <= ci[1]),
            }
        })
        .collect();
    let (rms_log_error, coverage) =
        held_out_summary(held_out.iter().map(|h| (h.log_error, h.covered)));
    BacktestCandidate {
        model: kind,
        note: None,
        rms_log_error,
        coverage,
        held_out,
    }
}

/// `(rms, coverage)` of held-out predictions given as `(log_error, covered)`: the root mean
/// square log error and the fraction covered by their intervals (`None` when there is no point,
/// or, for the coverage, a point without an interval).
pub(crate) fn held_out_summary(
    points: impl Iterator<Item = (f64, Option<bool>)>,
) -> (Option<f64>, Option<f64>) {
    let (errors, covered): (Vec<f64>, Vec<Option<bool>>) = points.unzip();
    if errors.is_empty() {
        return (None, None);
    }
    let m = errors.len() as f64;
    let rms = (errors.iter().map(|e| e * e).sum::<f64>() / m).sqrt();
    let covered: Option<Vec<bool>> = covered.into_iter().collect();
    (
        Some(rms),
        covered.map(|c| c.iter().filter(|&&b| b).count() as f64 / m),
    )
}

/// 95% bootstrap prediction intervals of new observations at `at` for `fit`, fitted to all of
/// `train` (see the module docs); `[NaN, NaN]` each when the bootstrap is off.
///
/// # Errors
/// As [`crate::fit::bootstrap()`].
pub fn prediction_intervals(
    train: &Curve,
    fit: &Fit,
    at: &[f64],
    opts: &BootstrapOptions,
) -> Result<Vec<[f64; 2]>> {
    let boot = bootstrap(train, fit, at, opts)?;
    if boot.predictions.is_empty() {
        return Ok(vec![[f64::NAN; 2]; at.len()]);
    }
    let lys: Vec<f64> = train.ys.iter().map(|y| y.ln()).collect();
    let fitted: Vec<f64> = train.xs.iter().map(|&x| fit.ln_predict(x.ln())).collect();
    let resid = centred_residuals(&lys, &fitted, fit.kind().n_params());
    Ok(observation_intervals(&boot.predictions, &resid, opts.seed))
}

/// 95% prediction intervals of new observations: `predictions[r][j]` (replicate `r`'s curve at
/// point `j`) times `exp(e*)`, `e*` drawn from the centred, inflated log residuals `resid` of
/// the training fit (ChaCha8 stream [`NOISE_STREAM`] of `seed`), percentile interval over the
/// replicates per point. Cost `O(R m log R)` for `R` replicates of `m` points.
pub(crate) fn observation_intervals(
    predictions: &[Vec<f64>],
    resid: &[f64],
    seed: u64,
) -> Vec<[f64; 2]> {
    let m = predictions.first().map_or(0, Vec::len);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(NOISE_STREAM);
    let noisy: Vec<Vec<f64>> = predictions
        .iter()
        .map(|preds| {
            preds
                .iter()
                .map(|&v| v * resid[rng.random_range(0..resid.len())].exp())
                .collect()
        })
        .collect();
    (0..m)
        .map(|j| {
            let v: Vec<f64> = noisy.iter().map(|r| r[j]).collect();
            percentile_interval(&v, LEVEL)
        })
        .collect()
}

/// How `--model auto` chooses among the candidate models.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SelectBy {
    /// Lowest AICc on the fitted points (in-sample).
    Aicc,
    /// Lowest held-out error of the backtest (out-of-sample extrapolation).
    Backtest,
}

/// A [`FitReport`] with its backtest: the JSON object of `plateau fit --backtest`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BacktestedReport {
    /// The fit.
    #[serde(flatten)]
    pub report: FitReport,
    /// `"backtest"` when the model was chosen by held-out error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selected_by: Option<&'static str>,
    /// The backtest of the points fitted (`range`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backtest: Option<Backtest>,
}

/// [`fit_curve`], then, when asked, the backtest of the points it fitted and the choice of the
/// model by held-out error. Under [`SelectBy::Backtest`] the range is the one `auto` found
/// (from the steep segment to the plateau), the model the backtest's best, refitted on that
/// whole range; `selection` and `regime` stay as `auto` reported them.
///
/// # Errors
/// As [`fit_curve`] and [`backtest`]; [`SelectBy::Backtest`] without `--model auto`, or when no
/// model could be backtested.
pub fn fit_curve_backtested(
    group: &str,
    curve: &Curve,
    opts: &FitOptions,
    run_backtest: bool,
    select: SelectBy,
) -> Result<BacktestedReport> {
    let mut report = fit_curve(group, curve, opts)?;
    if !run_backtest && select == SelectBy::Aicc {
        return Ok(BacktestedReport {
            report,
            selected_by: None,
            backtest: None,
        });
    }
    if select == SelectBy::Backtest && opts.model != ModelChoice::Auto {
        bail!("--select backtest chooses the model: use it with --model auto");
    }
    let [lo, hi] = report.range;
    let bt = backtest(&curve.restrict(lo, hi), &opts.bootstrap)
        .with_context(|| format!("group '{group}': backtest"))?;
    let mut selected_by = None;
    if select == SelectBy::Backtest {
        let best = bt.best.with_context(|| {
            format!("group '{group}': no model could be backtested, so none can be chosen by it")
        })?;
        selected_by = Some("backtest");
        if best != report.model {
            let refit = FitOptions {
                model: ModelChoice::Model(best),
                range: Some([lo, hi]),
                ..opts.clone()
            };
            let mut r = fit_curve(group, curve, &refit)?;
            r.selection = report.selection.take();
            r.regime = report.regime.take();
            report = r;
        }
    }
    Ok(BacktestedReport {
        report,
        selected_by,
        backtest: Some(bt),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_saturating_curve_is_predicted_and_chosen() {
        let xs: Vec<f64> = (0..9).map(|i| 16.0 * 2f64.powi(i)).collect();
        let ys: Vec<f64> = xs.iter().map(|x| 3.0 * x.powf(-0.6) + 0.01).collect();
        let curve = Curve::new(&xs, &ys).unwrap();
        let opts = BootstrapOptions {
            reps: 50,
            ..Default::default()
        };
        let bt = backtest(&curve, &opts).unwrap();
        assert_eq!(bt.train_range, [16.0, 1024.0]);
        assert_eq!(bt.held_out_x, vec![2048.0, 4096.0]);
        let sat = &bt.candidates[1];
        assert_eq!(sat.model, ModelKind::Saturating);
        assert!(sat.rms_log_error.unwrap() < 1e-6, "{sat:?}");
        // A pure power law cannot bend into the floor: it predicts the held-out points low.
        let pow = &bt.candidates[0];
        assert!(pow.held_out.iter().all(|h| h.log_error > 0.05), "{pow:?}");
        assert_ne!(bt.best, Some(ModelKind::Power));
    }

    #[test]
    fn too_few_training_points_are_reported_not_fitted() {
        // N <= 3 trains nothing; with N up to 16 two points train, fewer than any model needs.
        let curve = Curve::new(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]).unwrap();
        assert!(backtest(&curve, &BootstrapOptions::default()).is_err());
        let curve = Curve::new(&[2.0, 4.0, 16.0], &[3.0, 2.0, 1.0]).unwrap();
        let bt = backtest(&curve, &BootstrapOptions::default()).unwrap();
        assert_eq!((bt.n_train, bt.held_out_x.clone()), (2, vec![16.0]));
        assert!(bt.candidates.iter().all(|c| c.note.is_some()));
        assert_eq!(bt.best, None);
    }
}
