//! Writing results: see [`plateau_run::files`] (shared with the trainer).

pub use plateau_run::files::{emit, progress, write_atomic, write_stdout, Progress};
