//! One-call predictions: each builds what one `(setup, N)` needs (the full equivalent, or only
//! the scalar fixed point for ridge) and evaluates one estimator.

use super::equivalent::{
    check_n_train, finite_size_flat, two_atom, Prediction, SpectralEquivalent,
};
use super::ridge::{ridge_closed_form, ridge_optimal as tuned_ridge};
use crate::{Estimator, Setup, StepSize, TheoryError};

/// Predicted expected risk of `estimator` trained on `n_train` examples.
///
/// # Errors
/// [`TheoryError::InvalidArgument`] for `n_train == 0` or a non-positive step.
pub fn expected_risk(
    setup: &Setup,
    n_train: usize,
    estimator: Estimator,
    step: StepSize,
) -> Result<Prediction, TheoryError> {
    step.validate()?;
    if estimator == Estimator::Optimal {
        check_n_train(n_train)?;
        return Ok(Prediction::finite(setup.floor()));
    }
    Ok(SpectralEquivalent::new(setup, n_train)?.predict(estimator, step))
}

/// Predicted expected risk of gradient descent for `k = 0..=iters` (`path[0] = 1`).
///
/// # Errors
/// As [`expected_risk`].
pub fn gd_path(
    setup: &Setup,
    n_train: usize,
    step: StepSize,
    iters: usize,
) -> Result<Vec<f64>, TheoryError> {
    step.validate()?;
    Ok(SpectralEquivalent::new(setup, n_train)?.gd_path(step.eta(setup, n_train), iters))
}

/// Predicted expected risk of gradient flow at time `t >= 0` (in units where GD with step
/// `eta` after `k` steps is `t ~ eta N k`).
///
/// # Errors
/// [`TheoryError::InvalidArgument`] for `n_train == 0` or `t` negative or not finite.
pub fn gradient_flow(setup: &Setup, n_train: usize, t: f64) -> Result<f64, TheoryError> {
    if !(t.is_finite() && t >= 0.0) {
        return Err(TheoryError::InvalidArgument(format!(
            "time must be finite and non-negative, got {t}"
        )));
    }
    Ok(SpectralEquivalent::new(setup, n_train)?.gradient_flow(t))
}

/// Predicted expected risk of ridge `W = X Y^T (Y Y^T + N lambda I)^{-1}` (the minimiser of
/// `||W Y - X||_F^2 / (2N) + lambda ||W||_F^2 / 2`), `lambda > 0`. Cost: one scalar root.
///
/// # Errors
/// [`TheoryError::InvalidArgument`] for `n_train == 0` or `lambda` not finite and positive.
pub fn ridge(setup: &Setup, n_train: usize, lambda: f64) -> Result<f64, TheoryError> {
    check_n_train(n_train)?;
    if !(lambda.is_finite() && lambda > 0.0) {
        return Err(TheoryError::InvalidArgument(format!(
            "ridge penalty must be finite and positive, got {lambda}"
        )));
    }
    Ok(ridge_closed_form(
        &two_atom(setup, n_train),
        setup.floor(),
        finite_size_flat(setup, n_train).as_ref(),
        lambda,
    ))
}

/// The optimally tuned ridge: `(lambda_opt, risk)`, minimising the deterministic equivalent over
/// `lambda in [1e-10, 1e4]` (log grid, then golden section).
///
/// # Errors
/// [`TheoryError::InvalidArgument`] for `n_train == 0`.
pub fn ridge_optimal(setup: &Setup, n_train: usize) -> Result<(f64, f64), TheoryError> {
    check_n_train(n_train)?;
    Ok(tuned_ridge(
        &two_atom(setup, n_train),
        setup.floor(),
        finite_size_flat(setup, n_train).as_ref(),
    ))
}

/// Expected risk of min-norm least squares `W_inf = X pinv(Y)`: exact
/// `floor (N - 1)/(N - n - 1)` for `N > n + 1`, `None` (infinite) for `N in {n-1, n, n+1}`, the
/// deterministic equivalent for `N < n - 1` (`sigma > 0`; with `sigma = 0` the equivalent at
/// every `N != n`).
///
/// # Errors
/// [`TheoryError::InvalidArgument`] for `n_train == 0`.
pub fn least_squares(setup: &Setup, n_train: usize) -> Result<Option<f64>, TheoryError> {
    Ok(SpectralEquivalent::new(setup, n_train)?.least_squares_risk())
}

/// Expected risk of PCA (see [`SpectralEquivalent::pca_risk`]).
///
/// # Errors
/// [`TheoryError::InvalidArgument`] for `n_train == 0`.
pub fn pca(setup: &Setup, n_train: usize) -> Result<f64, TheoryError> {
    Ok(SpectralEquivalent::new(setup, n_train)?.pca_risk())
}

/// The error floor `sigma^2 / (1 + sigma^2)`: the risk of the optimal estimator, and the limit of
/// every consistent estimator as `N -> infinity`.
pub fn floor(setup: &Setup) -> f64 {
    setup.floor()
}
