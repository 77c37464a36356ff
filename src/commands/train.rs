//! `plateau train`: train a reconstruction network (denoising, accelerated MRI,
//! super-resolution) on synthetic images whose error floor is known, or on real images.
//!
//! Writes `DIR/metrics.json` (test MSE, PSNR, SSIM of the output and of the baseline that the
//! network sees as input, the exact floor `floor_mse` for synthetic data (null for real images),
//! the Bayes estimator's MSE on the same test images `oracle_test_mse` where implemented, ...),
//! the best checkpoint `DIR/best.safetensors`, for `--model unet` the last checkpoint
//! (`last.safetensors`, `state.json`) and `history.csv` (`epoch,train_loss,val_psnr,lr`), and
//! for `--model linear` the risk path `DIR/risk_path.csv` (`k,risk_torch,risk_exact`). All
//! arguments are checked before anything is written.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, ensure, Result};
use plateau_experiments::data::{DataKind, DataSpec, Pairs, Split};
use plateau_experiments::images::{Color, LoadOptions, Source};
use plateau_experiments::linear::{max_relative_error, train_linear};
use plateau_experiments::metrics::{self, Summary};
use plateau_experiments::task::{Downsample, MaskKind, Task};
use plateau_experiments::train::{train_unet, Augment, Loss, Splits, Status, TrainConfig};
use plateau_experiments::unet::UNetConfig;
use serde_json::{json, Value};
use tch::Tensor;

use crate::output::{progress, write_atomic};

/// The reconstruction task.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum TaskArg {
    /// Additive white Gaussian noise removal (--noise-std).
    Denoise,
    /// Accelerated single-coil MRI: Cartesian column undersampling, zero-filled magnitude input
    /// (--acceleration, --center-fraction, --mask).
    Mri,
    /// Super-resolution: area downsampling by --scale, bicubic-upsampled input.
    Sr,
}

/// The data set: parsed from `--data`.
#[derive(Clone, Debug, PartialEq)]
pub enum Data {
    /// The d lowest 2-D DCT modes with N(0, 1) coefficients (the paper's model as pictures).
    Subspace,
    /// Stationary Gaussian random field with a (f0^2 + f^2)^(-exponent/2) power spectrum.
    GaussianField,
    /// Real images (folder, scikit-image photographs, phantoms, fastMRI).
    Real(Source),
}

impl Data {
    fn is_synthetic(&self) -> bool {
        matches!(self, Data::Subspace | Data::GaussianField)
    }
}

/// Parses `--data`: `subspace`, `gaussian-field`, `skimage`, `phantoms`, `folder:PATH`,
/// `fastmri:PATH`.
pub fn parse_data(s: &str) -> std::result::Result<Data, String> {
    let path = |p: &str, what: &str| {
        if p.is_empty() {
            Err(format!("--data {what}: needs a path, as in {what}:PATH"))
        } else {
            Ok(PathBuf::from(p))
        }
    };
    match s {
        "subspace" => Ok(Data::Subspace),
        "gaussian-field" => Ok(Data::GaussianField),
        "skimage" => Ok(Data::Real(Source::Skimage)),
        "phantoms" => Ok(Data::Real(Source::Phantoms)),
        _ => {
            if let Some(p) = s.strip_prefix("folder:") {
                Ok(Data::Real(Source::Folder(path(p, "folder")?)))
            } else if let Some(p) = s.strip_prefix("fastmri:") {
                Ok(Data::Real(Source::FastMri(path(p, "fastmri")?)))
            } else {
                Err(format!(
                    "unknown data '{s}' (expected subspace, gaussian-field, skimage, phantoms, \
                     folder:PATH or fastmri:PATH)"
                ))
            }
        }
    }
}

/// The reconstruction network.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Model {
    /// fastMRI U-Net, Adam.
    Unet,
    /// Full linear map W (pixels x pixels), full-batch gradient descent (subspace denoising only).
    Linear,
}

/// k-space column selection of `--task mri`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum MaskArg {
    /// fastMRI RandomMaskFunc: centre columns plus independent random columns.
    Random,
    /// fastMRI equispaced mask: centre columns plus equally spaced columns (random offset).
    Equispaced,
}

/// Grayscale or colour for photographs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorArg {
    /// Luma (Rec. 709 weights).
    Gray,
    /// Three channels, each reconstructed as a separate single-channel image.
    Rgb,
}

/// The low-resolution image of `--task sr`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum DownsampleArg {
    /// Means over scale x scale blocks.
    Area,
    /// Antialiased bicubic.
    Bicubic,
}

/// Training loss of `--model unet`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LossArg {
    /// Mean squared error.
    Mse,
    /// Mean absolute error.
    L1,
}

/// Arguments of `plateau train`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Reconstruction task: denoise, mri or sr.
    #[arg(long, value_enum)]
    pub task: TaskArg,
    /// Data: subspace, gaussian-field (synthetic, exact floor), skimage (scikit-image sample
    /// photographs, from `make bootstrap`), phantoms (random ellipses), folder:PATH (PNG/JPEG
    /// files), fastmri:PATH (fastMRI HDF5 volumes).
    #[arg(long, value_parser = parse_data)]
    pub data: Data,
    /// Model.
    #[arg(long, value_enum)]
    pub model: Model,
    /// Number of training examples N (>= 1).
    #[arg(long)]
    pub train_size: usize,
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
    /// MRI: how the other columns are chosen (drawn per example).
    #[arg(long, value_enum, default_value_t = MaskArg::Random)]
    pub mask: MaskArg,
    /// Super-resolution factor: 2 or 4.
    #[arg(long, default_value_t = 2)]
    pub scale: usize,
    /// Super-resolution: how the low-resolution image is made. `area` (block means; exact
    /// floors for synthetic data) or `bicubic` (antialiased, as PIL and MATLAB imresize: the
    /// usual SR benchmark degradation; real images only).
    #[arg(long, value_enum, default_value_t = DownsampleArg::Area)]
    pub downsample: DownsampleArg,
    /// Photographs (folder, skimage): gray or rgb.
    #[arg(long, value_enum, default_value_t = ColorArg::Gray)]
    pub color: ColorArg,
    /// Skip unreadable image / HDF5 files (reported with a count) instead of failing.
    #[arg(long)]
    pub skip_bad_files: bool,
    /// Maximum epochs (U-Net) or gradient-descent steps (linear) [default: 100 / 1000].
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Mini-batch size (U-Net).
    #[arg(long, default_value_t = 16)]
    pub batch_size: usize,
    /// Learning rate: Adam's initial rate (U-Net, default 1e-3) or the gradient-descent step
    /// (linear, default the paper's rule eta = 1 / (N (1 + eps) (1 + sigma^2))).
    #[arg(long, allow_negative_numbers = true)]
    pub lr: Option<f64>,
    /// Seed of data, measurements, initial weights and data order.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Device: cpu, cuda or cuda:N.
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// Output folder.
    #[arg(long)]
    pub out: PathBuf,
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
    #[arg(long, value_enum, default_value_t = LossArg::Mse)]
    pub loss: LossArg,
    /// Continue an interrupted run from DIR/last.safetensors and DIR/state.json.
    #[arg(long)]
    pub resume: bool,
}

/// Noise of the synthetic generator when the task is not denoising: `DataSpec` draws a noisy copy
/// alongside each clean image (same stream), which mri / sr ignore; a fixed value keeps the clean
/// images identical across tasks for a seed.
const UNUSED_NOISE: f64 = 0.1;

/// What `validate` settles.
struct Plan {
    task: Task,
    /// Synthetic data's spec (with the floor), or `None` for real images.
    spec: Option<DataSpec>,
    color: Color,
}

/// Runs `plateau train`.
pub fn run(args: &Args) -> Result<()> {
    let plan = validate(args)?;
    let device = plateau_experiments::cuda::device(&args.device)?;
    let start = Instant::now();
    let task = plan.task;
    // Load (and check) every split before creating anything, so bad data writes nothing.
    let mut notes = Vec::new();
    let (train, val, test, synthetic) = match &plan.spec {
        Some(spec) => {
            let gen = |split, count| spec.generate(split, count, args.seed);
            let (tr, va, te) = (
                gen(Split::Train, args.train_size),
                gen(Split::Validation, args.val_size),
                gen(Split::Test, args.test_size),
            );
            let pair = |p: &Pairs, split| {
                let (clean, noisy) = p.tensors(device);
                let input = match task {
                    // The original denoising pipeline: noise from the data stream.
                    Task::Denoise { .. } => noisy,
                    _ => task.measure(&clean, split, args.seed, 0),
                };
                (clean, input)
            };
            let splits = (
                pair(&tr, Split::Train),
                pair(&va, Split::Validation),
                pair(&te, Split::Test),
            );
            (splits.0, splits.1, splits.2, Some((tr, va, te)))
        }
        None => {
            let Data::Real(source) = &args.data else {
                unreachable!("validated: real data")
            };
            let opt = LoadOptions {
                side: args.image_size,
                color: plan.color,
                skip_bad: args.skip_bad_files,
                seed: args.seed,
            };
            let mut load = |split, count| -> Result<(Tensor, Tensor)> {
                let loaded = source.load(split, count, &opt)?;
                notes.extend(loaded.skipped);
                let clean = loaded.images.to_device(device);
                let input = task.measure(&clean, split, args.seed, 0);
                Ok((clean, input))
            };
            let tr = load(Split::Train, args.train_size)?;
            let va = load(Split::Validation, args.val_size)?;
            let te = load(Split::Test, args.test_size)?;
            (tr, va, te, None)
        }
    };
    if !notes.is_empty() {
        eprintln!(
            "plateau: warning: skipped {} file(s) or slice(s), first: {}",
            notes.len(),
            notes[0]
        );
    }
    std::fs::create_dir_all(&args.out)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", args.out.display()))?;
    let input = metrics::summarize_range(&test.1, &test.0, data_range(&args.data));
    let (floor, floor_se, oracle) = match (&plan.spec, &synthetic) {
        (Some(spec), Some((_, _, test_pairs))) => {
            let (floor, se) = spec.task_floor(&task)?;
            let per_image = spec.task_oracle_per_image(&task, test_pairs, args.seed);
            let oracle = per_image.map(|v| v.iter().sum::<f64>() / v.len() as f64);
            (Some(floor), se, oracle)
        }
        _ => (None, None, None),
    };
    let mut record = json!({
        "task": task.name(),
        "data": data_name(&args.data),
        "model": match args.model { Model::Unet => "unet", Model::Linear => "linear" },
        "train_size": args.train_size,
        "image_size": args.image_size,
        "noise_std": match task { Task::Denoise { sigma } => json!(sigma), _ => Value::Null },
        "seed": args.seed,
        "device": args.device,
        "val_size": args.val_size,
        "test_size": args.test_size,
        "baseline": task.baseline_name(),
        "psnr_data_range": data_range(&args.data),
        "input_mse": input.mse,
        "input_mse_stderr": input.mse_stderr,
        "input_psnr": input.psnr,
        "input_ssim": input.ssim,
        "floor_mse": floor,
        "floor_mse_stderr": floor_se,
        "oracle_test_mse": oracle,
    });
    match task {
        Task::Denoise { .. } => {}
        Task::Mri {
            acceleration,
            center_fraction,
            mask,
        } => {
            record["acceleration"] = json!(acceleration);
            record["center_fraction"] = json!(center_fraction);
            record["mask"] = json!(mask.name());
        }
        Task::Sr { scale, downsample } => {
            record["scale"] = json!(scale);
            record["downsample"] = json!(downsample.name());
        }
    }
    if let Data::Real(source) = &args.data {
        record["channels_per_image"] = json!(source.channels(plan.color));
        record["color"] = json!(plan.color.name());
        record["skipped_files"] = json!(notes.len());
    }
    if let Some(spec) = &plan.spec {
        match spec.kind() {
            DataKind::Subspace { dim } => record["subspace_dim"] = json!(dim),
            DataKind::GaussianField {
                exponent,
                cutoff,
                std,
            } => {
                record["field_exponent"] = json!(exponent);
                record["field_cutoff"] = json!(cutoff);
                record["field_std"] = json!(std);
            }
        }
    }
    let fields = match args.model {
        Model::Unet => {
            let splits = Splits { train, val, test };
            run_unet(args, &task, &splits, device)?
        }
        Model::Linear => {
            let spec = plan.spec.as_ref().expect("validated: subspace data");
            let (train_pairs, val_pairs, test_pairs) =
                synthetic.as_ref().expect("validated: synthetic");
            run_linear(args, spec, device, train_pairs, val_pairs, test_pairs)?
        }
    };
    for (k, v) in fields {
        record[k] = v;
    }
    record["seconds"] = json!(start.elapsed().as_secs_f64());
    if let (Some(mse), Some(floor)) = (record["test_mse"].as_f64(), record["floor_mse"].as_f64()) {
        if floor > 0.0 {
            record["test_mse_over_floor"] = json!(mse / floor);
        }
    }
    if let (Some(mse), Some(base)) = (record["test_mse"].as_f64(), record["input_mse"].as_f64()) {
        record["psnr_gain_db"] = json!(10.0 * (base / mse).log10());
    }
    if record["status"] == "diverged" {
        eprintln!(
            "plateau: warning: {}",
            record["message"].as_str().unwrap_or("training diverged")
        );
    }
    write_atomic(
        &args.out.join("metrics.json"),
        (serde_json::to_string_pretty(&record)? + "\n").as_bytes(),
    )
}

/// PSNR / SSIM data range: each clean image's `max - min` for the (signed) synthetic images, 1
/// for real images, which lie in `[0, 1]` (a flat patch would otherwise have range 0).
fn data_range(data: &Data) -> Option<f64> {
    match data {
        Data::Subspace | Data::GaussianField => None,
        Data::Real(_) => Some(1.0),
    }
}

fn augment(args: &Args) -> Augment {
    match (args.augment, args.augment_dihedral) {
        (false, _) => Augment::None,
        (true, false) => Augment::Flips,
        (true, true) => Augment::Dihedral,
    }
}

/// The task as the resume fingerprint writes it: `Debug`, with the default area downsampling
/// left out so that SR runs of earlier versions still resume.
fn task_fingerprint(task: Task) -> String {
    match task {
        Task::Sr {
            scale,
            downsample: Downsample::Area,
        } => format!("Sr {{ scale: {scale} }}"),
        _ => format!("{task:?}"),
    }
}

fn data_name(data: &Data) -> String {
    match data {
        Data::Subspace => "subspace".into(),
        Data::GaussianField => "gaussian-field".into(),
        Data::Real(s) => s.name(),
    }
}

fn validate(args: &Args) -> Result<Plan> {
    ensure!(args.train_size >= 1, "--train-size must be at least 1");
    ensure!(
        args.val_size >= 1 && args.test_size >= 2,
        "--val-size must be at least 1 and --test-size at least 2"
    );
    ensure!(
        args.image_size >= 7,
        "--image-size must be at least 7 (the SSIM window), got {}",
        args.image_size
    );
    ensure!(args.epochs != Some(0), "--epochs must be at least 1");
    ensure!(args.batch_size >= 1, "--batch-size must be at least 1");
    if let Some(lr) = args.lr {
        ensure!(
            lr.is_finite() && lr > 0.0,
            "--lr must be finite and positive, got {lr}"
        );
    }
    ensure!(
        args.min_lr.is_finite() && args.min_lr >= 0.0,
        "--min-lr must be finite and non-negative"
    );
    let task = match args.task {
        TaskArg::Denoise => Task::Denoise {
            sigma: args.noise_std.unwrap_or(0.1),
        },
        TaskArg::Mri | TaskArg::Sr => {
            ensure!(
                args.noise_std.is_none(),
                "--noise-std applies to --task denoise only (mri and sr are noise-free)"
            );
            if args.task == TaskArg::Mri {
                Task::Mri {
                    acceleration: args.acceleration,
                    center_fraction: args.center_fraction,
                    mask: match args.mask {
                        MaskArg::Random => MaskKind::Random,
                        MaskArg::Equispaced => MaskKind::Equispaced,
                    },
                }
            } else {
                Task::Sr {
                    scale: args.scale,
                    downsample: match args.downsample {
                        DownsampleArg::Area => Downsample::Area,
                        DownsampleArg::Bicubic => Downsample::Bicubic,
                    },
                }
            }
        }
    };
    task.validate(args.image_size)?;
    ensure!(
        !(matches!(
            task,
            Task::Sr {
                downsample: Downsample::Bicubic,
                ..
            }
        ) && args.data.is_synthetic()),
        "--downsample bicubic is for real images: synthetic data has an exact floor_mse only for \
         --downsample area"
    );
    ensure!(
        !(args.augment_dihedral && matches!(task, Task::Mri { .. })),
        "--augment-dihedral does not apply to --task mri (a transposed column mask is a row mask)"
    );
    let color = match args.color {
        ColorArg::Gray => Color::Gray,
        ColorArg::Rgb => Color::Rgb,
    };
    let noise = match task {
        Task::Denoise { sigma } => sigma,
        _ => UNUSED_NOISE,
    };
    let spec = match &args.data {
        Data::Subspace => Some(DataKind::Subspace {
            dim: args.subspace_dim,
        }),
        Data::GaussianField => Some(DataKind::GaussianField {
            exponent: args.field_exponent,
            cutoff: args.field_cutoff,
            std: args.field_std,
        }),
        Data::Real(source) => {
            match source {
                Source::Folder(p) | Source::FastMri(p) => ensure!(
                    p.is_dir(),
                    "--data {}: {} is not a folder",
                    source.name(),
                    p.display()
                ),
                Source::Skimage | Source::Phantoms => {}
            }
            None
        }
    }
    .map(|kind| DataSpec::new(kind, args.image_size, noise))
    .transpose()?;
    if args.color == ColorArg::Rgb {
        ensure!(
            matches!(&args.data, Data::Real(Source::Folder(_) | Source::Skimage)),
            "--color rgb applies to photographs (folder:PATH, skimage) only"
        );
    }
    match args.model {
        Model::Unet => UNetConfig {
            channels: args.channels,
            pools: args.pools,
        }
        .validate(args.image_size)?,
        Model::Linear => {
            ensure!(
                args.data == Data::Subspace && args.task == TaskArg::Denoise,
                "--model linear needs --task denoise --data subspace (its exact risk path is known there)"
            );
            ensure!(
                args.image_size <= 64,
                "--model linear stores a pixels x pixels matrix: --image-size must be at most 64"
            );
        }
    }
    debug_assert_eq!(spec.is_some(), args.data.is_synthetic());
    let out: &Path = &args.out;
    if out.exists() {
        ensure!(
            out.is_dir(),
            "--out {} exists and is not a folder",
            out.display()
        );
        let has = |f: &str| out.join(f).exists();
        if args.resume {
            ensure!(
                args.model == Model::Unet,
                "--resume applies to --model unet only"
            );
        } else if has("metrics.json") || has("state.json") {
            bail!(
                "--out {} already holds a run; choose another folder or pass --resume",
                out.display()
            );
        }
    }
    Ok(Plan { task, spec, color })
}

fn summary_fields(test: Option<Summary>) -> Vec<(&'static str, Value)> {
    let get = |f: fn(&Summary) -> f64| test.as_ref().map_or(Value::Null, |s| json!(f(s)));
    vec![
        ("test_mse", get(|s| s.mse)),
        ("test_mse_stderr", get(|s| s.mse_stderr)),
        ("test_psnr", get(|s| s.psnr)),
        ("test_ssim", get(|s| s.ssim)),
    ]
}

fn run_unet(
    args: &Args,
    task: &Task,
    splits: &Splits,
    device: tch::Device,
) -> Result<Vec<(&'static str, Value)>> {
    let epochs = args.epochs.unwrap_or(100);
    let lr = args.lr.unwrap_or(1e-3);
    let common = format!(
        "s={} N={} C={} pools={} batch={} lr={} seed={} val={} test={}",
        args.image_size,
        args.train_size,
        args.channels,
        args.pools,
        args.batch_size,
        lr,
        args.seed,
        args.val_size,
        args.test_size
    );
    let fingerprint = match (task, args.data.is_synthetic()) {
        // The format of the first (denoising-only) version, so its runs still resume.
        (Task::Denoise { sigma }, true) => {
            let (s, rest) = common.split_once(' ').expect("two fields");
            let aug = if args.augment { " augment=true" } else { "" };
            format!(
                "data={} {s} sigma={sigma} {rest}{aug}",
                data_name(&args.data)
            )
        }
        _ => format!(
            "task={} data={} color={:?} augment={} {common}",
            task_fingerprint(*task),
            data_name(&args.data),
            args.color,
            args.augment
        ),
    };
    // Appended only when not the defaults, so runs of earlier versions still resume.
    let fingerprint = format!(
        "{fingerprint}{}{}",
        if args.augment_dihedral {
            " dihedral=true"
        } else {
            ""
        },
        match args.loss {
            LossArg::Mse => "",
            LossArg::L1 => " loss=l1",
        }
    );
    let cfg = TrainConfig {
        net: UNetConfig {
            channels: args.channels,
            pools: args.pools,
        },
        epochs,
        batch_size: args.batch_size,
        lr,
        seed: args.seed,
        lr_patience: args.lr_patience,
        lr_factor: 0.5,
        min_lr: args.min_lr,
        early_stop: args.early_stop,
        resume: args.resume,
        fingerprint,
        augment: augment(args),
        loss: match args.loss {
            LossArg::Mse => Loss::Mse,
            LossArg::L1 => Loss::L1,
        },
        data_range: data_range(&args.data),
    };
    let bar = progress(epochs as u64, "train");
    let history_path = args.out.join("history.csv");
    let mut history = match (args.resume, std::fs::read_to_string(&history_path)) {
        (true, Ok(text)) => text,
        _ => String::from("epoch,train_loss,val_psnr,lr\n"),
    };
    let outcome = train_unet(&cfg, splits, device, &args.out, |epoch, loss, psnr, lr| {
        bar.set_position(epoch as u64);
        bar.set_message(format!("loss {loss:.3e} val {psnr:.2} dB lr {lr:.0e}"));
        let _ = writeln!(history, "{epoch},{loss:.9e},{psnr:.6},{lr:e}");
        // Written each epoch, so an interrupted run keeps its history for --resume.
        let _ = write_atomic(&history_path, history.as_bytes());
    });
    bar.finish_and_clear();
    let outcome = outcome?;
    let mut fields = summary_fields(outcome.test);
    fields.extend([
        ("channels", json!(args.channels)),
        ("pools", json!(args.pools)),
        ("params", json!(outcome.params)),
        ("batch_size", json!(args.batch_size)),
        ("lr", json!(lr)),
        ("epochs", json!(epochs)),
        ("best_epoch", json!(outcome.best_epoch)),
        ("best_val_psnr", json!(outcome.best_val_psnr)),
        ("epochs_run", json!(outcome.epochs_run)),
        ("status", json!(outcome.status.name())),
        ("message", outcome.message.map_or(Value::Null, Value::from)),
        ("augment", json!(args.augment)),
        ("augment_dihedral", json!(args.augment_dihedral)),
        (
            "loss",
            json!(match args.loss {
                LossArg::Mse => "mse",
                LossArg::L1 => "l1",
            }),
        ),
        ("checkpoint", json!("best.safetensors")),
    ]);
    Ok(fields)
}

fn run_linear(
    args: &Args,
    spec: &DataSpec,
    device: tch::Device,
    train: &Pairs,
    val: &Pairs,
    test: &Pairs,
) -> Result<Vec<(&'static str, Value)>> {
    let (setup, basis) = spec.subspace().expect("validated: subspace data");
    let iters = args.epochs.unwrap_or(1000);
    let bar = progress(iters as u64, "gd");
    let run = train_linear(setup, basis, train, val, iters, args.lr, device, || {
        bar.inc(1)
    });
    bar.finish_and_clear();
    let run = run?;
    let (w, best_k, _) = &run.best;
    let n = spec.pixels() as i64;
    let (test_clean, test_noisy) = test.tensors(device);
    let out = tch::no_grad(|| {
        w.mm(&test_noisy.view([-1, n]).tr())
            .tr()
            .view([-1, 1, n.isqrt(), n.isqrt()])
    });
    let summary = metrics::summarize(&out, &test_clean);
    let vs = tch::nn::VarStore::new(device);
    let _ = vs.root().var_copy("w", w);
    plateau_experiments::checkpoint::save_weights(
        &vs,
        &plateau_experiments::checkpoint::best_path(&args.out),
    )?;

    let mut csv = String::from("k,risk_torch,risk_exact\n");
    let exact = run.exact.as_deref().unwrap_or(&[]);
    for (k, r) in run.torch.iter().enumerate() {
        let e = exact.get(k).map_or(String::new(), |e| format!("{e:.9e}"));
        writeln!(csv, "{k},{r:.9e},{e}")?;
    }
    write_atomic(&args.out.join("risk_path.csv"), csv.as_bytes())?;

    let diverged = run.diverged_at.is_some() || !summary.mse.is_finite();
    let status = if diverged {
        Status::Diverged
    } else {
        Status::Ok
    };
    let mut fields = if diverged {
        summary_fields(None)
    } else {
        summary_fields(Some(summary))
    };
    fields.extend([
        ("channels", Value::Null),
        ("pools", Value::Null),
        ("params", json!(n * n)),
        ("lr", json!(run.eta)),
        ("epochs", json!(iters)),
        ("best_epoch", json!(best_k)),
        ("epochs_run", json!(run.torch.len() - 1)),
        ("status", json!(status.name())),
        (
            "message",
            run.diverged_at.map_or(Value::Null, |k| {
                Value::from(format!(
                    "gradient descent diverged: non-finite loss or risk at step {k} (eta {:e})",
                    run.eta
                ))
            }),
        ),
        ("linear_risk_best", json!(run.torch[*best_k])),
        ("linear_path_max_rel_err", exact_err(&run.torch, exact)),
        ("checkpoint", json!("best.safetensors")),
    ]);
    Ok(fields)
}

fn exact_err(torch: &[f64], exact: &[f64]) -> Value {
    if exact.is_empty() {
        Value::Null
    } else {
        json!(max_relative_error(torch, exact))
    }
}
