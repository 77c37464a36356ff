//! "How much more data do I need?" from measurements: the saturating law `R = a N^-b + c`
//! fitted to a measured curve (test MSE against training-set size `N`), turned into the `N`
//! that reaches a target, the gain per doubling of `N`, and the error at given `N`, each with a
//! bootstrap 95% interval.
//!
//! Every derived number is a function of the parameters `(a, b, c)`; its interval is the
//! percentile interval of that function over the bootstrap replicates of the fit
//! ([`crate::fit::bootstrap()`]), so the intervals carry the parameters' joint uncertainty.
//! Closed forms, for a target MSE `T`:
//!
//! ```text
//! N(T)            = (a / (T - c))^(1/b)            (infinite when T <= c: below the floor)
//! within F        : T = c (1 + F),  N = (a / (c F))^(1/b)
//! within D dB     : F = 10^(D/10) - 1
//! PSNR P          : T = peak^2 10^(-P/10)
//! dB per doubling : 10 log10(R(N) / R(2N)) at the largest measured N
//! ```
//!
//! A target below the lower end of the floor's interval is **not reachable**: no amount of data
//! gets there under the fitted law; between the ends of that interval, reachability is
//! uncertain (the `N` interval is then open above, `null` in JSON).

use anyhow::{bail, Result};
use serde::Serialize;

use crate::analysis::capacity::DoublingGain;
use crate::analysis::estimate::{fmt_n, BootstrapSummary, Estimate};
use crate::analysis::spectrum_theory::LinearStanding;
use crate::fit::backtest::{backtest, Backtest};
use crate::fit::identified::{self, Unidentified};
use crate::fit::report::OrderedMap;
use crate::fit::saturating::fit_saturating_floored;
use crate::fit::{
    bootstrap, fit_saturating, BootstrapOptions, BootstrapSamples, Curve, Fit, ModelKind,
};

/// Level of every interval.
const LEVEL: f64 = 0.95;

/// Largest `--within` fraction: 9 is ten times the floor.
pub const MAX_WITHIN: f64 = 9.0;

/// Largest `--within-db`: 10 dB is ten times the floor.
pub const MAX_WITHIN_DB: f64 = 10.0;

/// The targets `plateau plan` asks for: within fractions and dB of the fitted floor, MSE and
/// PSNR, in that order; none given means within 10% and within 0.1 dB.
pub fn targets_or_default(
    within: &[f64],
    within_db: &[f64],
    mse: &[f64],
    psnr: &[f64],
) -> Vec<Target> {
    let mut t: Vec<Target> = within.iter().map(|&v| Target::Within(v)).collect();
    t.extend(within_db.iter().map(|&v| Target::WithinDb(v)));
    t.extend(mse.iter().map(|&v| Target::Mse(v)));
    t.extend(psnr.iter().map(|&v| Target::Psnr(v)));
    if t.is_empty() {
        t = vec![Target::Within(0.1), Target::WithinDb(0.1)];
    }
    t
}

/// A target, as given on the command line.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Target {
    /// Test MSE at most this (units of the data).
    Mse(f64),
    /// PSNR at least this, dB (peak [`PlanOptions::peak`]).
    Psnr(f64),
    /// MSE within this fraction of the fitted floor (0.1: 10% above it).
    Within(f64),
    /// MSE within this many dB of the fitted floor.
    WithinDb(f64),
}

impl Target {
    /// Checks the value's range: an MSE positive and finite; a PSNR finite; `--within` and
    /// `--within-db` positive and at most [`MAX_WITHIN`] and [`MAX_WITHIN_DB`] (beyond, the
    /// target is ten times the floor or more, not "near the floor").
    ///
    /// # Errors
    /// A value out of its range, in one line naming the flag.
    pub fn validate(&self) -> Result<()> {
        let (v, name, max) = match *self {
            Target::Mse(v) => (v, "--target-mse", f64::INFINITY),
            Target::Psnr(v) => {
                if !v.is_finite() {
                    bail!(
                        "--target-psnr {} is not a finite number of dB",
                        crate::text::number(v)
                    );
                }
                return Ok(());
            }
            Target::Within(v) => (v, "--within", MAX_WITHIN),
            Target::WithinDb(v) => (v, "--within-db", MAX_WITHIN_DB),
        };
        if !(v.is_finite() && v > 0.0) {
            bail!(
                "{name} {} must be positive and finite",
                crate::text::number(v)
            );
        }
        if v > max {
            bail!(
                "{name} {} is above {max}: the target would be 10 times the floor or more",
                crate::text::number(v)
            );
        }
        Ok(())
    }

    /// The target MSE for floor `c` and PSNR peak `peak`.
    fn mse(&self, c: f64, peak: f64) -> f64 {
        match *self {
            Target::Mse(t) => t,
            Target::Psnr(p) => peak * peak * 10f64.powf(-p / 10.0),
            Target::Within(f) => c * (1.0 + f),
            Target::WithinDb(d) => c * 10f64.powf(d / 10.0),
        }
    }

    /// Whether the target moves with the fitted floor.
    fn relative(&self) -> bool {
        matches!(self, Target::Within(_) | Target::WithinDb(_))
    }

    /// Human-readable description.
    pub fn describe(&self) -> String {
        match *self {
            Target::Mse(t) => format!("test MSE {t:.4e}"),
            Target::Psnr(p) => format!("PSNR {} dB", crate::text::number(p)),
            Target::Within(f) => {
                format!(
                    "within {}% of the fitted floor",
                    crate::text::number(f * 100.0)
                )
            }
            Target::WithinDb(d) => {
                format!("within {} dB of the fitted floor", crate::text::number(d))
            }
        }
    }
}

/// Settings of [`plan_curve`].
#[derive(Clone, Debug, PartialEq)]
pub struct PlanOptions {
    /// Targets.
    pub targets: Vec<Target>,
    /// Training-set sizes at which to predict the error.
    pub at: Vec<f64>,
    /// Peak signal of PSNR (`PSNR = 10 log10(peak^2 / MSE)`; 1 for images in `[0, 1]`).
    pub peak: f64,
    /// Bootstrap of the fit.
    pub bootstrap: BootstrapOptions,
    /// Also backtest the extrapolation ([`crate::fit::backtest`]).
    pub backtest: bool,
}

/// Whether a target can be reached under the fitted law.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reach {
    /// The target is above the floor's whole interval.
    Yes,
    /// The target lies inside the floor's interval.
    Uncertain,
    /// The target is below the floor's whole interval: not reachable.
    NotReachable,
    /// Every measured error already meets it: nothing to plan.
    AlreadyMet,
}

/// One target's answer.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TargetPlan {
    /// The target in words.
    pub target: String,
    /// The target MSE (moves with the floor for relative targets, hence its interval).
    pub mse: Estimate,
    /// Training-set size needed (`null` value: not reachable at the point estimate).
    pub n: Estimate,
    /// Reachability.
    pub reachable: Reach,
}

/// The error predicted at one `N`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PredictionPlan {
    /// Training-set size.
    pub n: f64,
    /// Predicted test MSE.
    pub mse: Estimate,
    /// The same as PSNR in dB (peak [`PlanOptions::peak`]).
    pub psnr_db: Estimate,
}

/// A measured curve's exact floor in its plan: the bound it put on the fit, and the free fit.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ExactFloorPlan {
    /// The exact floor of the data.
    pub exact_floor: f64,
    /// The lower bound the fitted floor was constrained to (the exact floor minus
    /// [`FLOOR_SES`] test-set standard errors). No printed MSE is below it.
    pub floor_bound: f64,
    /// The free fit, a diagnostic (not used).
    pub free_fit: FreeFit,
    /// What the exact floor is where it is not the network's floor (MRI's magnitude input:
    /// `Bayes error given complex data: a lower bound for magnitude input`), else absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exact_floor_label: Option<String>,
}

/// The plan of one curve: the JSON object `plateau plan` prints per group.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MeasuredPlan {
    /// Group name.
    pub group: String,
    /// Always `saturating`: `R = a N^-b + c`.
    pub model: ModelKind,
    /// `a`, `b`, `c` with their intervals.
    pub params: OrderedMap<Estimate>,
    /// The fitted floor `c`.
    pub floor: Estimate,
    /// The exact floor of the data and the fits it bounds, when known (synthetic data); its
    /// fields stand at the JSON's top level, absent without a floor.
    #[serde(flatten)]
    pub exact: Option<ExactFloorPlan>,
    /// The fitted law is flat (`b` at its bound 0): the curve has saturated at the floor.
    pub saturated: bool,
    /// Largest measured `N`.
    pub largest_n: f64,
    /// The measured error there.
    pub measured_at_largest_n: f64,
    /// Gain in dB of doubling `N` from the largest measured `N`.
    pub db_per_doubling: Estimate,
    /// One answer per target.
    pub targets: Vec<TargetPlan>,
    /// The predicted error at each requested `N`.
    pub predictions: Vec<PredictionPlan>,
    /// Bootstrap method, replicates used and failed.
    pub bootstrap: BootstrapSummary,
    /// The backtest, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backtest: Option<Backtest>,
    /// With the backtest and an exact floor: constrained against free fit on held-out sizes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub floor_backtest: Option<FloorBacktest>,
    /// Doubling `N` against doubling `P` at the cell of `--width`/`--params`, from the joint
    /// law ([`crate::analysis::capacity`]), when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub doubling_gain_db: Option<DoublingGain>,
    /// Real-image denoising with a `plateau spectrum` run: the measured error at the largest
    /// `N` against the best linear map and the learned linear maps
    /// ([`crate::analysis::spectrum_theory`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub linear_theory: Option<LinearStanding>,
}

/// Percentile interval that keeps infinite values (an open interval stays open); NaNs are left
/// out. `[NaN, NaN]` when nothing is left.
fn interval(values: &[f64]) -> [f64; 2] {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    if v.is_empty() {
        return [f64::NAN; 2];
    }
    v.sort_by(f64::total_cmp);
    let q = |p: f64| {
        let h = p * (v.len() - 1) as f64;
        let i = h.floor() as usize;
        let j = (i + 1).min(v.len() - 1);
        if v[i] == v[j] {
            v[i]
        } else {
            v[i] + (h - i as f64) * (v[j] - v[i])
        }
    };
    [q((1.0 - LEVEL) / 2.0), q((1.0 + LEVEL) / 2.0)]
}

/// `N` at which `a N^-b + c` reaches `t`; infinite when `t <= c`.
pub fn n_for(a: f64, b: f64, c: f64, t: f64) -> f64 {
    if t <= c || b <= 0.0 {
        f64::INFINITY
    } else {
        (a / (t - c)).powf(1.0 / b)
    }
}

fn sat(p: &[f64], n: f64) -> f64 {
    p[0] * n.powf(-p[1]) + p[2]
}

fn psnr(mse: f64, peak: f64) -> f64 {
    10.0 * (peak * peak / mse).log10()
}

/// Standard errors below the exact floor that the constrained floor may reach: the lower
/// bound of `c` is `floor - FLOOR_SES se` (the finite test set sees the floor through its own
/// sampling noise, one standard error).
pub const FLOOR_SES: f64 = 1.0;

/// Standard errors below the exact floor beyond which a measured point contradicts it.
pub const CONTRADICTION_SES: f64 = 3.0;

/// A floor the data are known to have (synthetic data): the exact Bayes error and the
/// standard error with which the finite test set sees it, both in MSE units.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct KnownFloor {
    /// Exact floor (Bayes error per pixel).
    pub mse: f64,
    /// Test-set standard error of the floor (0 when unknown).
    pub se: f64,
}

impl KnownFloor {
    /// Lower bound of the constrained fit's floor: `mse - FLOOR_SES se`, at least 0. No number
    /// a plan prints lies below it.
    pub fn bound(&self) -> f64 {
        (self.mse - FLOOR_SES * self.se).max(0.0)
    }
}

/// Measured points below a known floor by more than [`CONTRADICTION_SES`] standard errors: a
/// bug upstream (the floor or the measurements), a result rather than bad input (exit 1).
#[derive(Clone, Debug, PartialEq)]
pub struct FloorContradiction {
    /// The curve.
    pub group: String,
    /// The exact floor.
    pub floor: f64,
    /// `(N, measured MSE, its standard error)` of each offending point.
    pub points: Vec<(f64, f64, f64)>,
}

impl std::fmt::Display for FloorContradiction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let pts: Vec<String> = self
            .points
            .iter()
            .map(|(n, y, se)| format!("N = {} (MSE {y:.4e}, se {se:.1e})", fmt_n(*n)))
            .collect();
        write!(
            f,
            "group '{}': measured points below the exact floor {:.4e} by more than {} standard \
             errors: {}; the floor or the measurements are wrong upstream",
            self.group,
            self.floor,
            CONTRADICTION_SES,
            pts.join(", ")
        )
    }
}

impl std::error::Error for FloorContradiction {}

/// Errors when a point `(xs[i], ys[i])` with standard error `ses[i]` (the floor's `se` where
/// unknown) lies more than [`CONTRADICTION_SES`] standard errors below `floor.mse`. Points
/// with no standard error at all are not judged.
///
/// # Errors
/// The [`FloorContradiction`] naming the points.
pub fn check_floor(
    group: &str,
    xs: &[f64],
    ys: &[f64],
    ses: &[Option<f64>],
    floor: KnownFloor,
) -> std::result::Result<(), FloorContradiction> {
    let points: Vec<(f64, f64, f64)> = xs
        .iter()
        .zip(ys)
        .zip(ses)
        .filter_map(|((&n, &y), se)| {
            let se = se.filter(|v| v.is_finite() && *v > 0.0).unwrap_or(floor.se);
            (se > 0.0 && y < floor.mse - CONTRADICTION_SES * se).then_some((n, y, se))
        })
        .collect();
    if points.is_empty() {
        return Ok(());
    }
    Err(FloorContradiction {
        group: group.to_string(),
        floor: floor.mse,
        points,
    })
}

/// The free saturating fit where the floor is known: a diagnostic, not used.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FreeFit {
    /// `a`, `b`, `c` of the fit without the floor's constraint.
    pub params: OrderedMap<f64>,
    /// Whether its floor `c` is below the constrained fit's bound (it then crosses the known
    /// floor, and would predict below it).
    pub below_floor: bool,
}

/// Constrained against free saturating fit on held-out sizes (fit on `N <= max/4`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FloorBacktest {
    /// Largest `N` fitted.
    pub train_max_n: f64,
    /// The held-out sizes.
    pub held_out_n: Vec<f64>,
    /// Root-mean-square `ln(measured / predicted)` of the constrained fit.
    pub constrained_rms_log_error: f64,
    /// The same for the free fit.
    pub free_rms_log_error: f64,
}

/// Backtest of the constrained and the free fit, `None` with fewer than 4 training sizes or
/// no held-out size, or when a fit fails.
pub fn floor_backtest(curve: &Curve, bound: f64) -> Option<FloorBacktest> {
    let (train, held) = crate::fit::backtest::split(curve).ok()?;
    if train.len() < ModelKind::Saturating.min_points() || held.is_empty() {
        return None;
    }
    let rms = |f: &crate::fit::SaturatingFit| {
        let s: f64 = held
            .xs
            .iter()
            .zip(&held.ys)
            .map(|(&x, &y)| (y / f.predict(x)).ln().powi(2))
            .sum();
        (s / held.len() as f64).sqrt()
    };
    let free = fit_saturating(&train.xs, &train.ys).ok()?;
    let constrained = fit_saturating_floored(&train.xs, &train.ys, bound).ok()?;
    Some(FloorBacktest {
        train_max_n: train.xs[train.len() - 1],
        held_out_n: held.xs.clone(),
        constrained_rms_log_error: rms(&constrained),
        free_rms_log_error: rms(&free),
    })
}

/// The plan for one measured curve (see [`plan_curve_floored`]); `exact_floor` is taken with
/// no test-set uncertainty.
///
/// # Errors
/// As [`plan_curve_floored`].
pub fn plan_curve(
    group: &str,
    curve: &Curve,
    exact_floor: Option<f64>,
    opts: &PlanOptions,
) -> Result<MeasuredPlan> {
    let floor = exact_floor.map(|mse| KnownFloor { mse, se: 0.0 });
    plan_curve_floored(group, curve, floor, opts)
}

/// Whether the bounds of the saturating fit (`b in [0, 10]`, `ln a in [-500, 500]`, `c >= 0`
/// or, with a known floor, `c` at least its bound, which is identified by theory) hold `p`.
fn param_flags(p: &[f64; 3], free_floor: bool, y_max: f64) -> [Option<Unidentified>; 3] {
    // Only the lower bound: a flat curve's floor is its level, at the upper bound `max y`.
    let c = identified::at_bound("c", p[2], [0.0, y_max]).filter(|u| {
        free_floor
            && *u
                == Unidentified::AtBound {
                    param: "c",
                    bound: 0.0,
                }
    });
    [
        identified::at_bound("ln a", p[0].ln(), [-500.0, 500.0]),
        identified::at_bound("b", p[1], [0.0, 10.0]),
        c,
    ]
}

/// The plan for one measured curve. With a known floor, the saturating law's floor is
/// constrained to at least [`KnownFloor::bound`] and the free fit is kept as a diagnostic.
/// A target the measurements already meet is [`Reach::AlreadyMet`].
///
/// # Errors
/// Fewer than 4 distinct `N` (the saturating law has 3 parameters), a non-positive error, a
/// target out of range, or a fit that fails.
pub fn plan_curve_floored(
    group: &str,
    curve: &Curve,
    known: Option<KnownFloor>,
    opts: &PlanOptions,
) -> Result<MeasuredPlan> {
    check_plannable(group, curve, opts)?;
    let last = curve.len() - 1;
    let (n_max, y_max) = (curve.xs[last], curve.ys[last]);
    let ctx = |e: anyhow::Error| anyhow::anyhow!("group '{group}': {e:#}");
    let bound = known.map_or(0.0, |k| k.bound());
    let (point, boot, free_fit) = fit_with_replicates(curve, known, bound, opts).map_err(ctx)?;
    let estimate = |f: &dyn Fn(&[f64]) -> f64| estimate_over(f, &point, &boot.params);
    let y_top = curve.ys.iter().copied().fold(0.0, f64::max);
    let flags = param_flags(&point, known.is_none(), y_top);
    let b_flag = flags[1];
    let saturated = b_flag.is_some() && point[1] < 1.0;
    let level = |p: &[f64]| sat(p, n_max);
    let floor_of: FloorOf<'_> = if saturated { &level } else { &|p| p[2] };
    let floor = floor_estimate(&estimate, floor_of, saturated, flags[2]);
    let targets = opts
        .targets
        .iter()
        .map(|t| target_plan(t, &estimate, (&floor, floor_of), y_top, b_flag, opts.peak))
        .collect();
    let predictions = predictions(&estimate, opts);
    let params = param_estimates(&estimate, &flags);
    let backtest = opts
        .backtest
        .then(|| backtest(curve, &opts.bootstrap))
        .transpose()
        .map_err(ctx)?;
    Ok(MeasuredPlan {
        group: group.to_string(),
        model: ModelKind::Saturating,
        params,
        floor,
        exact: known.zip(free_fit).map(|(k, free_fit)| ExactFloorPlan {
            exact_floor: k.mse,
            floor_bound: k.bound(),
            free_fit,
            exact_floor_label: None,
        }),
        saturated,
        largest_n: n_max,
        measured_at_largest_n: y_max,
        db_per_doubling: estimate(&|p| 10.0 * (sat(p, n_max) / sat(p, 2.0 * n_max)).log10()),
        targets,
        predictions,
        bootstrap: BootstrapSummary::of(&boot, opts.bootstrap.seed),
        floor_backtest: known
            .filter(|_| opts.backtest)
            .and_then(|_| floor_backtest(curve, bound)),
        backtest,
        doubling_gain_db: None,
        linear_theory: None,
    })
}

/// The saturating law fitted with its floor at least `bound` (`[a, b, c]`), its bootstrap
/// replicates and, with a known floor, the free fit beside it (a diagnostic).
fn fit_with_replicates(
    curve: &Curve,
    known: Option<KnownFloor>,
    bound: f64,
    opts: &PlanOptions,
) -> Result<([f64; 3], BootstrapSamples, Option<FreeFit>)> {
    let s = fit_saturating_floored(&curve.xs, &curve.ys, bound)?;
    let free_fit = known.map(|_| free_fit(curve, bound)).transpose()?;
    let fit = Fit::Saturating(s);
    let boot = bootstrap(curve, &fit, &[], &opts.bootstrap)?;
    Ok(([s.a, s.b, s.c], boot, free_fit))
}

/// `f` at the fitted parameters `point`, with its percentile interval over the replicates
/// `reps` (NaN without replicates).
fn estimate_over(f: &dyn Fn(&[f64]) -> f64, point: &[f64], reps: &[Vec<f64>]) -> Estimate {
    Estimate::new(
        f(point),
        if reps.is_empty() {
            [f64::NAN; 2]
        } else {
            interval(&reps.iter().map(|p| f(p)).collect::<Vec<_>>())
        },
    )
}

/// An [`Estimate`] of a function of the parameters `(a, b, c)`: its value at the fit and its
/// interval over the bootstrap replicates.
type Estimator<'a> = dyn Fn(&dyn Fn(&[f64]) -> f64) -> Estimate + 'a;

/// Errors unless `curve` has the 4 sizes the saturating law needs and every target is valid.
fn check_plannable(group: &str, curve: &Curve, opts: &PlanOptions) -> Result<()> {
    let kind = ModelKind::Saturating;
    if curve.len() < kind.min_points() {
        bail!(
            "group '{group}': {} training-set size(s); a plan fits a N^-b + c and needs at least {}",
            curve.len(),
            kind.min_points()
        );
    }
    opts.targets.iter().try_for_each(Target::validate)
}

/// The free fit of `curve` and whether its floor is below `bound`.
fn free_fit(curve: &Curve, bound: f64) -> Result<FreeFit> {
    let f = fit_saturating(&curve.xs, &curve.ys)?;
    Ok(FreeFit {
        params: OrderedMap(vec![
            ("a".into(), f.a),
            ("b".into(), f.b),
            ("c".into(), f.c),
        ]),
        below_floor: f.c < bound,
    })
}

/// The predicted error at each `opts.at`.
fn predictions(estimate: &Estimator, opts: &PlanOptions) -> Vec<PredictionPlan> {
    opts.at
        .iter()
        .map(|&n| PredictionPlan {
            n,
            mse: estimate(&|p| sat(p, n)).as_positive(),
            psnr_db: estimate(&|p| psnr(sat(p, n), opts.peak)),
        })
        .collect()
}

/// `a`, `b`, `c` with their intervals and identification (`flags` from [`param_flags`]; the
/// positive scales `a`, `c` also by the width of their interval).
fn param_estimates(
    estimate: &Estimator,
    flags: &[Option<Unidentified>; 3],
) -> OrderedMap<Estimate> {
    let names = ModelKind::Saturating.param_names();
    OrderedMap(
        (0..3)
            .map(|j| {
                let e = estimate(&|p| p[j]).flag(flags[j]);
                (
                    names[j].to_string(),
                    if j == 1 { e } else { e.as_positive() },
                )
            })
            .collect(),
    )
}

/// The fitted floor. A flat law (`b` at its bound 0) is the constant `a + c`, and any split of
/// that level between `a` and `c` fits it, so its floor is the level (`floor_of`, the law at
/// the largest `N`) and is identified; otherwise it is `c`, flagged where `c` is at its bound.
fn floor_estimate(
    estimate: &Estimator,
    floor_of: FloorOf<'_>,
    saturated: bool,
    c_flag: Option<Unidentified>,
) -> Estimate {
    if saturated {
        estimate(floor_of)
    } else {
        estimate(floor_of).flag(c_flag).as_positive()
    }
}

/// The floor of a parameter vector `(a, b, c)`: `c`, or the level of a flat law.
type FloorOf<'a> = &'a dyn Fn(&[f64]) -> f64;

/// One target's answer. One rule for targets already met, absolute or relative: a target
/// MSE at or above every measured error (`y_top`, the largest) is [`Reach::AlreadyMet`], with
/// nothing to plan; a target met only at the larger measured sizes gets its `N` from the law
/// (inside the measured range).
fn target_plan(
    t: &Target,
    estimate: &Estimator,
    floor: (&Estimate, FloorOf<'_>),
    y_top: f64,
    b_flag: Option<Unidentified>,
    peak: f64,
) -> TargetPlan {
    let (floor, floor_of) = floor;
    let mse = estimate(&|p| t.mse(floor_of(p), peak));
    let n = estimate(&|p| n_for(p[0], p[1], p[2], t.mse(floor_of(p), peak)))
        .flag(b_flag)
        .as_size();
    let reachable = if mse.value >= y_top {
        Reach::AlreadyMet
    } else if t.relative() {
        Reach::Yes
    } else {
        let [lo, hi] = floor.ci95;
        let m = mse.value;
        if m < lo.min(floor.value) {
            Reach::NotReachable
        } else if m <= hi.max(floor.value) {
            Reach::Uncertain
        } else {
            Reach::Yes
        }
    };
    TargetPlan {
        target: t.describe(),
        mse,
        n,
        reachable,
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use rand_distr::{Distribution, Normal};

    use super::*;

    fn opts(targets: Vec<Target>) -> PlanOptions {
        PlanOptions {
            targets,
            at: vec![1e6],
            peak: 1.0,
            bootstrap: BootstrapOptions {
                reps: 200,
                ..Default::default()
            },
            backtest: false,
        }
    }

    #[test]
    fn exact_curve_gives_the_closed_forms() {
        // R = 0.5 N^-0.5 + 0.01: within 10% of the floor at (0.5 / 0.001)^2 = 250000.
        let xs: Vec<f64> = (0..9).map(|i| 16.0 * 2f64.powi(i)).collect();
        let ys: Vec<f64> = xs.iter().map(|x| 0.5 * x.powf(-0.5) + 0.01).collect();
        let c = Curve::new(&xs, &ys).unwrap();
        let p = plan_curve(
            "g",
            &c,
            None,
            &opts(vec![
                Target::Within(0.1),
                Target::Mse(0.012),
                Target::Mse(0.005),
            ]),
        )
        .unwrap();
        assert!((p.floor.value - 0.01).abs() < 1e-9);
        assert!((p.targets[0].n.value / 250000.0 - 1.0).abs() < 1e-6);
        assert!((p.targets[1].n.value / 62500.0 - 1.0).abs() < 1e-6);
        assert_eq!(p.targets[1].reachable, Reach::Yes);
        assert_eq!(p.targets[2].reachable, Reach::NotReachable);
        assert!(p.targets[2].n.value.is_infinite());
        let want =
            10.0 * ((0.5 * 4096f64.powf(-0.5) + 0.01) / (0.5 * 8192f64.powf(-0.5) + 0.01)).log10();
        assert!((p.db_per_doubling.value - want).abs() < 1e-9);
        assert!((p.predictions[0].mse.value - 0.0105).abs() < 1e-9);
        assert!((p.predictions[0].psnr_db.value + 10.0 * 0.0105f64.log10()).abs() < 1e-9);
    }

    /// `sigma^2 (J^T J)^-1` of the saturating law's log residuals at `(a, b, c)` on `xs`, in
    /// the parameters `(ln a, b, c)` (the delta-method covariance of the fit).
    fn wald_cov(xs: &[f64], (a, b, c): (f64, f64, f64), sigma: f64) -> [[f64; 3]; 3] {
        let mut m = [[0.0; 3]; 3];
        for &x in xs {
            let r = a * x.powf(-b) + c;
            let w = a * x.powf(-b) / r;
            let g = [w, -w * x.ln(), 1.0 / r];
            for i in 0..3 {
                for j in 0..3 {
                    m[i][j] += g[i] * g[j];
                }
            }
        }
        // Inverse by cofactors (symmetric 3 x 3).
        let cof = |i: usize, j: usize| {
            let (r0, r1) = ((i + 1) % 3, (i + 2) % 3);
            let (c0, c1) = ((j + 1) % 3, (j + 2) % 3);
            m[r0][c0] * m[r1][c1] - m[r0][c1] * m[r1][c0]
        };
        let det: f64 = (0..3).map(|j| m[0][j] * cof(0, j)).sum();
        let mut inv = [[0.0; 3]; 3];
        for (i, row) in inv.iter_mut().enumerate() {
            for (j, v) in row.iter_mut().enumerate() {
                *v = sigma * sigma * cof(j, i) / det;
            }
        }
        inv
    }

    #[test]
    fn noisy_curve_intervals_contain_the_truth() {
        // DRAWS curves of R = 0.5 N^-0.5 + 0.01 at 12 sizes, 2% log noise, each planned with a
        // 200-replicate residual bootstrap. Coverage: the residual bootstrap of a model with
        // p = 3 parameters on n = 12 points covers at best like P(|T_9| <= 1.96) = 0.918,
        // minus about 0.01 for B = 200; the rate over DRAWS independent curves lies within
        // 3 binomial standard errors of that. Width: the median interval is within 25% of the
        // delta-method interval 2 x 1.96 se (se from sigma^2 (J^T J)^-1 at the truth): the
        // median's Monte Carlo error is about 2% (the residual scale over 9 degrees of freedom
        // varies by 24% per draw), the rest is room for the second-order terms of the law at
        // 2% noise. A 99% interval (2.58 / 1.96 = 1.31 times wider), [0, inf) or a point fail.
        const DRAWS: usize = 200;
        let (a, b, c, sigma): (f64, f64, f64, f64) = (0.5, 0.5, 0.01, 0.02);
        let n_true = (a / (0.1 * c)).powf(1.0 / b);
        let xs: Vec<f64> = (0..12).map(|i| 8.0 * 2f64.powi(i)).collect();
        let cov = wald_cov(&xs, (a, b, c), sigma);
        let se_c = cov[2][2].sqrt();
        // ln N = (ln a - ln(0.1 c)) / b: gradient in (ln a, b, c).
        let g = [1.0 / b, -n_true.ln() / b, -1.0 / (c * b)];
        let var_ln_n: f64 = (0..3)
            .flat_map(|i| (0..3).map(move |j| (i, j)))
            .map(|(i, j)| g[i] * cov[i][j] * g[j])
            .sum();
        let wald = [2.0 * 1.96 * se_c, 2.0 * 1.96 * var_ln_n.sqrt()];
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let noise = Normal::new(0.0, sigma).unwrap();
        let (mut hits, mut widths) = ([0usize; 2], [Vec::new(), Vec::new()]);
        for _ in 0..DRAWS {
            let ys: Vec<f64> = xs
                .iter()
                .map(|x| (a * x.powf(-b) + c) * f64::exp(noise.sample(&mut rng)))
                .collect();
            let curve = Curve::new(&xs, &ys).unwrap();
            let p = plan_curve("g", &curve, None, &opts(vec![Target::Within(0.1)])).unwrap();
            let [lo, hi] = p.floor.ci95;
            hits[0] += usize::from(lo < c && c < hi);
            widths[0].push(hi - lo);
            let [lo, hi] = p.targets[0].n.ci95;
            hits[1] += usize::from(lo < n_true && n_true < hi);
            widths[1].push((hi / lo).ln());
        }
        let p0 = 0.908;
        let tol = 3.0 * (p0 * (1.0 - p0) / DRAWS as f64).sqrt();
        for (k, name) in ["floor", "N within 10%"].iter().enumerate() {
            let rate = hits[k] as f64 / DRAWS as f64;
            widths[k].sort_by(f64::total_cmp);
            let ratio = widths[k][DRAWS / 2] / wald[k];
            eprintln!("{name}: coverage {rate}, median width / delta-method width {ratio:.3}");
            assert!(
                (rate - p0).abs() <= tol,
                "{name}: coverage {rate}, {p0} +- {tol:.3}"
            );
            assert!((ratio - 1.0).abs() < 0.25, "{name}: width ratio {ratio}");
        }
    }

    #[test]
    fn met_target_and_too_few_points_are_errors() {
        let xs = [10.0, 100.0, 1000.0, 10000.0];
        let ys: Vec<f64> = xs.iter().map(|x: &f64| x.powf(-0.5) + 0.01).collect();
        let c = Curve::new(&xs, &ys).unwrap();
        // 0.5 is above every measured error: already met, nothing to plan (the CLI refuses it
        // when asked for).
        let p = plan_curve("g", &c, None, &opts(vec![Target::Mse(0.5)])).unwrap();
        assert_eq!(p.targets[0].reachable, Reach::AlreadyMet);
        let c3 = Curve::new(&xs[..3], &ys[..3]).unwrap();
        assert!(plan_curve("g", &c3, None, &opts(vec![])).is_err());
        assert!(Target::Within(-0.1).validate().is_err());
    }
}

#[cfg(test)]
mod floor_tests {
    use super::*;
    use crate::analysis::plan_text::summary_text;

    fn opts(targets: Vec<Target>) -> PlanOptions {
        PlanOptions {
            targets,
            at: vec![1e4, 1e6],
            peak: 1.0,
            bootstrap: BootstrapOptions {
                reps: 200,
                ..Default::default()
            },
            backtest: false,
        }
    }

    fn sizes() -> Vec<f64> {
        (0..7).map(|i| 16.0 * 2f64.powi(i)).collect()
    }

    /// The plan of the curve `y(N)` at [`sizes`], to within 10% of its floor.
    fn plan_within_tenth(y: impl Fn(f64) -> f64) -> MeasuredPlan {
        let xs = sizes();
        let ys: Vec<f64> = xs.iter().map(|&x| y(x)).collect();
        let c = Curve::new(&xs, &ys).unwrap();
        plan_curve("g", &c, None, &opts(vec![Target::Within(0.1)])).unwrap()
    }

    /// Every MSE of a plan: floor, `c`, target MSEs and predictions, values and interval ends.
    fn mses(p: &MeasuredPlan) -> Vec<f64> {
        let mut v = Vec::new();
        let mut push = |e: &Estimate| v.extend([e.value, e.ci95[0], e.ci95[1]]);
        push(&p.floor);
        push(p.params.get("c").unwrap());
        p.targets.iter().for_each(|t| push(&t.mse));
        p.predictions.iter().for_each(|q| push(&q.mse));
        v
    }

    #[test]
    fn a_known_floor_binds_the_fit_and_every_number() {
        // Measured sizes show a pure power law 0.5 N^-0.3 (0.063 at N = 1024); theory knows a
        // floor 0.01. The free fit puts its floor at 0 and predicts 0.5e6^-0.3 = 7.9e-3 < 0.01
        // at N = 1e6; the constrained one may not.
        let xs = sizes();
        let ys: Vec<f64> = xs.iter().map(|x| 0.5 * x.powf(-0.3)).collect();
        let c = Curve::new(&xs, &ys).unwrap();
        let floor = KnownFloor { mse: 0.01, se: 0.0 };
        let p = plan_curve_floored("g", &c, Some(floor), &opts(vec![Target::Within(0.1)])).unwrap();
        let exact = p.exact.as_ref().unwrap();
        assert!(exact.free_fit.below_floor, "{exact:?}");
        assert_eq!(exact.floor_bound, 0.01);
        for v in mses(&p) {
            assert!(v.is_nan() || v >= 0.01, "{v} below the floor: {p:#?}");
        }
        let text = summary_text(&p);
        assert!(
            text.contains(
                "the free fit's floor 0 is below the exact floor 1.000e-2: it is not used"
            ),
            "{text}"
        );
        // The free plan of the same curve predicts below the floor: the constraint matters.
        let free = plan_curve("g", &c, None, &opts(vec![])).unwrap();
        assert!(free.predictions[1].mse.value < 0.01);
    }

    #[test]
    fn numbers_the_data_do_not_identify_are_flagged() {
        // Identifiable: an exact saturating curve.
        let p = plan_within_tenth(|x| 0.5 * x.powf(-0.5) + 0.01);
        assert!(
            p.floor.identified() && p.targets[0].n.identified(),
            "{p:#?}"
        );
        assert!(p.params.0.iter().all(|(_, e)| e.identified()), "{p:#?}");
        // Not identifiable: a pure power law has no floor in view; c sits at its bound 0 and
        // N within 10% of it has no finite end.
        let p = plan_within_tenth(|x| 0.5 * x.powf(-0.5));
        assert_eq!(
            p.floor.unidentified,
            Some(Unidentified::AtBound {
                param: "c",
                bound: 0.0
            })
        );
        assert!(!p.targets[0].n.identified());
        let text = summary_text(&p);
        assert!(
            text.contains("fitted floor not identified (c at its bound 0)"),
            "{text}"
        );
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(json["floor"]["identified"], false);
        assert_eq!(json["floor"]["reason"], "c at its bound 0");
        assert!(json["floor"]["value"].as_f64().unwrap() < 1e-12, "{json}");
    }

    #[test]
    fn a_flat_curve_has_saturated_at_its_level() {
        let p = plan_within_tenth(|_| 0.5);
        assert!(p.saturated);
        assert!((p.floor.value / 0.5 - 1.0).abs() < 1e-9, "{:?}", p.floor);
        assert!(p.floor.identified());
        assert_eq!(p.targets[0].reachable, Reach::AlreadyMet);
        let text = summary_text(&p);
        assert!(
            text.contains("it has saturated at about 5.0000e-1"),
            "{text}"
        );
    }

    #[test]
    fn points_below_the_floor_by_three_standard_errors_contradict_it() {
        let floor = KnownFloor { mse: 1.0, se: 0.0 };
        let xs = [10.0, 20.0, 40.0];
        let ses = [Some(0.01), Some(0.01), None];
        // 0.98 is 2 se below: sampling noise; 0.96 is 4 se below: a contradiction; the last has
        // no standard error and is not judged.
        let ok = check_floor("g", &xs, &[1.5, 0.98, 0.5], &ses, floor);
        assert!(ok.is_ok());
        let e = check_floor("g", &xs, &[1.5, 0.96, 0.5], &ses, floor).unwrap_err();
        assert_eq!(e.points, vec![(20.0, 0.96, 0.01)]);
        assert!(e.to_string().contains("N = 20 (MSE 9.6000e-1"), "{e}");
    }
}
