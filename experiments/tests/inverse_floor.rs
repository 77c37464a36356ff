//! MRI and super-resolution on Gaussian fields against their exact floors (tiny sizes, CPU).
//!
//! - The experiments' k-space conventions (LibTorch `fft2c`, fastMRI masks drawn per example)
//!   agree with the theory's: the Hermitian completion computed with LibTorch equals
//!   `FieldSpectrum::mri_oracle`, and the Bayes estimator's MSE over 600 test images with their
//!   own masks matches `task_floor` within 5 standard errors, for random and equispaced masks
//!   (accelerations 2, 4, 8).
//! - A small U-Net trained on MRI (complex input) and SR data stays above the floor: for MRI
//!   paired with the Bayes estimator on the same images (4 standard errors), for SR against
//!   the exact floor (3 standard errors of the test MSE); and it learned the task: it beats the
//!   best scalar shrinkage of its baseline input (`common::shrinkage_mse_per_image`, paired,
//!   3 standard errors).

mod common;

use plateau_experiments::data::{images_to_tensor, DataSpec, Pairs};
use plateau_experiments::fourier::{fft2c, ifft2c};
use plateau_experiments::metrics::{self, mean_stderr};
use plateau_experiments::streams::Split;
use plateau_experiments::task::{Downsample, MaskKind, Measure as _, Task};
use plateau_experiments::train::{predict, train_unet, Splits, Status, TrainConfig};
use plateau_experiments::unet::UNet;
use plateau_theory::field::FieldSpectrum;
use tch::{nn, Device, Kind, Tensor};

fn mri(mask: MaskKind) -> Task {
    Task::Mri {
        acceleration: 4,
        center_fraction: 0.08,
        mask,
        mask_seed: Default::default(),
        input: plateau_experiments::task::MriInput::Magnitude,
    }
}

#[test]
fn mri_masks_and_transforms_agree_with_the_theory() {
    let s = 16;
    let spec = common::field(s);
    let f = FieldSpectrum::new(s, 2.0, 0.05, 0.0625).unwrap();
    let test = spec.generate(Split::Test, 4, 3);
    let task = mri(MaskKind::Random);
    for i in 0..test.count {
        let x = &test.clean[i * s * s..(i + 1) * s * s];
        let mask = task.mask_for(s, Split::Test, 3, i).unwrap();
        // Hermitian completion of the mask in centred k-space: column c and (s - c) mod s.
        let sym: Vec<f32> = (0..s)
            .map(|c| {
                if mask[c] || mask[(s - c) % s] {
                    1.0
                } else {
                    0.0
                }
            })
            .collect();
        let xt = images_to_tensor(x, 1, s, s, Device::Cpu);
        let m = Tensor::from_slice(&sym)
            .view([1, 1, 1, s as i64])
            .to_kind(Kind::ComplexFloat);
        let torch = ifft2c(&(fft2c(&xt) * m))
            .real()
            .to_kind(Kind::Double)
            .flatten(0, -1);
        let torch = Vec::<f64>::try_from(torch).unwrap();
        let theory = f.mri_oracle(x, &mask);
        for (a, b) in torch.iter().zip(&theory) {
            assert!((a - b).abs() < 1e-5, "example {i}: torch {a} vs theory {b}");
        }
    }
    for (kind, acceleration) in [
        (MaskKind::Random, 4),
        (MaskKind::Equispaced, 4),
        (MaskKind::Random, 8),
        (MaskKind::Equispaced, 2),
    ] {
        let task = Task::Mri {
            acceleration,
            center_fraction: 0.08,
            mask: kind,
            mask_seed: Default::default(),
            input: plateau_experiments::task::MriInput::Magnitude,
        };
        let test = spec.generate(Split::Test, 600, 11);
        let per_image = spec.task_oracle_per_image(&task, &test, 11).unwrap();
        let (mean, se) = mean_stderr(&per_image);
        let (floor, floor_se) = spec.task_floor(&task, 11).unwrap();
        assert!(floor_se.is_none(), "the field's MRI floor is exact");
        assert!(
            (mean - floor).abs() < 5.0 * se,
            "{kind:?} x{acceleration}: oracle {mean} +- {se}, floor {floor}"
        );
        assert!(
            se < 0.05 * floor,
            "{kind:?}: s.e. {se} too large for {floor}"
        );
    }
}

/// The tiny U-Net for `task` (its input channels: 3 for MRI's complex input).
fn config(task: &Task) -> TrainConfig {
    let mut cfg = common::tiny_unet(5, false, "inverse_floor test");
    cfg.input_channels = task.input_channels(1) as i64;
    cfg
}

/// The splits, the test pairs and the test `(clean, input)`.
fn splits(spec: &DataSpec, task: &Task) -> (Splits, Pairs, (Tensor, Tensor)) {
    let tensors = |split, count| {
        let p = spec.generate(split, count, 0);
        let (clean, _) = p.tensors(Device::Cpu);
        let input = task.measure(&clean, split, 0, 0);
        ((clean, input), p)
    };
    let (train, _) = tensors(Split::Train, 192);
    let (val, _) = tensors(Split::Validation, 32);
    let ((clean, input), pairs) = tensors(Split::Test, 256);
    let test = (clean.shallow_clone(), input.shallow_clone()).into();
    let splits = Splits {
        train: train.into(),
        val: val.into(),
        test,
    };
    (splits, pairs, (clean, input))
}

#[test]
fn unet_stays_above_the_mri_and_sr_floors() {
    let spec = common::field(16);
    // MRI with complex input (the information the floor assumes): with magnitude input this
    // tiny network, 5 epochs, stays above the best shrinkage of its input (7.3e-2 against
    // 6.3e-2, floor 3.0e-2) and even above the zero image
    // (about the pixel variance, 6.25e-2).
    let mri_complex = Task::Mri {
        acceleration: 4,
        center_fraction: 0.08,
        mask: MaskKind::Random,
        mask_seed: Default::default(),
        input: plateau_experiments::task::MriInput::Complex,
    };
    for task in [
        mri_complex,
        Task::Sr {
            scale: 2,
            downsample: Downsample::Area,
        },
    ] {
        let (splits, test_pairs, test) = splits(&spec, &task);
        let dir = common::tmpdir(&format!("inverse-{}", task.name()));
        let outcome =
            train_unet(&config(&task), &splits, Device::Cpu, &dir, |_, _, _, _| {}).unwrap();
        assert_eq!(outcome.status, Status::Ok);
        let summary = outcome.test.unwrap();
        let (floor, _) = spec.task_floor(&task, 11).unwrap();
        assert!(
            summary.mse > floor - 3.0 * summary.mse_stderr,
            "{}: U-Net {} +- {} below the floor {floor}",
            task.name(),
            summary.mse,
            summary.mse_stderr
        );
        // The best checkpoint, reloaded: per-image test MSEs.
        let mut vs = nn::VarStore::new(Device::Cpu);
        let cfg = config(&task);
        let net = UNet::with_io(&vs.root(), cfg.net, cfg.input_channels, 1);
        vs.load(dir.join("best.safetensors")).unwrap();
        let per_image = metrics::mse(&predict(&net, &test.1), &test.0);
        let reloaded = mean_stderr(&per_image).0;
        assert!(
            (reloaded - summary.mse).abs() <= 1e-9 * summary.mse,
            "{}: reported {}, reloaded {reloaded}",
            task.name(),
            summary.mse
        );
        // It learned the task: below the best shrinkage of its baseline input (the real part
        // of the zero-filled image, the upsampled image), paired on the same images. A network
        // that outputs zeros, its baseline, or a gain times it does not get there.
        let baseline = test.1.narrow(1, 0, 1);
        let shrinkage = common::shrinkage_mse_per_image(&test.0, &baseline);
        let (gain, se) = common::paired_difference(&per_image, &shrinkage);
        println!(
            "{}: U-Net {:.4e} +- {:.1e}, input {:.4e}, best shrinkage {:.4e}, floor {floor:.4e}; \
             U-Net - shrinkage {gain:.2e} +- {se:.1e}",
            task.name(),
            summary.mse,
            summary.mse_stderr,
            mean_stderr(&metrics::mse(&baseline, &test.0)).0,
            mean_stderr(&shrinkage).0,
        );
        assert!(
            gain < -3.0 * se,
            "{}: U-Net {} does not beat the best shrinkage of the input: {gain} +- {se}",
            task.name(),
            summary.mse
        );
        if let Some(oracle) = spec.task_oracle_per_image(&task, &test_pairs, 0) {
            // Paired with the Bayes estimator on the same images and masks.
            let (d, se) = common::paired_difference(&per_image, &oracle);
            assert!(
                d > -4.0 * se,
                "{}: U-Net beats the Bayes estimator by {d} +- {se}",
                task.name()
            );
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
