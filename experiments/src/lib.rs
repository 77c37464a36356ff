//! LibTorch side of plateau: U-Nets, tasks, data sets and training.
//!
//! LibTorch is installed project-locally by `scripts/bootstrap-libtorch.sh`
//! (`make test` and `make reproduce` run it) and found through
//! `.cargo/config.toml`; `build.rs` puts its library folder on the run path.
//!
//! # Module dependencies
//!
//! Each module imports only modules listed after it (`A -> B`: `A` imports `B`), so there are
//! no import circles; `plateau_run` (plain data) and `plateau_theory` sit below them all.
//!
//! ```text
//! command   -> spectrum, train, checkpoint, linear, unet, metrics, data, floors, loader, sources, task,
//!              streams, cuda
//! train     -> checkpoint, loader, metrics, optim, precision, unet
//! loader    -> sources, task, streams
//! unet      -> precision
//! linear    -> data
//! spectrum  -> (none; plateau_theory)
//! floors    -> data, task, mask, metrics, streams
//! sources   -> fourier (fastmri), streams       (inside: mod -> folder, skimage, phantoms,
//!                                                fastmri -> load, files, planes)
//! task      -> fourier, mask, sr, streams
//! data      -> streams
//! cuda      -> device
//! checkpoint -> optim
//! metrics, optim, precision, unet, device, fourier, mask, sr, streams -> (none)
//! ```

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

pub mod checkpoint;
pub mod command;
pub mod cuda;
pub mod data;
pub mod device;
pub mod floors;
pub mod fourier;
pub mod linear;
pub mod loader;
pub mod mask;
pub mod metrics;
pub mod optim;
pub mod precision;
pub mod sources;
pub mod spectrum;
pub mod sr;
pub mod streams;
pub mod task;
#[cfg(test)]
mod testing;
pub mod train;
pub mod unet;
