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
    on_step: impl FnMut(),
) -> anyhow::Result<LinearRun> {
    let n = setup.n();
    let count = train.count;
    let eta = eta.unwrap_or_else(|| StepSize::Paper.eta(setup, count));
    let x64 = columns(&train.clean, count, n);
    let y64 = columns(&train.noisy, count, n);
    let data = TrainingSet::from_data(setup, u.as_ref(), x64.as_ref(), y64.as_ref())
        .map_err(|e| anyhow::anyhow!("the training set does not fit the subspace model: {e}"))?;
    let exact = Some(data.spectrum(Par::Seq).gd_risk_path(eta, iters, Par::Seq));
    let (x, y) = (to_tensor(&x64, device), to_tensor(&y64, device));
    let judge = Judge::new(setup, u, val, device);
    Ok(LinearRun {
        exact,
        ..descend(&x, &y, eta, iters, &judge, on_step)
    })
}

/// An `f64` matrix as an `f32` tensor on `device`.
fn to_tensor(m: &Mat<f64>, device: Device) -> Tensor {
    let (r, c) = (m.nrows(), m.ncols());
    let v: Vec<f32> = (0..r)
        .flat_map(|i| (0..c).map(move |j| (i, j)))
        .map(|(i, j)| m[(i, j)] as f32)
        .collect();
    Tensor::from_slice(&v)
        .view([r as i64, c as i64])
        .to_device(device)
}

/// What each iterate `W` (`n x n`) is measured by: its exact risk and its validation MSE.
struct Judge {
    /// The subspace basis `U` (`n x d`).
    ut: Tensor,
    /// Validation images, one per column (`n x count`).
    xv: Tensor,
    /// Their noisy copies.
    yv: Tensor,
    sigma2: f64,
    d: f64,
}

impl Judge {
    fn new(setup: &Setup, u: &Mat<f64>, val: &Pairs, device: Device) -> Judge {
        let n = setup.n();
        Judge {
            ut: to_tensor(u, device),
            xv: to_tensor(&columns(&val.clean, val.count, n), device),
            yv: to_tensor(&columns(&val.noisy, val.count, n), device),
            sigma2: setup.sigma2(),
            d: setup.d() as f64,
        }
    }

    /// `(||W U - U||_F^2 + sigma^2 ||W||_F^2) / d`.
    fn risk(&self, w: &Tensor) -> f64 {
        let fit = (w.mm(&self.ut) - &self.ut)
            .square()
            .sum(Kind::Float)
            .double_value(&[]);
        let norm = w.square().sum(Kind::Float).double_value(&[]);
        (fit + self.sigma2 * norm) / self.d
    }

    fn val_mse(&self, w: &Tensor) -> f64 {
        (w.mm(&self.yv) - &self.xv)
            .square()
            .mean(Kind::Float)
            .double_value(&[])
    }
}

/// Gradient descent on `||W Y - X||_F^2 / 2` from `W = 0` with step `eta`, until `iters` steps
/// or a non-finite loss or risk; the run without its exact path.
fn descend(
    x: &Tensor,
    y: &Tensor,
    eta: f64,
    iters: usize,
    judge: &Judge,
    mut on_step: impl FnMut(),
) -> LinearRun {
    let n = x.size()[0];
    let mut w = Tensor::zeros([n, n], (Kind::Float, x.device())).set_requires_grad(true);
    let mut torch = vec![judge.risk(&w)];
    let mut best = (w.detach().copy(), 0, judge.val_mse(&w));
    let mut diverged_at = None;
    for k in 1..=iters {
        let loss = (w.mm(y) - x).square().sum(Kind::Float) * 0.5;
        if !loss.double_value(&[]).is_finite() {
            diverged_at = Some(k);
            break;
        }
        w.zero_grad();
        loss.backward();
        tch::no_grad(|| {
            let _ = w.f_sub_(&(w.grad() * eta)).expect("in-place update");
        });
        let r = judge.risk(&w);
        if !r.is_finite() {
            diverged_at = Some(k);
            break;
        }
        torch.push(r);
        let v = judge.val_mse(&w);
        if v < best.2 {
            best = (w.detach().copy(), k, v);
        }
        on_step();
    }
    LinearRun {
        torch,
        exact: None,
        eta,
        best,
        diverged_at,
    }
}

/// Largest relative difference `|a - b| / |b|` over the common prefix of two paths.
pub fn max_relative_error(torch: &[f64], exact: &[f64]) -> f64 {
    torch
        .iter()
        .zip(exact)
        .map(|(a, b)| (a - b).abs() / b.abs())
        .fold(0.0, f64::max)
}
