//! Denoisers against the exact error floor on synthetic data (tiny sizes, CPU).
//!
//! - The Bayes-optimal denoiser's empirical MSE matches the formula for both data sets
//!   (`floor_mse`), within 5 standard errors estimated from the same draws.
//! - A U-Net trained on Gaussian fields never beats the Wiener filter on the same test images
//!   beyond sampling error (paired per-image differences, 4 standard errors), while it does
//!   beat the best scalar shrinkage of the noisy input (`common::shrinkage_mse_per_image`,
//!   paired, 3 standard errors), so it learned more than a gain.
//! - Checkpoints: the best weights reload from safetensors and give the same test metrics, and a
//!   run resumes from its last checkpoint.

mod common;

use plateau_experiments::data::{DataSpec, Synthetic};
use plateau_experiments::metrics::{self, mean_stderr};
use plateau_experiments::streams::Split;
use plateau_experiments::train::{predict, train_unet, Splits, Status, TrainConfig};
use plateau_experiments::unet::UNet;
use tch::{nn, Device};

#[test]
fn oracle_mse_matches_the_floor_formulas() {
    let field = common::field(16);
    // Subspace pictures: pixel MSE floor (d / n) sigma^2 / (1 + sigma^2).
    let subspace = DataSpec::new(Synthetic::Subspace { dim: 6 }, 8, 0.4).unwrap();
    let want = 6.0 / 64.0 * 0.16 / 1.16;
    assert!((subspace.floor_mse() - want).abs() < 1e-15);
    for spec in [field, subspace] {
        let test = spec.generate(Split::Test, 600, 11);
        let (mean, se) = mean_stderr(&spec.oracle_mse_per_image(&test));
        let floor = spec.floor_mse();
        assert!(
            (mean - floor).abs() < 5.0 * se,
            "{}: oracle {mean} +- {se}, floor {floor}",
            spec.name()
        );
        assert!(
            se < 0.05 * floor,
            "{}: standard error {se} too large to test",
            spec.name()
        );
    }
}

fn config(epochs: usize, resume: bool) -> TrainConfig {
    common::tiny_unet(epochs, resume, "denoise_floor test")
}

#[test]
fn unet_stays_above_the_wiener_floor_and_checkpoints_work() {
    let spec = common::field(16);
    let (train, val, test) = (
        spec.generate(Split::Train, 256, 0),
        spec.generate(Split::Validation, 32, 0),
        spec.generate(Split::Test, 256, 0),
    );
    let (test_clean, test_noisy) = test.tensors(Device::Cpu);
    let splits = Splits {
        train: train.tensors(Device::Cpu).into(),
        val: val.tensors(Device::Cpu).into(),
        test: (test_clean.shallow_clone(), test_noisy.shallow_clone()).into(),
    };
    let dir = common::tmpdir("floor");
    // Trains (or, resuming, continues) the run in `dir` to `epochs` epochs.
    let train = |epochs, resume| {
        train_unet(
            &config(epochs, resume),
            &splits,
            Device::Cpu,
            &dir,
            |_, _, _, _| {},
        )
        .unwrap()
    };
    let outcome = train(6, false);
    assert_eq!(outcome.status, Status::Ok);
    assert_eq!(outcome.epochs_run, 6);
    let summary = outcome.test.unwrap();

    // Reload the best checkpoint into a fresh network: same test MSE.
    let mut vs = nn::VarStore::new(Device::Cpu);
    let net = UNet::new(&vs.root(), config(6, false).net);
    vs.load(dir.join("best.safetensors")).unwrap();
    let out = predict(&net, &test_noisy);
    let per_image = metrics::mse(&out, &test_clean);
    let (mse, _) = mean_stderr(&per_image);
    assert!(
        (mse - summary.mse).abs() <= 1e-9 * summary.mse,
        "{mse} vs {}",
        summary.mse
    );

    // Paired comparison with the Wiener filter on the same images.
    let oracle = spec.oracle_mse_per_image(&test);
    let diff: Vec<f64> = per_image.iter().zip(&oracle).map(|(a, b)| a - b).collect();
    let (d, se) = mean_stderr(&diff);
    assert!(
        d > -4.0 * se,
        "U-Net beats the Bayes floor: mean excess {d} +- {se}"
    );
    // It learned more than a gain: paired with the best shrinkage of the noisy input.
    let shrinkage = common::shrinkage_mse_per_image(&test_clean, &test_noisy);
    let (gain, se) = common::paired_difference(&per_image, &shrinkage);
    println!(
        "U-Net {:.4e} +- {:.1e}, best shrinkage {:.4e}: difference {gain:.2e} +- {se:.1e}",
        summary.mse,
        summary.mse_stderr,
        mean_stderr(&shrinkage).0
    );
    assert!(
        gain < -3.0 * se,
        "U-Net {} does not beat the best shrinkage of the input {}: {gain} +- {se}",
        summary.mse,
        mean_stderr(&shrinkage).0
    );

    // Resume: continue the same run to 8 epochs from its last checkpoint.
    let resumed = train(8, true);
    assert_eq!(resumed.epochs_run, 8);
    assert!(resumed.best_epoch >= outcome.best_epoch);
    std::fs::remove_dir_all(&dir).unwrap();
}
