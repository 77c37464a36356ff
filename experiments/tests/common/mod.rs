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

/// Per-image MSE of the best trivial denoiser of `input` for `clean` (both `[B, C, s, s]`): the
/// shrinkage `a y + b ybar` (`ybar` the image's mean), with the two gains fitted by least
/// squares over every pixel of the set itself, so no gain pair does better on these images.
/// The U-Net reaches this family without learning structure (its residual form starts at the
/// identity, `a = 1, b = 0`, and a forward that outputs `-k` times its standardised input gives
/// `a = 1 - k, b = k`), so beating it shows that the network learned more than a gain. The
/// issue's global gain alone (`b = 0`) gives about 0.86 of the input's MSE on `field(16)`.
/// Cost `O(B C s^2)`.
pub fn shrinkage_mse_per_image(clean: &tch::Tensor, input: &tch::Tensor) -> Vec<f64> {
    use tch::Kind;
    let x = clean.to_kind(Kind::Double).flatten(1, -1);
    let y = input.to_kind(Kind::Double).flatten(1, -1);
    let ybar = y
        .mean_dim([1i64].as_slice(), true, Kind::Double)
        .expand_as(&y);
    let dot = |u: &tch::Tensor, v: &tch::Tensor| (u * v).sum(Kind::Double).double_value(&[]);
    // Normal equations [g11 g12; g12 g22] (a, b) = (r1, r2).
    let (g11, g12, g22) = (dot(&y, &y), dot(&y, &ybar), dot(&ybar, &ybar));
    let (r1, r2) = (dot(&x, &y), dot(&x, &ybar));
    let det = g11 * g22 - g12 * g12;
    // Images with (nearly) one mean: the global gain alone.
    let (a, b) = if det > 1e-12 * g11 * g22 {
        ((r1 * g22 - r2 * g12) / det, (g11 * r2 - g12 * r1) / det)
    } else {
        (r1 / g11, 0.0)
    };
    let out = &y * a + &ybar * b;
    let per_image = (out - x)
        .square()
        .mean_dim([1i64].as_slice(), false, Kind::Double);
    Vec::<f64>::try_from(per_image).unwrap()
}

/// Mean and standard error of the per-image differences `a - b` (paired on the same images).
pub fn paired_difference(a: &[f64], b: &[f64]) -> (f64, f64) {
    assert_eq!(a.len(), b.len());
    let diff: Vec<f64> = a.iter().zip(b).map(|(u, v)| u - v).collect();
    plateau_experiments::metrics::mean_stderr(&diff)
}
