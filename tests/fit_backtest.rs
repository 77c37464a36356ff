//! Backtest prediction intervals: coverage of held-out points on curves with known parameters.
//!
//! `R` synthetic curves `y = beta N^alpha e^(s z)` (`z ~ N(0, 1)`, fixed seed) on
//! `N = 16, 32, ..., 16384`; the backtest fits `N <= 4096` (9 points) and predicts 8192 and
//! 16384. For the largest held-out point (one per curve, so the `R` outcomes are independent)
//! the 95% bootstrap prediction interval must cover the observed value at the rate of the
//! normal-theory prediction interval `fitted +- 1.96 s sqrt(1 + h)` with `s^2 = RSS / (n - p)`,
//! i.e. `p0 = P(|T_(n-p)| <= 1.96)`. The count is binomial, so it must lie within
//! `p0 +- 3 sqrt(p0 (1 - p0) / R)`. The same curves' confidence interval of the fitted curve
//! alone (no new-observation error) must cover clearly less: the test can tell the two apart.

use plateau::fit::backtest::{backtest, prediction_intervals};
use plateau::fit::{bootstrap, fit_model, BootstrapOptions, Curve, Method, ModelKind};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

/// `P(|T_k| <= c)` by Simpson's rule on the Student t density (2000 panels: error far below
/// the binomial tolerance).
fn t_coverage(k: f64, c: f64) -> f64 {
    let ln_norm =
        ln_gamma((k + 1.0) / 2.0) - ln_gamma(k / 2.0) - 0.5 * (k * std::f64::consts::PI).ln();
    let pdf = |t: f64| (ln_norm - (k + 1.0) / 2.0 * (1.0 + t * t / k).ln()).exp();
    let m = 2000;
    let h = c / m as f64;
    let mut s = pdf(0.0) + pdf(c);
    for i in 1..m {
        s += pdf(i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
    }
    2.0 * s * h / 3.0
}

/// Lanczos approximation of `ln Gamma(x)`, `x > 0` (relative error below 1e-13).
fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    let x = x - 1.0;
    let mut a = G[0];
    let t = x + 7.5;
    for (i, g) in G.iter().enumerate().skip(1) {
        a += g / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

#[test]
fn t_coverage_matches_known_values() {
    // P(|T_inf| <= 1.96) = 0.9500; P(|T_1| <= 1) = 0.5 (Cauchy).
    assert!((t_coverage(1e7, 1.959964) - 0.95).abs() < 1e-5);
    assert!((t_coverage(1.0, 1.0) - 0.5).abs() < 1e-6);
}

#[test]
fn prediction_intervals_cover_held_out_points_at_the_t_rate() {
    let reps: usize = std::env::var("PLATEAU_COVERAGE_REPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(400);
    let xs: Vec<f64> = (0..11).map(|i| 16.0 * 2f64.powi(i)).collect();
    let (beta, alpha, s) = (2.0, -0.5, 0.05);
    let opts = BootstrapOptions {
        method: Method::Residuals,
        reps: 400,
        seed: 7,
    };
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let (mut hits, mut hits_conf) = (0, 0);
    for r in 0..reps {
        let ys: Vec<f64> = xs
            .iter()
            .map(|x| {
                let z: f64 = StandardNormal.sample(&mut rng);
                beta * x.powf(alpha) * (s * z).exp()
            })
            .collect();
        let curve = Curve::new(&xs, &ys).unwrap();
        let train = curve.restrict(0.0, 4096.0);
        let fit = fit_model(ModelKind::Power, &train.xs, &train.ys).unwrap();
        let observed = *ys.last().unwrap();
        let pi = prediction_intervals(&train, &fit, &[8192.0, 16384.0], &opts).unwrap();
        hits += usize::from(pi[1][0] <= observed && observed <= pi[1][1]);
        // The curve's confidence interval alone, for the negative control.
        let conf = bootstrap(&train, &fit, &[16384.0], &opts)
            .unwrap()
            .prediction_interval(0, 0.95);
        hits_conf += usize::from(conf[0] <= observed && observed <= conf[1]);
        // The backtest reports the same split and interval (checked on a few curves: it also
        // fits the costlier saturating and broken laws).
        if r < 10 {
            let bt = backtest(&curve, &opts).unwrap();
            assert_eq!(bt.n_train, 9);
            let power = &bt.candidates[0];
            assert_eq!(power.model, ModelKind::Power);
            let last = power.held_out.last().unwrap();
            assert_eq!(
                (last.x, last.observed, last.ci95),
                (16384.0, observed, pi[1])
            );
        }
    }
    let p0 = t_coverage(7.0, 1.96);
    let cov = hits as f64 / reps as f64;
    let tol = 3.0 * (p0 * (1.0 - p0) / reps as f64).sqrt();
    let conf = hits_conf as f64 / reps as f64;
    eprintln!("held-out coverage {cov} ({hits}/{reps}), expected {p0:.4} +- {tol:.4}; confidence interval alone {conf}");
    assert!(
        (cov - p0).abs() <= tol,
        "coverage {cov}, expected {p0} +- {tol}"
    );
    assert!(
        conf < p0 - tol,
        "the confidence interval alone covers {conf}"
    );
}
