//! The training binaries' commands: `plateau-train` ([`train`]), `plateau-bench-train`
//! ([`bench`](mod@bench)) and `plateau-spectrum` ([`spectrum`]). `plateau train ...` and `plateau bench-train ...` run them (git-style), so the
//! flags, output and exit codes are the same either way.

use std::process::ExitCode;

use clap::Parser;
use plateau_run::exit;

pub mod bench;
pub mod spectrum;
pub mod train;

/// Parses `T` from the process arguments, runs `run` and maps the outcome to the project's exit
/// codes: 0 on success; clap's whole message and 2 for a flag error; one line
/// `plateau: error: ...` and 2 for any other error.
pub fn main_with<T: Parser>(run: impl FnOnce(&T) -> anyhow::Result<()>) -> ExitCode {
    match exit::parse::<T>() {
        Ok(args) => exit::code(run(&args).map(|()| ExitCode::SUCCESS)),
        Err(code) => code,
    }
}
