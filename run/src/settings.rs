//! How a run learns: the model family and depth, the optimiser, when to stop and how much
//! held-out data it is judged on. Plain data; the LibTorch side reads them.

use anyhow::{ensure, Result};
use serde::{Deserialize, Serialize};

/// The reconstruction network family.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    /// fastMRI U-Net, Adam.
    #[default]
    Unet,
    /// Full linear map W (pixels x pixels), full-batch gradient descent (subspace denoising only).
    Linear,
}

/// The arithmetic of a network's forward and backward passes (`--precision`). Weights, Adam's
/// state and the loss stay `f32` in every case; see `plateau_experiments::precision` for what
/// each computes in.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, strum::IntoStaticStr,
)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Precision {
    /// Everything in `f32` (IEEE single precision).
    #[default]
    Fp32,
    /// Convolutions, norms and activations in bfloat16 (8-bit significand, `f32`'s exponent
    /// range): no loss scaling needed.
    Bf16,
    /// Convolutions, norms and activations in IEEE half precision (11-bit significand, largest
    /// value 65504), with a dynamic loss scale against gradient underflow.
    Fp16,
}

impl Precision {
    /// `fp32`, `bf16` or `fp16` (the flag's and the record's spelling).
    pub fn name(&self) -> &'static str {
        self.into()
    }

    /// Whether this is the default, full-`f32` arithmetic.
    pub fn is_fp32(&self) -> bool {
        *self == Precision::Fp32
    }
}

/// Width and depth of a U-Net.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct UNetShape {
    /// Channels of the first layer `C` (the width).
    pub channels: i64,
    /// Number of pooling layers (the depth).
    pub pools: usize,
}

impl UNetShape {
    /// Checks that the network can process `side x side` images.
    ///
    /// # Errors
    /// When `channels < 1`, `pools` outside `1..=8`, or `side` is not a multiple of `2^pools`.
    pub fn validate(&self, side: usize) -> Result<()> {
        ensure!(
            self.channels >= 1,
            "--channels must be at least 1, got {}",
            self.channels
        );
        ensure!(
            (1..=8).contains(&self.pools),
            "--pools must be in 1..=8, got {}",
            self.pools
        );
        let m = 1usize << self.pools;
        ensure!(
            side.is_multiple_of(m) && side >= m,
            "--image-size {side} must be a positive multiple of 2^pools = {m}"
        );
        Ok(())
    }
}

/// Random symmetries applied to each training mini-batch (input and target together).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Augment {
    /// None.
    #[default]
    None,
    /// Horizontal and vertical flips (one coin each per mini-batch): valid for every task.
    Flips,
    /// Flips and a transpose (one more coin): all 8 symmetries of the square. Denoising and
    /// super-resolution only (a transposed column mask is a row mask).
    Dihedral,
}

impl Augment {
    /// From the two switches `--augment` and `--augment-dihedral`.
    pub fn from_switches(augment: bool, dihedral: bool) -> Augment {
        match (augment, dihedral) {
            (false, _) => Augment::None,
            (true, false) => Augment::Flips,
            (true, true) => Augment::Dihedral,
        }
    }
}

/// Training loss between the network output and the clean image.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum Loss {
    /// Mean squared error.
    #[default]
    Mse,
    /// Mean absolute error (L1).
    L1,
}

/// The U-Net's optimiser. Both keep their state (moments, step count) in the checkpoint, so a
/// resumed run continues exactly.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum OptimiserKind {
    /// Adam with PyTorch's defaults (betas 0.9 / 0.999, eps 1e-8, no weight decay).
    #[default]
    Adam,
    /// RMSprop with PyTorch's defaults (alpha 0.99, eps 1e-8, no momentum, no weight decay):
    /// fastMRI's U-Net baseline, the paper's MRI recipe with `--pools 4`.
    Rmsprop,
}

/// The optimiser's settings (`metrics.json`: `optimiser`, `batch_size`, `lr`, `loss`,
/// `augment`, `augment_dihedral`, `lr_patience`, `min_lr`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Optimiser {
    /// Adam or RMSprop (U-Net). Records of versions that did not write it were Adam.
    #[serde(default)]
    pub optimiser: OptimiserKind,
    /// Mini-batch size (U-Net).
    pub batch_size: usize,
    /// Learning rate as requested: the optimiser's initial rate for the U-Net (1e-3 when not given), the
    /// gradient-descent step for the linear model (`None`: the paper's rule, which depends on N;
    /// the step used is the result `eta`).
    pub lr: Option<f64>,
    /// Training loss.
    #[serde(default)]
    pub loss: Loss,
    /// Random symmetries of the training pairs.
    #[serde(flatten, with = "augment_switches")]
    pub augment: Augment,
    /// ReduceLROnPlateau patience (epochs without a better validation PSNR). Records of
    /// versions that did not write it read as the flag's default.
    #[serde(default = "defaults::lr_patience")]
    pub lr_patience: usize,
    /// Learning-rate floor (default as for `lr_patience`).
    #[serde(default = "defaults::min_lr")]
    pub min_lr: f64,
}

/// The flags' defaults, for records written before a setting was recorded. Kept equal to the
/// clap defaults of `TrainArgs` by a test.
pub mod defaults {
    /// `--lr-patience`.
    pub fn lr_patience() -> usize {
        6
    }
    /// `--min-lr`.
    pub fn min_lr() -> f64 {
        1e-5
    }
    /// `--early-stop`.
    pub fn early_stop() -> usize {
        15
    }
}

/// When a run stops (`epochs`, `early_stop`): the only settings a resumed run may change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Stopping {
    /// Maximum epochs (U-Net) or gradient-descent steps (linear).
    pub epochs: usize,
    /// Stop after this many epochs without a better validation PSNR (default as for
    /// `Optimiser::lr_patience`).
    #[serde(default = "defaults::early_stop")]
    pub early_stop: usize,
}

/// Held-out examples (`val_size`, `test_size`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Validation examples (learning-rate schedule, checkpoint and width selection).
    pub val_size: usize,
    /// Test examples (reported metrics only).
    pub test_size: usize,
}

/// `augment` as the two switches of earlier records: `augment`, `augment_dihedral`.
mod augment_switches {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::Augment;

    #[derive(Serialize, Deserialize)]
    struct Switches {
        #[serde(default)]
        augment: bool,
        #[serde(default)]
        augment_dihedral: bool,
    }

    pub fn serialize<S: Serializer>(a: &Augment, s: S) -> Result<S::Ok, S::Error> {
        Switches {
            augment: *a != Augment::None,
            augment_dihedral: *a == Augment::Dihedral,
        }
        .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Augment, D::Error> {
        let w = Switches::deserialize(d)?;
        Ok(Augment::from_switches(w.augment, w.augment_dihedral))
    }
}
