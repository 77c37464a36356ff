//! What the integration tests share: running the `plateau` binary.
#![allow(dead_code)] // each test file uses a part

use std::process::{Command, Output};

/// A `plateau` command (the binary cargo built for these tests).
pub fn command() -> Command {
    Command::new(env!("CARGO_BIN_EXE_plateau"))
}

/// Runs `plateau args...` to completion and returns its output.
pub fn plateau(args: &[&str]) -> Output {
    command()
        .args(args)
        .output()
        .expect("the plateau binary runs")
}
