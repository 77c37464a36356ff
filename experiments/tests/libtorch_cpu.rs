//! Smoke test: LibTorch loads and trains on CPU.
//!
//! A small convolutional denoiser (tch::nn) learns to remove fixed-seed Gaussian
//! noise from smooth synthetic images with Adam. Checks the forward shape, that
//! backward reaches every parameter, that the loss strictly decreases at each of
//! the first Adam steps, that training clearly beats the "return the noisy input"
//! baseline, and that a rerun with the same seed reproduces the same losses.

use tch::nn::{self, Module, OptimizerConfig};
use tch::{Device, Kind, Reduction, Tensor};

const SIDE: i64 = 16;
const BATCH: i64 = 8;
const NOISE_STD: f64 = 0.3;
const STEPS: usize = 30;
/// Steps over which the loss must fall at every step (Adam is monotone here by a
/// margin of at least 8% per step; later it may wobble while still improving).
const MONOTONE_STEPS: usize = 10;
const LEARNING_RATE: f64 = 5e-3;
const CHANNELS: i64 = 8;

/// Smooth images sin(a x + p) cos(b y + q) with per-image frequencies and phases.
fn clean_images() -> Tensor {
    let opts = (Kind::Float, Device::Cpu);
    let grid = Tensor::linspace(0.0, std::f64::consts::PI, SIDE, opts);
    let xs = grid.view([1, 1, 1, SIDE]);
    let ys = grid.view([1, 1, SIDE, 1]);
    let k = Tensor::arange(BATCH, opts).view([BATCH, 1, 1, 1]);
    let a = 1.0 + &k * 0.25;
    let b = 2.0 - &k * 0.15;
    ((&xs * &a + &k * 0.4).sin() * (&ys * &b - &k * 0.3).cos()).contiguous()
}

fn denoiser(vs: &nn::Path) -> impl Module {
    let conv = |name: &str, c_in: i64, c_out: i64| {
        let cfg = nn::ConvConfig {
            padding: 1,
            ..Default::default()
        };
        nn::conv2d(vs / name, c_in, c_out, 3, cfg)
    };
    nn::seq()
        .add(conv("c1", 1, CHANNELS))
        .add_fn(|x| x.relu())
        .add(conv("c2", CHANNELS, CHANNELS))
        .add_fn(|x| x.relu())
        .add(conv("c3", CHANNELS, 1))
}

struct Run {
    baseline: f64,
    losses: Vec<f64>,
}

fn train(seed: i64, steps: usize) -> Run {
    tch::manual_seed(seed);
    let clean = clean_images();
    let noisy = &clean + Tensor::randn(clean.size(), (Kind::Float, Device::Cpu)) * NOISE_STD;
    let baseline = noisy.mse_loss(&clean, Reduction::Mean).double_value(&[]);

    let vs = nn::VarStore::new(Device::Cpu);
    let net = denoiser(&vs.root());
    let mut opt = nn::Adam::default().build(&vs, LEARNING_RATE).unwrap();

    let mut losses = Vec::with_capacity(steps);
    for step in 0..steps {
        let out = net.forward(&noisy);
        assert_eq!(out.size(), clean.size(), "forward keeps the image shape");
        let loss = out.mse_loss(&clean, Reduction::Mean);
        opt.zero_grad();
        loss.backward();
        if step == 0 {
            let vars = vs.trainable_variables();
            assert_eq!(vars.len(), 6, "3 convolutions, each with weight and bias");
            for v in &vars {
                let g = v.grad();
                assert!(g.defined(), "backward reached every parameter");
                let norm = g.norm().double_value(&[]);
                assert!(norm.is_finite() && norm > 0.0, "gradient norm {norm}");
            }
        }
        opt.step();
        losses.push(loss.double_value(&[]));
    }
    Run { baseline, losses }
}

#[test]
fn conv_denoiser_trains_on_cpu() {
    let run = train(42, STEPS);
    let losses = &run.losses;
    assert!(losses.iter().all(|l| l.is_finite()), "{losses:?}");
    for (step, pair) in losses[..MONOTONE_STEPS].windows(2).enumerate() {
        assert!(
            pair[1] < pair[0],
            "loss went up at step {}: {} -> {} (all: {losses:?})",
            step + 1,
            pair[0],
            pair[1]
        );
    }
    let (first, last) = (losses[0], losses[STEPS - 1]);
    assert!(last < 0.5 * first, "loss only fell from {first} to {last}");
    assert!(
        last < 0.75 * run.baseline,
        "denoiser ({last}) does not beat the noisy input ({})",
        run.baseline
    );

    // Same seed, same data, same initial weights, same trajectory.
    let again = train(42, 5);
    assert_eq!(again.baseline, run.baseline);
    for (a, b) in again.losses.iter().zip(losses) {
        assert!((a - b).abs() <= 1e-5 * b.abs(), "rerun differs: {a} vs {b}");
    }
}

#[test]
fn autograd_matches_the_analytic_gradient() {
    // f(w) = sum((w * x)^2), df/dw = 2 w x^2.
    let x = Tensor::from_slice(&[1.0f64, -2.0, 0.5]);
    let w = Tensor::from_slice(&[0.3f64, 0.1, -4.0]).set_requires_grad(true);
    (&w * &x).square().sum(Kind::Double).backward();
    let expected = Tensor::from_slice(&[0.6f64, 0.8, -2.0]);
    let err = (w.grad() - expected).abs().max().double_value(&[]);
    assert!(err < 1e-12, "gradient error {err}");
}
