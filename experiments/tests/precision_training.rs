//! Training at reduced precision (CPU): the tiny U-Net of the floor tests, trained in bf16 and
//! fp16 from the same seed as in fp32, converges like it.
//!
//! For each precision: the training loss falls from the first epoch to the last, and the
//! network beats the best scalar shrinkage of the noisy input (`common::shrinkage_mse_per_image`,
//! paired on the test images, by 3 standard errors), which a network that learned only a gain
//! does not. Against fp32: the test MSE is within 2 standard errors (over test images) of fp32's,
//! i.e. the precision changes the result by less than the test set can resolve.
//!
//! That the run really was in bf16 / fp16 (so the comparison with fp32 is not fp32 with
//! itself): its best weights differ from the paired fp32 run's (same seed and data order, and
//! CPU training is deterministic, so a run that ignored the precision would be bit-identical),
//! and its reported test MSE is that of those weights run in the reduced precision, not in fp32.

mod common;

use plateau_experiments::metrics::{self, mean_stderr, Summary};
use plateau_experiments::precision::Precision;
use plateau_experiments::streams::Split;
use plateau_experiments::train::{predict, train_unet, Splits, Status, TrainConfig};
use plateau_experiments::unet::UNet;
use tch::{nn, Device, Kind};

/// A finished run: its test metrics and the folder holding `best.safetensors`.
struct Run {
    test: Summary,
    dir: tempfile::TempDir,
}

fn config(precision: Precision) -> TrainConfig {
    let mut cfg = common::tiny_unet(6, false, "precision test");
    cfg.precision = precision;
    cfg
}

/// The best weights of `run` in a fresh VarStore, and the network on them computing in
/// `precision`.
fn reload(run: &Run, precision: Precision) -> (nn::VarStore, UNet) {
    let mut vs = nn::VarStore::new(Device::Cpu);
    let net = UNet::new(&vs.root(), config(precision).net).in_precision(precision);
    vs.load(run.dir.path().join("best.safetensors")).unwrap();
    (vs, net)
}

/// Relative RMS difference `|a - b| / |b|` over all weights of two VarStores of one network.
fn weight_difference(a: &nn::VarStore, b: &nn::VarStore) -> f64 {
    let (a, b) = (a.variables(), b.variables());
    assert_eq!(a.len(), b.len());
    let (mut diff, mut norm) = (0.0, 0.0);
    for (name, wb) in &b {
        let wa = &a[name];
        diff += (wa - wb).square().sum(Kind::Double).double_value(&[]);
        norm += wb.square().sum(Kind::Double).double_value(&[]);
    }
    (diff / norm).sqrt()
}

#[test]
fn bf16_and_fp16_training_converge_like_fp32() {
    let spec = common::field(16);
    let (test_clean, test_input) = spec.generate(Split::Test, 256, 0).tensors(Device::Cpu);
    let input_mse = (&test_input - &test_clean)
        .square()
        .mean(Kind::Double)
        .double_value(&[]);
    let shrinkage = common::shrinkage_mse_per_image(&test_clean, &test_input);
    let splits = Splits {
        train: spec
            .generate(Split::Train, 256, 0)
            .tensors(Device::Cpu)
            .into(),
        val: spec
            .generate(Split::Validation, 32, 0)
            .tensors(Device::Cpu)
            .into(),
        test: (test_clean.shallow_clone(), test_input.shallow_clone()).into(),
    };
    // Per-image test MSEs of a network.
    let per_image = |net: &UNet| metrics::mse(&predict(net, &test_input), &test_clean);
    let train = |precision| {
        let dir = tempfile::tempdir().unwrap();
        let mut losses = Vec::new();
        let outcome = train_unet(
            &config(precision),
            &splits,
            Device::Cpu,
            dir.path(),
            |_, loss, _, _| losses.push(loss),
        )
        .unwrap();
        assert_eq!(outcome.status, Status::Ok, "{precision:?}");
        let run = Run {
            test: outcome.test.expect("a finished epoch"),
            dir,
        };
        let net_mse = per_image(&reload(&run, precision).1);
        let (gain, se) = common::paired_difference(&net_mse, &shrinkage);
        println!(
            "{precision:?}: train loss {losses:?}, test MSE {:.5e} +- {:.1e} (input {input_mse:.4e}, \
             best shrinkage {:.4e}; network - shrinkage {gain:.2e} +- {se:.1e})",
            run.test.mse,
            run.test.mse_stderr,
            mean_stderr(&shrinkage).0,
        );
        assert!(
            losses.last().unwrap() < &losses[0],
            "{precision:?}: loss {losses:?}"
        );
        assert!(
            gain < -3.0 * se,
            "{precision:?}: test MSE {} does not beat the best shrinkage of the input ({gain} +- {se})",
            run.test.mse
        );
        run
    };
    let fp32 = train(Precision::Fp32);
    let (fp32_weights, _) = reload(&fp32, Precision::Fp32);
    for precision in [Precision::Bf16, Precision::Fp16] {
        let reduced = train(precision);
        // Trained in the reduced precision: other weights than the paired fp32 run's.
        let (weights, net) = reload(&reduced, precision);
        let moved = weight_difference(&weights, &fp32_weights);
        println!("{precision:?}: weights differ from fp32's by {moved:.2e} (relative RMS)");
        assert!(moved > 0.0, "{precision:?}: the weights are fp32's");
        // Evaluated in it: the reported MSE is that of the weights run in the reduced
        // precision (to summation order), and the same weights in fp32 give another one.
        let (in_kind, _) = mean_stderr(&per_image(&net));
        let (_, fp32_net) = reload(&reduced, Precision::Fp32);
        let (in_fp32, _) = mean_stderr(&per_image(&fp32_net));
        let reported = reduced.test.mse;
        assert!(
            (in_kind - reported).abs() <= 1e-9 * reported,
            "{precision:?}: reported {reported}, the weights in {precision:?} give {in_kind}"
        );
        assert!(
            (in_fp32 - reported).abs() > 1e-9 * reported,
            "{precision:?}: reported {reported} is the weights' fp32 MSE {in_fp32}"
        );
        assert!(
            (reduced.test.mse - fp32.test.mse).abs() < 2.0 * fp32.test.mse_stderr,
            "{precision:?}: test MSE {} vs fp32 {} +- {}",
            reduced.test.mse,
            fp32.test.mse,
            fp32.test.mse_stderr
        );
    }
}
