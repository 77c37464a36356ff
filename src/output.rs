//! Writing results: see [`plateau_run::files`] (shared with the trainer).

pub use plateau_run::files::{
    check_emit, check_folder, check_stdout, emit, progress, write_atomic, write_stdout, Progress,
};
