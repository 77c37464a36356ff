//! The `plateau` command line: a thin dispatcher, one documented function per subcommand.
//!
//! Errors print one line on stderr, `plateau: error: ...`, and exit with status 2; a flag error
//! prints clap's whole message (what is wrong, the usage, the possible values) and exits 2.
//! `train`, `bench-train` and `spectrum` run the LibTorch crate's binaries
//! ([`commands::external`]).

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use plateau::commands;
use plateau_run::exit;

/// How much better will a reconstruction model get with more data, and where is the floor?
#[derive(Debug, Parser)]
#[command(name = "plateau", version, about, arg_required_else_help = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Monte Carlo (or analytic) risk of learned linear estimators over training-set sizes (CSV).
    Theory(commands::theory::Args),
    /// Risk of every gradient-descent iterate on one drawn training set (CSV `k,risk`).
    Path(commands::path::Args),
    /// Fit scaling laws to a CSV curve (JSON).
    Fit(commands::fit::Args),
    /// The main job: theory results and figures of the paper's setups, and the CPU sweep.
    Reproduce(commands::reproduce::Args),
    /// Train a reconstruction network (U-Net or linear; denoising, MRI or super-resolution) and
    /// write its run record DIR/metrics.json. Runs `plateau-train` (LibTorch); see
    /// `plateau train --help`.
    #[command(disable_help_flag = true)]
    Train(commands::external::Passthrough),
    /// Training throughput of the U-Net in images/s. Runs `plateau-bench-train` (LibTorch).
    #[command(disable_help_flag = true)]
    BenchTrain(commands::external::Passthrough),
    /// Run a TOML grid of training runs locally or as a Slurm job array (results.jsonl).
    Sweep(commands::sweep::Args),
    /// How much more data is needed: N to get within a fraction of the floor (theory or measured).
    Plan(Box<commands::plan::Args>),
    /// Scaling curve of a sweep's results against the predicted floor (figure, CSV, JSON).
    Scaling(commands::scaling::Args),
    /// The second-moment spectrum of a data source's training images and the linear Gaussian
    /// theory's denoising predictions from it (best linear map, learned linear maps against N).
    /// Runs `plateau-spectrum` (it reads images through the LibTorch crate's sources); see
    /// `plateau spectrum --help`.
    #[command(disable_help_flag = true)]
    Spectrum(commands::external::Passthrough),
    /// Analytic predictions against the exact Monte Carlo: per-point and pooled verdict (exit 1 on a failing point).
    Validate(commands::validate::Args),
}

fn main() -> ExitCode {
    let cli = match exit::parse::<Cli>() {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    let result = match &cli.command {
        Command::Theory(args) => commands::theory::run(args),
        Command::Path(args) => commands::path::run(args),
        Command::Fit(args) => commands::fit::run(args),
        Command::Reproduce(args) => commands::reproduce::run(args),
        Command::Train(pass) => {
            return exit::code(commands::external::run("plateau-train", &pass.args))
        }
        Command::BenchTrain(pass) => {
            return exit::code(commands::external::run("plateau-bench-train", &pass.args))
        }
        Command::Spectrum(pass) => {
            return exit::code(commands::external::run("plateau-spectrum", &pass.args))
        }
        Command::Sweep(args) => commands::sweep::run(args),
        Command::Scaling(args) => commands::scaling::run(args),
        Command::Plan(args) => commands::plan::run(args),
        Command::Validate(args) => match commands::validate::run(args) {
            Ok(verdict) if !verdict.passed() => return ExitCode::from(1),
            other => other.map(drop),
        },
    };
    // Measured points below an exact floor are a result (a bug upstream), not bad input.
    if let Some(c) = result
        .as_ref()
        .err()
        .and_then(|e| e.downcast_ref::<plateau::analysis::plan::FloorContradiction>())
    {
        eprintln!("plateau: error: {c}");
        return ExitCode::from(1);
    }
    exit::code(result.map(|()| ExitCode::SUCCESS))
}
