//! `plateau-train`: trains one reconstruction network and writes its run record. Usually run
//! as `plateau train ...`; see `plateau_experiments::command::train`.

use std::process::ExitCode;

use plateau_experiments::command::{main_with, train};

fn main() -> ExitCode {
    main_with::<train::Cli>(|cli| train::run(&cli.args))
}
