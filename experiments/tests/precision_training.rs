//! Training at reduced precision (CPU): the tiny U-Net of the floor tests, trained in bf16 and
//! fp16 from the same seed as in fp32, converges like it.
//!
//! For each precision: the training loss falls from the first epoch to the last, and the
//! network clearly beats the noisy input. Against fp32: the test MSE is within 2 standard errors
//! (over test images) of fp32's, i.e. the precision changes the result by less than the test
//! set can resolve.

mod common;

use plateau_experiments::precision::Precision;
use plateau_experiments::streams::Split;
use plateau_experiments::train::{train_unet, Splits, Status};
use tch::Device;

#[test]
fn bf16_and_fp16_training_converge_like_fp32() {
    let spec = common::field(16);
    let (test_clean, test_input) = spec.generate(Split::Test, 256, 0).tensors(Device::Cpu);
    let input_mse = (&test_input - &test_clean)
        .square()
        .mean(tch::Kind::Double)
        .double_value(&[]);
    let splits = Splits {
        train: spec
            .generate(Split::Train, 256, 0)
            .tensors(Device::Cpu)
            .into(),
        val: spec
            .generate(Split::Validation, 32, 0)
            .tensors(Device::Cpu)
            .into(),
        test: (test_clean, test_input).into(),
    };
    let train = |precision| {
        let mut cfg = common::tiny_unet(6, false, "precision test");
        cfg.precision = precision;
        let dir = tempfile::tempdir().unwrap();
        let mut losses = Vec::new();
        let outcome = train_unet(&cfg, &splits, Device::Cpu, dir.path(), |_, loss, _, _| {
            losses.push(loss)
        })
        .unwrap();
        assert_eq!(outcome.status, Status::Ok, "{precision:?}");
        let test = outcome.test.expect("a finished epoch");
        println!(
            "{precision:?}: train loss {losses:?}, test MSE {:.5e} +- {:.1e} (input {input_mse:.4e})",
            test.mse, test.mse_stderr
        );
        assert!(
            losses.last().unwrap() < &losses[0],
            "{precision:?}: loss {losses:?}"
        );
        assert!(
            test.mse < 0.9 * input_mse,
            "{precision:?}: {} vs input {input_mse}",
            test.mse
        );
        test
    };
    let fp32 = train(Precision::Fp32);
    for precision in [Precision::Bf16, Precision::Fp16] {
        let reduced = train(precision);
        assert!(
            (reduced.mse - fp32.mse).abs() < 2.0 * fp32.mse_stderr,
            "{precision:?}: test MSE {} vs fp32 {} +- {}",
            reduced.mse,
            fp32.mse,
            fp32.mse_stderr
        );
    }
}
