//! Git-style subcommands: `plateau train ...` runs `plateau-train ...` and `plateau bench-train
//! ...` runs `plateau-bench-train ...` (crate `plateau-experiments`, the only one that links
//! LibTorch), so the `plateau` binary itself starts in milliseconds and installs without
//! LibTorch. The flags, output and exit status are the trainer's own: on Unix the trainer
//! replaces this process (`exec`).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Result};

/// The arguments passed through unchanged (`--help` included).
#[derive(Debug, clap::Args)]
pub struct Passthrough {
    /// Arguments of the training binary (see its --help).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0..)]
    pub args: Vec<OsString>,
}

/// Finds the executable `name`: next to the running `plateau` first (a build or install puts
/// both binaries in one folder), then on `PATH`.
///
/// # Errors
/// One line saying how to build it when it is found nowhere.
pub fn locate(name: &str) -> Result<PathBuf> {
    let beside = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(name)));
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|dir| dir.join(name));
    beside
        .into_iter()
        .chain(on_path)
        .find(|p| is_executable(p))
        .ok_or_else(|| {
            anyhow!(
                "{name} not found next to plateau or on PATH: it is the LibTorch half of plateau; \
                 build it with `cargo build --release` at the repository root (after \
                 `make bootstrap`), or `cargo install --path experiments`"
            )
        })
}

fn is_executable(p: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        p.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        p.is_file()
    }
}

/// Runs `name` with `args` in place of this process. Returns only on failure to start it (or,
/// off Unix, with its exit status).
///
/// # Errors
/// The executable is missing or cannot be started.
pub fn run(name: &str, args: &[OsString]) -> Result<std::process::ExitCode> {
    let exe = locate(name)?;
    let mut cmd = std::process::Command::new(&exe);
    cmd.args(args);
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        let err = cmd.exec();
        Err(anyhow!("cannot run {}: {err}", exe.display()))
    }
    #[cfg(not(unix))]
    {
        let status = cmd
            .status()
            .map_err(|e| anyhow!("cannot run {}: {e}", exe.display()))?;
        Ok(std::process::ExitCode::from(
            status.code().unwrap_or(2).clamp(0, 255) as u8,
        ))
    }
}
