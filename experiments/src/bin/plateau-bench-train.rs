//! `plateau-bench-train`: U-Net training throughput. Usually run as `plateau bench-train ...`;
//! see `plateau_experiments::command::bench`.

use std::process::ExitCode;

use plateau_experiments::command::{bench, main_with};

fn main() -> ExitCode {
    main_with::<bench::Cli>(|cli| bench::run(&cli.args))
}
