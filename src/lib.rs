//! # plateau
//!
//! Ties the theory engine ([`plateau_theory`]) and the experiments side together: the `plateau`
//! command line, scaling-law fits, figures and reports.

// In this crate `eprintln!` / `eprint!` never panic: a message that cannot be written to
// standard error (`2>/dev/full`, a closed pipe) is dropped and the program ends with its own
// exit status (std's macros panic, exit 101). These textual macros shadow std's in every module
// declared below; see `plateau_run::stdio`.
macro_rules! eprintln {
    ($($arg:tt)*) => { plateau_run::stdio::note(format_args!($($arg)*)) };
}
#[allow(unused_macros)]
macro_rules! eprint {
    ($($arg:tt)*) => { plateau_run::stdio::note_part(format_args!($($arg)*)) };
}

pub mod analysis;
pub mod commands;
pub mod figures;
pub mod fit;
pub mod output;
pub mod sweep;
pub mod text;
