//! The `plateau` command line: a thin dispatcher, one documented function per subcommand.
//!
//! Errors print one line on stderr, `plateau: error: ...`, and exit with status 2.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use plateau::commands;

/// How much better will a reconstruction model get with more data, and where is the floor?
#[derive(Debug, Parser)]
#[command(name = "plateau", version, about)]
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
    /// The main job: theory results and figures of the paper's setups.
    Reproduce(commands::reproduce::Args),
    /// Train a denoiser (U-Net or linear) on synthetic images with a known error floor (JSON).
    Train(commands::train::Args),
    /// Training throughput of the U-Net in images/s (last line `images_per_s=<value>`).
    BenchTrain(commands::bench_train::Args),
    /// Run a TOML grid of training runs locally or as a Slurm job array (results.jsonl).
    Sweep(commands::sweep::Args),
    /// Scaling curve of a sweep's results against the predicted floor (figure, CSV, JSON).
    Scaling(commands::scaling::Args),
    /// Analytic predictions against the exact Monte Carlo: per-point and pooled verdict (exit 1 on a failing point).
    Validate(commands::validate::Args),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            use clap::error::ErrorKind;
            if matches!(
                err.kind(),
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
            ) {
                let _ = err.print();
                return ExitCode::SUCCESS;
            }
            // clap renders a multi-line message; the first line names the problem.
            let rendered = err.render().to_string();
            let first = rendered.lines().next().unwrap_or("invalid arguments");
            eprintln!("plateau: {}", first.trim());
            return ExitCode::from(2);
        }
    };
    let result = match &cli.command {
        Command::Theory(args) => commands::theory::run(args),
        Command::Path(args) => commands::path::run(args),
        Command::Fit(args) => commands::fit::run(args),
        Command::Reproduce(args) => commands::reproduce::run(args),
        Command::Train(args) => commands::train::run(args),
        Command::BenchTrain(args) => commands::bench_train::run(args),
        Command::Sweep(args) => commands::sweep::run(args),
        Command::Scaling(args) => commands::scaling::run(args),
        Command::Validate(args) => match commands::validate::run(args) {
            Ok(verdict) if !verdict.passed() => return ExitCode::from(1),
            other => other.map(drop),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // `{:#}` joins the context chain on one line.
            eprintln!("plateau: error: {err:#}");
            ExitCode::from(2)
        }
    }
}
