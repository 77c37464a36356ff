//! `plateau validate`: the analytic predictions against the exact Monte Carlo, every point
//! judged, the z-scores pooled.
//!
//! For every `(setup, N, estimator)`: the deterministic equivalent (`theory/analytic.md`), the
//! Monte Carlo mean of the exact risk (draws added until the standard error is at most
//! `--target-rel-se` of the excess risk, or `--max-draws`), z and the error as a fraction of the
//! excess; a point passes when `|error| <= max(tol-excess x excess, tol-z x stderr, 1e-9)` (the
//! absolute tolerance decides points of zero excess: no noise, or `d = n`).
//! Early stopping compares `min_k E[R_k]` with the minimum of the Monte Carlo *mean* path
//! (like with like); the oracle `E[min_k R_k]` is reported in the JSON.
//!
//! Writes `DIR/validate.csv` (header [`HEADER`]), `DIR/validate.json` (criterion, pooled
//! statistics overall and per setup, caveats, verdict) and `DIR/validate.{png,svg}`; prints one
//! verdict line on stdout. Exit status: 0 when every point passes, 1 when one fails (or, with
//! `--strict`, when the pooled tests reject at 1% family-wise, Holm over all of them), 2 on bad
//! input.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use plateau_theory::validate::{
    analytic_targets, compare, Config, Criterion, Point, Report, Skipped, Target, ABS_TOL,
    MAX_DRAWS_LIMIT, MIN_DRAWS,
};
use plateau_theory::{Estimator, Setup};
use serde_json::{json, Value};

use crate::output::{progress, write_atomic};

/// The CSV header written by `plateau validate`.
pub const HEADER: &str =
    "d,n,sigma,N,estimator,predicted,mc_mean,mc_se,draws,z,rel_excess_err,pass";

/// Level at which the pooled statistics are flagged.
pub const POOLED_LEVEL: f64 = 0.01;

/// Sets of setups and sizes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Preset {
    /// Three setups, a few sizes each (well under a minute in release; run by `.ci/run`).
    Quick,
    /// All eight setups of the paper, every `N >= 4d` of their grids, `n = 10000` included (the
    /// structured engine draws `d = 10, n = 10000, N = 16384` in a few seconds), judged by the
    /// stated accuracy: 2% of the excess, standard errors at most 1% of it.
    Paper,
}

/// The criterion's defaults: `(tol_excess, target_rel_se)`.
const DEFAULT_CRITERION: (f64, f64) = (0.05, 0.02);
/// The paper preset's: the accuracy `theory/analytic.md` states, shown at a standard error
/// that cannot hide it.
const PAPER_CRITERION: (f64, f64) = (0.02, 0.01);

impl Preset {
    /// The setups and their sizes.
    pub fn grid(self) -> Vec<(Setup, Vec<usize>)> {
        let setup = |d, n, s| Setup::new(d, n, s).expect("preset setups are valid");
        match self {
            Preset::Quick => vec![
                (setup(10, 100, 0.1), vec![44, 64, 256, 1024]),
                (setup(10, 100, 0.05), vec![44, 512, 4096]),
                (setup(10, 1000, 0.1), vec![44, 64, 100]),
            ],
            Preset::Paper => Setup::paper_setups()
                .into_iter()
                .map(|s| (s, default_sizes(&s)))
                .collect(),
        }
    }
}

/// The paper grid from `N = 4d` on (the domain where the equivalents are asserted).
fn default_sizes(setup: &Setup) -> Vec<usize> {
    setup
        .default_train_sizes()
        .into_iter()
        .filter(|&n| n >= 4 * setup.d())
        .collect()
}

/// Arguments of `plateau validate`.
#[derive(Debug, clap::Args)]
#[command(group(
    clap::ArgGroup::new("model").args(["d", "preset"]).required(true)
))]
pub struct Args {
    /// Subspace dimension d (>= 1), with --n and --sigma (instead of --preset).
    #[arg(long, requires_all = ["n", "sigma"])]
    pub d: Option<usize>,
    /// Ambient dimension n (>= d).
    #[arg(long, requires_all = ["d", "sigma"])]
    pub n: Option<usize>,
    /// Noise standard deviation sigma (finite, >= 0).
    #[arg(long, allow_negative_numbers = true, requires_all = ["d", "n"])]
    pub sigma: Option<f64>,
    /// Setups and sizes: quick (3 setups, CI) or paper (all eight setups of the paper).
    #[arg(long, value_enum, conflicts_with_all = ["d", "n", "sigma"])]
    pub preset: Option<Preset>,
    /// Estimators, comma separated: pca, least_squares, gd_early_stopped.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "gd_early_stopped,least_squares,pca"
    )]
    pub estimators: Vec<Estimator>,
    /// Training-set sizes, comma separated [default: the preset's, or the paper grid from
    /// N = 4d].
    #[arg(long, value_delimiter = ',')]
    pub train_sizes: Option<Vec<usize>>,
    /// Draw until the standard error is at most this fraction of the excess risk [default:
    /// 0.02; 0.01 with --preset paper].
    #[arg(long, value_parser = positive, allow_negative_numbers = true)]
    pub target_rel_se: Option<f64>,
    /// Largest number of draws per point (at least 20).
    #[arg(long, default_value_t = 400,
          value_parser = clap::value_parser!(u32).range(MIN_DRAWS as i64..=MAX_DRAWS_LIMIT as i64))]
    pub max_draws: u32,
    /// Tolerance as a fraction of the excess risk [default: 0.05; 0.02 with --preset paper].
    #[arg(long, value_parser = positive, allow_negative_numbers = true)]
    pub tol_excess: Option<f64>,
    /// Tolerance in standard errors.
    #[arg(long, default_value_t = 3.0, value_parser = positive, allow_negative_numbers = true)]
    pub tol_z: f64,
    /// Seed of the draws.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Folder for validate.csv, validate.json, validate.png and validate.svg.
    #[arg(long, default_value = "results/validate")]
    pub out: PathBuf,
    /// Exit 1 also when the pooled tests reject at 1% family-wise (Holm over the four tests
    /// overall and per setup).
    #[arg(long)]
    pub strict: bool,
    /// Compare each draw's own risk instead of its mean over the label noise given the
    /// spectrum (the default averages it out for least squares and the mean gradient-descent
    /// path: same expectation, smaller standard error; theory/exact.md).
    #[arg(long)]
    pub plain: bool,
}

/// A finite, positive number (clap value parser).
fn positive(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|e| format!("{e}"))?;
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        Err(format!("must be finite and positive, got {s}"))
    }
}

/// The outcome of a run that completed: whether it passed under the flags given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// Every point meets the per-point criterion.
    pub points_pass: bool,
    /// The pooled tests (overall and per setup, Holm-adjusted together) reject at 1%.
    pub pooled_rejects: bool,
    /// `--strict` was given.
    pub strict: bool,
}

impl Verdict {
    /// Exit 0 (pass) or 1 (a point fails; with `--strict`, also a pooled rejection).
    pub fn passed(&self) -> bool {
        self.points_pass && !(self.strict && self.pooled_rejects)
    }
}

/// Runs the comparison, writes the files, prints the verdict line.
///
/// # Errors
/// Bad input (an invalid setup, `N = 0`, the optimal estimator) or a file that cannot be
/// written; a failing point is not an error but a [`Verdict`].
pub fn run(args: &Args) -> Result<Verdict> {
    let (config, targets, skipped) = plan(args)?;
    let (report, seconds) = compare_with_progress(&targets, &config)?;
    let verdict = Verdict {
        points_pass: report.all_pass(),
        pooled_rejects: report.pooled_rejects(POOLED_LEVEL),
        strict: args.strict,
    };
    record(args, &report, &skipped, &verdict, seconds)?;
    Ok(verdict)
}

/// The checked settings and the points to compare (their analytic predictions), with the
/// points skipped for an infinite expected risk; warns on stderr about both.
fn plan(args: &Args) -> Result<(Config, Vec<Target>, Vec<Skipped>)> {
    let (tol_excess, target_rel_se) = match args.preset {
        Some(Preset::Paper) => PAPER_CRITERION,
        _ => DEFAULT_CRITERION,
    };
    let criterion = Criterion::new(
        args.tol_excess.unwrap_or(tol_excess),
        args.tol_z,
        args.target_rel_se.unwrap_or(target_rel_se),
        args.max_draws as usize,
    )?;
    // Before the work: the files and the verdict line must have somewhere to go.
    crate::output::check_folder(&args.out)?;
    crate::output::check_stdout()?;
    let grid = grid(args)?;
    anyhow::ensure!(
        !args.estimators.is_empty(),
        "at least one estimator is needed"
    );
    let config = Config {
        criterion,
        seed: args.seed,
        noise_averaged: !args.plain,
        ..Config::default()
    };
    // One `iters` for the predictions and the Monte Carlo: both search the same iterates.
    let (targets, skipped) = analytic_targets(&grid, &args.estimators, &config)?;
    anyhow::ensure!(
        !targets.is_empty(),
        "nothing to validate: every requested point is skipped, the expected risk being \
         infinite there ({}); choose N outside n - 1 ..= n + 1 for least_squares",
        skipped_list(&skipped)
    );
    warn_left_out(&targets, &skipped);
    Ok((config, targets, skipped))
}

/// The setups with their training-set sizes: the preset's or the one setup's, with
/// `--train-sizes` replacing every setup's sizes.
fn grid(args: &Args) -> Result<Vec<(Setup, Vec<usize>)>> {
    let mut grid = match (args.preset, args.d, args.n, args.sigma) {
        (Some(p), ..) => p.grid(),
        (None, Some(d), Some(n), Some(sigma)) => {
            let s = Setup::new(d, n, sigma)?;
            vec![(s, default_sizes(&s))]
        }
        _ => anyhow::bail!("give --preset, or --d, --n and --sigma"),
    };
    if let Some(sizes) = &args.train_sizes {
        for (_, s) in &mut grid {
            s.clone_from(sizes);
        }
    }
    anyhow::ensure!(
        grid.iter().all(|(_, s)| !s.is_empty()),
        "at least one training-set size is needed"
    );
    Ok(grid)
}

/// One line on stderr per skipped point and per point with a caveat.
fn warn_left_out(targets: &[Target], skipped: &[Skipped]) {
    for s in skipped {
        eprintln!(
            "plateau validate: skipped {} at N = {} ({}): the expected risk is infinite",
            s.estimator,
            s.n_train,
            describe(&s.setup)
        );
    }
    for t in targets.iter().filter(|t| t.caveat.is_some()) {
        eprintln!(
            "plateau validate: warning: {} at N = {} ({}): {}",
            t.estimator,
            t.n_train,
            describe(&t.setup),
            t.caveat.expect("filtered")
        );
    }
}

/// The Monte Carlo comparison of every target, with a progress bar and one stderr line per
/// finished setup; the report and the seconds it took.
fn compare_with_progress(targets: &[Target], config: &Config) -> Result<(Report, f64)> {
    let started = Instant::now();
    let bar = progress(targets.len() as u64, "points");
    let done = std::sync::atomic::AtomicUsize::new(0);
    let report = compare(targets, config, |p| {
        bar.inc(1);
        // One line per finished setup, for logs (the bar is hidden when stderr is not a terminal).
        let i = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if targets.get(i + 1).is_none_or(|t| t.setup != p.target.setup) {
            bar.suspend(|| {
                eprintln!(
                    "plateau validate: {} done ({}/{} points, {:.0} s)",
                    describe(&p.target.setup),
                    i + 1,
                    targets.len(),
                    started.elapsed().as_secs_f64()
                );
            });
        }
    })?;
    bar.finish_and_clear();
    Ok((report, started.elapsed().as_secs_f64()))
}

/// Writes the CSV, the JSON and the figure, then prints the verdict line.
fn record(
    args: &Args,
    report: &Report,
    skipped: &[Skipped],
    verdict: &Verdict,
    seconds: f64,
) -> Result<()> {
    write_atomic(&args.out.join("validate.csv"), to_csv(report).as_bytes())?;
    let json = serde_json::to_string_pretty(&to_json(report, skipped, verdict, seconds))
        .context("cannot serialise the report")?;
    write_atomic(&args.out.join("validate.json"), json.as_bytes())?;
    crate::figures::validate::errors_vs_n(report).render(&args.out.join("validate"))?;
    let line = verdict_line(report, verdict, skipped, seconds);
    crate::output::write_stdout(format!("{line}\n").as_bytes())?;
    Ok(())
}

/// The skipped points for people: `least_squares at N = 9, 10, 11 (d=2, n=10, sigma=0.1)`,
/// one group per estimator and setup.
fn skipped_list(skipped: &[Skipped]) -> String {
    let mut groups: Vec<(Estimator, Setup, Vec<String>)> = Vec::new();
    for s in skipped {
        match groups
            .iter_mut()
            .find(|g| g.0 == s.estimator && g.1 == s.setup)
        {
            Some(g) => g.2.push(s.n_train.to_string()),
            None => groups.push((s.estimator, s.setup, vec![s.n_train.to_string()])),
        }
    }
    groups
        .iter()
        .map(|(e, s, ns)| format!("{e} at N = {} ({})", ns.join(", "), describe(s)))
        .collect::<Vec<_>>()
        .join("; ")
}

/// `d=10, n=100, sigma=0.1`.
fn describe(s: &Setup) -> String {
    format!("d={}, n={}, sigma={}", s.d(), s.n(), s.sigma())
}

/// The CSV: one row per point.
pub fn to_csv(report: &Report) -> String {
    let mut out = String::from(HEADER);
    out.push('\n');
    for p in &report.points {
        let t = &p.target;
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{},{}",
            t.setup.d(),
            t.setup.n(),
            t.setup.sigma(),
            t.n_train,
            t.estimator,
            t.predicted,
            p.mc_mean,
            p.mc_se,
            p.draws,
            p.z,
            p.rel_excess_err,
            p.pass
        );
    }
    out
}

/// The pooled statistics of `estimator`'s points (of `setup` only, when given), with the
/// point of the largest |z|; `null` without a finite z.
fn pooled_json(report: &Report, estimator: Estimator, setup: Option<Setup>) -> Value {
    let Some(p) = report.pooled(estimator, setup) else {
        return Value::Null;
    };
    let worst = report
        .points_of(estimator, setup)
        .nth(p.worst)
        .expect("Pooled::worst indexes the pooled points");
    json!({
        "estimator": estimator.name(),
        "points": p.points,
        "mean_z": p.mean_z,
        "mean_z_p": p.mean_z_p,
        "chi2_per_dof": p.chi2_per_dof,
        "chi2_p": p.chi2_p,
        "positive": p.positive,
        "negative": p.negative,
        "sign_p": p.sign_p,
        "worst_point": {
            "setup": setup_json(&worst.target.setup),
            "N": worst.target.n_train,
            "z": worst.z,
            "holm_p": p.worst_holm_p,
        },
        "rejects_at_1pct_alone": p.rejects(POOLED_LEVEL),
        "rejected_tests_alone": p.rejected_tests(POOLED_LEVEL),
    })
}

/// [`pooled_json`] for every estimator of the report.
fn pooled_by_estimator_json(report: &Report, setup: Option<Setup>) -> Vec<Value> {
    report
        .estimators()
        .into_iter()
        .map(|e| pooled_json(report, e, setup))
        .collect()
}

fn setup_json(s: &Setup) -> Value {
    json!({ "d": s.d(), "n": s.n(), "sigma": s.sigma() })
}

fn point_json(p: &Point) -> Value {
    let t: &Target = &p.target;
    let mut v = json!({
        "setup": setup_json(&t.setup),
        "N": t.n_train,
        "estimator": t.estimator.name(),
        "predicted": t.predicted,
        "mc_mean": p.mc_mean,
        "mc_se": p.mc_se,
        "draws": p.draws,
        "z": p.z,
        "z_normal": p.z_normal(),
        "skewness": p.skewness,
        "rel_excess_err": p.rel_excess_err,
        "pass": p.pass,
        "caveat": t.caveat.map(|c| c.name()),
    });
    if let (Some((mean, se)), Some(k)) = (p.oracle, p.k_mean_path) {
        v["oracle_mean"] = json!(mean);
        v["oracle_se"] = json!(se);
        v["k_mean_path"] = json!(k);
        // E[min_k R_k] <= min_k E[R_k]: the oracle's advantage, as a fraction of the excess.
        v["oracle_gap_rel_excess"] = json!((mean - p.mc_mean) / p.excess());
    }
    v
}

/// The JSON report: criterion, pooled statistics overall and per setup, points, verdict.
pub fn to_json(report: &Report, skipped: &[Skipped], verdict: &Verdict, seconds: f64) -> Value {
    json!({
        "criterion": criterion_json(report),
        "pooled": pooled_by_estimator_json(report, None),
        "per_setup": per_setup_json(report),
        "pooled_family": {
            "procedure": "Holm over the four pooled tests of every estimator, over all setups and per setup; rejects when an adjusted p-value is below pooled_level",
            "tests": report.pooled_family().iter().map(|t| json!({
                "estimator": t.estimator.name(),
                "setup": t.setup.as_ref().map(setup_json),
                "test": t.test,
                "p": t.p,
                "holm_p": t.holm_p,
            })).collect::<Vec<_>>(),
        },
        "points": report.points.iter().map(point_json).collect::<Vec<_>>(),
        "skipped": skipped.iter().map(|s| json!({
            "setup": setup_json(&s.setup),
            "N": s.n_train,
            "estimator": s.estimator.name(),
            "reason": "infinite expected risk",
        })).collect::<Vec<_>>(),
        "verdict": {
            "points": report.points.len(),
            "failures": report.failures().len(),
            "points_pass": verdict.points_pass,
            "pooled_rejects_at_1pct": verdict.pooled_rejects,
            "strict": verdict.strict,
            "exit_status": if verdict.passed() { 0 } else { 1 },
        },
        "seconds": seconds,
    })
}

/// The criterion a point is judged by, and how the Monte Carlo was drawn.
fn criterion_json(report: &Report) -> Value {
    let c = &report.criterion;
    json!({
        "rule": "|predicted - mc_mean| <= max(tol_excess * (mc_mean - floor), abs_tol) or |z_normal| <= tol_z",
        "abs_tol": ABS_TOL,
        "tol_excess": c.tol_excess(),
        "tol_z": c.tol_z(),
        "target_rel_se": c.target_rel_se(),
        "max_draws": c.max_draws(),
        "min_draws": MIN_DRAWS,
        "seed": report.seed,
        "pooled_level": POOLED_LEVEL,
        "early_stopping": "predicted min_k E[R_k] against the minimum of the Monte Carlo mean path",
        "monte_carlo": if report.noise_averaged {
            "noise-averaged (Rao-Blackwellised) for least squares and the mean gradient-descent path; PCA and the early-stopping oracle plain"
        } else {
            "plain: each draw's own risk"
        },
        "common_draws": report.common_draws,
    })
}

/// Each setup's points, failures and pooled statistics (per estimator).
fn per_setup_json(report: &Report) -> Vec<Value> {
    report
        .setups()
        .into_iter()
        .map(|s| {
            let points: Vec<&Point> = report
                .points
                .iter()
                .filter(|p| p.target.setup == s)
                .collect();
            json!({
                "setup": setup_json(&s),
                "points": points.len(),
                "failures": points.iter().filter(|p| !p.pass).count(),
                "pooled": pooled_by_estimator_json(report, Some(s)),
            })
        })
        .collect()
}

/// A p-value for people: three decimals, or scientific below 0.001.
fn p_value(p: f64) -> String {
    if p >= 1e-3 {
        format!("{p:.3}")
    } else {
        format!("{p:.1e}")
    }
}

/// The one verdict line.
fn verdict_line(report: &Report, verdict: &Verdict, skipped: &[Skipped], seconds: f64) -> String {
    let mut line = points_text(report, verdict);
    line.push_str(&pooled_text(report));
    if verdict.pooled_rejects {
        line.push_str(&rejection_text(report));
    }
    if !skipped.is_empty() {
        // A pass says nothing about the points left out: the line names them.
        let _ = write!(
            line,
            "; {} skipped (infinite expected risk): {}",
            skipped.len(),
            skipped_list(skipped)
        );
    }
    let _ = write!(line, "; {seconds:.0} s");
    line
}

/// The verdict line's pooled part: per estimator the mean z and the chi-square, then the
/// smallest p-value of the family with its Holm adjustment, which the verdict judges (sign
/// tests and worst points are in the JSON).
fn pooled_text(report: &Report) -> String {
    let mut text = String::new();
    for e in report.estimators() {
        if let Some(p) = report.pooled(e, None) {
            let _ = write!(
                text,
                "{} {e} mean z {:+.2} (p {}) chi2/dof {:.2} (p {})",
                if text.is_empty() { "; pooled:" } else { "," },
                p.mean_z,
                p_value(p.mean_z_p),
                p.chi2_per_dof,
                p_value(p.chi2_p),
            );
        }
    }
    let family = report.pooled_family();
    if let Some(t) = family.iter().min_by(|a, b| a.p.total_cmp(&b.p)) {
        let _ = write!(
            text,
            "; smallest p {} of {} pooled tests (Holm-adjusted {})",
            p_value(t.p),
            family.len(),
            p_value(t.holm_p)
        );
    }
    text
}

/// The verdict line's start: PASS or FAIL, the points passing and the largest relative error.
fn points_text(report: &Report, verdict: &Verdict) -> String {
    let total = report.points.len();
    let failures = report.failures().len();
    // Points within the absolute tolerance (zero excess) have no meaningful relative error.
    let absolute = report.points.iter().filter(|p| p.within_abs_tol()).count();
    let max_rel = report
        .points
        .iter()
        .filter(|p| !p.within_abs_tol())
        .map(|p| p.rel_excess_err.abs())
        .fold(0.0, f64::max);
    format!(
        "validate: {} {}/{} points pass (largest error {:.1}% of the excess{})",
        if verdict.passed() { "PASS" } else { "FAIL" },
        total - failures,
        total,
        100.0 * max_rel,
        if absolute > 0 {
            format!("; {absolute} within the absolute tolerance {ABS_TOL:e}")
        } else {
            String::new()
        }
    )
}

/// Where the pooled tests reject at 1% family-wise: per estimator, overall and/or the setups
/// (`least_squares overall, pca for (10, 100, 0.1)`).
fn rejection_text(report: &Report) -> String {
    let mut scopes: Vec<String> = Vec::new();
    for t in report
        .pooled_family()
        .iter()
        .filter(|t| t.holm_p < POOLED_LEVEL)
    {
        let scope = match t.setup {
            None => format!("{} overall", t.estimator),
            Some(s) => format!("{} for ({}, {}, {})", t.estimator, s.d(), s.n(), s.sigma()),
        };
        if !scopes.contains(&scope) {
            scopes.push(scope);
        }
    }
    format!(
        "; POOLED REJECTS at 1% family-wise (Holm): {}",
        scopes.join(", ")
    )
}
