//! Training a U-Net denoiser as in the paper (Section 3).
//!
//! - Loss ([`Loss`]): mean squared error (the default) or mean absolute error between
//!   `UNet::denoise(y)` and `x` over a mini-batch. Model selection uses the validation PSNR in
//!   either case.
//! - Adam (PyTorch defaults: betas 0.9/0.999, eps 1e-8, no weight decay) or RMSprop (alpha 0.99,
//!   eps 1e-8, no momentum), [`TrainConfig::optimiser`], written on tensors ([`crate::optim`])
//!   so that their state is saved with each checkpoint.
//! - ReduceLROnPlateau on the validation PSNR: when it has not improved (by more than
//!   [`PSNR_THRESHOLD_DB`]) for more than `lr_patience` epochs, `lr <- max(lr * lr_factor,
//!   min_lr)`.
//! - The weights with the best validation PSNR are kept (`best.safetensors`) and used for the
//!   test metrics; training stops early after `early_stop` epochs without improvement.
//! - Each finished epoch `K` writes `last-eK.safetensors` + `last-eK.optim.safetensors` +
//!   `state.json` (see [`checkpoint`]), from
//!   which `resume` continues bit-identically to an uninterrupted run (same thread count).
//! - A non-finite loss stops the run with [`Status::Diverged`]; the best checkpoint so far, if
//!   any, is still evaluated.
//!
//! Augmentation (optional, [`TrainConfig::augment`], [`Augment`]): each mini-batch is flipped
//! horizontally and/or vertically, input and target together. This is a valid training pair for
//! all three tasks: flips commute with additive noise, with block means and bicubic upsampling
//! (the image side is a multiple of the scale), and with the magnitude of a column-masked
//! zero-filled image up to mirroring the mask (rows are fully sampled; a horizontal flip mirrors
//! the columns). [`Augment::Dihedral`] also transposes (with the flips: the 8 symmetries of the
//! square, rotations by 90 degrees included). The transpose commutes with white noise, with block
//! means of square images, and with bicubic upsampling (the same separable 1-D operator `A` on
//! rows and columns: `A x^T A^T = (A x A^T)^T`), but not with column masks (it turns them into
//! row masks), so it is for denoising and super-resolution only; the caller checks this.
//!
//! Precision ([`TrainConfig::precision`], [`crate::precision`]): the network computes in fp32,
//! bf16 or fp16 while the weights, Adam and the loss stay fp32; fp16 steps go through a dynamic
//! loss scale and a step whose gradients overflow is skipped.
//!
//! Data order: epoch `e` permutes the training set with LibTorch's generator seeded by
//! `seed * 1_000_003 + e`, so a resumed run sees the same order as an uninterrupted one.

use std::path::Path;

use anyhow::Context;
use tch::nn;
use tch::{Device, Kind, Reduction, Tensor};

use crate::checkpoint::{self, TrainState};
use crate::loader::SplitData;
use crate::metrics::{self, Summary};
use crate::optim::{OptimiserKind, Optimizer, Rule};
use crate::precision::{Backward, Precision};
use crate::unet::{parameter_count, UNet, UNetConfig};

/// Validation PSNR gains at or below this (dB) do not count as improvement.
pub const PSNR_THRESHOLD_DB: f64 = 1e-3;
/// Images per forward pass at evaluation.
const EVAL_BATCH: i64 = 64;

pub use plateau_run::record::Status;
pub use plateau_run::settings::{Augment, Loss};

/// Optimisation settings.
#[derive(Clone, Debug)]
pub struct TrainConfig {
    /// Network width and depth.
    pub net: UNetConfig,
    /// Channels of an image (the network's output): 3 for `--color rgb`.
    pub image_channels: i64,
    /// Channels of the network input: `image_channels`, or more for MRI's complex input
    /// (`Problem::input_channels`).
    pub input_channels: i64,
    /// Maximum number of epochs.
    pub epochs: usize,
    /// Mini-batch size.
    pub batch_size: usize,
    /// Initial learning rate.
    pub lr: f64,
    /// Seed of the initial weights and the data order.
    pub seed: u64,
    /// ReduceLROnPlateau patience (epochs).
    pub lr_patience: usize,
    /// ReduceLROnPlateau factor.
    pub lr_factor: f64,
    /// Learning-rate floor.
    pub min_lr: f64,
    /// Stop after this many epochs without a better validation PSNR.
    pub early_stop: usize,
    /// Continue from the last checkpoint (`state.json` and the files it names) in the output
    /// folder.
    pub resume: bool,
    /// Description of the run; a resume with a different one is refused.
    pub fingerprint: String,
    /// Random symmetries of the training pairs (input and target together), drawn per
    /// mini-batch.
    pub augment: Augment,
    /// Training loss.
    pub loss: Loss,
    /// Adam or RMSprop ([`Rule::of`]).
    pub optimiser: OptimiserKind,
    /// Data range of PSNR / SSIM (validation and test): `None` for each clean image's
    /// `max - min` (synthetic data; model selection on the mean validation PSNR), `Some(1.0)`
    /// for real images in `[0, 1]` (model selection on the PSNR of the mean validation MSE).
    pub data_range: Option<f64>,
    /// Arithmetic of the network's forward and backward passes.
    pub precision: Precision,
}

/// The three splits, each `(clean, input)` examples `[C, s, s]`, resident or streamed
/// ([`crate::loader`]).
pub struct Splits {
    /// Training examples.
    pub train: SplitData,
    /// Validation examples.
    pub val: SplitData,
    /// Test examples.
    pub test: SplitData,
}

/// What a run produced.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// Number of trainable parameters.
    pub params: i64,
    /// Test metrics of the best checkpoint (`None` when no epoch finished).
    pub test: Option<Summary>,
    /// Epoch (1-based) of the best checkpoint, 0 if none.
    pub best_epoch: usize,
    /// Best validation PSNR (dB).
    pub best_val_psnr: f64,
    /// Epochs finished (including those of an earlier, resumed run).
    pub epochs_run: usize,
    /// How the run ended.
    pub status: Status,
    /// Why it diverged, if it did.
    pub message: Option<String>,
}

/// Runs the network on `noisy` in chunks without gradients.
pub fn predict(net: &UNet, noisy: &Tensor) -> Tensor {
    tch::no_grad(|| {
        let chunks: Vec<Tensor> = noisy
            .split(EVAL_BATCH, 0)
            .iter()
            .map(|b| net.denoise(b))
            .collect();
        Tensor::cat(&chunks, 0)
    })
}

/// Runs the network on every example of `data`, in bounded chunks ([`crate::loader::eval_chunk`])
/// without gradients, and hands each `(output, clean)` chunk to `f`.
///
/// # Errors
/// An example that cannot be read.
pub fn predict_chunks(
    net: &UNet,
    data: &SplitData,
    device: Device,
    mut f: impl FnMut(&Tensor, &Tensor),
) -> anyhow::Result<()> {
    for chunk in data.chunks(device) {
        let (clean, input) = chunk?;
        f(&tch::no_grad(|| net.denoise(&input)), &clean);
    }
    Ok(())
}

/// Trains a U-Net on `splits` and writes checkpoints into `dir` (which must exist).
///
/// `on_epoch(epoch, train_loss, val_psnr, lr)` is called after each finished epoch.
pub fn train_unet(
    cfg: &TrainConfig,
    splits: &Splits,
    device: Device,
    dir: &Path,
    mut on_epoch: impl FnMut(usize, f64, f64, f64),
) -> anyhow::Result<Outcome> {
    let mut run = Trainer::new(cfg, device);
    if cfg.resume {
        run.resume(cfg, dir)?;
    }
    let mut message = None;
    while run.continues(cfg) {
        let epoch = run.state.epochs_done + 1;
        let train_loss = match run.train_epoch(cfg, &splits.train, device, epoch)? {
            EpochEnd::Trained { mean_loss } => mean_loss,
            EpochEnd::Diverged(why) => {
                message = Some(why);
                break;
            }
        };
        let val_psnr = validate(&run.net, &splits.val, device, cfg.data_range)?;
        if !val_psnr.is_finite() {
            message = Some(format!(
                "training diverged: validation PSNR is {val_psnr} after epoch {epoch}"
            ));
            break;
        }
        if !run.keep_if_best(val_psnr, epoch, dir)? {
            run.reduce_lr_on_plateau(cfg);
        }
        run.checkpoint(epoch, dir)?;
        on_epoch(epoch, train_loss, val_psnr, run.state.lr);
    }
    let test = run.test(&splits.test, device, cfg.data_range, dir)?;
    Ok(Outcome {
        params: run.params,
        test,
        best_epoch: run.state.best_epoch,
        best_val_psnr: run.state.best_val_psnr,
        epochs_run: run.state.epochs_done,
        status: if message.is_some() {
            Status::Diverged
        } else {
            Status::Ok
        },
        message,
    })
}

/// The network, its optimiser and the state a checkpoint saves, through the epochs of a run.
struct Trainer {
    vs: nn::VarStore,
    net: UNet,
    opt: Optimizer,
    backward: Backward,
    state: TrainState,
    /// Trainable parameters.
    params: i64,
}

/// How an epoch of training ended.
enum EpochEnd {
    /// Every mini-batch stepped; the mean training loss.
    Trained { mean_loss: f64 },
    /// A mini-batch's loss was not finite: why, for the record.
    Diverged(String),
}

impl Trainer {
    /// A fresh network whose initial weights come from `cfg.seed`, and the state of epoch 0.
    fn new(cfg: &TrainConfig, device: Device) -> Trainer {
        tch::manual_seed(cfg.seed as i64);
        let vs = nn::VarStore::new(device);
        let net = UNet::with_io(&vs.root(), cfg.net, cfg.input_channels, cfg.image_channels)
            .in_precision(cfg.precision);
        let params = parameter_count(&vs);
        let state = TrainState {
            format: checkpoint::FORMAT,
            epochs_done: 0,
            lr: cfg.lr,
            best_val_psnr: f64::NEG_INFINITY,
            best_epoch: 0,
            lr_bad_epochs: 0,
            config: cfg.fingerprint.clone(),
            loss_scale: None,
        };
        let opt = Optimizer::new(Rule::of(cfg.optimiser), &vs, state.lr);
        let backward = Backward::new(cfg.precision, &vs);
        Trainer {
            vs,
            net,
            opt,
            backward,
            state,
            params,
        }
    }

    /// Continues from the last checkpoint in `dir`, if there is one, written by a run with the
    /// same settings: weights, optimiser state, learning rate and loss scale.
    fn resume(&mut self, cfg: &TrainConfig, dir: &Path) -> anyhow::Result<()> {
        let Some(saved) = checkpoint::load_state(dir)? else {
            return Ok(());
        };
        anyhow::ensure!(
            saved.config == cfg.fingerprint,
            "cannot resume: {} was written by a run with other settings ({})",
            checkpoint::state_path(dir).display(),
            saved.config
        );
        let weights = checkpoint::last_path(dir, saved.epochs_done);
        self.vs
            .load(&weights)
            .with_context(|| format!("cannot load {}", weights.display()))?;
        self.opt
            .load(&checkpoint::optim_path(dir, saved.epochs_done))?;
        self.opt.set_lr(saved.lr);
        self.backward.restore(saved.loss_scale.as_ref())?;
        self.state = saved;
        Ok(())
    }

    /// Epochs remain and the validation PSNR improved within the last `early_stop` epochs.
    fn continues(&self, cfg: &TrainConfig) -> bool {
        let s = &self.state;
        s.epochs_done < cfg.epochs
            && s.epochs_done - s.best_epoch.min(s.epochs_done) < cfg.early_stop.max(1)
    }

    /// One pass over the training set in the order of `epoch`, one optimiser step per
    /// mini-batch (skipped where an fp16 loss scale overflows).
    fn train_epoch(
        &mut self,
        cfg: &TrainConfig,
        train: &SplitData,
        device: Device,
        epoch: usize,
    ) -> anyhow::Result<EpochEnd> {
        let order = epoch_order(cfg.seed, epoch, train.len() as i64, device);
        let (mut loss_sum, mut batches) = (0.0, 0usize);
        for (step, pair) in train.batches(order, cfg.batch_size, device).enumerate() {
            let (xb, yb) = pair?;
            let (xb, yb) = augment(cfg.augment, xb, yb);
            let out = self.net.denoise(&yb);
            let loss = match cfg.loss {
                Loss::Mse => out.mse_loss(&xb, Reduction::Mean),
                Loss::L1 => out.l1_loss(&xb, Reduction::Mean),
            };
            let value = loss.double_value(&[]);
            if !value.is_finite() {
                return Ok(EpochEnd::Diverged(format!(
                    "training diverged: loss = {value} at epoch {epoch}, step {} (lr {:e}); \
                     reporting the best checkpoint so far",
                    step + 1,
                    self.state.lr
                )));
            }
            self.opt.zero_grad();
            if self.backward.run(&loss) {
                self.opt.step();
            }
            loss_sum += value;
            batches += 1;
        }
        Ok(EpochEnd::Trained {
            mean_loss: loss_sum / batches.max(1) as f64,
        })
    }

    /// Keeps the weights as the best checkpoint when `val_psnr` (finite) beats the best by more
    /// than [`PSNR_THRESHOLD_DB`]; whether it did.
    fn keep_if_best(&mut self, val_psnr: f64, epoch: usize, dir: &Path) -> anyhow::Result<bool> {
        let state = &mut self.state;
        if val_psnr <= state.best_val_psnr + PSNR_THRESHOLD_DB {
            return Ok(false);
        }
        state.best_val_psnr = val_psnr;
        state.best_epoch = epoch;
        state.lr_bad_epochs = 0;
        checkpoint::save_weights(&self.vs, &checkpoint::best_path(dir))?;
        Ok(true)
    }

    /// ReduceLROnPlateau: counts an epoch without improvement and, past the patience, lowers
    /// the learning rate to `max(lr * lr_factor, min_lr)`.
    fn reduce_lr_on_plateau(&mut self, cfg: &TrainConfig) {
        let state = &mut self.state;
        state.lr_bad_epochs += 1;
        if state.lr_bad_epochs > cfg.lr_patience {
            state.lr = (state.lr * cfg.lr_factor).max(cfg.min_lr);
            self.opt.set_lr(state.lr);
            state.lr_bad_epochs = 0;
        }
    }

    /// Writes the last checkpoint of `epoch` (weights, optimiser, state), from which a resumed
    /// run continues.
    fn checkpoint(&mut self, epoch: usize, dir: &Path) -> anyhow::Result<()> {
        self.state.epochs_done = epoch;
        self.state.loss_scale = self.backward.saved();
        checkpoint::save_last(&self.vs, &self.opt, dir, &self.state)
    }

    /// The test metrics of the best checkpoint (`None` when no epoch finished).
    fn test(
        &mut self,
        test: &SplitData,
        device: Device,
        data_range: Option<f64>,
        dir: &Path,
    ) -> anyhow::Result<Option<Summary>> {
        if self.state.best_epoch == 0 {
            return Ok(None);
        }
        let best = checkpoint::best_path(dir);
        self.vs
            .load(&best)
            .with_context(|| format!("cannot load {}", best.display()))?;
        let mut per_image = metrics::PerImage::default();
        predict_chunks(&self.net, test, device, |out, clean| {
            per_image.extend(out, clean, data_range)
        })?;
        Ok(Some(per_image.summary()))
    }
}

/// The training set's order in `epoch`: a permutation from LibTorch's generator seeded by
/// `seed * 1_000_003 + epoch`, so that a resumed run sees the same order (and the same
/// augmentation coins, drawn after it) as an uninterrupted one.
fn epoch_order(seed: u64, epoch: usize, n_train: i64, device: Device) -> Vec<usize> {
    tch::manual_seed(
        (seed as i64)
            .wrapping_mul(1_000_003)
            .wrapping_add(epoch as i64),
    );
    let order = Tensor::randperm(n_train, (Kind::Int64, device));
    Vec::<i64>::try_from(order.to_device(Device::Cpu))
        .expect("a permutation")
        .into_iter()
        .map(|i| i as usize)
        .collect()
}

/// A random symmetry of a mini-batch `[B, C, s, s]`, input and target together.
fn augment(augment: Augment, mut xb: Tensor, mut yb: Tensor) -> (Tensor, Tensor) {
    if augment == Augment::None {
        return (xb, yb);
    }
    // One horizontal and one vertical coin per batch, from LibTorch's generator (seeded per
    // epoch, so a resumed run sees the same flips).
    let coins = Vec::<i64>::try_from(Tensor::randint(2, [2], (Kind::Int64, Device::Cpu)))
        .expect("two coins");
    for (coin, dim) in coins.iter().zip([3i64, 2]) {
        if *coin == 1 {
            xb = xb.flip([dim]);
            yb = yb.flip([dim]);
        }
    }
    // A third coin, drawn after the flips' so that `Flips` runs keep their stream.
    if augment == Augment::Dihedral
        && Tensor::randint(2, [1], (Kind::Int64, Device::Cpu)).int64_value(&[0]) == 1
    {
        xb = xb.transpose(2, 3).contiguous();
        yb = yb.transpose(2, 3).contiguous();
    }
    (xb, yb)
}

/// The validation PSNR (dB) that selects the model: the mean per-image PSNR of synthetic images
/// (`data_range` `None`), the PSNR of the mean MSE of real ones.
fn validate(
    net: &UNet,
    val: &SplitData,
    device: Device,
    data_range: Option<f64>,
) -> anyhow::Result<f64> {
    // Per-image PSNRs (synthetic) or MSEs (real), chunk by chunk.
    let mut per_image = Vec::with_capacity(val.len());
    predict_chunks(net, val, device, |out, clean| {
        per_image.extend(match data_range {
            None => metrics::psnr(out, clean),
            Some(_) => metrics::mse(out, clean),
        })
    })?;
    Ok(match data_range {
        // Synthetic images: the mean of the per-image PSNRs (the paper's protocol).
        None => per_image.iter().sum::<f64>() / val.len() as f64,
        // Real patches are heterogeneous: the mean per-patch PSNR is dominated by smooth
        // patches and can fall while the MSE (the training loss) still improves, so select
        // on the PSNR of the mean MSE, 10 log10(R^2 / mean MSE).
        Some(r) => {
            let m = &per_image;
            10.0 * (r * r * m.len() as f64 / m.iter().sum::<f64>()).log10()
        }
    })
}

/// One timed training step (forward, backward, Adam) of a U-Net on fixed random data.
pub struct Bench {
    net: UNet,
    opt: Optimizer,
    backward: Backward,
    x: Tensor,
    y: Tensor,
    _vs: nn::VarStore,
}

impl Bench {
    /// A U-Net of the given size computing in `precision`, with Adam (lr 1e-3) and one random
    /// batch `[batch, 1, s, s]`.
    pub fn new(
        net: UNetConfig,
        side: i64,
        batch: i64,
        device: Device,
        precision: Precision,
    ) -> anyhow::Result<Self> {
        tch::manual_seed(0);
        let vs = nn::VarStore::new(device);
        let unet = UNet::new(&vs.root(), net).in_precision(precision);
        let opt = Optimizer::new(Rule::of(OptimiserKind::Adam), &vs, 1e-3);
        let backward = Backward::new(precision, &vs);
        let x = Tensor::randn([batch, 1, side, side], (Kind::Float, device));
        let y = &x + Tensor::randn([batch, 1, side, side], (Kind::Float, device)) * 0.1;
        Ok(Self {
            net: unet,
            opt,
            backward,
            x,
            y,
            _vs: vs,
        })
    }

    /// One step on the raw network (as the PyTorch reference does); returns the loss.
    pub fn step(&mut self) -> f64 {
        let loss = self.net.forward(&self.y).mse_loss(&self.x, Reduction::Mean);
        self.opt.zero_grad();
        if self.backward.run(&loss) {
            self.opt.step();
        }
        loss.double_value(&[])
    }
}
