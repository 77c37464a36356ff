//! `plateau train`'s flags settled into a typed recipe (named apart from `plateau plan`, which
//! asks how much data a target needs): every check that needs no file system and
//! no LibTorch happens in [`TrainRecipe::try_from`], so an invalid combination never reaches the
//! trainer and the rules are unit-tested here. The two checks that look at the disk (the output
//! folder, a data folder) are [`TrainRecipe::check_paths`].

use std::path::{Path, PathBuf};

use anyhow::{bail, ensure, Error, Result};

use crate::args::{TaskKind, TrainArgs};
use crate::problem::{Data, DataArg, MaskKind, MriInput, Problem, Source, Synthetic, Task};
use crate::record::{Architecture, CurveKey, RunConfig};
use crate::settings::{
    Augment, Evaluation, ModelKind, Optimiser, OptimiserKind, Stopping, UNetShape,
};

/// Default noise standard deviation of `--task denoise`.
pub const DEFAULT_NOISE_STD: f64 = 0.1;
/// Default maximum epochs of the U-Net.
pub const DEFAULT_UNET_EPOCHS: usize = 100;
/// Default gradient-descent steps of the linear model.
pub const DEFAULT_LINEAR_STEPS: usize = 1000;
/// Default initial learning rate of the U-Net's optimiser (Adam or RMSprop: fastMRI's RMSprop
/// baseline uses the same 1e-3).
pub const DEFAULT_UNET_LR: f64 = 1e-3;
/// Largest image side of `--model linear` (its weight is a pixels x pixels matrix).
pub const LINEAR_MAX_SIDE: usize = 64;

/// A validated `plateau train` invocation.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainRecipe {
    /// What the run is (written to `metrics.json`).
    pub config: RunConfig,
    /// Output folder.
    pub out: PathBuf,
    /// Continue from the checkpoint in `out`.
    pub resume: bool,
    /// `cpu`, `cuda` or `cuda:N` (checked by the trainer, which knows the devices).
    pub device: String,
    /// Skip unreadable files instead of failing.
    pub skip_bad_files: bool,
    /// Report no progress.
    pub quiet: bool,
}

impl TryFrom<&TrainArgs> for TrainRecipe {
    type Error = Error;

    /// The checks run in the order of the flags' help, so that the first error is the one a
    /// user reads first: sizes and rates, the problem, the volumes, augmentation, the model.
    fn try_from(args: &TrainArgs) -> Result<TrainRecipe> {
        check_sizes_and_rates(args)?;
        let problem = Problem::new(task(args)?, data(args), args.image_size)?;
        check_train_volumes(args, &problem)?;
        let augment = augment(args, &problem)?;
        let model = match args.model {
            ModelKind::Unet => unet_model(args)?,
            ModelKind::Linear => linear_model(args, &problem)?,
        };
        let curve = CurveKey {
            problem,
            architecture: model.architecture,
            optimiser: Optimiser {
                optimiser: args.optimiser,
                batch_size: args.batch_size,
                lr: model.lr,
                loss: args.loss,
                augment,
                lr_patience: args.lr_patience,
                min_lr: args.min_lr,
            },
            stopping: Stopping {
                epochs: model.epochs,
                early_stop: args.early_stop,
            },
            evaluation: Evaluation {
                val_size: args.val_size,
                test_size: args.test_size,
            },
            train_volumes: args.train_volumes,
            precision: args.precision,
        };
        Ok(TrainRecipe {
            config: RunConfig {
                curve,
                train_size: args.train_size,
                channels: model.channels,
                seed: args.seed,
            },
            out: args.out.clone(),
            resume: args.resume,
            device: args.device.clone(),
            skip_bad_files: args.skip_bad_files,
            quiet: args.quiet,
        })
    }
}

/// The split sizes, epochs, batch size and learning rates are in range.
fn check_sizes_and_rates(args: &TrainArgs) -> Result<()> {
    ensure!(args.train_size >= 1, "--train-size must be at least 1");
    ensure!(
        args.val_size >= 1 && args.test_size >= 2,
        "--val-size must be at least 1 and --test-size at least 2"
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
    Ok(())
}

/// `--train-volumes` is for fastMRI volumes and at most one volume per training example.
fn check_train_volumes(args: &TrainArgs, problem: &Problem) -> Result<()> {
    let Some(k) = args.train_volumes else {
        return Ok(());
    };
    ensure!(
        matches!(
            problem.data(),
            Data::Real {
                source: Source::FastMri(_),
                ..
            }
        ),
        "--train-volumes applies to --data fastmri:PATH only (volumes of slices)"
    );
    ensure!(
        (1..=args.train_size).contains(&k),
        "--train-volumes must be between 1 and --train-size ({}): each volume gives at least one slice, got {k}",
        args.train_size
    );
    Ok(())
}

/// The augmentation of the switches, where it yields valid training pairs for the task.
fn augment(args: &TrainArgs, problem: &Problem) -> Result<Augment> {
    let augment = Augment::from_switches(args.augment, args.augment_dihedral);
    ensure!(
        !(augment == Augment::Dihedral && matches!(problem.task(), Task::Mri { .. })),
        "--augment-dihedral does not apply to --task mri (a transposed column mask is a row mask)"
    );
    ensure!(
        !(augment != Augment::None
            && matches!(
                problem.task(),
                Task::Mri {
                    input: MriInput::Complex,
                    ..
                }
            )),
        "--augment does not apply to --mri-input complex (a horizontal flip mirrors the mask \
         and the mask channel by different columns)"
    );
    Ok(augment)
}

/// What the model flags settle into.
struct Model {
    architecture: Architecture,
    /// The U-Net's width; `None` for the linear model.
    channels: Option<i64>,
    /// Epochs of the U-Net, gradient-descent steps of the linear model.
    epochs: usize,
    /// The initial rate (U-Net) or gradient-descent step (linear; `None`: the paper's rule).
    lr: Option<f64>,
}

/// `--model unet`: a shape that fits the image side, the U-Net's default epochs and rate.
fn unet_model(args: &TrainArgs) -> Result<Model> {
    let shape = UNetShape {
        channels: args.channels,
        pools: args.pools,
    };
    shape.validate(args.image_size)?;
    Ok(Model {
        architecture: Architecture::Unet { pools: args.pools },
        channels: Some(args.channels),
        epochs: args.epochs.unwrap_or(DEFAULT_UNET_EPOCHS),
        lr: Some(args.lr.unwrap_or(DEFAULT_UNET_LR)),
    })
}

/// `--model linear`: subspace denoising of small images (its exact risk path is known), with
/// none of the U-Net's flags.
fn linear_model(args: &TrainArgs, problem: &Problem) -> Result<Model> {
    ensure!(
        problem
            .synthetic()
            .is_some_and(|s| matches!(s, Synthetic::Subspace { .. }))
            && matches!(problem.task(), Task::Denoise { .. }),
        "--model linear needs --task denoise --data subspace (its exact risk path is known there)"
    );
    ensure!(
        args.image_size <= LINEAR_MAX_SIDE,
        "--model linear stores a pixels x pixels matrix: --image-size must be at most {LINEAR_MAX_SIDE}"
    );
    ensure!(!args.resume, "--resume applies to --model unet only");
    ensure!(
        args.optimiser == OptimiserKind::Adam,
        "--optimiser applies to --model unet only (the linear model runs gradient descent)"
    );
    ensure!(
        args.precision.is_fp32(),
        "--precision {} applies to --model unet only (the linear model's risk path is checked in fp32)",
        args.precision.name()
    );
    Ok(Model {
        architecture: Architecture::Linear,
        channels: None,
        epochs: args.epochs.unwrap_or(DEFAULT_LINEAR_STEPS),
        lr: args.lr,
    })
}

fn task(args: &TrainArgs) -> Result<Task> {
    if args.task != TaskKind::Denoise {
        ensure!(
            args.noise_std.is_none(),
            "--noise-std applies to --task denoise only (mri and sr are noise-free)"
        );
    }
    if args.task != TaskKind::Mri {
        ensure!(
            args.mri_input.is_none(),
            "--mri-input applies to --task mri only"
        );
    }
    ensure!(
        args.mask_seed.is_none() || args.mask == MaskKind::Fixed,
        "--mask-seed applies to --mask fixed only (the other masks are drawn per example)"
    );
    Ok(match args.task {
        TaskKind::Denoise => Task::Denoise {
            sigma: args.noise_std.unwrap_or(DEFAULT_NOISE_STD),
        },
        TaskKind::Mri => Task::Mri {
            acceleration: args.acceleration,
            center_fraction: args.center_fraction,
            mask: args.mask,
            mask_seed: args.mask_seed.unwrap_or_default(),
            // The information of the exact floor where there is one; fastMRI's convention on
            // real data.
            input: args.mri_input.unwrap_or(if args.data.is_synthetic() {
                MriInput::Complex
            } else {
                MriInput::Magnitude
            }),
        },
        TaskKind::Sr => Task::Sr {
            scale: args.scale,
            downsample: args.downsample,
        },
    })
}

fn data(args: &TrainArgs) -> Data {
    match &args.data {
        DataArg::Subspace => Data::Synthetic(args.synthetic.subspace()),
        DataArg::GaussianField => Data::Synthetic(args.synthetic.gaussian_field()),
        DataArg::Real(source) => Data::Real {
            source: source.clone(),
            color: args.color,
        },
    }
}

impl TrainRecipe {
    /// The checks that read the disk: a data folder exists; the output folder, if it exists, is
    /// a folder that holds no finished or started run unless `--resume`.
    ///
    /// # Errors
    /// One line naming the path.
    pub fn check_paths(&self) -> Result<()> {
        if let Data::Real {
            source: source @ (Source::Folder(p) | Source::FastMri(p)),
            ..
        } = self.config.curve.problem.data()
        {
            ensure!(
                p.is_dir(),
                "--data {source}: {} is not a folder",
                p.display()
            );
        }
        let out: &Path = &self.out;
        if out.exists() {
            ensure!(
                out.is_dir(),
                "--out {} exists and is not a folder",
                out.display()
            );
            let has = |f: &str| out.join(f).exists();
            if !self.resume && (has("metrics.json") || has("state.json")) {
                bail!(
                    "--out {} already holds a run; choose another folder or pass --resume",
                    out.display()
                );
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::problem::{Downsample, MaskKind};
    use crate::settings::Precision;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: TrainArgs,
    }

    fn recipe(flags: &str) -> Result<TrainRecipe> {
        let argv = std::iter::once("train").chain(flags.split_whitespace());
        let cli = Cli::try_parse_from(argv).map_err(|e| anyhow::anyhow!("{e}"))?;
        TrainRecipe::try_from(&cli.args)
    }

    const BASE: &str = "--train-size 8 --out /nonexistent/run";

    /// The task of the recipe of `flags` and [`BASE`], which must be valid.
    fn task_of(flags: &str) -> Task {
        recipe(&format!("{flags} {BASE}"))
            .unwrap()
            .config
            .curve
            .problem
            .task()
    }

    #[test]
    fn defaults_settle_into_the_documented_run() {
        let p = recipe(&format!("--task denoise --data gaussian-field {BASE}")).unwrap();
        let c = &p.config;
        assert_eq!(c.curve.problem.task(), Task::Denoise { sigma: 0.1 });
        assert_eq!(c.curve.architecture, Architecture::Unet { pools: 2 });
        assert_eq!((c.channels, c.train_size, c.seed), (Some(16), 8, 0));
        assert_eq!(c.curve.optimiser.lr, Some(DEFAULT_UNET_LR));
        assert_eq!(c.curve.stopping.epochs, DEFAULT_UNET_EPOCHS);
        assert_eq!(c.curve.precision, Precision::Fp32);
        let mri = task_of("--task mri --data subspace --mask equispaced --image-size 32");
        assert!(matches!(
            mri,
            Task::Mri {
                acceleration: 4,
                mask: MaskKind::Equispaced,
                ..
            }
        ));
        let p = recipe(&format!(
            "--task sr --data skimage --downsample bicubic --model linear {BASE}"
        ));
        assert!(p.unwrap_err().to_string().contains("--model linear needs"));
    }

    #[test]
    fn mri_input_defaults_to_the_floors_information_on_synthetic_data_only() {
        use crate::problem::MaskSeed;
        let input = |flags: &str| match task_of(&format!("--task mri --image-size 16 {flags}")) {
            Task::Mri {
                input, mask_seed, ..
            } => (input, mask_seed),
            other => panic!("{other:?}"),
        };
        for (flags, want) in [
            ("--data gaussian-field", MriInput::Complex),
            ("--data subspace", MriInput::Complex),
            ("--data phantoms", MriInput::Magnitude),
            ("--data skimage", MriInput::Magnitude),
            ("--data fastmri:/d", MriInput::Magnitude),
            (
                "--data gaussian-field --mri-input magnitude",
                MriInput::Magnitude,
            ),
            ("--data phantoms --mri-input complex", MriInput::Complex),
        ] {
            assert_eq!(input(flags).0, want, "{flags}");
        }
        assert_eq!(input("--data gaussian-field --mask fixed").1, MaskSeed::Run);
        assert_eq!(
            input("--data gaussian-field --mask fixed --mask-seed 5").1,
            MaskSeed::Value(5)
        );
        // An unknown policy is a flag error (clap's message, exit 2 in the binaries).
        let e = recipe(&format!(
            "--task mri --data gaussian-field --mask fixed --mask-seed banana {BASE}"
        ))
        .unwrap_err()
        .to_string();
        assert!(e.contains("unknown mask seed policy 'banana'"), "{e}");
        // Magnitude input with augmentation stays allowed (flips commute with it).
        assert!(recipe(&format!(
            "--task mri --data phantoms --image-size 16 --augment {BASE}"
        ))
        .is_ok());
    }

    #[test]
    fn record_defaults_match_the_flag_defaults() {
        use crate::settings::defaults;
        let p = recipe(&format!("--task denoise --data subspace {BASE}")).unwrap();
        let k = &p.config.curve;
        assert_eq!(k.optimiser.lr_patience, defaults::lr_patience());
        assert_eq!(k.optimiser.min_lr, defaults::min_lr());
        assert_eq!(k.stopping.early_stop, defaults::early_stop());
    }

    #[test]
    fn the_papers_mri_recipe_is_its_own_curve() {
        let mri = format!("--task mri --data phantoms --image-size 32 {BASE}");
        let default = recipe(&mri).unwrap().config.curve;
        assert_eq!(default.optimiser.optimiser, OptimiserKind::Adam);
        let paper = recipe(&format!(
            "{mri} --pools 4 --optimiser rmsprop --min-lr 1e-6"
        ))
        .unwrap()
        .config
        .curve;
        assert_eq!(paper.architecture, Architecture::Unet { pools: 4 });
        assert_eq!(paper.optimiser.optimiser, OptimiserKind::Rmsprop);
        assert_eq!(paper.optimiser.min_lr, 1e-6);
        assert_eq!(paper.optimiser.lr, Some(DEFAULT_UNET_LR));
        // The optimiser alone separates curves, and the record names it.
        let alias = recipe(&format!("{mri} --optimizer rmsprop"))
            .unwrap()
            .config
            .curve;
        assert_ne!(alias.canonical(), default.canonical());
        assert_eq!(alias.to_map()["optimiser"], "rmsprop");
        // 4 pools need a side that is a multiple of 16.
        let e = recipe(&format!(
            "--task mri --data phantoms --image-size 24 --pools 4 {BASE}"
        ));
        assert!(e.unwrap_err().to_string().contains("2^pools = 16"));
    }

    #[test]
    fn invalid_combinations_never_become_recipes() {
        let cases = [
            (
                "--task mri --data subspace --noise-std 0.1",
                "--noise-std applies",
            ),
            (
                "--task denoise --data subspace --image-size 30",
                "multiple of 2^pools",
            ),
            (
                "--task sr --data subspace --downsample bicubic",
                "real images",
            ),
            ("--task denoise --data phantoms --color rgb", "photographs"),
            (
                "--task denoise --data phantoms --color rgb-split",
                "photographs",
            ),
            (
                "--task mri --data phantoms --augment --augment-dihedral",
                "row mask",
            ),
            (
                "--task denoise --data subspace --model linear --image-size 128",
                "at most 64",
            ),
            (
                "--task denoise --data subspace --model linear --resume",
                "unet only",
            ),
            (
                "--task denoise --data subspace --model linear --optimiser rmsprop",
                "unet only",
            ),
            (
                "--task denoise --data subspace --model linear --precision bf16",
                "--precision bf16 applies to --model unet only",
            ),
            ("--task denoise --data subspace --lr -1", "--lr must be"),
            ("--task denoise --data subspace --epochs 0", "--epochs"),
            (
                "--task denoise --data gaussian-field --field-std 0",
                "field std",
            ),
            (
                "--task mri --data phantoms --train-volumes 2",
                "fastmri:PATH only",
            ),
            (
                "--task mri --data fastmri:/d --train-volumes 9",
                "between 1 and --train-size (8)",
            ),
            (
                "--task mri --data fastmri:/d --train-volumes 0",
                "between 1",
            ),
            (
                "--task denoise --data gaussian-field --mri-input complex",
                "--mri-input applies to --task mri only",
            ),
            (
                "--task sr --data skimage --mri-input magnitude",
                "--mri-input applies to --task mri only",
            ),
            (
                "--task mri --data gaussian-field --mask random --mask-seed 3",
                "--mask-seed applies to --mask fixed only",
            ),
            (
                "--task mri --data gaussian-field --augment",
                "--augment does not apply to --mri-input complex",
            ),
        ];
        for (flags, want) in cases {
            let e = recipe(&format!("{flags} {BASE}")).unwrap_err().to_string();
            assert!(e.contains(want), "{flags}: {e}");
            assert!(!e.contains('\n'), "{flags}: {e}");
        }
        let p = recipe(&format!(
            "--task mri --data fastmri:/d --train-volumes 8 {BASE}"
        ))
        .unwrap();
        assert_eq!(p.config.curve.train_volumes, Some(8));
        let sr = task_of("--task sr --data phantoms --downsample bicubic");
        assert!(matches!(
            sr,
            Task::Sr {
                downsample: Downsample::Bicubic,
                ..
            }
        ));
    }

    #[test]
    fn an_existing_run_is_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("metrics.json"), "{}").unwrap();
        let flags = format!(
            "--task denoise --data subspace --train-size 8 --out {}",
            dir.path().display()
        );
        let e = recipe(&flags).unwrap().check_paths().unwrap_err();
        assert!(e.to_string().contains("already holds a run"), "{e}");
        assert!(recipe(&format!("{flags} --resume"))
            .unwrap()
            .check_paths()
            .is_ok());
        let e = recipe("--task denoise --data folder:/nonexistent/x --train-size 8 --out o")
            .unwrap()
            .check_paths()
            .unwrap_err();
        assert!(e.to_string().contains("is not a folder"), "{e}");
    }
}
