//! The linear model trained like a network: the harness that ties LibTorch to the theory.
//!
//! A full matrix `W` (`n x n`, `n = s^2` pixels, `f32`) maps a noisy image to its estimate. It is
//! trained by full-batch gradient descent on `L(W) = 1/2 ||W Y - X||_F^2` from `W_0 = 0`
//! (`X`, `Y`: `n x N`, one image per column), with the gradient from LibTorch's autograd:
//! `W_{k+1} = W_k - eta grad L(W_k)`, `grad L = (W Y - X) Y^T`. On `subspace` data its test risk
//!
//! ```text
//! R(W) = ( ||(W - I) U||_F^2 + sigma^2 ||W||_F^2 ) / d
//! ```
//!
//! (the paper's normalisation; the pixel MSE is `d R / n`) must follow the path that
//! `plateau_theory::spectrum::Spectrum::gd_risk_path` computes exactly (f64, one
//! eigendecomposition) for the same training set.

use faer::{Mat, Par};
use plateau_theory::sample::TrainingSet;
use plateau_theory::{Setup, StepSize};
use tch::{Device, Kind, Tensor};

use crate::data::Pairs;

/// `n x N` matrix of the images in `v` (one image per column), `f64`.
pub fn columns(v: &[f64], count: usize, n: usize) -> Mat<f64> {
    Mat::from_fn(n, count, |i, j| v[j * n + i])
}

/// The risk path of the LibTorch iteration and of the exact engine, `k = 0..=iters`.
#[derive(Debug)]
pub struct LinearRun {
    /// `R(W_k)` of the LibTorch iterate, computed in `f32`; may end early (divergence).
    pub torch: Vec<f64>,
    /// `R(W_k)` from `plateau-theory`, f64; `None` when `N` gives no exact path.
    pub exact: Option<Vec<f64>>,
    /// Step size used.
    pub eta: f64,
    /// The iterate with the lowest validation MSE, its index, and its validation MSE.
    pub best: (Tensor, usize, f64),
    /// Whether a non-finite loss stopped the iteration (index of that step).
    pub diverged_at: Option<usize>,
}

/// Runs `iters` full-batch gradient-descent steps on `train`, tracking the exact risk and the
/// validation MSE of each iterate. `eta`: the paper's rule when `None`.
///
/// `u` is the subspace basis (`n x d`). `on_step` is called after each step.
// The arguments are the model, its data and the schedule: a struct would only rename them.
#[allow(clippy::too_many_arguments)]
pub fn train_linear(
    setup: &Setup,
    u: &Mat<f64>,
    train: &Pairs,
    val: &Pairs,
    iters: usize,
    eta: Option<f64>,
    device: Device,
    mut on_step: impl FnMut(),
) -> anyhow::Result<LinearRun> {
    let n = setup.n();
    let count = train.count;
    let eta = eta.unwrap_or_else(|| StepSize::Paper.eta(setup, count));
    let x64 = columns(&train.clean, count, n);
    let y64 = columns(&train.noisy, count, n);
    let data = TrainingSet::from_data(setup, u.as_ref(), x64.as_ref(), y64.as_ref())
        .map_err(|e| anyhow::anyhow!("the training set does not fit the subspace model: {e}"))?;
    let exact = Some(data.spectrum(Par::Seq).gd_risk_path(eta, iters, Par::Seq));

    let to_t = |m: &Mat<f64>| {
        let (r, c) = (m.nrows(), m.ncols());
        let v: Vec<f32> = (0..r)
            .flat_map(|i| (0..c).map(move |j| (i, j)))
            .map(|(i, j)| m[(i, j)] as f32)
            .collect();
        Tensor::from_slice(&v)
            .view([r as i64, c as i64])
            .to_device(device)
    };
    let (x, y, ut) = (to_t(&x64), to_t(&y64), to_t(u));
    let xv = to_t(&columns(&val.clean, val.count, n));
    let yv = to_t(&columns(&val.noisy, val.count, n));
    let sigma2 = setup.sigma2();
    let d = setup.d() as f64;
    let risk = |w: &Tensor| -> f64 {
        let fit = (w.mm(&ut) - &ut)
            .square()
            .sum(Kind::Float)
            .double_value(&[]);
        let norm = w.square().sum(Kind::Float).double_value(&[]);
        (fit + sigma2 * norm) / d
    };
    let val_mse = |w: &Tensor| {
        (w.mm(&yv) - &xv)
            .square()
            .mean(Kind::Float)
            .double_value(&[])
    };

    let mut w = Tensor::zeros([n as i64, n as i64], (Kind::Float, device)).set_requires_grad(true);
    let mut torch = vec![risk(&w)];
    let mut best = (w.detach().copy(), 0, val_mse(&w));
    let mut diverged_at = None;
    for k in 1..=iters {
        let loss = (w.mm(&y) - &x).square().sum(Kind::Float) * 0.5;
        if !loss.double_value(&[]).is_finite() {
            diverged_at = Some(k);
            break;
        }
        w.zero_grad();
        loss.backward();
        tch::no_grad(|| {
            let _ = w.f_sub_(&(w.grad() * eta)).expect("in-place update");
        });
        let r = risk(&w);
        if !r.is_finite() {
            diverged_at = Some(k);
            break;
        }
        torch.push(r);
        let v = val_mse(&w);
        if v < best.2 {
            best = (w.detach().copy(), k, v);
        }
        on_step();
    }
    Ok(LinearRun {
        torch,
        exact,
        eta,
        best,
        diverged_at,
    })
}

/// Largest relative difference `|a - b| / |b|` over the common prefix of two paths.
pub fn max_relative_error(torch: &[f64], exact: &[f64]) -> f64 {
    torch
        .iter()
        .zip(exact)
        .map(|(a, b)| (a - b).abs() / b.abs())
        .fold(0.0, f64::max)
}
