//! LibTorch side of plateau: U-Nets, tasks, data sets and training.
//!
//! LibTorch is installed project-locally by `scripts/bootstrap-libtorch.sh`
//! (`make test` and `make reproduce` run it) and found through
//! `.cargo/config.toml`; `build.rs` puts its library folder on the run path.

pub mod checkpoint;
pub mod command;
pub mod cuda;
pub mod data;
pub mod device;
#[cfg(feature = "fastmri")]
pub mod fastmri;
pub mod images;
pub mod linear;
pub mod metrics;
pub mod task;
pub mod train;
pub mod unet;
