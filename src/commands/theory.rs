//! `plateau theory`: Monte Carlo risk of learned linear estimators over training-set sizes.
//!
//! Writes CSV with the header `d,n,sigma,N,estimator,mean,std,runs,k_opt_mean`, one row per
//! `(N, estimator)`; `std` is the sample standard deviation over `runs` draws (empty for one
//! draw) and `k_opt_mean` the mean early-stopping iteration (gradient descent only).

use anyhow::Result;
use plateau_theory::montecarlo::{MonteCarlo, Summary};
use plateau_theory::{Estimator, Setup, StepSize};

use crate::commands::{CommonArgs, ModelArgs};
use crate::output::{emit, Progress};

/// The CSV header written by `plateau theory`.
pub const HEADER: &str = "d,n,sigma,N,estimator,mean,std,runs,k_opt_mean";

/// Arguments of `plateau theory`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The model (d, n, sigma).
    #[command(flatten)]
    pub model: ModelArgs,
    /// Training-set sizes, comma separated [default: the paper's grid for d in {10, 50, 100},
    /// else 1, 2, 4, ..., 16384].
    #[arg(long, value_delimiter = ',')]
    pub train_sizes: Option<Vec<usize>>,
    /// Independent draws per training-set size.
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
    /// Seed of the random draws.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Estimators, comma separated: optimal, pca, least_squares, gd_early_stopped.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "optimal,pca,least_squares,gd_early_stopped"
    )]
    pub estimators: Vec<Estimator>,
    /// Report for least squares the risk averaged over the label noise given each draw's
    /// spectrum (Rao-Blackwellised: the same expected risk, a smaller standard error; `std` is
    /// then the spread of that conditional mean, not of one trained estimator's risk).
    #[arg(long)]
    pub noise_averaged: bool,
    /// Gradient descent, engine, analytic alternative, output, progress.
    #[command(flatten)]
    pub common: CommonArgs,
}

/// The stderr line that says which least-squares estimator a run's rows hold.
fn estimator_line(noise_averaged: bool) -> &'static str {
    if noise_averaged {
        "plateau: least_squares rows are noise-averaged (Rao-Blackwellised: E[R | spectrum] per \
         draw, same mean, std of that conditional mean); the other estimators are plain"
    } else {
        "plateau: every row is the plain Monte Carlo of each draw's own risk"
    }
}

/// Runs the Monte Carlo experiment (or the analytic prediction) and writes the CSV.
pub fn run(args: &Args) -> Result<()> {
    let setup = args.model.setup()?;
    // Before the work: an output that cannot be written is found now, not after hours.
    crate::output::check_emit(args.common.out.as_deref())?;
    let sizes = args
        .train_sizes
        .clone()
        .unwrap_or_else(|| setup.default_train_sizes());
    let step = args.common.step.map_or(StepSize::Paper, StepSize::Fixed);
    if args.common.analytic {
        anyhow::ensure!(
            !args.noise_averaged,
            "--noise-averaged is a Monte Carlo estimator; it does not apply with --analytic"
        );
        return analytic(args, &setup, &sizes, step);
    }
    anyhow::ensure!(
        !args.noise_averaged || args.estimators.contains(&Estimator::LeastSquares),
        "--noise-averaged applies to least_squares only, which is not among --estimators"
    );
    let mc = MonteCarlo::new(setup, sizes.clone(), args.runs, args.seed)
        .estimators(args.estimators.clone())
        .step(step)
        .iters(args.common.iters)
        .engine(args.common.engine)
        .noise_averaged(args.noise_averaged);
    mc.validate()?;
    if !args.common.quiet {
        let [low, high] = mc.estimated_cpu_seconds().map(human_seconds);
        let (estimate, range) = if low == high {
            (low, "")
        } else {
            (
                format!("{low} to {high}"),
                "; the range is the early-stopping search's",
            )
        };
        eprintln!(
            "plateau: {} draws, an estimated {estimate} of CPU time (cost model, within a factor \
             of about 2{range})",
            sizes.len() * args.runs,
        );
    }
    // Printed even with --quiet when averaging: the CSV alone cannot tell the two apart.
    if args.noise_averaged || !args.common.quiet {
        eprintln!("{}", estimator_line(args.noise_averaged));
    }
    let bar = Progress::new((sizes.len() * args.runs) as u64, "draws", args.common.quiet);
    let rows = mc.run(|| bar.inc(1))?;
    bar.finish();
    if let Some(r) = rows.iter().find(|r| !r.mean.is_finite()) {
        anyhow::bail!(
            "the risk of {} at N = {} is not finite (gradient descent diverges or overflows{})",
            r.estimator,
            r.n_train,
            args.common.step.map_or("", |_| "; use a smaller --step"),
        );
    }
    emit(args.common.out.as_deref(), &to_csv(&setup, &rows))
}

/// A duration for people: `under 0.1 s`, `0.4 s`, `12 s`, `3.5 min`, `2.1 h`, `4.0 days`.
fn human_seconds(s: f64) -> String {
    match s {
        s if s < 0.05 => "under 0.1 s".into(),
        s if s < 10.0 => format!("{s:.1} s"),
        s if s < 120.0 => format!("{s:.0} s"),
        s if s < 7200.0 => format!("{:.1} min", s / 60.0),
        s if s < 172_800.0 => format!("{:.1} h", s / 3600.0),
        s => format!("{:.1} days", s / 86_400.0),
    }
}

/// `--analytic`: the deterministic-equivalent predictions in the same CSV layout.
fn analytic(args: &Args, setup: &Setup, sizes: &[usize], step: StepSize) -> Result<()> {
    anyhow::ensure!(
        !sizes.is_empty(),
        "at least one training-set size is needed"
    );
    anyhow::ensure!(
        !sizes.contains(&0),
        "training-set size N must be at least 1"
    );
    if let Some(n) = plateau_theory::montecarlo::first_duplicate(sizes) {
        anyhow::bail!("training-set size N = {n} is listed twice");
    }
    anyhow::ensure!(
        !args.estimators.is_empty(),
        "at least one estimator is needed"
    );
    let points = plateau_theory::analytic::curve_iters(setup, sizes, step, args.common.iters)?;
    if let Some(p) = points
        .iter()
        .find(|p| p.prediction.risk.is_some_and(|r| !r.is_finite()))
    {
        anyhow::bail!(
            "the predicted risk of {} at N = {} is not finite (numerical overflow{})",
            p.estimator,
            p.n_train,
            args.common
                .step
                .map_or("", |_| "; a smaller --step may help"),
        );
    }
    let rows = points
        .iter()
        .filter(|p| args.estimators.contains(&p.estimator))
        .map(|p| Row {
            d: setup.d(),
            n: setup.n(),
            sigma: setup.sigma(),
            n_train: p.n_train,
            estimator: p.estimator.to_string(),
            mean: p.prediction.risk.unwrap_or(f64::INFINITY),
            std: None,
            runs: 0,
            k_opt_mean: p.prediction.k_opt,
        });
    emit(args.common.out.as_deref(), &write_rows(rows))
}

/// One row of the `plateau theory` CSV ([`HEADER`]).
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Row {
    d: usize,
    n: usize,
    sigma: f64,
    #[serde(rename = "N")]
    n_train: usize,
    estimator: String,
    /// `inf` where the expectation is infinite.
    mean: f64,
    std: Option<f64>,
    runs: usize,
    k_opt_mean: Option<f64>,
}

fn write_rows(rows: impl Iterator<Item = Row>) -> String {
    // The header is written by hand so that it is there even when there is no row.
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    w.write_record(HEADER.split(','))
        .expect("writing to memory cannot fail");
    for r in rows {
        w.serialize(r).expect("writing to memory cannot fail");
    }
    String::from_utf8(w.into_inner().expect("writing to memory cannot fail"))
        .expect("the CSV is UTF-8")
}

/// Renders summaries as the `plateau theory` CSV.
pub fn to_csv(setup: &Setup, rows: &[Summary]) -> String {
    write_rows(rows.iter().map(|r| Row {
        d: setup.d(),
        n: setup.n(),
        sigma: setup.sigma(),
        n_train: r.n_train,
        estimator: r.estimator.to_string(),
        mean: r.mean,
        std: r.std,
        runs: r.runs,
        k_opt_mean: r.k_opt_mean,
    }))
}

/// Parses a CSV written by [`to_csv`] back into summaries (used to resume `plateau reproduce`).
///
/// # Errors
/// When the header differs or a row does not parse.
pub fn parse_csv(text: &str) -> Result<Vec<Summary>> {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<&str> = r.headers()?.iter().collect();
    anyhow::ensure!(header.join(",") == HEADER, "unexpected CSV header");
    r.deserialize::<Row>()
        .map(|row| {
            let row = row?;
            Ok(Summary {
                n_train: row.n_train,
                estimator: row.estimator.parse()?,
                mean: row.mean,
                std: row.std,
                stderr: row.std.map(|s| s / (row.runs as f64).sqrt()),
                runs: row.runs,
                k_opt_mean: row.k_opt_mean,
            })
        })
        .collect()
}
