//! The risk functional for an explicit matrix `W`, the slow reference iteration of gradient
//! descent, and the closed forms that anchor the tests.
//!
//! These work on `n x n` matrices (nalgebra, small dense) and exist to check the spectral engine
//! ([`crate::spectrum`]) against the definitions, not for speed.

use faer::MatRef;
use nalgebra::DMatrix;

use crate::sample::TrainingSet;
use crate::Setup;

/// Converts a faer matrix to nalgebra.
pub fn to_nalgebra(m: MatRef<'_, f64>) -> DMatrix<f64> {
    DMatrix::from_fn(m.nrows(), m.ncols(), |i, j| m[(i, j)])
}

/// `R(W) = ( ||(W - I) U||_F^2 + sigma^2 ||W||_F^2 ) / d` for an explicit `n x n` matrix `W`.
/// Cost `O(n^2 d)`.
pub fn risk(setup: &Setup, u: &DMatrix<f64>, w: &DMatrix<f64>) -> f64 {
    let wu_minus_u = w * u - u;
    (wu_minus_u.norm_squared() + setup.sigma2() * w.norm_squared()) / setup.d() as f64
}

/// The optimal estimator `W* = U U^T / (1 + sigma^2)`, an `n x n` matrix.
pub fn optimal_matrix(setup: &Setup, u: &DMatrix<f64>) -> DMatrix<f64> {
    u * u.transpose() / setup.alpha()
}

/// Gradient descent on `L(W) = 1/2 ||W Y - X||_F^2` from `W_0 = 0`, iterated explicitly:
/// `W_{k+1} = W_k - eta (W_k Y Y^T - X Y^T)`. Returns `R(W_k)` for `k = 0..=iters`.
///
/// This is the slow reference (`O(iters n^3)`) that the spectral path is tested against.
/// `on_step` is called after every iteration (for progress reporting).
pub fn gd_risk_path_iterate(
    data: &TrainingSet,
    eta: f64,
    iters: usize,
    mut on_step: impl FnMut(),
) -> Vec<f64> {
    let setup = data.setup();
    let n = setup.n();
    let u = to_nalgebra(data.u());
    let y = to_nalgebra(data.y());
    let x = to_nalgebra(data.x().as_ref());
    let yyt = &y * y.transpose();
    let xyt = &x * y.transpose();
    let mut w = DMatrix::<f64>::zeros(n, n);
    let mut risks = Vec::with_capacity(iters + 1);
    risks.push(risk(setup, &u, &w));
    for _ in 0..iters {
        let grad = &w * &yyt - &xyt;
        w -= eta * grad;
        risks.push(risk(setup, &u, &w));
        on_step();
    }
    risks
}

/// Minimum-norm least squares `W_inf = X pinv(Y)` as an explicit `n x n` matrix.
pub fn least_squares_matrix(data: &TrainingSet) -> DMatrix<f64> {
    let y = to_nalgebra(data.y());
    let x = to_nalgebra(data.x().as_ref());
    let tol = 1e-12 * y.norm().max(f64::MIN_POSITIVE);
    let pinv = y
        .pseudo_inverse(tol)
        .expect("SVD-based pseudo-inverse of a finite matrix");
    x * pinv
}

/// `E[R(W_inf)] = sigma^2 / (1 + sigma^2) * (N - 1) / (N - n - 1)` for `N > n + 1`, the mean risk
/// of minimum-norm least squares (inverse-Wishart mean). `None` when `N <= n + 1`, where the
/// expectation is infinite (`N` in `{n, n+1}`) or not given by this formula (`N < n`).
pub fn least_squares_expected_risk(setup: &Setup, n_train: usize) -> Option<f64> {
    let n = setup.n();
    (n_train > n + 1).then(|| setup.floor() * (n_train - 1) as f64 / (n_train - n - 1) as f64)
}
