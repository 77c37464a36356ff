//! `plateau train`: train a denoiser on synthetic images whose error floor is known.
//!
//! Writes `DIR/metrics.json` (test MSE, PSNR, SSIM of the output and of the noisy input, the
//! exact floor `floor_mse`, the Bayes-optimal denoiser's MSE on the same test images
//! `oracle_test_mse`, ...), the best checkpoint `DIR/best.safetensors`, for `--model unet` the
//! last checkpoint (`last.safetensors`, `state.json`) and `history.csv`
//! (`epoch,train_loss,val_psnr,lr`), and for `--model linear`
//! the risk path `DIR/risk_path.csv` (`k,risk_torch,risk_exact`). All arguments are checked
//! before anything is written.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, ensure, Result};
use plateau_experiments::data::{DataKind, DataSpec, Pairs, Split};
use plateau_experiments::linear::{max_relative_error, train_linear};
use plateau_experiments::metrics::{self, Summary};
use plateau_experiments::train::{train_unet, Splits, Status, TrainConfig};
use plateau_experiments::unet::UNetConfig;
use serde_json::{json, Value};

use crate::output::{progress, write_atomic};

/// The reconstruction task.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Task {
    /// Additive white Gaussian noise removal.
    Denoise,
}

/// The synthetic images.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Data {
    /// The d lowest 2-D DCT modes with N(0, 1) coefficients (the paper's model as pictures).
    Subspace,
    /// Stationary Gaussian random field with a (f0^2 + f^2)^(-exponent/2) power spectrum.
    GaussianField,
}

/// The denoiser.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Model {
    /// fastMRI U-Net, Adam.
    Unet,
    /// Full linear map W (pixels x pixels), full-batch gradient descent (subspace data only).
    Linear,
}

/// Arguments of `plateau train`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Reconstruction task.
    #[arg(long, value_enum)]
    pub task: Task,
    /// Synthetic data set.
    #[arg(long, value_enum)]
    pub data: Data,
    /// Model.
    #[arg(long, value_enum)]
    pub model: Model,
    /// Number of training pairs N (>= 1).
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
    /// Noise standard deviation sigma, in pixel units.
    #[arg(long, default_value_t = 0.1, allow_negative_numbers = true)]
    pub noise_std: f64,
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
    /// Seed of data, initial weights and data order.
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
    /// Validation pairs.
    #[arg(long, default_value_t = 128)]
    pub val_size: usize,
    /// Test pairs.
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
    /// Continue an interrupted run from DIR/last.safetensors and DIR/state.json.
    #[arg(long)]
    pub resume: bool,
}

/// Runs `plateau train`.
pub fn run(args: &Args) -> Result<()> {
    let spec = validate(args)?;
    let device = plateau_experiments::cuda::device(&args.device)?;
    std::fs::create_dir_all(&args.out)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", args.out.display()))?;
    let start = Instant::now();
    let train = spec.generate(Split::Train, args.train_size, args.seed);
    let val = spec.generate(Split::Validation, args.val_size, args.seed);
    let test = spec.generate(Split::Test, args.test_size, args.seed);
    let (test_clean, test_noisy) = test.tensors(device);
    let input = metrics::summarize(&test_noisy, &test_clean);
    let per_image = spec.oracle_mse_per_image(&test);
    let oracle = per_image.iter().sum::<f64>() / per_image.len() as f64;

    let mut record = json!({
        "task": "denoise",
        "data": spec.name(),
        "model": match args.model { Model::Unet => "unet", Model::Linear => "linear" },
        "train_size": args.train_size,
        "image_size": args.image_size,
        "noise_std": args.noise_std,
        "seed": args.seed,
        "device": args.device,
        "val_size": args.val_size,
        "test_size": args.test_size,
        "input_mse": input.mse,
        "input_psnr": input.psnr,
        "input_ssim": input.ssim,
        "floor_mse": spec.floor_mse(),
        "oracle_test_mse": oracle,
    });
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
    let fields = match args.model {
        Model::Unet => run_unet(args, &spec, device, &train, &val, (test_clean, test_noisy))?,
        Model::Linear => run_linear(args, &spec, device, &train, &val, &test)?,
    };
    for (k, v) in fields {
        record[k] = v;
    }
    record["seconds"] = json!(start.elapsed().as_secs_f64());
    if let (Some(mse), Some(floor)) = (record["test_mse"].as_f64(), record["floor_mse"].as_f64()) {
        record["test_mse_over_floor"] = json!(mse / floor);
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

fn validate(args: &Args) -> Result<DataSpec> {
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
    let kind = match args.data {
        Data::Subspace => DataKind::Subspace {
            dim: args.subspace_dim,
        },
        Data::GaussianField => DataKind::GaussianField {
            exponent: args.field_exponent,
            cutoff: args.field_cutoff,
            std: args.field_std,
        },
    };
    let spec = DataSpec::new(kind, args.image_size, args.noise_std)?;
    match args.model {
        Model::Unet => UNetConfig {
            channels: args.channels,
            pools: args.pools,
        }
        .validate(args.image_size)?,
        Model::Linear => {
            ensure!(
                args.data == Data::Subspace,
                "--model linear needs --data subspace (its exact risk path is known there)"
            );
            ensure!(
                args.image_size <= 64,
                "--model linear stores a pixels x pixels matrix: --image-size must be at most 64"
            );
        }
    }
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
    Ok(spec)
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
    spec: &DataSpec,
    device: tch::Device,
    train: &Pairs,
    val: &Pairs,
    test: (tch::Tensor, tch::Tensor),
) -> Result<Vec<(&'static str, Value)>> {
    let epochs = args.epochs.unwrap_or(100);
    let lr = args.lr.unwrap_or(1e-3);
    let fingerprint = format!(
        "data={} s={} sigma={} N={} C={} pools={} batch={} lr={} seed={} val={} test={}",
        spec.name(),
        args.image_size,
        args.noise_std,
        args.train_size,
        args.channels,
        args.pools,
        args.batch_size,
        lr,
        args.seed,
        args.val_size,
        args.test_size
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
    };
    let splits = Splits {
        train: train.tensors(device),
        val: val.tensors(device),
        test,
    };
    let bar = progress(epochs as u64, "train");
    let history_path = args.out.join("history.csv");
    let mut history = match (args.resume, std::fs::read_to_string(&history_path)) {
        (true, Ok(text)) => text,
        _ => String::from("epoch,train_loss,val_psnr,lr\n"),
    };
    let outcome = train_unet(&cfg, &splits, device, &args.out, |epoch, loss, psnr, lr| {
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
