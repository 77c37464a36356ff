//! The run record: what one `plateau train` run was and what it measured, written as
//! `metrics.json` by the trainer and read back, as the same type, by `plateau sweep`,
//! `plateau scaling` and the learned-linear theory overlay.
//!
//! A record is [`RunConfig`] (the run) + [`Results`] (its measurements) + [`Environment`] (where
//! and how long it ran). The run splits further by how analysis treats it:
//!
//! - [`CurveKey`]: everything that defines a scaling curve (the problem, the architecture, the
//!   optimiser, stopping and evaluation settings). Runs with different keys are never averaged
//!   or fitted as one curve; since the key is a type, a setting added to any of its parts is in
//!   the key without anyone having to remember it.
//! - `train_size` (the curve's x axis), `channels` (the width, chosen per `N` on validation) and
//!   `seed` (averaged over): what varies along a curve.
//!
//! In JSON every part is flattened, so `metrics.json` keeps the top-level keys of earlier
//! versions (`task`, `train_size`, `params`, `test_mse`, `floor_mse`, ...); records written by
//! earlier versions still read (fields added since have defaults).

use serde::{Deserialize, Serialize};

use crate::problem::Problem;
use crate::settings::{Evaluation, ModelKind, Optimiser, Precision, Stopping};

/// Version of [`RunConfig::fingerprint`]'s scheme (bumped when the hashed struct changes shape).
pub const FINGERPRINT_VERSION: u32 = 3;

/// The network family and its width-independent shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "ArchitectureWire", try_from = "ArchitectureWire")]
pub enum Architecture {
    /// A U-Net with `pools` pooling layers (its width is the run's `channels`).
    Unet {
        /// Depth.
        pools: usize,
    },
    /// A full linear map trained by gradient descent.
    Linear,
}

impl Architecture {
    /// `unet` or `linear`.
    pub fn kind(&self) -> ModelKind {
        match self {
            Architecture::Unet { .. } => ModelKind::Unet,
            Architecture::Linear => ModelKind::Linear,
        }
    }
}

#[derive(Clone, Serialize, Deserialize)]
struct ArchitectureWire {
    model: ModelKind,
    #[serde(default)]
    pools: Option<usize>,
}

impl From<Architecture> for ArchitectureWire {
    fn from(a: Architecture) -> Self {
        match a {
            Architecture::Unet { pools } => ArchitectureWire {
                model: ModelKind::Unet,
                pools: Some(pools),
            },
            Architecture::Linear => ArchitectureWire {
                model: ModelKind::Linear,
                pools: None,
            },
        }
    }
}

impl TryFrom<ArchitectureWire> for Architecture {
    type Error = String;

    fn try_from(w: ArchitectureWire) -> Result<Self, String> {
        Ok(match w.model {
            ModelKind::Unet => Architecture::Unet {
                pools: w.pools.ok_or("a unet record lacks 'pools'")?,
            },
            ModelKind::Linear => Architecture::Linear,
        })
    }
}

/// Everything that defines a scaling curve: all of a run but its size, width and seed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CurveKey {
    /// What is learned.
    #[serde(flatten)]
    pub problem: Problem,
    /// The network family and depth.
    #[serde(flatten)]
    pub architecture: Architecture,
    /// How it is optimised.
    #[serde(flatten)]
    pub optimiser: Optimiser,
    /// When training stops.
    #[serde(flatten)]
    pub stopping: Stopping,
    /// Held-out set sizes.
    #[serde(flatten)]
    pub evaluation: Evaluation,
    /// fastMRI: the training slices are spread over the first this many volumes of the split
    /// (`--train-volumes`: a user with less data has fewer volumes); absent: the first
    /// `train_size` slices in volume order. A curve holds the volumes fixed and varies the slices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_volumes: Option<usize>,
    /// The arithmetic of the network's forward and backward passes (`fp32` in records written
    /// before it was recorded): runs at different precisions are different curves.
    #[serde(default)]
    pub precision: Precision,
}

impl CurveKey {
    /// A canonical text of the key (compact JSON): equal keys give equal texts.
    pub fn canonical(&self) -> String {
        serde_json::to_string(self).expect("a key serialises")
    }

    /// The key as a flat JSON object (the keys of `metrics.json`), for labels.
    pub fn to_map(&self) -> serde_json::Map<String, serde_json::Value> {
        match serde_json::to_value(self).expect("a key serialises") {
            serde_json::Value::Object(m) => m,
            _ => unreachable!("a struct serialises to an object"),
        }
    }
}

/// One run: a point of a curve.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunConfig {
    /// The curve it belongs to.
    #[serde(flatten)]
    pub curve: CurveKey,
    /// Training-set size `N`.
    pub train_size: usize,
    /// U-Net width (channels of the first layer); `None` for the linear model.
    pub channels: Option<i64>,
    /// Seed of data, measurements, initial weights and data order.
    pub seed: u64,
}

#[derive(Serialize)]
struct Identity<'a> {
    version: u32,
    problem: &'a Problem,
    architecture: &'a Architecture,
    optimiser: &'a Optimiser,
    evaluation: &'a Evaluation,
    #[serde(skip_serializing_if = "Option::is_none")]
    train_volumes: Option<usize>,
    /// Left out at fp32, so that checkpoints written before precision existed (all fp32)
    /// still resume; any other precision changes the fingerprint.
    #[serde(skip_serializing_if = "Precision::is_fp32")]
    precision: Precision,
    train_size: usize,
    channels: Option<i64>,
    seed: u64,
}

impl RunConfig {
    /// The resume fingerprint: a versioned 64-bit FNV-1a hash of everything that determines the
    /// training trajectory, i.e. this struct without [`Stopping`] (a resumed run may train for
    /// more epochs). A checkpoint whose fingerprint differs is not resumed.
    pub fn fingerprint(&self) -> String {
        let text = serde_json::to_string(&self.identity()).expect("a config serialises");
        format!(
            "v{FINGERPRINT_VERSION}:{:016x}",
            crate::hash::fnv1a64(text.as_bytes())
        )
    }

    /// What [`RunConfig::fingerprint`] hashes.
    fn identity(&self) -> Identity<'_> {
        Identity {
            version: FINGERPRINT_VERSION,
            problem: &self.curve.problem,
            architecture: &self.curve.architecture,
            optimiser: &self.curve.optimiser,
            evaluation: &self.curve.evaluation,
            train_volumes: self.curve.train_volumes,
            precision: self.curve.precision,
            train_size: self.train_size,
            channels: self.channels,
            seed: self.seed,
        }
    }
}

/// How a run ended.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Status {
    /// Finished (all epochs, or early stop).
    #[default]
    Ok,
    /// Stopped by a NaN or infinite loss.
    Diverged,
}

impl Status {
    /// `ok` or `diverged`.
    pub fn name(&self) -> &'static str {
        self.into()
    }
}

/// What a run measured. MSEs are per pixel (pixel units squared), PSNRs in dB. `None` (null)
/// where a value does not apply or does not exist (no finished epoch, real data without a floor).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Results {
    /// How the run ended.
    pub status: Status,
    /// Why it diverged, if it did.
    pub message: Option<String>,
    /// Trainable parameters.
    pub params: Option<i64>,
    /// Test MSE of the best checkpoint.
    pub test_mse: Option<f64>,
    /// Its standard error over test images.
    pub test_mse_stderr: Option<f64>,
    /// Test PSNR.
    pub test_psnr: Option<f64>,
    /// Test SSIM (fastMRI's).
    pub test_ssim: Option<f64>,
    /// The baseline's (the network input's) test MSE.
    pub input_mse: Option<f64>,
    /// Its standard error.
    pub input_mse_stderr: Option<f64>,
    /// The baseline's PSNR.
    pub input_psnr: Option<f64>,
    /// The baseline's SSIM.
    pub input_ssim: Option<f64>,
    /// Name of the baseline (`noisy input`, `zero-filled`, `bicubic`).
    pub baseline: Option<String>,
    /// PSNR / SSIM data range: null for each image's `max - min`.
    pub psnr_data_range: Option<f64>,
    /// The exact Bayes error per pixel (synthetic data).
    pub floor_mse: Option<f64>,
    /// Its Monte Carlo standard error where the floor is estimated (MRI with random masks).
    pub floor_mse_stderr: Option<f64>,
    /// What `floor_mse` assumes the estimator knows (the task's measurement; for MRI the complex
    /// k-space samples and the mask), where there is a floor.
    pub floor_information: Option<String>,
    /// Whether the network input holds exactly that information: false for MRI's magnitude
    /// input, whose `floor_mse` is then only a lower bound.
    pub input_has_floor_information: Option<bool>,
    /// The name `floor_mse` goes by: `Bayes error`, or `Bayes error given complex data: a lower
    /// bound for magnitude input` (figures and `plan` use it).
    pub floor_label: Option<String>,
    /// `--mask fixed`: the sampled columns of the run's one mask (centred k-space, 0-based;
    /// column `c` is the horizontal frequency `c - W/2`).
    pub mask_columns: Option<Vec<usize>>,
    /// The Bayes estimator's MSE on the same test images, where implemented.
    pub oracle_test_mse: Option<f64>,
    /// `test_mse / floor_mse`.
    pub test_mse_over_floor: Option<f64>,
    /// `10 log10(input_mse / test_mse)`.
    pub psnr_gain_db: Option<f64>,
    /// Epoch (1-based) of the best checkpoint, 0 if none.
    pub best_epoch: usize,
    /// Best validation PSNR (dB), the width-selection metric.
    pub best_val_psnr: Option<f64>,
    /// Epochs (or gradient-descent steps) finished, including those of a resumed run.
    pub epochs_run: usize,
    /// Gradient-descent step used by the linear model.
    pub eta: Option<f64>,
    /// Exact risk of the linear model's best iterate.
    pub linear_risk_best: Option<f64>,
    /// Largest relative error of the LibTorch risk path against the exact one (linear model).
    pub linear_path_max_rel_err: Option<f64>,
    /// Channels per image of real data (3 for colour photographs).
    pub channels_per_image: Option<usize>,
    /// Files or slices skipped while loading real data.
    pub skipped_files: Option<usize>,
    /// The best checkpoint's file name.
    pub checkpoint: Option<String>,
}

/// Where and how long a run ran: not part of what it is.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Environment {
    /// `cpu`, `cuda`, `cuda:N`.
    pub device: String,
    /// LibTorch's intra-op threads. Training is bit-reproducible for a seed at a fixed thread
    /// count; another count changes the last bits (reductions are split differently).
    pub threads: Option<usize>,
    /// Wall time of this invocation (seconds).
    pub seconds: f64,
}

/// `metrics.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// The run.
    #[serde(flatten)]
    pub config: RunConfig,
    /// What it measured.
    #[serde(flatten)]
    pub results: Results,
    /// Where it ran.
    #[serde(flatten)]
    pub environment: Environment,
}

impl RunRecord {
    /// The record as pretty JSON with a final newline (the file's text).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a record serialises") + "\n"
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::problem::{Data, Downsample, Source, Synthetic, Task};
    use crate::settings::{Augment, Loss, OptimiserKind};

    pub(crate) fn config() -> RunConfig {
        let problem = Problem::new(
            Task::Denoise { sigma: 0.1 },
            Data::Synthetic(Synthetic::GaussianField {
                exponent: 2.0,
                cutoff: 0.05,
                std: 0.25,
            }),
            32,
        )
        .unwrap();
        RunConfig {
            curve: CurveKey {
                problem,
                architecture: Architecture::Unet { pools: 2 },
                optimiser: Optimiser {
                    optimiser: OptimiserKind::Adam,
                    batch_size: 16,
                    lr: Some(1e-3),
                    loss: Loss::Mse,
                    augment: Augment::None,
                    lr_patience: 6,
                    min_lr: 1e-5,
                },
                stopping: Stopping {
                    epochs: 30,
                    early_stop: 6,
                },
                evaluation: Evaluation {
                    val_size: 128,
                    test_size: 512,
                },
                train_volumes: None,
                precision: Precision::Fp32,
            },
            train_size: 64,
            channels: Some(16),
            seed: 0,
        }
    }

    #[test]
    fn a_record_round_trips_and_keeps_the_documented_keys() {
        let rec = RunRecord {
            config: config(),
            results: Results {
                params: Some(116_385),
                test_mse: Some(7.9e-3),
                floor_mse: Some(7.3e-3),
                best_val_psnr: Some(25.0),
                ..Results::default()
            },
            environment: Environment {
                device: "cpu".into(),
                threads: Some(1),
                seconds: 1.5,
            },
        };
        let v: serde_json::Value = serde_json::from_str(&rec.to_json()).unwrap();
        for k in [
            "task",
            "data",
            "model",
            "train_size",
            "channels",
            "pools",
            "params",
            "test_mse",
            "floor_mse",
            "noise_std",
            "field_exponent",
            "image_size",
            "seed",
            "status",
            "lr",
            "augment",
            "loss",
            "seconds",
            "device",
        ] {
            assert!(v.get(k).is_some(), "metrics.json lacks '{k}': {v}");
        }
        assert_eq!(v["status"], "ok");
        let back: RunRecord = serde_json::from_value(v).unwrap();
        assert_eq!(back, rec);
    }

    #[test]
    fn the_curve_key_holds_every_setting_but_size_width_and_seed() {
        let a = config();
        let mut b = a.clone();
        b.train_size = 4096;
        b.channels = Some(8);
        b.seed = 3;
        assert_eq!(a.curve.canonical(), b.curve.canonical());
        // Anything else separates curves, including settings that earlier versions grouped
        // together (loss, lr, augmentation, downsampling).
        let mut c = a.clone();
        c.curve.optimiser.loss = Loss::L1;
        let mut d = a.clone();
        d.curve.optimiser.lr = Some(3e-4);
        let mut e = a.clone();
        e.curve.optimiser.augment = Augment::Dihedral;
        let mut f = a.clone();
        f.curve.optimiser.optimiser = OptimiserKind::Rmsprop;
        let mut g = a.clone();
        g.curve.train_volumes = Some(4);
        let mut h = a.clone();
        h.curve.precision = Precision::Bf16;
        for other in [c, d, e, f, g, h] {
            assert_ne!(a.curve.canonical(), other.curve.canonical());
        }
        let sr = |downsample| {
            let p = Problem::new(
                Task::Sr {
                    scale: 2,
                    downsample,
                },
                Data::Real {
                    source: Source::Skimage,
                    color: Default::default(),
                },
                32,
            )
            .unwrap();
            let mut c = a.clone();
            c.curve.problem = p;
            c.curve.canonical()
        };
        assert_ne!(sr(Downsample::Area), sr(Downsample::Bicubic));
    }

    #[test]
    fn the_fingerprint_ignores_only_the_stopping_rule() {
        let a = config();
        assert!(a.fingerprint().starts_with("v3:"));
        let mut more_epochs = a.clone();
        more_epochs.curve.stopping.epochs = 100;
        assert_eq!(a.fingerprint(), more_epochs.fingerprint());
        let mut seed = a.clone();
        seed.seed = 1;
        let mut width = a.clone();
        width.channels = Some(32);
        let mut val = a.clone();
        val.curve.evaluation.val_size = 64;
        let mut volumes = a.clone();
        volumes.curve.train_volumes = Some(4);
        let [bf16, fp16] = [Precision::Bf16, Precision::Fp16].map(|p| {
            let mut c = a.clone();
            c.curve.precision = p;
            c
        });
        assert_ne!(bf16.fingerprint(), fp16.fingerprint());
        for other in [seed, width, val, volumes, bf16, fp16] {
            assert_ne!(a.fingerprint(), other.fingerprint());
        }
        // Runs without --train-volumes keep the fingerprints (and keys) of earlier versions.
        assert!(!a.curve.canonical().contains("train_volumes"));
    }

    #[test]
    fn precision_is_recorded_and_older_records_and_checkpoints_read_as_fp32() {
        let mut c = config();
        c.curve.precision = Precision::Bf16;
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(v["precision"], "bf16");
        // A record without the key (earlier versions) is fp32.
        let mut old = v.clone();
        old.as_object_mut().unwrap().remove("precision");
        let back: RunConfig = serde_json::from_value(old).unwrap();
        assert_eq!(back.curve.precision, Precision::Fp32);
        // At fp32 the fingerprint hashes the same text as before precision existed (no
        // `precision` key), so their checkpoints resume.
        for (p, hashed) in [(Precision::Fp32, false), (Precision::Bf16, true)] {
            c.curve.precision = p;
            let text = serde_json::to_string(&c.identity()).unwrap();
            assert_eq!(text.contains("\"precision\""), hashed, "{text}");
        }
    }
}
