//! `plateau train`: train one reconstruction network (denoising, accelerated MRI,
//! super-resolution) on synthetic images whose error floor is known exactly, or on real images,
//! and write its run record.
//!
//! The command reads as plan -> work -> record:
//! - plan: the flags settle into a [`TrainRecipe`] (every check that needs neither the disk nor
//!   LibTorch, in `plateau_run::recipe`), then the output and data folders are checked;
//! - work: load every split ([`splits`]) before writing anything, measure the baseline and the
//!   floors ([`baseline`]), train ([`unet`] or [`linear`]);
//! - record: one [`RunRecord`] written atomically as `DIR/metrics.json`.
//!
//! Besides `metrics.json` a run writes the best checkpoint `DIR/best.safetensors`, for the U-Net
//! the last checkpoint (`state.json` and the `last-eK` files it names) and `history.csv`
//! (`epoch,train_loss,val_psnr,lr`), and for the linear model the risk path `DIR/risk_path.csv`
//! (`k,risk_torch,risk_exact`).

use std::time::Instant;

use anyhow::Result;
use plateau_run::args::TrainArgs;
use plateau_run::budget::{unet_parameters_io, MemoryEstimate};
use plateau_run::files::write_atomic;
use plateau_run::lock::OutLock;
use plateau_run::recipe::TrainRecipe;
use plateau_run::record::{Architecture, Environment, RunRecord, Status};

use crate::sources::skip_reasons;
use crate::unet::UNetConfig;

pub mod baseline;
pub mod linear;
pub mod splits;
pub mod unet;

/// `plateau train`'s command line.
#[derive(Debug, clap::Parser)]
#[command(
    name = "plateau train",
    version,
    about = "Train a reconstruction network (U-Net or linear) for denoising, MRI or \
             super-resolution and write its run record (DIR/metrics.json)."
)]
pub struct Cli {
    /// The flags.
    #[command(flatten)]
    pub args: TrainArgs,
}

/// Runs `plateau train`.
///
/// # Errors
/// Invalid flags or data, an unavailable device, or an I/O failure; nothing is written before
/// the data have loaded.
pub fn run(args: &TrainArgs) -> Result<()> {
    let recipe = TrainRecipe::try_from(args)?;
    if args.print_params {
        let count = parameter_count(&recipe)?;
        return plateau_run::files::write_stdout(format!("{count}\n").as_bytes());
    }
    // Before any folder or tensor: a run this machine cannot hold is refused in one line.
    if let Some(limit) = plateau_theory::montecarlo::machine_memory_bytes() {
        MemoryEstimate::of(&recipe.config).check(limit)?;
    }
    // Before the work: another run in the folder (first: a live run's files would otherwise be
    // reported as a finished run), a finished run, or a folder that cannot be written.
    OutLock::check_free(&recipe.out)?;
    recipe.check_paths()?;
    plateau_run::files::check_folder(&recipe.out)?;
    let device = crate::cuda::device(&recipe.device)?;
    let start = Instant::now();

    let data = splits::load(&recipe, device)?;
    if let Some(first) = data.skipped.first() {
        eprintln!(
            "plateau: warning: skipped {} file(s) or slice(s) ({}), first: {first}",
            data.skipped.len(),
            skip_reasons(&data.skipped)
        );
    }
    // Held until the process ends: a second run on the folder is refused, naming this one.
    let _lock = OutLock::acquire(&recipe.out)?;
    // Again under the lock: a run that held it may have finished meanwhile.
    recipe.check_paths()?;
    let mut results = baseline::measure(&recipe, &data)?;
    match recipe.config.curve.architecture {
        Architecture::Unet { pools } => unet::train(&recipe, pools, &data, device, &mut results)?,
        Architecture::Linear => linear::train(&recipe, &data, device, &mut results)?,
    }
    baseline::relate(&mut results);

    let record = RunRecord {
        config: recipe.config.clone(),
        results,
        environment: Environment {
            device: recipe.device.clone(),
            threads: usize::try_from(tch::get_num_threads()).ok(),
            seconds: start.elapsed().as_secs_f64(),
        },
    };
    if record.results.status == Status::Diverged {
        eprintln!(
            "plateau: warning: {}",
            record
                .results
                .message
                .as_deref()
                .unwrap_or("training diverged")
        );
    }
    write_atomic(
        &recipe.out.join("metrics.json"),
        record.to_json().as_bytes(),
    )
}

/// Trainable parameters of the network of `recipe`, in closed form (nothing is allocated): the
/// U-Net's ([`unet_parameters_io`], equal to the built network's count by test) or the linear
/// model's `n x n` matrix of `n = s^2` pixels.
///
/// # Errors
/// A count beyond `u64` (one line).
pub fn parameter_count(recipe: &TrainRecipe) -> Result<u64> {
    let curve = &recipe.config.curve;
    match curve.architecture {
        Architecture::Unet { pools } => {
            let shape = UNetConfig {
                channels: recipe.config.channels.expect("a U-Net recipe has a width"),
                pools,
            };
            let (k_in, k_out) = (
                curve.problem.input_channels() as u64,
                curve.problem.image_channels() as u64,
            );
            unet_parameters_io(shape, k_in, k_out).ok_or_else(|| {
                anyhow::anyhow!("the network has more than 2^64 parameters ({shape:?})")
            })
        }
        Architecture::Linear => Ok((curve.problem.image_size() as u64).pow(4)),
    }
}
