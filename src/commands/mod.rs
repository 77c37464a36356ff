//! One module per `plateau` subcommand; each exposes `Args` (clap) and `run`.

pub mod bench_train;
pub mod fit;
pub mod path;
pub mod reproduce;
pub mod theory;
pub mod train;
