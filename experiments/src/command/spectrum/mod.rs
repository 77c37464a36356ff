//! `plateau spectrum`: the second-moment spectrum of a data source's training images and what
//! the linear Gaussian theory predicts from it for denoising: the best linear map's error (the
//! LMMSE floor) and the expected risk of tuned ridge and early-stopped gradient descent learned
//! from `N` examples (`theory/gaussian.md` section 4).
//!
//! plan (every check that needs no disk, the memory estimate) -> pool (the training split's
//! images exactly as `plateau train` loads them, [`pool`]) -> spectrum, bootstrap and
//! predictions (`crate::spectrum`) -> record: `spectrum.csv`, `predictions.csv`,
//! `summary.json`, `spectrum.png`/`.svg` written only once everything is computed, and one line
//! on standard output. With `--measure-linear S` the learned linear map is also trained on `S`
//! training sets per `N` (`measured.csv`, [`measure`]).

use std::path::PathBuf;

use anyhow::{ensure, Result};
use plateau_run::args::SyntheticArgs;
use plateau_run::problem::{Color, DataArg};

pub mod measure;
pub mod pool;
pub mod record;

/// `plateau spectrum`'s command line.
#[derive(Debug, clap::Parser)]
#[command(
    name = "plateau spectrum",
    version,
    about = "The second-moment spectrum of a data source's training images and the linear \
             Gaussian theory's denoising predictions from it: the best linear map's error and \
             the learned linear maps' risk against N (spectrum.csv, predictions.csv, figure)."
)]
pub struct Cli {
    /// The flags.
    #[command(flatten)]
    pub args: SpectrumArgs,
}

/// The flags of `plateau spectrum`.
#[derive(Debug, clap::Args)]
pub struct SpectrumArgs {
    /// Data, as for `plateau train`: skimage, phantoms, folder:PATH, fastmri:PATH, subspace,
    /// gaussian-field.
    #[arg(long)]
    pub data: DataArg,
    /// Image side s (pixels): patches of s x s (skimage) or images fitted to s x s, as training
    /// sees them.
    #[arg(long)]
    pub image_size: usize,
    /// Photographs (folder, skimage): gray, rgb (one 3 s^2 vector per image) or rgb-split.
    #[arg(long, value_enum, default_value_t = Color::Gray)]
    pub color: Color,
    /// Noise standard deviation sigma, in pixel units (images in [0, 1]).
    #[arg(long, allow_negative_numbers = true)]
    pub noise_std: f64,
    /// Training-set sizes N of predictions.csv.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "64,128,256,512,1024,2048,4096"
    )]
    pub train_sizes: Vec<usize>,
    /// Images (patches, slices) of the training split in the pool whose second moment is
    /// estimated; at least n = C s^2 (C channels per example).
    #[arg(long, value_name = "K", default_value_t = 10_000)]
    pub max_images: usize,
    /// Bootstrap resamples (over files) for the bands of spectrum.csv; predictions.csv uses the
    /// first --prediction-resamples of them.
    #[arg(long, default_value_t = 200)]
    pub bootstrap: usize,
    /// Bootstrap resamples behind the bands of predictions.csv (each costs one prediction per N,
    /// about 0.2 s of CPU for 16 x 16 patches: the gradient-descent equivalent).
    #[arg(long, default_value_t = 20)]
    pub prediction_resamples: usize,
    /// Also train the learned linear map (tuned ridge, early-stopped gradient descent) on this
    /// many training sets per N (seeds 1..=S) and write measured.csv.
    #[arg(long, value_name = "S", default_value_t = 0)]
    pub measure_linear: usize,
    /// Seed of the pool (patch positions, phantoms, synthetic images) and of the bootstrap.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Skip unreadable image / HDF5 files (reported with a count) instead of failing.
    #[arg(long)]
    pub skip_bad_files: bool,
    /// Output folder.
    #[arg(long, default_value = "spectrum")]
    pub out: PathBuf,
    /// The synthetic images' parameters.
    #[command(flatten)]
    pub synthetic: SyntheticArgs,
}

/// Bytes of one `n x n` `f64` matrix.
fn matrix_bytes(n: usize) -> Option<u64> {
    (n as u64).checked_mul(n as u64)?.checked_mul(8)
}

/// Peak memory of the command for `n`-dimensional examples, in bytes: one `n x n` sum per
/// bootstrap block, and per worker thread a pooled matrix and its eigen-workspace (about 3
/// more); `None` beyond `u64`.
pub fn memory_estimate(n: usize, threads: usize) -> Option<u64> {
    let matrices = (crate::spectrum::moments::MAX_BLOCKS + 3 * threads.max(1) + 8) as u64;
    matrix_bytes(n)?.checked_mul(matrices)
}

impl SpectrumArgs {
    /// Example dimension `n = C s^2`.
    pub fn dim(&self) -> usize {
        self.color.image_channels() * self.image_size * self.image_size
    }

    /// Every check that needs neither the disk nor the images: the noise, the sizes, the pool
    /// against the dimension, the memory against `memory` bytes (when known).
    ///
    /// # Errors
    /// One line naming the flag at fault.
    pub fn check(&self, memory: Option<u64>) -> Result<()> {
        ensure!(
            self.noise_std.is_finite() && self.noise_std > 0.0,
            "--noise-std must be finite and positive, got {}",
            self.noise_std
        );
        ensure!(
            self.image_size >= 2,
            "--image-size must be at least 2, got {}",
            self.image_size
        );
        self.check_color()?;
        ensure!(
            !self.train_sizes.is_empty() && self.train_sizes.iter().all(|&n| n >= 1),
            "--train-sizes must list sizes >= 1"
        );
        ensure!(
            self.bootstrap >= 2 && self.prediction_resamples <= self.bootstrap,
            "--bootstrap must be at least 2 and at least --prediction-resamples"
        );
        let n = self.dim();
        if let Some(limit) = memory {
            self.check_memory(n, limit)?;
        }
        ensure!(
            self.max_images >= n,
            "--max-images {} is below n = {n}: the second moment of {s}x{s} {c} images needs at \
             least n = {n} images (fewer leave it rank-deficient, with zero eigenvalues that \
             are an artefact of the pool)",
            self.max_images,
            s = self.image_size,
            c = self.color.name(),
        );
        Ok(())
    }

    /// `--color` other than gray is for photographs that have colour.
    fn check_color(&self) -> Result<()> {
        if let DataArg::Real(source) = &self.data {
            ensure!(
                self.color == Color::Gray || source.has_color(),
                "--color {} applies to photographs (folder:PATH, skimage) only",
                self.color.name()
            );
        } else {
            ensure!(
                self.color == Color::Gray,
                "--color applies to photographs only"
            );
        }
        Ok(())
    }

    /// The second moments of `n`-dimensional examples fit in 80% of `limit` bytes.
    fn check_memory(&self, n: usize, limit: u64) -> Result<()> {
        let threads = rayon::current_num_threads();
        let need = memory_estimate(n, threads);
        ensure!(
            need.is_some_and(|b| b <= limit / 10 * 8),
            "a {s}x{s} {c} second moment (n = {n}) needs about {} GB ({} n x n matrices of \
             8 n^2 bytes), more than 80% of this machine's {:.1} GB: use a smaller \
             --image-size",
            need.map_or("more than 10^10".into(), |b| format!(
                "{:.1}",
                b as f64 / 1e9
            )),
            crate::spectrum::moments::MAX_BLOCKS + 3 * threads + 8,
            limit as f64 / 1e9,
            s = self.image_size,
            c = self.color.name(),
        );
        Ok(())
    }
}

/// Runs `plateau spectrum`.
///
/// # Errors
/// Invalid flags or data (one line); nothing is written before every result is computed.
pub fn run(args: &SpectrumArgs) -> Result<()> {
    let memory = plateau_theory::montecarlo::machine_memory_bytes().map(|b| b as u64);
    args.check(memory)?;
    let source = pool::PoolSource::new(args)?;
    let moments = pool::moments(&source, args, pool::Which::Pool)?;
    let result = record::compute(args, &moments)?;
    let measured = if args.measure_linear > 0 {
        Some(measure::measure(args, &source, &moments)?)
    } else {
        None
    };
    record::write(args, &result, measured.as_deref())?;
    println!("{}", result.line());
    Ok(())
}
