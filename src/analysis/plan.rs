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
use serde::{Deserialize, Serialize};

use crate::analysis::capacity::{doubling_text, DoublingGain};
use crate::fit::backtest::{backtest, Backtest};
use crate::fit::bootstrap::Method;
use crate::fit::nullable;
use crate::fit::report::OrderedMap;
use crate::fit::{bootstrap, fit_model, BootstrapOptions, Curve, Fit, ModelKind};

/// Level of every interval.
const LEVEL: f64 = 0.95;

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
    /// Checks the value's range.
    ///
    /// # Errors
    /// A non-finite value, or one that is not positive (PSNR may be any finite number).
    pub fn validate(&self) -> Result<()> {
        let (v, name) = match *self {
            Target::Mse(v) => (v, "--target-mse"),
            Target::Psnr(v) => {
                if !v.is_finite() {
                    bail!("--target-psnr {v} is not a finite number of dB");
                }
                return Ok(());
            }
            Target::Within(v) => (v, "--within"),
            Target::WithinDb(v) => (v, "--within-db"),
        };
        if !(v.is_finite() && v > 0.0) {
            bail!("{name} {v} must be positive and finite");
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
            Target::Psnr(p) => format!("PSNR {p} dB"),
            Target::Within(f) => format!("within {}% of the fitted floor", f * 100.0),
            Target::WithinDb(d) => format!("within {d} dB of the fitted floor"),
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

/// A number with its 95% interval; infinite ends (open intervals) serialise as `null`, which
/// reads back as NaN.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// Point estimate (from the fit itself).
    #[serde(deserialize_with = "nullable::f64")]
    pub value: f64,
    /// 95% bootstrap percentile interval (`[null, null]` without bootstrap).
    #[serde(deserialize_with = "nullable::pair")]
    pub ci95: [f64; 2],
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
    /// The exact floor of the data when known (synthetic data), else absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exact_floor: Option<f64>,
    /// What the exact floor is where it is not the network's floor (MRI's magnitude input:
    /// `Bayes error given complex data: a lower bound for magnitude input`), else absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exact_floor_label: Option<String>,
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
    /// Doubling `N` against doubling `P` at the cell of `--width`/`--params`, from the joint
    /// law ([`crate::analysis::capacity`]), when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub doubling_gain_db: Option<DoublingGain>,
}

/// How the intervals were obtained.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct BootstrapSummary {
    /// Method used.
    pub method: Method,
    /// Replicates used.
    pub reps: usize,
    /// Replicates that failed.
    pub failed: usize,
    /// Seed.
    pub seed: u64,
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

/// The plan for one measured curve.
///
/// # Errors
/// Fewer than 4 distinct `N` (the saturating law has 3 parameters), a non-positive error, a
/// fit that fails, or an absolute target that the measurements already meet.
pub fn plan_curve(
    group: &str,
    curve: &Curve,
    exact_floor: Option<f64>,
    opts: &PlanOptions,
) -> Result<MeasuredPlan> {
    let kind = ModelKind::Saturating;
    if curve.len() < kind.min_points() {
        bail!(
            "group '{group}': {} training-set size(s); a plan fits a N^-b + c and needs at least {}",
            curve.len(),
            kind.min_points()
        );
    }
    let last = curve.len() - 1;
    let (n_max, y_max) = (curve.xs[last], curve.ys[last]);
    for t in &opts.targets {
        t.validate()?;
        if !t.relative() {
            let mse = t.mse(0.0, opts.peak);
            if mse >= y_max {
                bail!(
                    "group '{group}': the target ({}, MSE {mse:.4e}) is already met: the error \
                     measured at N = {n_max} is {y_max:.4e}",
                    t.describe()
                );
            }
        }
    }
    let fit = fit_model(kind, &curve.xs, &curve.ys)
        .map_err(|e| anyhow::anyhow!("group '{group}': {e:#}"))?;
    let Fit::Saturating(s) = fit else {
        unreachable!("fitted the saturating law")
    };
    let point = [s.a, s.b, s.c];
    let boot = bootstrap(curve, &fit, &[], &opts.bootstrap)
        .map_err(|e| anyhow::anyhow!("group '{group}': {e:#}"))?;
    let reps = &boot.params;
    let estimate = |f: &dyn Fn(&[f64]) -> f64| Estimate {
        value: f(&point),
        ci95: if reps.is_empty() {
            [f64::NAN; 2]
        } else {
            interval(&reps.iter().map(|p| f(p)).collect::<Vec<_>>())
        },
    };
    let floor = estimate(&|p| p[2]);
    let targets = opts
        .targets
        .iter()
        .map(|t| {
            let mse = estimate(&|p| t.mse(p[2], opts.peak));
            let n = estimate(&|p| n_for(p[0], p[1], p[2], t.mse(p[2], opts.peak)));
            let reachable = if t.relative() {
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
        })
        .collect();
    let predictions = opts
        .at
        .iter()
        .map(|&n| PredictionPlan {
            n,
            mse: estimate(&|p| sat(p, n)),
            psnr_db: estimate(&|p| psnr(sat(p, n), opts.peak)),
        })
        .collect();
    let names = kind.param_names();
    let params = OrderedMap(
        (0..3)
            .map(|j| (names[j].to_string(), estimate(&|p| p[j])))
            .collect(),
    );
    let backtest = if opts.backtest {
        Some(
            backtest(curve, &opts.bootstrap)
                .map_err(|e| anyhow::anyhow!("group '{group}': {e:#}"))?,
        )
    } else {
        None
    };
    Ok(MeasuredPlan {
        group: group.to_string(),
        model: kind,
        params,
        floor,
        exact_floor,
        exact_floor_label: None,
        largest_n: n_max,
        measured_at_largest_n: y_max,
        db_per_doubling: estimate(&|p| 10.0 * (sat(p, n_max) / sat(p, 2.0 * n_max)).log10()),
        targets,
        predictions,
        bootstrap: BootstrapSummary {
            method: boot.method,
            reps: boot.params.len(),
            failed: boot.failed,
            seed: opts.bootstrap.seed,
        },
        backtest,
        doubling_gain_db: None,
    })
}

/// Formats a training-set size for people (`1.2e5`, `3400`), `never` when infinite.
pub fn fmt_n(n: f64) -> String {
    if !n.is_finite() {
        "no finite N".into()
    } else if n < 1e5 {
        format!("{:.0}", n.ceil())
    } else {
        format!("{n:.2e}")
    }
}

/// The one-screen summary of a plan.
pub fn summary_text(p: &MeasuredPlan) -> String {
    use std::fmt::Write as _;
    let ci = |e: &Estimate, f: &dyn Fn(f64) -> String| {
        format!(
            "{} (95% interval {} to {})",
            f(e.value),
            f(e.ci95[0]),
            f(e.ci95[1])
        )
    };
    let mse = |v: f64| {
        if v.is_finite() {
            format!("{v:.4e}")
        } else {
            "?".into()
        }
    };
    let mut s = String::new();
    let _ = writeln!(s, "{}", p.group);
    let _ = writeln!(
        s,
        "  measured: {} at N = {}; fitted floor {}{}",
        mse(p.measured_at_largest_n),
        fmt_n(p.largest_n),
        ci(&p.floor, &mse),
        p.exact_floor
            .map_or(String::new(), |f| match &p.exact_floor_label {
                Some(label) => format!(", {label} {f:.4e}"),
                None => format!(", exact floor {f:.4e}"),
            })
    );
    let _ = writeln!(
        s,
        "  doubling N from {} gains {}",
        fmt_n(p.largest_n),
        ci(&p.db_per_doubling, &|v| format!("{v:.3} dB"))
    );
    for t in &p.targets {
        let what = match t.reachable {
            Reach::NotReachable => "not reachable (below the fitted floor's interval)".into(),
            _ => format!("N = {}", ci(&t.n, &fmt_n)),
        };
        let _ = writeln!(s, "  {}: {what}", t.target);
    }
    for q in &p.predictions {
        let _ = writeln!(
            s,
            "  at N = {}: MSE {}, PSNR {}",
            fmt_n(q.n),
            ci(&q.mse, &mse),
            ci(&q.psnr_db, &|v| format!("{v:.2} dB"))
        );
    }
    if let Some(d) = &p.doubling_gain_db {
        let _ = writeln!(s, "  {}", doubling_text(d));
    }
    if let Some(bt) = &p.backtest {
        let _ = writeln!(
            s,
            "  backtest (fit N <= {}, predict {:?}):",
            fmt_n(bt.train_range[1]),
            bt.held_out_x
        );
        for c in &bt.candidates {
            match (&c.note, c.rms_log_error) {
                (None, Some(e)) => {
                    let _ = writeln!(
                        s,
                        "    {}: rms error {:.2}%, covered {}/{}",
                        c.model,
                        100.0 * e,
                        c.held_out
                            .iter()
                            .filter(|h| h.covered == Some(true))
                            .count(),
                        c.held_out.len()
                    );
                }
                (note, _) => {
                    let _ = writeln!(s, "    {}: {}", c.model, note.as_deref().unwrap_or("-"));
                }
            }
        }
    }
    s
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

    #[test]
    fn noisy_curve_intervals_contain_the_truth() {
        // One noisy curve (2% log noise): the intervals of the floor and of N for 10% must
        // contain the true values (a 95% interval misses with probability 0.05; fixed seed).
        let xs: Vec<f64> = (0..12).map(|i| 8.0 * 2f64.powi(i)).collect();
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let noise = Normal::new(0.0, 0.02).unwrap();
        let ys: Vec<f64> = xs
            .iter()
            .map(|x| (0.5 * x.powf(-0.5) + 0.01) * f64::exp(noise.sample(&mut rng)))
            .collect();
        let c = Curve::new(&xs, &ys).unwrap();
        let p = plan_curve("g", &c, None, &opts(vec![Target::Within(0.1)])).unwrap();
        let [lo, hi] = p.floor.ci95;
        assert!(lo < 0.01 && 0.01 < hi, "{:?}", p.floor);
        let [lo, hi] = p.targets[0].n.ci95;
        assert!(lo < 250000.0 && 250000.0 < hi, "{:?}", p.targets[0].n);
    }

    #[test]
    fn met_target_and_too_few_points_are_errors() {
        let xs = [10.0, 100.0, 1000.0, 10000.0];
        let ys: Vec<f64> = xs.iter().map(|x: &f64| x.powf(-0.5) + 0.01).collect();
        let c = Curve::new(&xs, &ys).unwrap();
        let e = plan_curve("g", &c, None, &opts(vec![Target::Mse(0.5)])).unwrap_err();
        assert!(e.to_string().contains("already met"), "{e}");
        let c3 = Curve::new(&xs[..3], &ys[..3]).unwrap();
        assert!(plan_curve("g", &c3, None, &opts(vec![])).is_err());
        assert!(Target::Within(-0.1).validate().is_err());
    }
}
