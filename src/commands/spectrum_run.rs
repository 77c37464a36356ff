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

#[cfg(test)]
mod tests {
    use super::*;

    fn config(name: &str) -> SweepConfig {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("experiments")
            .join(name);
        SweepConfig::load(&path).unwrap()
    }

    #[test]
    fn the_photos_sweep_gets_a_spectrum_run_and_the_field_sweep_none() {
        let args = spectrum_args(&config("photos_denoise.toml")).unwrap();
        let flag = |f: &str| {
            let i = args.iter().position(|a| a == f).unwrap();
            args[i + 1].clone()
        };
        assert_eq!(flag("--data"), "skimage");
        assert_eq!(flag("--image-size"), "16");
        assert_eq!(flag("--noise-std"), "0.0980392");
        let sizes: Vec<usize> = flag("--train-sizes")
            .split(',')
            .map(|s| s.parse().unwrap())
            .collect();
        // From the sweep's smallest N (16) to MAX_N, at least PER_DECADE per decade.
        assert_eq!((sizes[0], *sizes.last().unwrap()), (16, MAX_N));
        assert!(sizes.len() > PER_DECADE * 3, "{sizes:?}");
        assert!(spectrum_args(&config("denoise_cpu.toml")).is_none());
        assert!(spectrum_args(&config("mri_field_cpu.toml")).is_none());
    }
}
