//! The flags of `plateau train` and `plateau bench-train` (clap). They live here, without
//! LibTorch, because `plateau sweep` checks every cell of a config against them before anything
//! runs; the training binary (`plateau-train`, crate `plateau-experiments`) parses the same
//! struct.

use std::path::PathBuf;

use crate::problem::{Color, DataArg, Downsample, MaskKind, MaskSeed, MriInput, Synthetic};
use crate::settings::{Loss, ModelKind, OptimiserKind, Precision};

/// The reconstruction task.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum TaskKind {
    /// Additive white Gaussian noise removal (--noise-std).
    Denoise,
    /// Accelerated single-coil MRI: Cartesian column undersampling, zero-filled magnitude input
    /// (--acceleration, --center-fraction, --mask).
    Mri,
    /// Super-resolution: downsampling by --scale (--downsample), bicubic-upsampled input.
    Sr,
}

/// Arguments of `plateau train`.
#[derive(Debug, clap::Args)]
pub struct TrainArgs {
    /// Reconstruction task: denoise, mri or sr.
    #[arg(long, value_enum)]
    pub task: TaskKind,
    /// Data: subspace, gaussian-field (synthetic, exact floor), skimage (scikit-image sample
    /// photographs, from `make bootstrap`), phantoms (random ellipses), folder:PATH (PNG/JPEG
    /// files), fastmri:PATH (fastMRI HDF5 volumes).
    #[arg(long)]
    pub data: DataArg,
    /// Model.
    #[arg(long, value_enum, default_value_t = ModelKind::Unet)]
    pub model: ModelKind,
    /// Number of training examples N (>= 1).
    #[arg(long)]
    pub train_size: usize,
    /// fastMRI: spread the training slices over the first K training volumes (a user with
    /// less data has fewer volumes), --train-size slices in all (at least K).
    #[arg(long, value_name = "K")]
    pub train_volumes: Option<usize>,
    /// U-Net width (channels of the first layer).
    #[arg(long, default_value_t = 16)]
    pub channels: i64,
    /// U-Net depth (pooling layers).
    #[arg(long, default_value_t = 2)]
    pub pools: usize,
    /// Image side s (pixels); a multiple of 2^pools for the U-Net, at least 7 (SSIM window).
    #[arg(long, default_value_t = 32)]
    pub image_size: usize,
    /// Noise standard deviation sigma, in pixel units (--task denoise only) [default: 0.1].
    #[arg(long, allow_negative_numbers = true)]
    pub noise_std: Option<f64>,
    /// MRI acceleration: about W / acceleration k-space columns are sampled.
    #[arg(long, default_value_t = 4)]
    pub acceleration: usize,
    /// MRI: fraction of fully sampled centre columns (round(W * fraction) columns).
    #[arg(long, default_value_t = 0.08, allow_negative_numbers = true)]
    pub center_fraction: f64,
    /// MRI: how the other columns are chosen: drawn per example (random, equispaced), or one
    /// random mask drawn once from --mask-seed and shared by every example (fixed).
    #[arg(long, value_enum, default_value_t = MaskKind::Random)]
    pub mask: MaskKind,
    /// MRI with --mask fixed: the seed of the mask, `run` (the run's --seed) or a number (every
    /// run of a curve shares that mask) [default: run].
    #[arg(long, value_name = "POLICY")]
    pub mask_seed: Option<MaskSeed>,
    /// MRI: what the network is given. `complex`: the zero-filled image's real and imaginary
    /// parts (and, with per-example masks, the mask as a third channel), the information of the
    /// Bayes floor; `magnitude`: fastMRI's zero-filled magnitude (the floor is then only a lower
    /// bound) [default: complex on subspace and gaussian-field, magnitude on real data].
    #[arg(long, value_enum)]
    pub mri_input: Option<MriInput>,
    /// Super-resolution factor: 2 or 4.
    #[arg(long, default_value_t = 2)]
    pub scale: usize,
    /// Super-resolution: how the low-resolution image is made. `area` (block means; exact
    /// floors for synthetic data) or `bicubic` (antialiased, as PIL and MATLAB imresize: the
    /// usual SR benchmark degradation; real images only).
    #[arg(long, value_enum, default_value_t = Downsample::Area)]
    pub downsample: Downsample,
    /// Photographs (folder, skimage): gray or rgb.
    #[arg(long, value_enum, default_value_t = Color::Gray)]
    pub color: Color,
    /// Skip unreadable image / HDF5 files (reported with a count) instead of failing.
    #[arg(long)]
    pub skip_bad_files: bool,
    /// Maximum epochs (U-Net) or gradient-descent steps (linear) [default: 100 / 1000].
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Mini-batch size (U-Net).
    #[arg(long, default_value_t = 16)]
    pub batch_size: usize,
    /// Learning rate: the optimiser's initial rate (U-Net, default 1e-3) or the gradient-descent step
    /// (linear, default the paper's rule eta = 1 / (N (1 + eps) (1 + sigma^2))).
    #[arg(long, allow_negative_numbers = true)]
    pub lr: Option<f64>,
    /// Seed of data, measurements, initial weights and data order.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Device: cpu, cuda or cuda:N.
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// Arithmetic of the U-Net's forward and backward passes: fp32, bf16 (bfloat16) or fp16
    /// (half, with a dynamic loss scale). Weights, optimiser and loss stay fp32 (U-Net only).
    #[arg(long, value_enum, default_value_t = Precision::Fp32)]
    pub precision: Precision,
    /// Output folder.
    #[arg(long)]
    pub out: PathBuf,
    /// The synthetic images' parameters.
    #[command(flatten)]
    pub synthetic: SyntheticArgs,
    /// Validation examples.
    #[arg(long, default_value_t = 128)]
    pub val_size: usize,
    /// Test examples.
    #[arg(long, default_value_t = 512)]
    pub test_size: usize,
    /// ReduceLROnPlateau patience (epochs without a better validation PSNR).
    #[arg(long, default_value_t = 6)]
    pub lr_patience: usize,
    /// Learning-rate floor.
    #[arg(long, default_value_t = 1e-5)]
    pub min_lr: f64,
    /// Stop after this many epochs without a better validation PSNR.
    #[arg(long, default_value_t = 15)]
    pub early_stop: usize,
    /// Augment the training set with random horizontal / vertical flips (U-Net).
    #[arg(long)]
    pub augment: bool,
    /// With --augment: also transpose at random, so that training sees all 8 symmetries of the
    /// square (90-degree rotations included). --task denoise and sr only (the transpose of a
    /// column mask is a row mask).
    #[arg(long, requires = "augment")]
    pub augment_dihedral: bool,
    /// Training loss (U-Net); model selection stays on the validation PSNR.
    #[arg(long, value_enum, default_value_t = Loss::Mse)]
    pub loss: Loss,
    /// Optimiser of the U-Net: adam (the paper's denoising recipe) or rmsprop. The paper's MRI
    /// recipe (fastMRI's U-Net baseline) is `--task mri --pools 4 --optimiser rmsprop --min-lr
    /// 1e-6` (lr 1e-3, ReduceLROnPlateau as for Adam); its image side must be a multiple of 16.
    #[arg(long, visible_alias = "optimizer", value_enum, default_value_t = OptimiserKind::Adam)]
    pub optimiser: OptimiserKind,
    /// Continue an interrupted run from its last checkpoint (DIR/state.json and the weights and
    /// optimiser state it names).
    #[arg(long)]
    pub resume: bool,
    /// No progress on standard error. By default a bar on a terminal, and otherwise (a log, a
    /// Slurm job) one line per epoch: `epoch 3/40: train loss ..., val PSNR ... dB, lr ..., 12.3 s`.
    #[arg(long)]
    pub quiet: bool,
    /// Print the number of trainable parameters of the configured network and exit: the flags
    /// are validated as for training, but no data are loaded and nothing is written.
    #[arg(long)]
    pub print_params: bool,
}

/// The parameters of the synthetic images (`--data subspace`, `--data gaussian-field`), the
/// same flags in `plateau train` and `plateau spectrum`.
#[derive(Debug, clap::Args)]
pub struct SyntheticArgs {
    /// Subspace dimension d (subspace data).
    #[arg(long, default_value_t = 10)]
    pub subspace_dim: usize,
    /// Power-law exponent of the field's spectrum (gaussian-field data; 2 = 1/f^2).
    #[arg(long, default_value_t = 2.0, allow_negative_numbers = true)]
    pub field_exponent: f64,
    /// Low-frequency cutoff f0 of the field's spectrum, cycles per pixel.
    #[arg(long, default_value_t = 0.05, allow_negative_numbers = true)]
    pub field_cutoff: f64,
    /// Pixel standard deviation of the clean field (0.25: natural images scaled to [0, 1]).
    #[arg(long, default_value_t = 0.25, allow_negative_numbers = true)]
    pub field_std: f64,
}

impl SyntheticArgs {
    /// `--data subspace` with these parameters.
    pub fn subspace(&self) -> Synthetic {
        Synthetic::Subspace {
            dim: self.subspace_dim,
        }
    }

    /// `--data gaussian-field` with these parameters.
    pub fn gaussian_field(&self) -> Synthetic {
        Synthetic::GaussianField {
            exponent: self.field_exponent,
            cutoff: self.field_cutoff,
            std: self.field_std,
        }
    }
}

/// Arguments of `plateau bench-train`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// U-Net width.
    #[arg(long, default_value_t = 32)]
    pub channels: i64,
    /// U-Net depth.
    #[arg(long, default_value_t = 2)]
    pub pools: usize,
    /// Image side (grayscale).
    #[arg(long, default_value_t = 64)]
    pub image_size: usize,
    /// Images per step.
    #[arg(long, default_value_t = 16)]
    pub batch_size: usize,
    /// Timed steps.
    #[arg(long, default_value_t = 50)]
    pub steps: usize,
    /// Untimed warm-up steps.
    #[arg(long, default_value_t = 5)]
    pub warmup: usize,
    /// Device: cpu, cuda or cuda:N.
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// Arithmetic of the forward and backward passes: fp32, bf16 or fp16 (as `plateau train`).
    #[arg(long, value_enum, default_value_t = Precision::Fp32)]
    pub precision: Precision,
}

/// The `plateau train` parser as a clap command (no binary name), for checking sweep cells.
pub fn train_command() -> clap::Command {
    <TrainArgs as clap::Args>::augment_args(clap::Command::new("train")).no_binary_name(true)
}
