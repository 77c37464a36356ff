//! Training the U-Net of a run (Adam or RMSprop, ReduceLROnPlateau, early stopping, checkpoints) and its
//! per-epoch history.

use std::path::Path;

use anyhow::Result;
use plateau_run::files::{write_atomic, Progress};
use plateau_run::recipe::{TrainRecipe, DEFAULT_UNET_LR};
use plateau_run::record::Results;
use tch::Device;

use super::baseline::set_test;
use super::splits::Loaded;
use crate::train::{train_unet, Outcome, TrainConfig};
use crate::unet::UNetConfig;

/// ReduceLROnPlateau's factor (the paper's protocol).
const LR_FACTOR: f64 = 0.5;

/// Trains the U-Net of `recipe` with `pools` pooling layers and fills the results.
///
/// # Errors
/// A checkpoint that cannot be written or resumed.
pub fn train(
    recipe: &TrainRecipe,
    pools: usize,
    data: &Loaded,
    device: Device,
    results: &mut Results,
) -> Result<()> {
    let cfg = train_config(recipe, pools);
    let mut history = History::open(&recipe.out, recipe.resume);
    let bar = Progress::new(cfg.epochs as u64, "train", recipe.quiet);
    let mut epoch_start = std::time::Instant::now();
    let outcome = train_unet(
        &cfg,
        &data.splits,
        device,
        &recipe.out,
        |epoch, loss, psnr, lr| {
            bar.step(
                epoch as u64,
                &format!(
                    "epoch {epoch}/{}: train loss {loss:.4e}, val PSNR {psnr:.2} dB, lr {lr:.1e}, \
                     {:.1} s",
                    cfg.epochs,
                    epoch_start.elapsed().as_secs_f64()
                ),
            );
            epoch_start = std::time::Instant::now();
            history.push(epoch, loss, psnr, lr);
        },
    );
    bar.finish();
    fill_results(results, outcome?);
    Ok(())
}

/// The trainer's settings of the U-Net of `recipe` with `pools` pooling layers.
fn train_config(recipe: &TrainRecipe, pools: usize) -> TrainConfig {
    let c = &recipe.config;
    let key = &c.curve;
    let channels = c.channels.expect("a U-Net recipe has a width");
    TrainConfig {
        net: UNetConfig { channels, pools },
        image_channels: key.problem.image_channels() as i64,
        input_channels: key.problem.input_channels() as i64,
        epochs: key.stopping.epochs,
        batch_size: key.optimiser.batch_size,
        lr: key.optimiser.lr.unwrap_or(DEFAULT_UNET_LR),
        seed: c.seed,
        lr_patience: key.optimiser.lr_patience,
        lr_factor: LR_FACTOR,
        min_lr: key.optimiser.min_lr,
        early_stop: key.stopping.early_stop,
        resume: recipe.resume,
        fingerprint: c.fingerprint(),
        augment: key.optimiser.augment,
        loss: key.optimiser.loss,
        optimiser: key.optimiser.optimiser,
        data_range: key.problem.data().psnr_range(),
        precision: key.precision,
    }
}

/// Copies what training produced into the results.
fn fill_results(results: &mut Results, outcome: Outcome) {
    set_test(results, outcome.test.as_ref());
    results.params = Some(outcome.params);
    results.best_epoch = outcome.best_epoch;
    results.best_val_psnr = Some(outcome.best_val_psnr).filter(|v| v.is_finite());
    results.epochs_run = outcome.epochs_run;
    results.status = outcome.status;
    results.message = outcome.message;
    results.checkpoint = Some("best.safetensors".into());
}

/// `history.csv` (`epoch,train_loss,val_psnr,lr`), rewritten atomically after each epoch so an
/// interrupted run keeps its history for `--resume`.
struct History {
    path: std::path::PathBuf,
    text: String,
}

impl History {
    const HEADER: &'static str = "epoch,train_loss,val_psnr,lr\n";

    fn open(dir: &Path, resume: bool) -> History {
        let path = dir.join("history.csv");
        let text = match (resume, std::fs::read_to_string(&path)) {
            (true, Ok(text)) if text.starts_with(Self::HEADER) => text,
            _ => Self::HEADER.to_string(),
        };
        History { path, text }
    }

    fn push(&mut self, epoch: usize, loss: f64, psnr: f64, lr: f64) {
        use std::fmt::Write as _;
        let _ = writeln!(self.text, "{epoch},{loss:.9e},{psnr:.6},{lr:e}");
        // A history that cannot be written must not stop training: the checkpoint matters more.
        let _ = write_atomic(&self.path, self.text.as_bytes());
    }
}
