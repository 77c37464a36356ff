//! # plateau-run
//!
//! What a `plateau train` run is, without LibTorch: the flags ([`args`]), the validated recipe
//! they settle into ([`recipe`]), the learning problem ([`problem`]) and training settings
//! ([`settings`]), the run record that training writes as `metrics.json` and that sweeps and
//! scaling analysis read back ([`record`]), the files a run writes ([`files`]) and the memory
//! it needs, estimated before anything is allocated ([`budget`]).
//!
//! The `plateau` binary (theory, fits, sweeps, scaling) depends on this crate and not on
//! LibTorch; the trainer (`plateau-train`, crate `plateau-experiments`) implements the recipe.
//!
//! ```
//! use plateau_run::record::RunRecord;
//!
//! let text = r#"{"task":"denoise","noise_std":0.1,"data":"subspace","subspace_dim":10,
//!   "image_size":16,"model":"unet","pools":2,"batch_size":16,"lr":0.001,"lr_patience":6,
//!   "min_lr":1e-5,"epochs":30,"early_stop":6,"val_size":128,"test_size":512,
//!   "train_size":64,"channels":8,"seed":0,"status":"ok","test_mse":0.0012}"#;
//! let rec: RunRecord = serde_json::from_str(text)?;
//! assert_eq!(rec.config.train_size, 64);
//! assert_eq!(rec.results.test_mse, Some(0.0012));
//! // Records written before the optimiser was recorded were Adam.
//! assert_eq!(rec.config.curve.optimiser.optimiser, plateau_run::settings::OptimiserKind::Adam);
//! # Ok::<(), serde_json::Error>(())
//! ```

// In this crate `eprintln!` / `eprint!` never panic: a message that cannot be written to
// standard error is dropped (std's macros panic and exit 101; see `stdio`). These textual
// macros shadow std's in every module declared below.
macro_rules! eprintln {
    ($($arg:tt)*) => { $crate::stdio::note(format_args!($($arg)*)) };
}
#[allow(unused_macros)]
macro_rules! eprint {
    ($($arg:tt)*) => { $crate::stdio::note_part(format_args!($($arg)*)) };
}

#[cfg(feature = "cli")]
pub mod args;
pub mod budget;
#[cfg(feature = "cli")]
pub mod exit;
pub mod files;
pub mod hash;
pub mod interrupt;
pub mod lock;
pub mod problem;
#[cfg(feature = "cli")]
pub mod recipe;
pub mod record;
pub mod settings;
pub mod stdio;
