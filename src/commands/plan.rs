//! `plateau plan`: how much more data is needed, from theory or from measurements.
//!
//! - From theory (`--d --n --sigma`, or `--preset` of the general Gaussian model): per
//!   estimator, the `N` from which the expected risk stays within each `--within` fraction of
//!   the floor, the power-law regime and its bend, the risk at `--at`
//!   ([`crate::analysis::plan_theory`]).
//! - From measurements (`--results DIR`, a sweep's store: each curve's best width per `N`; or
//!   `--input FILE.csv` with `fit`'s input flags): the `N` for each target, the gain per
//!   doubling at the largest measured `N`, and the error at `--at`, with bootstrap intervals
//!   ([`crate::analysis::plan`]); `--backtest` adds the held-out check of the extrapolation;
//!   `--width W` or `--params P` (with `--results`) adds, from the joint law in `N` and `P`,
//!   the gains of doubling `N` and of doubling `P` at the largest measured `N`
//!   ([`crate::analysis::capacity`]); for real-image denoising with a `plateau spectrum` run
//!   (`--linear-theory DIR`, by default `<results>/spectrum`), where the measured error at the
//!   largest `N` stands against the best linear map (LMMSE) and the learned linear maps
//!   ([`crate::analysis::spectrum_theory`]).
//!
//! stdout: a JSON array, one object per group (estimator or curve); the human summary goes to
//! stderr, or to stdout instead of the JSON with `--format text`.

use std::path::{Path, PathBuf};

use crate::output::write_stdout;
use anyhow::{bail, Context, Result};

use crate::analysis::capacity::{doubling_plan, CellChoice};
use crate::analysis::estimate::fmt_n;
use crate::analysis::joint_plan::{check_budget, joint_plan, table_budget_range};
use crate::analysis::joint_plan_text::joint_plan_text;
use crate::analysis::plan::{
    check_floor, plan_curve_floored, KnownFloor, MeasuredPlan, PlanOptions, Reach, Target,
};
use crate::analysis::plan_text::summary_text;
use crate::analysis::plan_theory::{plan_theory_with_progress, Preset, TheoryModel, TheoryPlan};
use crate::analysis::scaling::{analyse, check_group_floor, known_floor, GroupSummary};
use crate::analysis::spectrum_theory;
use crate::commands::curve_args::{BootstrapArgs, CsvColumns};
use crate::commands::joint_args::JointArgs;
use crate::fit::joint::table_fit::fit_table;
use crate::fit::{BootstrapOptions, Curve};
use crate::output::write_atomic;
use crate::sweep::Store;

/// Output format of stdout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// JSON array (the summary goes to stderr).
    Json,
    /// The human summary only.
    Text,
}

/// The flags of plans from measurements (`--results`, `--input`) that theory has no use for:
/// the CSV's columns, the bootstrap, the backtest and the peak of PSNR.
const MEASURED_ONLY: [&str; 4] = ["CsvColumns", "BootstrapArgs", "backtest", "peak"];

/// The modes that are not a CSV's plan in `N` (`--exact-floor` and `--floor-se` are for it
/// alone; with `--p`, [`joint`] refuses them in words).
const NOT_A_CSV: [&str; 3] = ["d", "preset", "results"];

/// Arguments of `plateau plan`.
///
/// Four modes: theory (`--d --n --sigma` or `--preset`), a results store (`--results`), a CSV
/// (`--input`) and a table's joint law (`--input --p`). A flag of one mode given in another is
/// refused by clap (exit 2), or by [`run`] with a message of ours where a test pins it. clap's
/// `requires` is not enough on its own: it is waived when the required flag conflicts with one
/// given (`--exact-floor` requires `--input`, which conflicts with `--d`), so each flag also
/// names the modes it conflicts with.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Subspace model: subspace dimension d (with --n and --sigma).
    #[arg(long, requires_all = ["n", "sigma"], conflicts_with_all = MEASURED_ONLY)]
    pub d: Option<usize>,
    /// Subspace model: ambient dimension n.
    #[arg(long, requires = "d")]
    pub n: Option<usize>,
    /// Subspace model: noise standard deviation sigma.
    #[arg(long, requires = "d", allow_negative_numbers = true)]
    pub sigma: Option<f64>,
    /// General Gaussian model preset (per-pixel MSE).
    #[arg(long, value_enum, conflicts_with_all = ["d", "results", "input"])]
    #[arg(conflicts_with_all = MEASURED_ONLY)]
    pub preset: Option<Preset>,
    /// A sweep's results folder (holding results.jsonl): plan from its measured curves.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["d", "input", "CsvColumns"])]
    pub results: Option<PathBuf>,
    /// A CSV of measured errors: plan from its curves (same layout flags as `plateau fit`).
    #[arg(long, value_name = "FILE.csv", conflicts_with = "d")]
    pub input: Option<PathBuf>,
    /// With --input: the exact floor of the data (Bayes error, MSE units): the fit's floor is
    /// constrained to at least it minus --floor-se, and no printed MSE is below that.
    #[arg(long, value_name = "MSE", allow_negative_numbers = true)]
    #[arg(requires = "input", conflicts_with_all = NOT_A_CSV)]
    pub exact_floor: Option<f64>,
    /// With --exact-floor: the test-set standard error of the floor (MSE units, default 0).
    #[arg(long, value_name = "SE", allow_negative_numbers = true)]
    #[arg(requires = "exact_floor", conflicts_with_all = NOT_A_CSV)]
    pub floor_se: Option<f64>,
    /// The CSV's columns of N, the error and the groups.
    #[command(flatten)]
    pub columns: CsvColumns,
    /// Within these fractions of the floor (0.1: 10% above it) [default: 0.1,0.01 for theory;
    /// 0.1 with --within-db 0.1 for measurements when no target is given].
    #[arg(long, value_delimiter = ',', allow_negative_numbers = true)]
    #[arg(conflicts_with = "p")]
    #[arg(value_name = "F[,F...]")]
    pub within: Vec<f64>,
    /// Measurements: within this many dB of the fitted floor.
    #[arg(long, value_delimiter = ',', allow_negative_numbers = true)]
    #[arg(conflicts_with = "p")]
    #[arg(value_name = "DB[,DB...]")]
    pub within_db: Vec<f64>,
    /// Measurements: reach this test MSE.
    #[arg(long, value_delimiter = ',', allow_negative_numbers = true)]
    #[arg(conflicts_with = "p")]
    #[arg(value_name = "MSE[,MSE...]")]
    pub target_mse: Vec<f64>,
    /// Measurements: reach this PSNR (dB; PSNR = 10 log10(peak^2 / MSE)).
    #[arg(long, value_delimiter = ',', allow_negative_numbers = true)]
    #[arg(conflicts_with = "p")]
    #[arg(value_name = "DB[,DB...]")]
    pub target_psnr: Vec<f64>,
    /// Peak value of PSNR (1 for images in [0, 1]).
    #[arg(long, default_value_t = 1.0, conflicts_with = "p")]
    pub peak: f64,
    /// Training-set sizes at which to give the error.
    #[arg(long, value_delimiter = ',', allow_negative_numbers = true)]
    #[arg(conflicts_with = "p")]
    #[arg(value_name = "N[,N...]", default_value = "1e4,1e5,1e6")]
    pub at: Vec<f64>,
    /// Measurements: backtest the extrapolation (fit on N <= max/4, predict the rest).
    #[arg(long)]
    pub backtest: bool,
    /// With --results: at the largest measured N and this width, does doubling N or doubling
    /// the network's parameters gain more? (the joint law in N and P; docs/capacity.md)
    #[arg(long, value_name = "W", allow_negative_numbers = true)]
    pub width: Option<f64>,
    /// With --results: as --width, the cell given by its parameter count P.
    #[arg(long, value_name = "P", allow_negative_numbers = true)]
    #[arg(conflicts_with = "width")]
    pub params: Option<f64>,
    /// With --results: a `plateau spectrum --out DIR` folder of the same data (real-image
    /// denoising): say where the measured curve stands against its best linear map and learned
    /// linear maps [default: RESULTS/spectrum when it holds a predictions.csv].
    #[arg(long, value_name = "DIR", requires = "results")]
    pub linear_theory: Option<PathBuf>,
    /// The joint law in N and P of a table (with --input and --p).
    #[command(flatten)]
    pub joint: JointArgs,
    /// With --p: the cell N,P at which to compare doubling N with doubling P [default: the
    /// largest P measured at the largest N].
    #[arg(long, value_name = "N,P", value_delimiter = ',', num_args = 1)]
    pub at_cell: Vec<f64>,
    /// With --p: budgets C on the product N x P (training compute up to a constant): the
    /// allocation (N, P) minimising the law for each.
    #[arg(
        long,
        value_name = "C[,C...]",
        value_delimiter = ',',
        allow_negative_numbers = true
    )]
    pub budget: Vec<f64>,
    /// The bootstrap of the intervals.
    #[command(flatten)]
    pub bootstrap: BootstrapArgs,
    /// What stdout gets.
    #[arg(long, value_enum, default_value = "json")]
    pub format: Format,
}

/// Runs `plateau plan`.
///
/// # Errors
/// Bad arguments or input (one line, printed by `main`).
pub fn run(args: &Args) -> Result<()> {
    crate::output::check_stdout()?;
    // clap waives `requires = "results"` where --results conflicts with a flag given (--d,
    // --input): refused here, with the message users know.
    if args.linear_theory.is_some() && args.results.is_none() {
        bail!("--linear-theory needs --results DIR (the sweep whose curves it is set against)");
    }
    if args.joint.p.is_some() {
        return joint(args);
    }
    if !(args.at_cell.is_empty() && args.budget.is_empty()) {
        bail!("--at-cell and --budget ask the joint law: give the table's parameter counts with --input FILE.csv --p COLUMN");
    }
    args.joint
        .refuse_unused("use them with --input FILE.csv --p COLUMN")?;
    if args.results.is_some() || args.input.is_some() {
        return measured(args);
    }
    let model = match (args.d, args.preset) {
        (Some(d), None) => TheoryModel::Subspace(plateau_theory::Setup::new(
            d,
            args.n.expect("clap requires --n with --d"),
            args.sigma.expect("clap requires --sigma with --d"),
        )?),
        (None, Some(p)) => TheoryModel::Gaussian(p, p.model()?),
        _ => bail!(
            "plan needs a model (--d, --n, --sigma, or --preset) or measurements (--results DIR \
             or --input FILE.csv)"
        ),
    };
    // --width and --params are for measurements: this refuses them here.
    cell_choice(args)?;
    if !(args.within_db.is_empty() && args.target_mse.is_empty() && args.target_psnr.is_empty()) {
        bail!(
            "--within-db, --target-mse and --target-psnr are for measurements; from theory use \
             --within"
        );
    }
    let within = if args.within.is_empty() {
        vec![0.1, 0.01]
    } else {
        args.within.clone()
    };
    // Hidden when stderr is not a terminal; a Gaussian preset takes seconds per estimator.
    let bar = crate::output::progress(model.learners().len() as u64, "estimators");
    let plans = plan_theory_with_progress(&model, &within, &args.at, &|| bar.inc(1))?;
    bar.finish_and_clear();
    let text: String = plans.iter().map(theory_text).collect();
    emit(args.format, &plans, &text)
}

fn emit<T: serde::Serialize>(format: Format, value: &T, text: &str) -> Result<()> {
    match format {
        Format::Json => {
            eprint!("{text}");
            let json = serde_json::to_string_pretty(value).context("cannot serialise the plan")?;
            write_stdout(format!("{json}\n").as_bytes())
        }
        Format::Text => write_stdout(text.as_bytes()),
    }
}

fn targets(args: &Args) -> Vec<Target> {
    crate::analysis::plan::targets_or_default(
        &args.within,
        &args.within_db,
        &args.target_mse,
        &args.target_psnr,
    )
}

/// The curves of a sweep's results store.
///
/// # Errors
/// No store, or no finished run in it.
fn store_groups(dir: &Path) -> Result<Vec<GroupSummary>> {
    let store = Store::new(dir);
    if !store.path().exists() {
        bail!("no {} (run plateau sweep first)", store.path().display());
    }
    let records: Vec<_> = store.load()?.records.into_values().collect();
    let groups = analyse(&records)?;
    if groups.is_empty() {
        bail!(
            "no finished run with status ok and a test_mse in {}",
            store.path().display()
        );
    }
    Ok(groups)
}

/// The curves of a sweep's results store: each curve's best width per `N`, with its exact
/// floor when known.
///
/// # Errors
/// As [`store_groups`], and a [`crate::analysis::plan::FloorContradiction`] (exit 1) when
/// measured points lie below a curve's exact floor by more than 3 standard errors.
fn store_curves(dir: &Path) -> Result<Vec<(String, Curve, Option<KnownFloor>)>> {
    store_groups(dir)?
        .into_iter()
        .map(|g| {
            check_group_floor(&g)?;
            let xs: Vec<f64> = g.best.iter().map(|b| b.n).collect();
            let ys: Vec<f64> = g.best.iter().map(|b| b.test_mse).collect();
            let floor = known_floor(&g);
            Ok((g.label, Curve::new(&xs, &ys)?, floor))
        })
        .collect()
}

/// The curves to plan: `(group, curve, exact floor)`.
fn curves(args: &Args) -> Result<Vec<(String, Curve, Option<KnownFloor>)>> {
    if let Some(dir) = &args.results {
        return store_curves(dir);
    }
    let input = args
        .input
        .as_ref()
        .expect("measured() is called with an input");
    let floor = input_floor(args)?;
    let curves = args.columns.read(input)?;
    curves
        .groups
        .into_iter()
        .map(|g| {
            if let Some(f) = floor {
                let none = vec![None; g.curve.len()];
                check_floor(&g.name, &g.curve.xs, &g.curve.ys, &none, f)?;
            }
            Ok((g.name, g.curve, floor))
        })
        .collect()
}

/// The known floor of `--exact-floor` and `--floor-se`, checked.
///
/// # Errors
/// A floor that is not positive and finite, or a standard error that is negative or not
/// finite.
fn input_floor(args: &Args) -> Result<Option<KnownFloor>> {
    let Some(mse) = args.exact_floor else {
        return Ok(None);
    };
    if !(mse.is_finite() && mse > 0.0) {
        bail!("--exact-floor {mse:e} must be positive and finite");
    }
    let se = args.floor_se.unwrap_or(0.0);
    if !(se.is_finite() && se >= 0.0) {
        bail!("--floor-se {se:e} must be finite and not negative");
    }
    Ok(Some(KnownFloor { mse, se }))
}

/// Refuses a target the user asked for that a curve already meets at every measured `N` (one
/// rule for absolute and relative targets, [`Reach::AlreadyMet`]); the default targets are
/// reported as met instead.
fn refuse_met_targets(plans: &[MeasuredPlan], asked: bool) -> Result<()> {
    if !asked {
        return Ok(());
    }
    for p in plans {
        if let Some(t) = p.targets.iter().find(|t| t.reachable == Reach::AlreadyMet) {
            bail!(
                "group '{}': the target ({}, MSE {:.4e}) is already met at every measured N \
                 (the error measured at N = {} is {:.4e})",
                p.group,
                t.target,
                t.mse.value,
                fmt_n(p.largest_n),
                p.measured_at_largest_n
            );
        }
    }
    Ok(())
}

fn measured(args: &Args) -> Result<()> {
    let opts = measured_options(args)?;
    let cell = cell_choice(args)?;
    let mut plans: Vec<MeasuredPlan> = curves(args)?
        .iter()
        .map(|(g, c, floor)| plan_curve_floored(g, c, *floor, &opts))
        .collect::<Result<_>>()?;
    let asked = !(args.within.is_empty()
        && args.within_db.is_empty()
        && args.target_mse.is_empty()
        && args.target_psnr.is_empty());
    refuse_met_targets(&plans, asked)?;
    if let Some(dir) = &args.results {
        // store_curves keeps the store's groups in order, so they pair with the plans.
        let groups = store_groups(dir)?;
        add_store_answers(&mut plans, &groups, dir, args, cell, &opts)?;
    }
    let text: String = plans.iter().map(summary_text).collect();
    emit(args.format, &plans, &text)
}

/// The settings of a plan from measurements, checked: `--peak`, `--at` and the targets.
///
/// # Errors
/// A value out of its range (one line naming the flag).
fn measured_options(args: &Args) -> Result<PlanOptions> {
    if !(args.peak.is_finite() && args.peak > 0.0) {
        bail!(
            "--peak {} must be positive and finite",
            crate::text::number(args.peak)
        );
    }
    if let Some(n) = args.at.iter().find(|n| !(n.is_finite() && **n > 0.0)) {
        bail!(
            "--at {} must be a positive training-set size",
            crate::text::number(*n)
        );
    }
    let opts = PlanOptions {
        targets: targets(args),
        at: args.at.clone(),
        peak: args.peak,
        bootstrap: args.bootstrap.options()?,
        backtest: args.backtest,
    };
    for t in &opts.targets {
        t.validate()?;
    }
    Ok(opts)
}

/// What a results store adds to each curve's plan (`groups`, in the plans' order): the name of
/// a floor that is only a lower bound, the standing against the linear theory, and, with
/// `cell`, the doubling answer of the joint law.
fn add_store_answers(
    plans: &mut [MeasuredPlan],
    groups: &[GroupSummary],
    dir: &Path,
    args: &Args,
    cell: Option<CellChoice>,
    opts: &PlanOptions,
) -> Result<()> {
    // A floor the network lacks the information for is named a lower bound, never a floor.
    for (plan, g) in plans.iter_mut().zip(groups) {
        if let (Some(exact), Some(floor)) = (&mut plan.exact, &g.floor) {
            let label = &floor.floor_label;
            exact.exact_floor_label =
                (label == plateau_run::problem::LOWER_BOUND_LABEL).then(|| label.clone());
        }
    }
    add_linear_theory(plans, groups, dir, args.linear_theory.as_deref())?;
    let Some(cell) = cell else {
        return Ok(());
    };
    for (plan, g) in plans.iter_mut().zip(groups) {
        match doubling_plan(g, cell, &opts.bootstrap) {
            Ok(d) => plan.doubling_gain_db = Some(d),
            Err(e) => eprintln!(
                "plateau: warning: {}: no doubling answer: {e:#} (the N-only plan is \
                 unaffected)",
                g.label
            ),
        }
    }
    Ok(())
}

/// Sets each plan's standing against the linear theory of the spectrum run `explicit` (else
/// `results/spectrum` when present); `groups` pair with `plans` in order.
///
/// # Errors
/// An unreadable spectrum run, or one named in `explicit` that matches no curve.
fn add_linear_theory(
    plans: &mut [MeasuredPlan],
    groups: &[GroupSummary],
    results: &Path,
    explicit: Option<&Path>,
) -> Result<()> {
    let Some(spectrum) = spectrum_theory::find(results, explicit)? else {
        return Ok(());
    };
    if explicit.is_some() {
        spectrum_theory::check_used(&spectrum, groups)?;
    }
    for (plan, g) in plans.iter_mut().zip(groups) {
        plan.linear_theory = spectrum_theory::standing(g, &spectrum);
    }
    Ok(())
}

/// The cell of `--width` or `--params`, checked.
///
/// # Errors
/// A value that is not positive, or either flag without `--results`.
fn cell_choice(args: &Args) -> Result<Option<CellChoice>> {
    let (flag, cell) = match (args.width, args.params) {
        (Some(w), _) => ("--width", CellChoice::Width(w)),
        (None, Some(p)) => ("--params", CellChoice::Params(p)),
        (None, None) => return Ok(None),
    };
    let (CellChoice::Width(v) | CellChoice::Params(v)) = cell;
    anyhow::ensure!(
        v.is_finite() && v > 0.0,
        "{flag} {v} must be positive and finite"
    );
    if args.results.is_none() {
        bail!(
            "--width and --params need --results DIR (runs with their widths and parameter \
             counts)"
        );
    }
    Ok(Some(cell))
}

/// The plan of every curve of the store in `results` with the default targets (within 10% and
/// within 0.1 dB of the fitted floor), the error at `1e4, 1e5, 1e6`, the backtest and, with a
/// spectrum run in `results/spectrum`, the standing against the linear theory, written to
/// `stem.json` and `stem.txt` (what `plateau reproduce` writes per sweep). Curves with fewer
/// than 4 sizes are skipped with a warning.
///
/// # Errors
/// No store or no finished run, or an unwritable output.
pub fn plan_summary(results: &Path, stem: &Path) -> Result<()> {
    let opts = PlanOptions {
        targets: vec![Target::Within(0.1), Target::WithinDb(0.1)],
        at: vec![1e4, 1e5, 1e6],
        peak: 1.0,
        bootstrap: BootstrapOptions::default(),
        backtest: true,
    };
    let mut plans = Vec::new();
    let groups = store_groups(results)?;
    let spectrum = spectrum_theory::find(results, None)?;
    for ((g, c, floor), group) in store_curves(results)?.into_iter().zip(&groups) {
        match plan_curve_floored(&g, &c, floor, &opts) {
            Ok(mut p) => {
                p.linear_theory = spectrum
                    .as_ref()
                    .and_then(|s| spectrum_theory::standing(group, s));
                plans.push(p);
            }
            Err(e) => eprintln!("plateau: warning: no plan: {e:#}"),
        }
    }
    let text: String = plans.iter().map(summary_text).collect();
    let json = serde_json::to_string_pretty(&plans).context("cannot serialise the plan")?;
    let with = |ext: &str| {
        let mut s = stem.as_os_str().to_owned();
        s.push(ext);
        PathBuf::from(s)
    };
    write_atomic(&with(".json"), (json + "\n").as_bytes())?;
    write_atomic(&with(".txt"), text.as_bytes())?;
    eprint!("{text}");
    Ok(())
}

fn theory_text(p: &TheoryPlan) -> String {
    use std::fmt::Write as _;
    let mut s = format!("{} — {} (floor {:.4e})\n", p.model, p.group, p.floor);
    let n = |v: Option<f64>| v.map_or("beyond 1e6".into(), crate::analysis::estimate::fmt_n);
    for w in &p.within {
        let range = w.n_range.map_or(String::new(), |[lo, hi]| {
            format!(" ({} to {} for a 5% error in the excess)", n(lo), n(hi))
        });
        let _ = writeln!(
            s,
            "  within {}% of the floor from N = {} on [{}]{range}",
            w.within * 100.0,
            n(w.n),
            w.method
        );
    }
    if let Some(r) = &p.regime {
        let _ = writeln!(
            s,
            "  power law N^{:.2} on N in [{}, {}]; bend at {}",
            r.alpha,
            r.steep_range[0],
            r.steep_range[1],
            r.bend.map_or("-".into(), |b| format!("{b:.0}"))
        );
    }
    for (x, r) in &p.at {
        let _ = writeln!(
            s,
            "  at N = {}: risk {}",
            n(Some(*x)),
            r.map_or("infinite".into(), |r| format!(
                "{r:.4e} ({:.3} x floor)",
                r / p.floor
            ))
        );
    }
    s
}

/// The cell of `--at-cell`, checked.
///
/// # Errors
/// Not two positive finite numbers.
fn at_cell(args: &Args) -> Result<Option<(f64, f64)>> {
    match args.at_cell[..] {
        [] => Ok(None),
        [n, p] if [n, p].iter().all(|v| v.is_finite() && *v > 0.0) => Ok(Some((n, p))),
        _ => bail!(
            "--at-cell expects N,P: two positive numbers such as 1e5,1e7 (got {} value(s))",
            args.at_cell.len()
        ),
    }
}

/// `plateau plan --input FILE.csv --p P`: the joint law's answers for each group.
fn joint(args: &Args) -> Result<()> {
    let Some(input) = &args.input else {
        bail!("--p (the joint law) needs --input FILE.csv, a table with a column of P");
    };
    let one_axis = [
        (args.results.is_some(), "--results"),
        (
            args.width.is_some() || args.params.is_some(),
            "--width and --params",
        ),
        (args.exact_floor.is_some(), "--exact-floor"),
        (args.backtest, "--backtest"),
    ];
    if let Some((_, flag)) = one_axis.iter().find(|(given, _)| *given) {
        bail!("{flag} is for the plan in N alone; with --p use --at-cell and --budget");
    }
    let cell = at_cell(args)?;
    let opts = args.joint.options(args.bootstrap.options()?)?;
    let mut plans = Vec::new();
    for g in args.joint.read(&args.columns, input)? {
        let with_group = || format!("group '{}'", crate::text::quote(&g.name));
        let fit = fit_table(&g, &opts).with_context(with_group)?;
        let range = table_budget_range(&fit);
        for &c in &args.budget {
            check_budget(c, range).with_context(with_group)?;
        }
        plans.push(joint_plan(&fit, cell, &args.budget));
    }
    let text: String = plans.iter().map(joint_plan_text).collect();
    emit(args.format, &plans, &text)
}
