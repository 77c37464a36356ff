//! The harness that ties the LibTorch side to the theory: a full linear map `W` trained by
//! full-batch gradient descent (LibTorch autograd, f32) on `subspace` pictures must follow the
//! exact risk path that `plateau-theory` computes (f64, one eigendecomposition) for the *same*
//! training set, to relative error 1e-4 at every iteration.

use plateau_experiments::data::{DataSpec, Synthetic};
use plateau_experiments::linear::{max_relative_error, train_linear};
use plateau_experiments::streams::Split;
use plateau_theory::StepSize;
use tch::Device;

const TOLERANCE: f64 = 1e-4;

fn spec() -> DataSpec {
    // 8x8 pictures (n = 64) in the span of the d = 4 lowest DCT modes, sigma = 0.3.
    DataSpec::new(Synthetic::Subspace { dim: 4 }, 8, 0.3).unwrap()
}

#[test]
fn torch_gradient_descent_follows_the_exact_risk_path() {
    let spec = spec();
    let (setup, u) = spec.subspace().unwrap();
    for (n_train, iters) in [(24usize, 400usize), (200, 300)] {
        let train = spec.generate(Split::Train, n_train, 3);
        let val = spec.generate(Split::Validation, 16, 3);
        let run = train_linear(setup, u, &train, &val, iters, None, Device::Cpu, || {}).unwrap();
        assert!(run.diverged_at.is_none());
        assert_eq!(run.eta, StepSize::Paper.eta(setup, n_train));
        let exact = run.exact.as_ref().unwrap();
        assert_eq!(run.torch.len(), iters + 1);
        assert_eq!(exact.len(), iters + 1);
        assert!(
            (run.torch[0] - 1.0).abs() < 1e-6,
            "R(W_0) = R(0) = 1, got {}",
            run.torch[0]
        );
        let err = max_relative_error(&run.torch, exact);
        eprintln!(
            "N = {n_train}: {iters} steps, eta {:e}, max relative error {err:e}",
            run.eta
        );
        assert!(
            err <= TOLERANCE,
            "N = {n_train}: max relative error {err:e} > {TOLERANCE:e}"
        );
        // The path really moves (so the comparison is not vacuous): the risk falls by half.
        assert!(
            run.torch[iters] < 0.5,
            "N = {n_train}: risk only fell to {}",
            run.torch[iters]
        );
        // ...and a slightly different step gives a path that this tolerance rejects.
        let (spectrum_setup, _) = spec.subspace().unwrap();
        let other = plateau_theory::sample::TrainingSet::from_data(
            spectrum_setup,
            u.as_ref(),
            plateau_experiments::linear::columns(&train.clean, n_train, 64).as_ref(),
            plateau_experiments::linear::columns(&train.noisy, n_train, 64).as_ref(),
        )
        .unwrap()
        .spectrum(faer::Par::Seq)
        .gd_risk_path(run.eta * 1.01, iters, faer::Par::Seq);
        assert!(max_relative_error(&run.torch, &other) > 10.0 * TOLERANCE);
    }
}

#[test]
fn a_too_large_step_is_reported_as_divergence_not_a_panic() {
    let spec = spec();
    let (setup, u) = spec.subspace().unwrap();
    let train = spec.generate(Split::Train, 16, 0);
    let val = spec.generate(Split::Validation, 4, 0);
    let run = train_linear(setup, u, &train, &val, 2000, Some(10.0), Device::Cpu, || {}).unwrap();
    let k = run.diverged_at.expect("eta = 10 must diverge");
    assert!(k < 2000);
    assert!(run.torch.iter().all(|r| r.is_finite()));
}
