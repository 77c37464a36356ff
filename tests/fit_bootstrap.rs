//! Bootstrap intervals: reproducibility and coverage.
//!
//! Coverage tests draw `R` synthetic data sets from a known curve with a fixed seed, build the
//! 95% interval on each, and count how often it covers the truth. The count is binomial with
//! the interval's true coverage `p0`, so it must lie within `p0 +- 3 sqrt(p0 (1 - p0) / R)`
//! (a correct method fails with probability about 0.003; the seed is fixed, so the outcome is
//! deterministic). `p0` is derived per test: percentile intervals of a statistic whose
//! bootstrap distribution is (close to) normal with the right variance cover like the
//! `1.96`-standard-error interval, i.e. `P(|T_df| <= 1.96)` with `df` the residual degrees of
//! freedom when the variance is estimated from the residuals.

use plateau::fit::{
    bootstrap, fit_curve, fit_model, BootstrapOptions, Curve, FitOptions, Method, ModelChoice,
    ModelKind,
};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

fn logspace(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| (lo.ln() + (hi.ln() - lo.ln()) * i as f64 / (n - 1) as f64).exp())
        .collect()
}

fn z(rng: &mut ChaCha8Rng) -> f64 {
    StandardNormal.sample(rng)
}

/// Checks `hits / reps` against `p0 +- 3 sd`.
fn assert_coverage(name: &str, hits: usize, reps: usize, p0: f64) {
    let cov = hits as f64 / reps as f64;
    let tol = 3.0 * (p0 * (1.0 - p0) / reps as f64).sqrt();
    assert!(
        (cov - p0).abs() <= tol,
        "{name}: coverage {cov} ({hits}/{reps}), expected {p0} +- {tol}"
    );
    eprintln!("{name}: coverage {cov} ({hits}/{reps}), expected {p0} +- {tol}");
}

/// Checks the coverage `p0` (see the module docs) of the 95% percentile interval of the power
/// law's exponent `alpha` from a `method` bootstrap (B = 400, seeded by the data set's index),
/// over `env_reps(reps)` data sets that `points` draws from a generator seeded with `seed`.
/// Returns how many bootstrap fits failed in all. The data sets have draws at every `x` exactly
/// when `method` is `Draws`.
fn assert_exponent_coverage(
    method: Method,
    (alpha, p0): (f64, f64),
    (reps, seed): (usize, u64),
    mut points: impl FnMut(&mut ChaCha8Rng) -> (Vec<f64>, Vec<f64>),
) -> usize {
    let reps = env_reps(reps);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut hits, mut failed) = (0, 0);
    for r in 0..reps {
        let (xs, ys) = points(&mut rng);
        let curve = Curve::new(&xs, &ys).unwrap();
        assert_eq!(curve.has_replicates(), method == Method::Draws);
        let fit = fit_model(ModelKind::Power, &curve.xs, &curve.ys).unwrap();
        let opts = BootstrapOptions {
            method,
            reps: 400,
            seed: r as u64,
        };
        let b = bootstrap(&curve, &fit, &[], &opts).unwrap();
        failed += b.failed;
        let [lo, hi] = b.param_interval(1, 0.95);
        hits += usize::from(lo <= alpha && alpha <= hi);
    }
    assert_coverage(&format!("{method:?} bootstrap, alpha"), hits, reps, p0);
    failed
}

/// The saturating law `a x^-b + c` at `xs` times `exp(sigma z)`, each point stated as a mean
/// with `std = 2 sigma y` over 4 runs (so the standard error of `ln y` is `sigma`): the values
/// and the curve.
fn saturating_with_std(
    xs: &[f64],
    (a, b, c): (f64, f64, f64),
    sigma: f64,
    rng: &mut ChaCha8Rng,
) -> (Vec<f64>, Curve) {
    let ys: Vec<f64> = xs
        .iter()
        .map(|&x| (a * x.powf(-b) + c) * (sigma * z(rng)).exp())
        .collect();
    let std: Vec<f64> = ys.iter().map(|y| y * sigma * 2.0).collect();
    let curve = Curve::new(xs, &ys)
        .unwrap()
        .with_std_runs(&std, &vec![4.0; xs.len()]);
    (ys, curve)
}

fn env_reps(default: usize) -> usize {
    std::env::var("PLATEAU_COVERAGE_REPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn residual_bootstrap_covers_power_law_exponent() {
    // n = 20 points, p = 2: the residual bootstrap (residuals inflated by sqrt(n/(n-p))) has
    // the variance s^2 / Sxx of the slope, so its percentile interval covers like
    // alpha_hat +- 1.96 s / sqrt(Sxx): P(|T_18| <= 1.96) = 0.9343, minus 0.005 for B = 400.
    let xs = logspace(8.0, 2000.0, 20);
    let (beta, alpha, sigma) = (2.0, -0.7, 0.05);
    let failed = assert_exponent_coverage(Method::Residuals, (alpha, 0.929), (400, 100), |rng| {
        let ys = xs
            .iter()
            .map(|&x| beta * x.powf(alpha) * (sigma * z(rng)).exp())
            .collect();
        (xs.clone(), ys)
    });
    assert_eq!(failed, 0);
}

#[test]
fn draws_bootstrap_covers_power_law_exponent() {
    // 12 sizes x 5 draws, y = R(x) (1 + sigma z) per draw. The draws bootstrap gives the mean
    // at each x its unbiased variance s_x^2 / 5; each s_x^2 has 4 degrees of freedom and the
    // slope's variance is sum_i w_i^2 s_i^2 / 5 with w_i proportional to ln x_i - mean, so by
    // Satterthwaite df = 4 (sum w^2)^2 / sum w^4 = 4 * 143^2 / 3038.75 = 26.9 for 12 evenly
    // spaced ln x: P(|T_27| <= 1.96) = 0.940, minus 0.005 for B = 400.
    let sizes = logspace(8.0, 2000.0, 12);
    let (beta, alpha, sigma) = (2.0, -0.7, 0.1);
    assert_exponent_coverage(Method::Draws, (alpha, 0.935), (300, 200), |rng| {
        let mut xs = Vec::new();
        let mut ys = Vec::new();
        for &x in &sizes {
            for _ in 0..5 {
                xs.push(x);
                ys.push(beta * x.powf(alpha) * (1.0 + sigma * z(rng)));
            }
        }
        (xs, ys)
    });
}

#[test]
fn parametric_bootstrap_covers_the_floor_and_extrapolation() {
    // Saturating curve, one row per x with the exact standard error of ln y (as `std` and
    // `runs` give it): the parametric bootstrap reproduces the sampling distribution with a
    // known variance, so p0 = 0.95 (up to the curvature of the model, small at 3% noise),
    // minus 0.010 for B = 200. R = 450 data sets make the band 0.94 +- 0.034 two-sided, which
    // a 99% interval posing as 95% (coverage 0.99 +- 3 x 0.0047) falls outside.
    const R: usize = 450;
    assert!(0.94 + 3.0 * (0.94 * 0.06 / R as f64).sqrt() < 0.99 - 3.0 * (0.0099 / R as f64).sqrt());
    let reps = env_reps(R);
    let xs = logspace(1.0, 2e4, 20);
    let (a, b, c, sigma) = (5.0, 0.8, 0.02, 0.03);
    let mut rng = ChaCha8Rng::seed_from_u64(300);
    let (mut hits_c, mut hits_x) = (0, 0);
    let truth_1e6 = a * 1e6_f64.powf(-b) + c;
    for r in 0..reps {
        let (_, curve) = saturating_with_std(&xs, (a, b, c), sigma, &mut rng);
        let opts = FitOptions {
            model: ModelChoice::Model(ModelKind::Saturating),
            bootstrap: BootstrapOptions {
                method: Method::Parametric,
                reps: 200,
                seed: r as u64,
            },
            at: vec![("1e6".into(), 1e6)],
            ..FitOptions::default()
        };
        let rep = fit_curve("s", &curve, &opts).unwrap();
        let [lo, hi] = *rep.ci95.get("c").unwrap();
        hits_c += usize::from(lo <= c && c <= hi);
        let [lo, hi] = *rep.extrapolation_ci95.get("1e6").unwrap();
        hits_x += usize::from(lo <= truth_1e6 && truth_1e6 <= hi);
    }
    assert_coverage("parametric bootstrap, c", hits_c, reps, 0.94);
    assert_coverage("parametric bootstrap, R(1e6)", hits_x, reps, 0.94);
}

#[test]
fn auto_uses_the_draws_only_when_the_model_fits_within_their_noise() {
    // 3% noise on each mean, stated through std and runs.
    let xs = logspace(1.0, 1e4, 20);
    let mut rng = ChaCha8Rng::seed_from_u64(6);
    let (ys, curve) = saturating_with_std(&xs, (3.0, 0.9, 0.01), 0.03, &mut rng);
    let opts = BootstrapOptions {
        reps: 50,
        ..Default::default()
    };
    // The true model: chi2_dof near 1 (its 99% limit for 17 degrees of freedom is 1.9).
    let sat = fit_model(ModelKind::Saturating, &xs, &ys).unwrap();
    let b = bootstrap(&curve, &sat, &[], &opts).unwrap();
    assert_eq!(b.method, Method::Parametric);
    let chi2 = b.chi2_dof.unwrap();
    assert!(chi2 > 0.2 && chi2 < 1.9, "{chi2}");
    // A power law misses the floor by far more than 3%: the residuals are resampled.
    let pow = fit_model(ModelKind::Power, &xs, &ys).unwrap();
    let b = bootstrap(&curve, &pow, &[], &opts).unwrap();
    assert_eq!(b.method, Method::Residuals);
    assert!(b.chi2_dof.unwrap() > 10.0, "{:?}", b.chi2_dof);
    // Without draw-level information auto is residuals.
    let plain = Curve::new(&xs, &ys).unwrap();
    let b = bootstrap(&plain, &sat, &[], &opts).unwrap();
    assert_eq!((b.method, b.chi2_dof), (Method::Residuals, None));
}

#[test]
fn bootstrap_is_reproducible_and_seeded() {
    let xs = logspace(1.0, 1e4, 20);
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let ys: Vec<f64> = xs
        .iter()
        .map(|&x| (3.0 * x.powf(-0.9) + 0.01) * (0.03 * z(&mut rng)).exp())
        .collect();
    let curve = Curve::new(&xs, &ys).unwrap();
    let run = |seed| {
        let opts = FitOptions {
            bootstrap: BootstrapOptions {
                method: Method::Auto,
                reps: 200,
                seed,
            },
            ..FitOptions::default()
        };
        let r = fit_curve("g", &curve, &opts).unwrap();
        serde_json::to_string(&r).unwrap()
    };
    let first = run(0);
    assert_eq!(first, run(0));
    assert_ne!(first, run(1));
    // Independent of the size of the thread pool.
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap()
        .install(|| run(0));
    assert_eq!(first, one);
}

#[test]
fn methods_that_do_not_suit_the_data_are_errors() {
    let xs = logspace(1.0, 100.0, 6);
    let ys: Vec<f64> = xs.iter().map(|x| 1.0 / x).collect();
    let curve = Curve::new(&xs, &ys).unwrap();
    let fit = fit_model(ModelKind::Power, &xs, &ys).unwrap();
    for method in [Method::Draws, Method::Parametric] {
        let opts = BootstrapOptions {
            method,
            reps: 10,
            seed: 0,
        };
        assert!(bootstrap(&curve, &fit, &[], &opts).is_err());
    }
    let opts = BootstrapOptions {
        method: Method::None,
        reps: 10,
        seed: 0,
    };
    let b = bootstrap(&curve, &fit, &[1e5], &opts).unwrap();
    assert!(b.params.is_empty());
    assert!(b.param_interval(0, 0.95).iter().all(|v| v.is_nan()));
}
