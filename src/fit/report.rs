//! The whole pipeline for one curve and its JSON report ([`FitReport`]).

use anyhow::{bail, Context, Result};
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use super::bootstrap::{bootstrap, BootstrapOptions, Method};
use super::identified::Unidentified;
use super::power::fit_power_log;
use super::regime::{detect_regime_log, Regime};
use super::select::{aicc, bic, select_log, Selection};
use super::{check_log_data, check_min_points, fit_model_log, Curve, ModelKind};

/// Which model to fit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelChoice {
    /// This model, on all points (of the range).
    Model(ModelKind),
    /// Detect the regimes, then pick a model by AICc on the points from the start of the steep
    /// segment on.
    Auto,
}

impl std::str::FromStr for ModelChoice {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "auto" => Ok(ModelChoice::Auto),
            _ => s.parse().map(ModelChoice::Model).map_err(|_| {
                let models = <ModelKind as strum::VariantNames>::VARIANTS;
                crate::text::unknown("model", s, &[models, &["auto"]].concat())
            }),
        }
    }
}

/// Settings of [`fit_curve`].
#[derive(Clone, Debug, PartialEq)]
pub struct FitOptions {
    /// Model.
    pub model: ModelChoice,
    /// Keep only the points with `lo <= x <= hi` (infinite ends for no limit).
    pub range: Option<[f64; 2]>,
    /// Bootstrap.
    pub bootstrap: BootstrapOptions,
    /// Extrapolation points `(JSON key, x)`.
    pub at: Vec<(String, f64)>,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions {
            model: ModelChoice::Auto,
            range: None,
            bootstrap: BootstrapOptions::default(),
            at: [("1e5", 1e5), ("1e6", 1e6), ("1e7", 1e7)]
                .iter()
                .map(|(k, v)| (k.to_string(), *v))
                .collect(),
        }
    }
}

/// A JSON object whose keys keep their order.
#[derive(Clone, Debug, PartialEq)]
pub struct OrderedMap<T>(pub Vec<(String, T)>);

impl<T> OrderedMap<T> {
    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&T> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
}

impl<T: Serialize> Serialize for OrderedMap<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// How the intervals were obtained.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BootstrapInfo {
    /// `draws`, `parametric`, `residuals` or `none`.
    pub method: Method,
    /// Replicates asked for.
    pub reps: usize,
    /// Replicates that failed and were left out.
    pub failed: usize,
    /// Seed.
    pub seed: u64,
    /// Reduced chi-square of the log residuals against the standard errors of the means
    /// (`null` without draws or `std`/`runs`); much above 1, the model misses the points by
    /// more than their sampling noise.
    pub chi2_dof: Option<f64>,
}

/// One segment of the detected regimes, as reported.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SegmentReport {
    /// `[lo, hi]` data range.
    pub range: [f64; 2],
    /// Exponent on the segment.
    pub alpha: f64,
}

/// The regimes found by `--model auto`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RegimeReport {
    /// Always `"BIC"` (choice of the number of segments).
    pub criterion: &'static str,
    /// The piecewise power law, in increasing `x`.
    pub segments: Vec<SegmentReport>,
    /// `[lo, hi]` of the steep segment: the power-law range.
    pub steep_range: [f64; 2],
    /// `R = beta N^alpha` fitted by least squares to the points of the steep segment (the
    /// paper's fit, on a detected instead of a hand-picked range).
    pub steep_fit: OrderedMap<f64>,
    /// That power law extrapolated to the same `x` as `extrapolation`.
    pub steep_extrapolation: OrderedMap<f64>,
    /// Where the steep power law meets the plateau's line (`null` when no flatter segment
    /// follows).
    pub bend: Option<f64>,
    /// `[lo, hi]`: from the start of the steep segment to the end of the plateau, the range
    /// the candidate models are fitted on.
    pub fit_range: [f64; 2],
}

/// The JSON object `plateau fit` prints for one group (see `docs/fits.md`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FitReport {
    /// Group name.
    pub group: String,
    /// The model fitted (the one chosen under `auto`).
    pub model: ModelKind,
    /// Parameter values (names per model: power `beta, alpha`; saturating `a, b, c`; broken
    /// `beta, alpha1, alpha2, n_break, delta`).
    pub params: OrderedMap<f64>,
    /// 95% bootstrap percentile interval of each parameter (`[null, null]` without bootstrap).
    pub ci95: OrderedMap<[f64; 2]>,
    /// Per parameter: whether the data identify it ([`crate::fit::identified`]), with the
    /// reason when they do not (`{"identified": false, "reason": "b at its bound 10"}`).
    pub identified: OrderedMap<Verdict>,
    /// `[lo, hi]`: smallest and largest `x` actually fitted.
    pub range: [f64; 2],
    /// Number of distinct `x` fitted.
    pub n_points: usize,
    /// `1 - RSS/TSS` of `ln y` over the fitted points.
    pub r2: f64,
    /// `sqrt(RSS / n)` of `ln y` (a typical relative error).
    pub rmse_log: f64,
    /// AICc of the fit on the log residuals (`null` when `n <= p + 2`).
    pub aicc: Option<f64>,
    /// BIC of the fit on the log residuals.
    pub bic: f64,
    /// Predicted `y` at each extrapolation point.
    pub extrapolation: OrderedMap<f64>,
    /// 95% bootstrap interval of each prediction.
    pub extrapolation_ci95: OrderedMap<[f64; 2]>,
    /// How the intervals were obtained.
    pub bootstrap: BootstrapInfo,
    /// Model comparison (only under `auto`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selection: Option<Selection>,
    /// Detected regimes (only under `auto`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regime: Option<RegimeReport>,
}

/// Whether the data identify a fitted quantity (the JSON of [`Unidentified`]).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Verdict {
    /// `false` when not identified.
    pub identified: bool,
    /// Why not (`b at its bound 10`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl From<Option<Unidentified>> for Verdict {
    fn from(why: Option<Unidentified>) -> Self {
        Verdict {
            identified: why.is_none(),
            reason: why.map(|w| w.to_string()),
        }
    }
}

/// Parameter `j` of `fit` with bootstrap interval `ci`: at a bound of its fit, or a positive
/// scale (`a`, `c`, `beta` of the power law, `n_break`) whose interval spans over two decades.
/// A saturating floor at a positive lower bound (a known floor) is identified by theory.
fn param_verdict(fit: &super::Fit, j: usize, ci: [f64; 2], curve: &Curve) -> Option<Unidentified> {
    use super::identified::{at_bound, wide};
    use super::Fit;
    let ymax = curve.ys.iter().copied().fold(0.0, f64::max);
    let lmin = curve.xs.first().map_or(0.0, |x| x.ln());
    let lmax = curve.xs.last().map_or(0.0, |x| x.ln());
    match fit {
        Fit::Power(f) if j == 0 => {
            at_bound("ln beta", f.beta.ln(), [-500.0, 500.0]).or_else(|| wide(ci))
        }
        Fit::Power(_) => None,
        Fit::Saturating(f) => match j {
            0 => at_bound("ln a", f.a.ln(), [-500.0, 500.0]).or_else(|| wide(ci)),
            1 => at_bound("b", f.b, [0.0, 10.0]),
            _ if f.c_min > 0.0 => wide(ci),
            // Only the lower bound: a flat curve's floor is its level, the upper bound max y.
            _ => at_bound("c", f.c, [0.0, ymax])
                .filter(|u| matches!(u, Unidentified::AtBound { bound, .. } if *bound == 0.0))
                .or_else(|| wide(ci)),
        },
        Fit::Broken(f) => match j {
            0 => at_bound("ln beta", f.beta.ln(), [-500.0, 500.0]).or_else(|| wide(ci)),
            1 => at_bound("alpha1", f.alpha1, [-20.0, 20.0]),
            2 => at_bound("alpha2", f.alpha2, [-20.0, 20.0]),
            3 => at_bound("ln n_break", f.n_break.ln(), [lmin, lmax]).or_else(|| wide(ci)),
            _ => at_bound(
                "ln delta",
                f.delta.ln(),
                [
                    super::broken::DELTA_BOUNDS[0].ln(),
                    super::broken::DELTA_BOUNDS[1].ln(),
                ],
            ),
        },
    }
}

fn regime_report(regime: &Regime, ls: &[f64], lys: &[f64], at: &[(String, f64)]) -> RegimeReport {
    let seg = &regime.segments[regime.steep];
    let steep = fit_power_log(&ls[seg.start..=seg.end], &lys[seg.start..=seg.end]);
    let (beta, alpha) = steep.map_or((f64::NAN, f64::NAN), |f| (f.beta, f.alpha));
    RegimeReport {
        criterion: "BIC",
        segments: regime
            .segments
            .iter()
            .map(|s| SegmentReport {
                range: [s.lo, s.hi],
                alpha: s.slope,
            })
            .collect(),
        steep_range: regime.steep_range,
        steep_fit: OrderedMap(vec![("beta".into(), beta), ("alpha".into(), alpha)]),
        steep_extrapolation: by_point(at, |_, x| beta * x.powf(alpha)),
        bend: regime.bend,
        fit_range: regime.fit_range,
    }
}

/// Fits one curve as `opts` asks and bootstraps the intervals.
///
/// # Errors
/// No point in the range, non-positive values, too few points for the model, a fit that fails,
/// or a bootstrap method that does not suit the data; the message starts with the group name.
pub fn fit_curve(group: &str, curve: &Curve, opts: &FitOptions) -> Result<FitReport> {
    fit_curve_floored(group, curve, opts, 0.0)
}

/// As [`fit_curve`], with the saturating law's floor constrained to `c >= c_min` (a known
/// floor minus its test-set uncertainty; 0 for none), in the fit and every bootstrap refit.
///
/// # Errors
/// As [`fit_curve`].
pub fn fit_curve_floored(
    group: &str,
    curve: &Curve,
    opts: &FitOptions,
    c_min: f64,
) -> Result<FitReport> {
    fit_curve_inner(curve, opts, c_min)
        .with_context(|| format!("group '{group}'"))
        .map(|mut r| {
            r.group = group.to_string();
            r
        })
}

fn fit_curve_inner(curve: &Curve, opts: &FitOptions, c_min: f64) -> Result<FitReport> {
    let curve = points_in_range(curve, opts.range)?;
    let chosen = match opts.model {
        ModelChoice::Model(kind) => fit_given(kind, curve, c_min)?,
        ModelChoice::Auto => fit_auto(curve, &opts.at)?,
    };
    check_min_points(chosen.curve.len(), chosen.fit.kind())?;
    let goodness = Goodness::of(&chosen.fit, &chosen.curve);
    let xs_at: Vec<f64> = opts.at.iter().map(|(_, x)| *x).collect();
    let boot = bootstrap(&chosen.curve, &chosen.fit, &xs_at, &opts.bootstrap)?;
    Ok(report(chosen, goodness, &boot, opts))
}

/// The points of `curve` in `range` (all without one); at least one.
fn points_in_range(curve: &Curve, range: Option<[f64; 2]>) -> Result<Curve> {
    let curve = match range {
        Some([lo, hi]) => curve.restrict(lo, hi),
        None => curve.clone(),
    };
    if curve.is_empty() {
        bail!("no point in the range");
    }
    Ok(curve)
}

/// The fit reported, the points it was fitted to, and under `auto` how it was chosen.
struct Chosen {
    fit: super::Fit,
    curve: Curve,
    selection: Option<Selection>,
    regime: Option<RegimeReport>,
}

/// `kind` fitted to all points of `curve` (a saturating floor `c >= c_min`).
fn fit_given(kind: ModelKind, curve: Curve, c_min: f64) -> Result<Chosen> {
    let (ls, lys) = check_log_data(&curve.xs, &curve.ys, kind)?;
    let fit = if kind == ModelKind::Saturating {
        super::saturating::fit_saturating_log_floored(&ls, &lys, None, c_min)
            .map(super::Fit::Saturating)
    } else {
        fit_model_log(kind, &ls, &lys, None)
    }
    .with_context(|| format!("the {kind} fit failed (x values degenerate?)"))?;
    Ok(Chosen {
        fit,
        curve,
        selection: None,
        regime: None,
    })
}

/// The regimes of `curve`, then the model chosen by AICc on the points from the start of the
/// steep segment to the end of the plateau.
fn fit_auto(curve: Curve, at: &[(String, f64)]) -> Result<Chosen> {
    let (ls, lys) = check_log_data(&curve.xs, &curve.ys, ModelKind::Power)?;
    let regime = detect_regime_log(&curve.xs, &ls, &lys)?;
    let start = regime.segments[regime.steep].start;
    let end = regime.segments[regime.plateau].end;
    let report = regime_report(&regime, &ls, &lys, at);
    let Some((fit, selection)) = select_log(&ls[start..=end], &lys[start..=end]) else {
        bail!(
            "{} points from the start of the steep segment to the end of the plateau; \
             automatic model selection needs at least {} (use --model power)",
            end + 1 - start,
            ModelKind::Power.n_params() + 3
        );
    };
    let [lo, hi] = regime.fit_range;
    Ok(Chosen {
        fit,
        curve: curve.restrict(lo, hi),
        selection: Some(selection),
        regime: Some(report),
    })
}

/// How well a fit describes its points, on `ln y`.
struct Goodness {
    r2: f64,
    rmse_log: f64,
    aicc: Option<f64>,
    bic: f64,
}

impl Goodness {
    /// `R^2`, RMSE, AICc and BIC of `fit` on the points of `curve` (the RSS floored by
    /// [`super::rss_floor`] in the criteria, so that exact fits compare).
    fn of(fit: &super::Fit, curve: &Curve) -> Goodness {
        let n = curve.len();
        let ls: Vec<f64> = curve.xs.iter().map(|x| x.ln()).collect();
        let lys: Vec<f64> = curve.ys.iter().map(|y| y.ln()).collect();
        let rss = fit.rss_log();
        let mean = lys.iter().sum::<f64>() / n as f64;
        let tss: f64 = lys.iter().map(|y| (y - mean).powi(2)).sum();
        debug_assert!(
            (ls.iter()
                .zip(&lys)
                .map(|(&l, y)| (fit.ln_predict(l) - y).powi(2))
                .sum::<f64>()
                - rss)
                .abs()
                <= 1e-9 * (1.0 + rss)
        );
        let p = fit.kind().n_params();
        let floor = super::rss_floor(&lys);
        Goodness {
            r2: 1.0 - rss / tss,
            rmse_log: (rss / n as f64).sqrt(),
            aicc: aicc(rss.max(floor), n, p),
            bic: bic(rss.max(floor), n, p),
        }
    }
}

/// `value(j)` keyed by `names[j]`.
fn by_name<T>(names: &[&str], value: impl Fn(usize) -> T) -> OrderedMap<T> {
    OrderedMap(
        names
            .iter()
            .enumerate()
            .map(|(j, k)| (k.to_string(), value(j)))
            .collect(),
    )
}

/// `value(j, x)` of extrapolation point `j` at `x`, keyed as given.
fn by_point<T>(at: &[(String, f64)], value: impl Fn(usize, f64) -> T) -> OrderedMap<T> {
    OrderedMap(
        at.iter()
            .enumerate()
            .map(|(j, (k, x))| (k.clone(), value(j, *x)))
            .collect(),
    )
}

/// The report of `chosen` with its intervals from `boot` (the group name left empty).
fn report(
    chosen: Chosen,
    goodness: Goodness,
    boot: &super::BootstrapSamples,
    opts: &FitOptions,
) -> FitReport {
    let Chosen {
        fit,
        curve,
        selection,
        regime,
    } = chosen;
    let kind = fit.kind();
    let names = kind.param_names();
    let params = fit.params();
    let n = curve.len();
    FitReport {
        group: String::new(),
        model: kind,
        params: by_name(names, |j| params[j]),
        ci95: by_name(names, |j| boot.param_interval(j, 0.95)),
        identified: by_name(names, |j| {
            Verdict::from(param_verdict(&fit, j, boot.param_interval(j, 0.95), &curve))
        }),
        range: [curve.xs[0], curve.xs[n - 1]],
        n_points: n,
        r2: goodness.r2,
        rmse_log: goodness.rmse_log,
        aicc: goodness.aicc,
        bic: goodness.bic,
        extrapolation: by_point(&opts.at, |_, x| fit.predict(x)),
        extrapolation_ci95: by_point(&opts.at, |j, _| boot.prediction_interval(j, 0.95)),
        bootstrap: BootstrapInfo {
            method: boot.method,
            reps: boot.reps,
            failed: boot.failed,
            seed: opts.bootstrap.seed,
            chi2_dof: boot.chi2_dof,
        },
        selection,
        regime,
    }
}
