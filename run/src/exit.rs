//! The exit contract shared by the `plateau` and `plateau-train` binaries: help and version on
//! stdout with status 0; a flag error with clap's whole message and status 2; any other error as
//! one line `plateau: error: ...` and status 2.

use std::process::ExitCode;

/// Parses `T` from the process arguments, or the exit code of a flag error (after printing it).
/// The first thing both binaries do, so it first guards the standard streams
/// ([`crate::stdio::guard`]).
///
/// # Errors
/// The code to exit with: 0 after `--help` / `--version`, 2 after a flag error.
pub fn parse<T: clap::Parser>() -> Result<T, ExitCode> {
    crate::stdio::guard();
    T::try_parse().map_err(|err| {
        let _ = err.print();
        if err.use_stderr() {
            ExitCode::from(2)
        } else {
            ExitCode::SUCCESS
        }
    })
}

/// The exit code of a command's outcome; an error is printed on one line (`{:#}` joins the
/// context chain).
pub fn code(result: anyhow::Result<ExitCode>) -> ExitCode {
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("plateau: error: {err:#}");
            ExitCode::from(2)
        }
    }
}
