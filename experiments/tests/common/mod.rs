//! Helpers shared by the integration tests (each test crate uses some of them).
#![allow(dead_code)]

use std::path::PathBuf;

use plateau_experiments::data::{DataSpec, Synthetic};
use plateau_experiments::optim::OptimiserKind;
use plateau_experiments::precision::Precision;
use plateau_experiments::sources::split_of;
use plateau_experiments::streams::Split;
use plateau_experiments::train::{Augment, Loss, TrainConfig};
use plateau_experiments::unet::UNetConfig;

/// A fresh, empty folder `plateau-{tag}-{pid}` in the system's temporary folder.
pub fn tmpdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("plateau-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The first file name `{stem}{i}.{ext}` that the split rule puts into `split`.
pub fn name_in(split: Split, stem: &str, ext: &str) -> String {
    (0..)
        .map(|i| format!("{stem}{i}.{ext}"))
        .find(|n| split_of(n) == split)
        .unwrap()
}

/// The Gaussian field of the floor tests: spectrum exponent 2, cutoff 0.05, pixel std 0.25,
/// noise std 0.1, on `side x side` images.
pub fn field(side: usize) -> DataSpec {
    DataSpec::new(
        Synthetic::GaussianField {
            exponent: 2.0,
            cutoff: 0.05,
            std: 0.25,
        },
        side,
        0.1,
    )
    .unwrap()
}

/// A tiny U-Net (8 channels, 2 pools) trained for `epochs` with Adam at 3e-3, batch 16, seed 0,
/// no augmentation, MSE loss, fp32, early stopping out of reach.
pub fn tiny_unet(epochs: usize, resume: bool, fingerprint: &str) -> TrainConfig {
    TrainConfig {
        net: UNetConfig {
            channels: 8,
            pools: 2,
        },
        image_channels: 1,
        input_channels: 1,
        epochs,
        batch_size: 16,
        lr: 3e-3,
        seed: 0,
        lr_patience: 6,
        lr_factor: 0.5,
        min_lr: 1e-5,
        early_stop: 50,
        resume,
        fingerprint: fingerprint.into(),
        augment: Augment::None,
        loss: Loss::Mse,
        optimiser: OptimiserKind::Adam,
        data_range: None,
        precision: Precision::Fp32,
    }
}
