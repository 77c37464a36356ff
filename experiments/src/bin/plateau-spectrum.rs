//! `plateau-spectrum`: the second-moment spectrum of a data source's training images and the
//! linear Gaussian theory's predictions from it. Usually run as `plateau spectrum ...`; see
//! `plateau_experiments::command::spectrum`.

use std::process::ExitCode;

use plateau_experiments::command::{main_with, spectrum};

fn main() -> ExitCode {
    main_with::<spectrum::Cli>(|cli| spectrum::run(&cli.args))
}
