//! The spectrum run recorded next to a real-data denoising sweep: `plateau reproduce` runs
//! `plateau spectrum` on the sweep's data into `<results>/spectrum`, where `plateau scaling`
//! and `plateau plan` find it ([`crate::analysis::spectrum_theory`]).
//!
//! A sweep qualifies when every cell denoises the same real images (`data` not `subspace` or
//! `gaussian-field`) at one image size, colour handling and noise level; the run then covers
//! `N` from the sweep's smallest size to [`MAX_N`], [`PER_DECADE`] sizes per decade (the
//! LMMSE level spans the whole figure; the learned-linear curves stop at [`MAX_N`]).

use std::path::Path;
use std::process::Command;

use anyhow::{anyhow, bail, Result};
use plateau_theory::grid::{log_spaced_sizes, points_per_decade};

use crate::analysis::spectrum_theory::DEFAULT_SUBDIR;
use crate::sweep::config::{Param, SweepConfig};

/// Training-set sizes per decade of the predictions (each costs one gradient-descent
/// equivalent per bootstrap resample and the point: for 16 x 16 patches about 0.1 s of CPU at
/// N = 4096, 0.6 s at 1e5; measured on a loaded 2-core machine).
pub const PER_DECADE: usize = 2;

/// Largest `N` of the predictions: one equivalent costs about 5 s of CPU at `N = 1e6` for
/// 16 x 16 patches, 21 of them per size with the default 20 resamples.
pub const MAX_N: usize = 100_000;

/// The `plateau spectrum` flags of a sweep whose cells all denoise the same real images, else
/// `None`.
pub fn spectrum_args(cfg: &SweepConfig) -> Option<Vec<String>> {
    let first = cfg.cells.first()?;
    let text = |c: &crate::sweep::config::Cell, k: &str| c.params.get(k).map(Param::as_arg);
    let keys = ["task", "data", "image_size", "noise_std", "color"];
    let same = cfg
        .cells
        .iter()
        .all(|c| keys.iter().all(|k| text(c, k) == text(first, k)));
    let data = text(first, "data")?;
    let real = !matches!(data.as_str(), "subspace" | "gaussian-field");
    if !(same && real && text(first, "task")?.as_str() == "denoise") {
        return None;
    }
    let sizes: Vec<usize> = cfg
        .cells
        .iter()
        .filter_map(|c| text(c, "train_size")?.parse().ok())
        .collect();
    let lo = sizes.iter().copied().min()?.max(1);
    let hi = MAX_N.max(lo);
    let grid =
        log_spaced_sizes(lo, hi, points_per_decade(lo as f64, hi as f64, PER_DECADE)).ok()?;
    let mut args = vec![
        "--data".into(),
        data,
        "--image-size".into(),
        text(first, "image_size")?,
        "--noise-std".into(),
        text(first, "noise_std")?,
        "--train-sizes".into(),
        grid.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(","),
    ];
    if let Some(color) = text(first, "color") {
        args.extend(["--color".into(), color]);
    }
    Some(args)
}

/// Runs `plateau spectrum` for the sweep into `results/spectrum` unless that already holds a
/// finished run (its `summary.json`) or the sweep does not qualify ([`spectrum_args`]).
///
/// # Errors
/// `plateau-spectrum` missing, or failing (its own message is on stderr).
pub fn ensure(cfg: &SweepConfig, results: &Path) -> Result<()> {
    let Some(mut args) = spectrum_args(cfg) else {
        return Ok(());
    };
    let out = results.join(DEFAULT_SUBDIR);
    if out.join("summary.json").is_file() {
        return Ok(());
    }
    args.extend(["--out".into(), out.display().to_string()]);
    let exe = super::external::locate("plateau-spectrum")?;
    eprintln!("plateau: {} {}", exe.display(), args.join(" "));
    let status = Command::new(&exe)
        .args(&args)
        .status()
        .map_err(|e| anyhow!("cannot run {}: {e}", exe.display()))?;
    if !status.success() {
        bail!("plateau spectrum for {} failed ({status})", cfg.name);
    }
    Ok(())
}
