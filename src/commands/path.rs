//! `plateau path`: the exact risk of every gradient-descent iterate on one drawn training set.
//!
//! Writes CSV `k,risk` for `k = 0..=iters`. `--method spectral` (default) draws the training
//! set's spectrum directly and decomposes it with `--engine` (all engines see the same draw for
//! a seed); `--method explicit` draws the matrices `U, C, Y` and decomposes `Y`;
//! `--method iterate` runs the update `W_{k+1} = W_k - eta (W_k Y Y^T - X Y^T)` explicitly on
//! the same matrices (`O(iters n^3)`, the slow reference). `explicit` and `iterate` see the same
//! training set for a seed; `spectral` sees another draw of the same law.

use anyhow::{bail, Result};
use faer::Par;
use plateau_theory::engine::{Engine, SpectralDraw};
use plateau_theory::exact::gd_risk_path_iterate;
use plateau_theory::sample::TrainingSet;
use plateau_theory::{Setup, StepSize};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::commands::{CommonArgs, ModelArgs};
use crate::output::{emit, Progress};

/// How the path is computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Method {
    /// The spectrum drawn directly (`--engine`), every iterate by spectral calculus.
    Spectral,
    /// Explicit matrices `U, C, Y`, one eigendecomposition, every iterate by spectral calculus.
    Explicit,
    /// Explicit matrices and the explicit gradient-descent iteration.
    Iterate,
}

/// Arguments of `plateau path`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The model (d, n, sigma).
    #[command(flatten)]
    pub model: ModelArgs,
    /// Number of training examples N (>= 1).
    #[arg(long)]
    pub train_size: usize,
    /// Seed of the drawn training set.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Computation method.
    #[arg(long, value_enum, default_value_t = Method::Spectral)]
    pub method: Method,
    /// Gradient descent, engine, analytic alternative, output, progress.
    #[command(flatten)]
    pub common: CommonArgs,
}

/// Draws the training set and writes the path.
pub fn run(args: &Args) -> Result<()> {
    let setup = args.model.setup()?;
    crate::output::check_emit(args.common.out.as_deref())?;
    if args.train_size == 0 {
        anyhow::bail!("--train-size must be at least 1");
    }
    let step = args.common.step.map_or(StepSize::Paper, StepSize::Fixed);
    step.validate()?;
    plateau_theory::montecarlo::check_iters(args.common.iters)?;
    check_memory(path_bytes(args.common.iters) as f64, "the path")?;
    let eta = step.eta(&setup, args.train_size);
    let path = if args.common.analytic {
        let eq = plateau_theory::analytic::SpectralEquivalent::new(&setup, args.train_size)?;
        // Y Y^T = N (Y Y^T / N): the top of the limiting spectrum, times N.
        let top = eq.support().iter().map(|s| s.1).fold(0.0, f64::max);
        converges(
            eta,
            top * args.train_size as f64,
            "the limiting spectrum's edge",
        )?;
        eq.gd_path(eta, args.common.iters)
    } else {
        drawn_path(args, &setup, step)?
    };
    if let Some(k) = path.iter().position(|r| !r.is_finite()) {
        bail!(
            "the risk is not finite from iteration {k} (numerical overflow); use a smaller --step"
        );
    }
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["k", "risk"])?;
    for (k, r) in path.iter().enumerate() {
        w.serialize((k, r))?;
    }
    emit(
        args.common.out.as_deref(),
        &String::from_utf8(w.into_inner()?)?,
    )
}

/// The exact path on the training set drawn from `--seed`.
fn drawn_path(args: &Args, setup: &Setup, step: StepSize) -> Result<Vec<f64>> {
    let eta = step.eta(setup, args.train_size);
    let mut rng = ChaCha8Rng::seed_from_u64(args.seed);
    if args.method == Method::Spectral {
        let engine = args.common.engine.resolve(setup, args.train_size);
        check_memory(
            engine.memory_bytes(setup, args.train_size) as f64,
            &format!("the {engine} engine"),
        )?;
        let draw = SpectralDraw::draw(setup, args.train_size, &mut rng)?;
        let spectrum = match engine {
            Engine::Dense => draw.dense(Par::rayon(0)),
            _ => draw.structured(Par::rayon(0)),
        };
        let top = spectrum.eigenvalues().first().copied().unwrap_or(0.0);
        converges(eta, top, "this training set")?;
        return Ok(spectrum.gd_risk_path(eta, args.common.iters, Par::rayon(0)));
    }
    // Y (n x N), the basis U (n x d: 80 GB at n = d = 100000) and the decomposed matrix; the
    // iteration also holds n x n matrices. In f64: at N = 2^64 - 1 the product overflows any
    // integer.
    let (n, m, d) = (setup.n() as f64, args.train_size as f64, setup.d() as f64);
    let square = if args.method == Method::Iterate {
        5.0 * n * n
    } else {
        3.0 * n.min(m).powi(2)
    };
    check_memory(
        8.0 * (3.0 * n * m + n * d + square),
        "explicit training set",
    )?;
    let data = TrainingSet::draw(setup, args.train_size, &mut rng)?;
    let spectrum = data.spectrum(Par::rayon(0));
    let top = spectrum.eigenvalues().first().copied().unwrap_or(0.0);
    converges(eta, top, "this training set")?;
    Ok(match args.method {
        Method::Iterate => {
            let bar = Progress::new(args.common.iters as u64, "iterations", args.common.quiet);
            let path = gd_risk_path_iterate(&data, eta, args.common.iters, || bar.inc(1));
            bar.finish();
            path
        }
        _ => spectrum.gd_risk_path(eta, args.common.iters, Par::rayon(0)),
    })
}

/// Bytes that a path of `iters` iterations holds at once: the risks (`f64`), the CSV text and
/// its copy for output (about 30 bytes a row each). `iters` is at most `MAX_ITERS`.
fn path_bytes(iters: usize) -> usize {
    (iters + 1) * (8 + 2 * 30)
}

/// Refuses up front a computation whose estimated memory (`bytes`, `f64` so that no size
/// overflows) exceeds the machine.
fn check_memory(bytes: f64, what: &str) -> Result<()> {
    if let Some(total) = plateau_theory::montecarlo::machine_memory_bytes() {
        let gib = bytes / (1u64 << 30) as f64;
        anyhow::ensure!(
            bytes <= total as f64,
            "{what} needs an estimated {} GiB, more than this machine's {:.1} GiB",
            if gib < 1e4 {
                format!("{gib:.1}")
            } else {
                format!("{gib:.2e}")
            },
            plateau_theory::montecarlo::gib(total)
        );
    }
    Ok(())
}

/// Refuses a step with which gradient descent diverges: `eta * lambda_max(Y Y^T) >= 2` makes the
/// top mode's factor `|1 - eta lambda_max|` at least 1, so the risk grows without bound.
fn converges(eta: f64, lambda_max: f64, of: &str) -> Result<()> {
    if eta * lambda_max >= 2.0 {
        bail!(
            "gradient descent diverges: step {eta:e} times lambda_max(Y Y^T) = {lambda_max:.4e} \
             ({of}) is {:.3e} >= 2; use a --step below {:.4e}",
            eta * lambda_max,
            2.0 / lambda_max
        );
    }
    Ok(())
}
