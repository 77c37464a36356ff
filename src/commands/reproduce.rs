//! `plateau reproduce`: the main job. Computes the theory results of the paper's eight setups
//! and draws the figures; then runs the U-Net scaling sweeps of `--preset` (`cpu`: the six
//! configs of `CPU_SWEEPS` into `results/sweeps/<name>`, resumable; `capacity`: the width
//! sweep `capacity_cpu.toml`, opt-in) and draws their scaling figures
//! `figures/scaling_<tag>{,_excess,_psnr}.{png,svg}` (real-data denoising sweeps first get a
//! `plateau spectrum` run in `<results>/spectrum`, whose linear theory the figures and plans
//! show, [`crate::commands::spectrum_run`]) and, with two or more widths, the capacity
//! figures `figures/capacity_<tag>{,_surface}.{png,svg}` (see `plateau scaling`) and a
//! `plateau plan` summary `figures/plan_<name>.{json,txt}` each; `capacity` adds
//! `figures/capacity_<name>.txt`, the joint law's summary (does the optimal width grow with N?).
//!
//! Writes `results/theory_<setup>.csv` (the `plateau theory` CSV of each setup, 5 draws),
//! `figures/risk_vs_n_<setup>.{png,svg}`, `figures/gd_path_<setup>.{png,svg}` and
//! `figures/summary.md`. A results file that already exists for the same setup, sizes, draws and
//! seed is reused, so an interrupted run resumes where it stopped.
//!
//! Every setup runs its whole grid, `n = 10000` included: the structured engine (`--engine auto`
//! of `plateau theory`) draws each spectrum without a `10000 x 10000` eigendecomposition (see
//! README for the measured time).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use faer::Par;
use plateau_theory::montecarlo::{MonteCarlo, Summary};
use plateau_theory::sample::TrainingSet;
use plateau_theory::{Estimator, Setup, StepSize};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::analysis::capacity::capacity_text;
use crate::commands::theory::{parse_csv, to_csv};
use crate::figures::theory::{risk_vs_iteration, risk_vs_n, AnalyticCurve, PowerLawLine};
use crate::fit::{fit_power, regime::detect_regime};
use crate::output::{write_atomic, Progress};

/// Which parts to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Part {
    /// The linear-estimator theory of the paper's Section 5.
    Theory,
    /// The U-Net scaling sweep(s) of `--preset` and their scaling figures.
    Sweep,
}

/// The sweeps of `--preset cpu`, each sized for a 2-core CPU: gaussian-field denoising, the
/// photographs at sigma = 25/255, the paper's subspace model as pictures, MRI 4x (per-example
/// random masks, and one fixed mask with its learned-linear theory) and SR x2 on the gaussian
/// field (exact floors).
const CPU_SWEEPS: [&str; 6] = [
    "denoise_cpu.toml",
    "photos_denoise.toml",
    "subspace_cpu.toml",
    "mri_field_cpu.toml",
    "mri_field_fixed_cpu.toml",
    "sr_field_cpu.toml",
];

/// Which sweeps the `sweep` part runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Preset {
    /// `CPU_SWEEPS`: six small sweeps sized for a 2-core CPU.
    Cpu,
    /// `experiments/denoise_paper.toml` and `experiments/mri_paper.toml`: the paper's grids
    /// (GPU, ImageNet and fastMRI; days of compute).
    Paper,
    /// `experiments/capacity_cpu.toml`: widths 4 to 64 by N 16 to 4096, two seeds, on the
    /// gaussian field and the photographs, for the joint law in data and width; writes
    /// `figures/capacity_<name>.txt` (about 7 minutes on an idle 2-core machine, see README).
    Capacity,
}

/// Arguments of `plateau reproduce`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Run only this part [default: all parts].
    #[arg(long, value_enum)]
    pub only: Option<Part>,
    /// Draws per training-set size.
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
    /// Seed of the draws.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Folder for figures.
    #[arg(long, default_value = "figures")]
    pub figures: PathBuf,
    /// Folder for result tables.
    #[arg(long, default_value = "results")]
    pub results: PathBuf,
    /// Sweeps of the `sweep` part (results under `<results>/sweeps/<name>`, resumable).
    #[arg(long, value_enum, default_value = "cpu")]
    pub preset: Preset,
    /// Sweep cells trained at once, each on one thread [default: the machine's cores]. Results
    /// do not depend on it: every cell trains single-threaded in its own process.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,
    /// No progress on standard error (by default a bar on a terminal, else a line every 10 s).
    #[arg(long)]
    pub quiet: bool,
}

/// Training-set sizes shown in the iteration figure.
const PATH_SIZES: [usize; 4] = [10, 30, 100, 1000];

/// Runs the job.
pub fn run(args: &Args) -> Result<()> {
    anyhow::ensure!(args.runs >= 1, "--runs must be at least 1");
    crate::output::check_folder(&args.figures)?;
    crate::output::check_folder(&args.results)?;
    match args.only {
        None => theory(args).and_then(|()| sweeps(args)),
        Some(Part::Theory) => theory(args),
        Some(Part::Sweep) => sweeps(args),
    }
}

/// `experiments/<name>` from the working folder, else from the source tree.
fn experiments_file(name: &str) -> PathBuf {
    let here = Path::new("experiments").join(name);
    if here.exists() {
        here
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("experiments")
            .join(name)
    }
}

/// Runs the preset's sweeps locally (finished cells are skipped, interrupted ones resumed) and
/// draws their scaling figures into `figures/`.
fn sweeps(args: &Args) -> Result<()> {
    let configs: &[&str] = match args.preset {
        Preset::Cpu => &CPU_SWEEPS,
        Preset::Paper => &["denoise_paper.toml", "mri_paper.toml"],
        Preset::Capacity => &["capacity_cpu.toml"],
    };
    let jobs = args.jobs.map_or_else(
        || std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get),
        usize::from,
    );
    for name in configs {
        let path = experiments_file(name);
        let cfg = crate::sweep::SweepConfig::load(&path)?;
        let results = args.results.join("sweeps").join(&cfg.name);
        let s = crate::commands::sweep::run_local(&path, &results, jobs)?;
        if s.failed > 0 {
            // The figure is still drawn from the cells that finished; a rerun retries the rest.
            eprintln!(
                "plateau: warning: {} of {} cells of {} failed (see {})",
                s.failed,
                s.cells,
                cfg.name,
                results.join("results.jsonl").display()
            );
        }
        // Real-data denoising: the linear theory of the data's own spectrum beside the network.
        if let Err(e) = crate::commands::spectrum_run::ensure(&cfg, &results) {
            eprintln!(
                "plateau: warning: {e:#}: the figures of {} lack it",
                cfg.name
            );
        }
        let reports = crate::commands::scaling::scaling_with(&results, &args.figures, false, None)?;
        if args.preset == Preset::Capacity {
            let text: String = reports
                .iter()
                .map(|r| format!("{}\n{}", r.summary.label, capacity_text(&r.capacity)))
                .collect();
            let path = args.figures.join(format!("capacity_{}.txt", cfg.name));
            write_atomic(&path, text.as_bytes())?;
            eprintln!("plateau: wrote {}", path.display());
        }
        crate::commands::plan::plan_summary(
            &results,
            &args.figures.join(format!("plan_{}", cfg.name)),
        )?;
    }
    Ok(())
}

/// One setup's planned Monte Carlo.
struct Plan {
    setup: Setup,
    sizes: Vec<usize>,
    csv: PathBuf,
}

fn tag(setup: &Setup) -> String {
    format!("d{}_n{}_sigma{}", setup.d(), setup.n(), setup.sigma())
}

fn plans(args: &Args) -> Vec<Plan> {
    Setup::paper_setups()
        .into_iter()
        .map(|setup| {
            let sizes = setup.default_train_sizes();
            let max = sizes.last().copied().unwrap_or(0);
            let csv = args.results.join(format!(
                "theory_{}_runs{}_seed{}_max{max}.csv",
                tag(&setup),
                args.runs,
                args.seed
            ));
            Plan { setup, sizes, csv }
        })
        .collect()
}

/// Reads a finished results file when it covers exactly this plan.
fn cached(plan: &Plan, runs: usize) -> Option<Vec<Summary>> {
    let rows = parse_csv(&std::fs::read_to_string(&plan.csv).ok()?).ok()?;
    let complete = rows.len() == plan.sizes.len() * Estimator::ALL.len()
        && rows
            .iter()
            .all(|r| r.runs == runs && plan.sizes.contains(&r.n_train));
    complete.then_some(rows)
}

fn theory(args: &Args) -> Result<()> {
    let plans = plans(args);
    let todo: Vec<(&Plan, Option<Vec<Summary>>)> =
        plans.iter().map(|p| (p, cached(p, args.runs))).collect();
    let draws: usize = todo
        .iter()
        .filter(|(_, c)| c.is_none())
        .map(|(p, _)| p.sizes.len() * args.runs)
        .sum();
    let bar = Progress::new(draws as u64, "theory draws", args.quiet);
    let mut summary = SummaryTable::default();
    for (plan, cache) in todo {
        let rows = match cache {
            Some(rows) => rows,
            None => {
                let rows = MonteCarlo::new(plan.setup, plan.sizes.clone(), args.runs, args.seed)
                    .run(|| bar.inc(1))?;
                write_atomic(&plan.csv, to_csv(&plan.setup, &rows).as_bytes())?;
                rows
            }
        };
        let fits = fit_lines(&rows);
        summary.add(&plan.setup, &rows, &fits);
        risk_vs_n(
            &plan.setup,
            &rows,
            &analytic_curves(&plan.setup)?,
            &fits.iter().map(|f| f.line.clone()).collect::<Vec<_>>(),
        )
        .render(&args.figures.join(format!("risk_vs_n_{}", tag(&plan.setup))))?;
    }
    bar.finish();
    iteration_figure(&args.figures, args.seed)?;
    write_atomic(
        &args.figures.join("summary.md"),
        summary.markdown().as_bytes(),
    )?;
    eprintln!(
        "plateau: wrote {} and {}",
        args.figures.display(),
        args.results.display()
    );
    Ok(())
}

/// Points of the analytic curves: 96 log-spaced sizes from 1 to 16384.
const ANALYTIC_POINTS: usize = 96;

/// Sizes added on each side of least squares' pole at `N = n`.
const POLE_OFFSETS: [usize; 5] = [2, 3, 5, 10, 20];

/// Deterministic-equivalent predictions of the expected risk of PCA, least squares and
/// early-stopped gradient descent on a fine grid of `N`, with `N = n +- POLE_OFFSETS` added so
/// that least squares' curve climbs towards its pole (infinite values, least squares at
/// `N = n +- 1` and `n`, are left out; the figure breaks the line there).
fn analytic_curves(setup: &Setup) -> Result<Vec<AnalyticCurve>> {
    let n = setup.n();
    let near_pole = POLE_OFFSETS
        .iter()
        .flat_map(|&k| [n.saturating_sub(k).max(1), n + k]);
    let mut sizes: Vec<usize> = (0..ANALYTIC_POINTS)
        .map(|i| (16384f64.powf(i as f64 / (ANALYTIC_POINTS - 1) as f64)).round() as usize)
        .chain(near_pole)
        .collect();
    sizes.sort_unstable();
    sizes.dedup();
    let points = plateau_theory::analytic::curve(setup, &sizes, StepSize::Paper)?;
    Ok([
        Estimator::Pca,
        Estimator::LeastSquares,
        Estimator::GdEarlyStopped,
    ]
    .into_iter()
    .map(|e| {
        let line = points
            .iter()
            .filter(|p| p.estimator == e)
            .filter_map(|p| p.prediction.risk.map(|r| (p.n_train as f64, r)))
            .collect();
        (e, line)
    })
    .collect())
}

/// A power law fitted on the automatically detected steep range of one estimator's curve.
struct FittedLaw {
    line: PowerLawLine,
    bend: Option<f64>,
}

/// Fits the paper's power laws: PCA and early-stopped gradient descent, each on its steep range.
fn fit_lines(rows: &[Summary]) -> Vec<FittedLaw> {
    [Estimator::Pca, Estimator::GdEarlyStopped]
        .into_iter()
        .filter_map(|e| {
            let (xs, ys): (Vec<f64>, Vec<f64>) = rows
                .iter()
                .filter(|r| r.estimator == e && r.mean > 0.0)
                .map(|r| (r.n_train as f64, r.mean))
                .unzip();
            let regime = detect_regime(&xs, &ys).ok()?;
            let [lo, hi] = regime.steep_range;
            let (fx, fy): (Vec<f64>, Vec<f64>) = xs
                .iter()
                .zip(&ys)
                .filter(|(x, _)| (lo..=hi).contains(*x))
                .map(|(x, y)| (*x, *y))
                .unzip();
            let fit = fit_power(&fx, &fy).ok()?;
            Some(FittedLaw {
                line: PowerLawLine {
                    estimator: e,
                    beta: fit.beta,
                    alpha: fit.alpha,
                    range: [lo, hi],
                },
                bend: regime.bend,
            })
        })
        .collect()
}

/// Risk of every iterate for a few `N`, on the setup `(10, 100, 0.1)`.
fn iteration_figure(figures: &Path, seed: u64) -> Result<()> {
    let setup = Setup::new(10, 100, 0.1)?;
    let paths = PATH_SIZES
        .iter()
        .map(|&n_train| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let data = TrainingSet::draw(&setup, n_train, &mut rng)?;
            let eta = StepSize::Paper.eta(&setup, n_train);
            Ok((
                n_train,
                data.spectrum(Par::rayon(0))
                    .gd_risk_path(eta, 5000, Par::rayon(0)),
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    risk_vs_iteration(&setup, &paths)
        .render(&figures.join(format!("gd_path_{}", tag(&setup))))
        .context("drawing the iteration figure")
}

/// `figures/summary.md`: fitted exponents, bends and floors.
#[derive(Default)]
struct SummaryTable {
    rows: Vec<String>,
}

impl SummaryTable {
    fn add(&mut self, setup: &Setup, rows: &[Summary], fits: &[FittedLaw]) {
        let largest = rows.iter().map(|r| r.n_train).max().unwrap_or(0);
        for e in [Estimator::Pca, Estimator::GdEarlyStopped] {
            let at_largest = rows
                .iter()
                .find(|r| r.estimator == e && r.n_train == largest)
                .map_or(f64::NAN, |r| r.mean);
            let fit = fits.iter().find(|f| f.line.estimator == e);
            let cell = |v: Option<String>| v.unwrap_or_else(|| "–".into());
            self.rows.push(format!(
                "| {} | {} | {} | {} | {} | {} | {} | {:.5} | {:.5} |",
                setup.d(),
                setup.n(),
                setup.sigma(),
                e,
                cell(fit.map(|f| format!("[{}, {}]", f.line.range[0], f.line.range[1]))),
                cell(fit.map(|f| format!("{:.3}", f.line.alpha))),
                cell(fit.and_then(|f| f.bend).map(|b| format!("{b:.0}"))),
                setup.floor(),
                at_largest
            ));
        }
    }

    fn markdown(&self) -> String {
        let mut s = String::from(
            "# Fitted scaling laws (theory)\n\n\
             Power law `R = beta N^alpha` fitted by least squares in log-log space on the steep range \
             that `plateau fit` detects automatically (segmented regression, BIC). `R(N_max)` is the \
             Monte Carlo mean at the largest N computed.\n\n\
             `bend` is where the steep power law meets the flatter last segment.\n\n\
             | d | n | sigma | estimator | steep range of N | alpha | bend (N) | floor | R(N_max) |\n\
             |---|---|---|---|---|---|---|---|---|\n",
        );
        for r in &self.rows {
            let _ = writeln!(s, "{r}");
        }
        s
    }
}
