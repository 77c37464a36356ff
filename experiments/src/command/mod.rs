//! The training binaries' commands: `plateau-train` ([`train`]) and `plateau-bench-train`
//! ([`bench`]). `plateau train ...` and `plateau bench-train ...` run them (git-style), so the
//! flags, output and exit codes are the same either way.

use std::process::ExitCode;

use clap::Parser;

pub mod bench;
pub mod train;

/// Parses `T` from the process arguments, runs `run` and maps the outcome to the project's exit
/// codes: 0 on success; clap's whole message and 2 for a flag error; one line
/// `plateau: error: ...` and 2 for any other error.
pub fn main_with<T: Parser>(run: impl FnOnce(&T) -> anyhow::Result<()>) -> ExitCode {
    let args = match T::try_parse() {
        Ok(args) => args,
        Err(err) => {
            let _ = err.print();
            return if err.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("plateau: error: {err:#}");
            ExitCode::from(2)
        }
    }
}
