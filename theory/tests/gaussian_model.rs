//! The general linear Gaussian model (`plateau_theory::gaussian`): the LMMSE floor, and the
//! deterministic equivalents of ridge and least squares against exact Monte Carlo risks
//! (`theory/gaussian.md`).
//!
//! Acceptance: a prediction `p` of a Monte Carlo mean `m` (standard error `se`) passes when
//! `|p - m| <= max(0.05 (m - floor), 3 se)`, the criterion of issue 3 for the subspace model.

use plateau_theory::field::FieldSpectrum;
use plateau_theory::gaussian::DiagonalModel;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Mean and standard error of the exact risks of `filters` over `draws` training sets.
fn monte_carlo(
    model: &DiagonalModel,
    n_train: usize,
    draws: usize,
    seed: u64,
    filters: &[&dyn Fn(f64) -> f64],
) -> Vec<(f64, f64)> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut acc = vec![Vec::with_capacity(draws); filters.len()];
    for _ in 0..draws {
        let (x, y) = model.sample(n_train, &mut rng);
        for (a, r) in acc
            .iter_mut()
            .zip(model.exact_risks(&x, &y, filters).unwrap())
        {
            a.push(r);
        }
    }
    acc.iter()
        .map(|v| {
            let k = v.len() as f64;
            let mean = v.iter().sum::<f64>() / k;
            let var = v.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (k - 1.0);
            (mean, (var / k).sqrt())
        })
        .collect()
}

fn check(label: &str, predicted: f64, (mean, se): (f64, f64), floor: f64) -> Result<(), String> {
    let tol = (0.05 * (mean - floor)).max(3.0 * se);
    println!(
        "{label}: rel.excess {:+.4} z {:+.2}",
        (predicted - mean) / (mean - floor),
        (predicted - mean) / se
    );
    if (predicted - mean).abs() <= tol {
        Ok(())
    } else {
        Err(format!(
            "{label}: predicted {predicted:.6e}, Monte Carlo {mean:.6e} +- {se:.1e} (floor {floor:.4e}, tolerance {tol:.2e})"
        ))
    }
}

fn power_law(n: usize, exponent: f64) -> Vec<f64> {
    (1..=n).map(|i| (i as f64).powf(-exponent)).collect()
}

#[test]
fn floor_is_the_field_wiener_floor_and_the_bayes_error() {
    let field = FieldSpectrum::new(8, 2.0, 0.05, 0.25).unwrap();
    let lambda = field.eigenvalues().to_vec();
    for sigma in [0.05, 0.1, 0.3] {
        let model = DiagonalModel::denoising(&lambda, sigma).unwrap();
        let want = field.mmse_floor(sigma);
        assert!(
            (model.floor() - want).abs() <= 1e-12 * want,
            "sigma {sigma}: {} vs {want}",
            model.floor()
        );
    }
    // Masking: the Bayes estimator's Monte Carlo error matches the floor, where half the
    // coordinates are unobserved (their error is their whole variance).
    let lambda = power_law(64, 1.0);
    let gains: Vec<f64> = (0..64).map(|i| f64::from(u8::from(i % 2 == 0))).collect();
    let model = DiagonalModel::new(&lambda, &gains, 0.2).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let (x, y) = model.sample(4000, &mut rng);
    let errs: Vec<f64> = (0..4000)
        .map(|j| {
            (0..64)
                .map(|i| {
                    let v = gains[i] * gains[i] * lambda[i] + 0.04;
                    let w = gains[i] * lambda[i] / v;
                    (w * y[(i, j)] - x[(i, j)]).powi(2)
                })
                .sum::<f64>()
                / 64.0
        })
        .collect();
    let mean = errs.iter().sum::<f64>() / 4000.0;
    let se = (errs.iter().map(|e| (e - mean).powi(2)).sum::<f64>() / 3999.0 / 4000.0).sqrt();
    assert!(
        (mean - model.floor()).abs() <= 3.0 * se,
        "Bayes error {mean} +- {se}, floor {}",
        model.floor()
    );
}

#[test]
fn ridge_and_least_squares_match_monte_carlo() {
    let n = 128;
    let lambda = power_law(n, 1.0);
    let mask: Vec<f64> = (0..n).map(|i| if i % 4 == 3 { 0.0 } else { 1.0 }).collect();
    let cases = [
        (
            "denoise sigma=0.3",
            DiagonalModel::denoising(&lambda, 0.3).unwrap(),
        ),
        (
            "mask 3/4 sigma=0.1",
            DiagonalModel::new(&lambda, &mask, 0.1).unwrap(),
        ),
    ];
    let mut failures = Vec::new();
    for (name, model) in &cases {
        let p = model.input_rank();
        for (i, &n_train) in [32usize, 64, 256, 512].iter().enumerate() {
            let (l_opt, r_opt) = model.ridge_optimal(n_train).unwrap();
            let lambdas = [l_opt, 10.0 * l_opt, 0.1 * l_opt];
            let nt = n_train as f64;
            let ridge_filters: Vec<Box<dyn Fn(f64) -> f64>> = lambdas
                .iter()
                .map(|&l| Box::new(move |mu: f64| 1.0 / (mu + nt * l)) as Box<dyn Fn(f64) -> f64>)
                .collect();
            let pinv = |mu: f64| if mu > 1e-9 * nt { 1.0 / mu } else { 0.0 };
            let mut filters: Vec<&dyn Fn(f64) -> f64> =
                ridge_filters.iter().map(|f| f.as_ref()).collect();
            filters.push(&pinv);
            let mc = monte_carlo(model, n_train, 60, 100 + i as u64, &filters);
            for (k, &l) in lambdas.iter().enumerate() {
                let pred = if k == 0 {
                    r_opt
                } else {
                    model.ridge(n_train, l).unwrap()
                };
                if let Err(e) = check(
                    &format!("{name} N={n_train} ridge lambda={l:.3e}"),
                    pred,
                    mc[k],
                    model.floor(),
                ) {
                    failures.push(e);
                }
            }
            // Least squares away from the interpolation threshold, where it is finite.
            if n_train + 8 < p || n_train > p + 8 {
                let pred = model.least_squares(n_train).unwrap().unwrap();
                if let Err(e) = check(
                    &format!("{name} N={n_train} least squares"),
                    pred,
                    mc[3],
                    model.floor(),
                ) {
                    failures.push(e);
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn least_squares_is_infinite_at_the_threshold_only() {
    let lambda = power_law(40, 1.0);
    let model = DiagonalModel::denoising(&lambda, 0.1).unwrap();
    for n_train in [39, 40, 41] {
        assert_eq!(model.least_squares(n_train).unwrap(), None, "N={n_train}");
    }
    for n_train in [10, 37, 43, 400] {
        let r = model.least_squares(n_train).unwrap().unwrap();
        assert!(r.is_finite() && r > model.floor(), "N={n_train}: {r}");
    }
    // Without noise and with every direction observed there is nothing to amplify: least
    // squares recovers the signal exactly from N >= p examples, at the threshold too.
    let noiseless = DiagonalModel::denoising(&lambda, 0.0).unwrap();
    for n_train in [40, 41, 400] {
        assert_eq!(
            noiseless.least_squares(n_train).unwrap(),
            Some(0.0),
            "N={n_train}"
        );
    }
    let below = noiseless.least_squares(39).unwrap().unwrap();
    assert!(below.is_finite() && below > 0.0, "N=39: {below}");
    // Exact formula far above the threshold: floor (1 + p / (N - p - 1)).
    let r = model.least_squares(400).unwrap().unwrap();
    assert!((r - model.floor() * (1.0 + 40.0 / 359.0)).abs() < 1e-15);
}

#[test]
fn bad_models_are_rejected() {
    assert!(DiagonalModel::new(&[], &[], 0.1).is_err());
    assert!(DiagonalModel::new(&[1.0], &[1.0, 1.0], 0.1).is_err());
    assert!(DiagonalModel::new(&[-1.0], &[1.0], 0.1).is_err());
    assert!(DiagonalModel::new(&[0.0, 0.0], &[1.0, 1.0], 0.1).is_err());
    assert!(DiagonalModel::new(&[1.0], &[f64::NAN], 0.1).is_err());
    assert!(DiagonalModel::denoising(&[1.0], -0.1).is_err());
    // Fully masked and noiseless: valid, nothing to learn, every estimator's risk is the floor.
    let blind = DiagonalModel::new(&[1.0, 0.5], &[0.0, 0.0], 0.0).unwrap();
    assert_eq!(blind.floor(), 0.75);
    let eq = blind.equivalent(10).unwrap();
    assert!(eq.support().is_empty());
    assert!(eq.gd_path(1.0, 5).iter().all(|&r| r == 0.75));
    let m = DiagonalModel::denoising(&[1.0, 0.5], 0.1).unwrap();
    assert!(m.ridge(0, 1.0).is_err());
    assert!(m.ridge(10, 0.0).is_err());
    assert!(m.ridge(10, f64::INFINITY).is_err());
}

#[test]
fn ridge_risk_decreases_with_data_towards_the_floor() {
    let lambda = power_law(256, 1.5);
    let model = DiagonalModel::denoising(&lambda, 0.05).unwrap();
    let mut last = f64::INFINITY;
    for n_train in [4, 16, 64, 256, 1024, 1 << 14, 1 << 20] {
        let (_, r) = model.ridge_optimal(n_train).unwrap();
        assert!(
            r < last && r > model.floor(),
            "N={n_train}: {r} (last {last})"
        );
        last = r;
    }
    assert!(last - model.floor() < 1e-3 * model.floor());
}

/// Random power-law spectra, noise levels, masks and sizes (fixed seed): optimally tuned ridge
/// within the acceptance criterion of a 40-draw Monte Carlo.
#[test]
fn property_optimal_ridge_on_random_models() {
    let mut runner = TestRunner::new_with_rng(
        Config {
            cases: 12,
            failure_persistence: None,
            ..Config::default()
        },
        TestRng::from_seed(RngAlgorithm::ChaCha, &[42; 32]),
    );
    let strategy = (
        48usize..=128,
        0.5f64..2.5,
        0.02f64..0.5,
        0.0f64..0.5,
        16usize..=512,
        any::<u64>(),
    );
    runner
        .run(&strategy, |(n, exponent, sigma, masked, n_train, seed)| {
            let lambda = power_law(n, exponent);
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let gains: Vec<f64> = (0..n)
                .map(|_| f64::from(u8::from(rand::Rng::random::<f64>(&mut rng) >= masked)))
                .collect();
            let model = DiagonalModel::new(&lambda, &gains, sigma).unwrap();
            let (l, r) = model.ridge_optimal(n_train).unwrap();
            let nt = n_train as f64;
            let f = move |mu: f64| 1.0 / (mu + nt * l);
            let mc = monte_carlo(&model, n_train, 40, seed ^ 1, &[&f]);
            check(
                &format!(
                    "n={n} exponent={exponent:.2} sigma={sigma:.3} masked={masked:.2} N={n_train}"
                ),
                r,
                mc[0],
                model.floor(),
            )
            .map_err(TestCaseError::fail)
        })
        .unwrap();
}

/// Models of every kind the equivalents must handle, as `(name, lambda, gains, sigma)`: power
/// laws (many atoms), masks (zero-gain directions), noiseless masks (zero-variance directions),
/// a field spectrum (degenerate atoms).
fn equivalent_cases() -> Vec<(&'static str, Vec<f64>, Vec<f64>, f64)> {
    let lambda = power_law(128, 1.0);
    let ones = vec![1.0; 128];
    let mask: Vec<f64> = (0..128)
        .map(|i| if i % 4 == 3 { 0.0 } else { 1.0 })
        .collect();
    let field = FieldSpectrum::new(16, 2.0, 0.05, 0.25).unwrap();
    vec![
        ("power law sigma=0.3", lambda.clone(), ones, 0.3),
        ("mask 3/4 sigma=0.1", lambda.clone(), mask.clone(), 0.1),
        ("mask 3/4 noiseless", lambda, mask, 0.0),
        (
            "field 16x16 sigma=0.1",
            field.eigenvalues().to_vec(),
            vec![1.0; 256],
            0.1,
        ),
    ]
}

/// The discretised measures reproduce their exact total masses:
/// `(min(N, p)/n, tr(Sigma)/N, (1/n) sum w^2 v, (1/n) sum w^2)`.
#[test]
fn equivalent_masses() {
    for (name, lambda, gains, sigma) in equivalent_cases() {
        let model = DiagonalModel::new(&lambda, &gains, sigma).unwrap();
        let n = model.dim() as f64;
        let v: Vec<f64> = lambda
            .iter()
            .zip(&gains)
            .map(|(l, a)| a * a * l + sigma * sigma)
            .collect();
        let w2: Vec<f64> = lambda
            .iter()
            .zip(&gains)
            .zip(&v)
            .map(|((l, a), v)| if *v > 0.0 { (a * l / v).powi(2) } else { 0.0 })
            .collect();
        let p = model.input_rank() as f64;
        for n_train in [8usize, 40, 96, 127, 200, 1000, 10_000] {
            let eq = model.equivalent(n_train).unwrap();
            let got = eq.masses();
            let want = (
                p.min(n_train as f64) / n,
                v.iter().sum::<f64>() / n_train as f64,
                w2.iter().zip(&v).map(|(w, v)| w * v).sum::<f64>() / n,
                w2.iter().sum::<f64>() / n,
            );
            let rel = |g: f64, w: f64| (g - w).abs() / w;
            let ctx = format!(
                "{name} N={n_train}: {} support intervals, masses {got:?} want {want:?}",
                eq.support().len()
            );
            assert!(rel(got.0, want.0) < 1e-8, "esd {ctx}");
            assert!(rel(got.1, want.1) < 1e-8, "rho_u {ctx}");
            assert!(rel(got.2, want.2) < 1e-8, "rho_E {ctx}");
            assert!(rel(got.3, want.3) < 1e-8, "rho_E / x {ctx}");
        }
    }
}

/// The two-resolvent collapse with the general bias measure reproduces the closed-form ridge
/// equivalent (an independent formula) for the ridge filter `psi = lambda / (x + lambda)`.
#[test]
fn filter_risk_reproduces_closed_form_ridge() {
    for (name, lambda, gains, sigma) in equivalent_cases() {
        let model = DiagonalModel::new(&lambda, &gains, sigma).unwrap();
        for n_train in [40usize, 200, 1000] {
            let eq = model.equivalent(n_train).unwrap();
            let (l_opt, _) = model.ridge_optimal(n_train).unwrap();
            for l in [0.1 * l_opt, l_opt, 10.0 * l_opt] {
                let got = eq.filter_risk(|x| l / (x + l), |y, x| -l / ((y + l) * (x + l)));
                let want = model.ridge(n_train, l).unwrap();
                let excess = want - model.floor();
                assert!(
                    (got - want).abs() <= 1e-6 * excess,
                    "{name} N={n_train} lambda={l:.3e}: filter {got:.10e} closed form {want:.10e}"
                );
            }
        }
    }
}

/// The subspace model is the special case `lambda = (1 x d, 0 x (n-d))`, `a = 1`: the general
/// equivalent's GD path is the two-atom one, rescaled from per-coordinate to per-signal-direction
/// normalisation (`R_subspace = (n/d) R_general`).
#[test]
fn subspace_model_is_a_special_case() {
    use plateau_theory::analytic::SpectralEquivalent;
    use plateau_theory::Setup;
    for (d, n, sigma) in [(10, 100, 0.2), (10, 100, 0.05), (50, 1000, 0.1)] {
        let setup = Setup::new(d, n, sigma).unwrap();
        let lambda: Vec<f64> = (0..n).map(|i| f64::from(u8::from(i < d))).collect();
        let model = DiagonalModel::denoising(&lambda, sigma).unwrap();
        let scale = n as f64 / d as f64;
        assert!((model.floor() * scale - setup.floor()).abs() < 1e-14);
        for n_train in [4 * d, n / 2, 2 * n] {
            // Both proportional limits (the finite-d correction is the subspace model's only).
            let two = SpectralEquivalent::new(&setup, n_train)
                .unwrap()
                .proportional_limit();
            let gen = model.equivalent(n_train).unwrap();
            let c = 0.5 / gen.top_eigenvalue();
            let eta = c / n_train as f64;
            let want = two.gd_path(eta, 400);
            let got = gen.gd_path(c, 400);
            for k in [0usize, 1, 10, 100, 400] {
                let (g, w) = (got[k] * scale, want[k]);
                assert!(
                    (g - w).abs() <= 1e-7 * (w - setup.floor()),
                    "{setup:?} N={n_train} k={k}: general {g:.10e} two-atom {w:.10e}"
                );
            }
        }
    }
}

/// Gradient descent on random draws against the deterministic equivalent: the expected path at
/// a few iterations and the early-stopped minimum over a log grid of iterations, 40 draws.
#[test]
fn gd_path_matches_monte_carlo() {
    let ks: Vec<usize> = vec![1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096];
    let mut failures = Vec::new();
    for (name, lambda, gains, sigma) in equivalent_cases() {
        let model = DiagonalModel::new(&lambda, &gains, sigma).unwrap();
        for (i, &n_train) in [32usize, 128, 512].iter().enumerate() {
            let eq = model.equivalent(n_train).unwrap();
            let c = 1.0 / eq.top_eigenvalue();
            let path = eq.gd_path(c, *ks.last().unwrap());
            let nt = n_train as f64;
            let filters: Vec<Box<dyn Fn(f64) -> f64>> = ks
                .iter()
                .map(|&k| {
                    Box::new(move |mu: f64| {
                        let x = mu / nt;
                        if x <= 0.0 {
                            return 0.0;
                        }
                        // phi_k(x) / mu with phi_k = 1 - (1 - c x)^k, without cancellation
                        // where c x < 1 (sample eigenvalues may exceed the limiting edge).
                        let phi = if c * x < 1.0 {
                            -(k as f64 * (-c * x).ln_1p()).exp_m1()
                        } else {
                            1.0 - (1.0 - c * x).powi(k as i32)
                        };
                        phi / mu
                    }) as Box<dyn Fn(f64) -> f64>
                })
                .collect();
            let refs: Vec<&dyn Fn(f64) -> f64> = filters.iter().map(|f| f.as_ref()).collect();
            let mut rng = ChaCha8Rng::seed_from_u64(500 + i as u64);
            let mut per_k = vec![Vec::new(); ks.len()];
            let mut minima = Vec::new();
            for _ in 0..40 {
                let (x, y) = model.sample(n_train, &mut rng);
                let r = model.exact_risks(&x, &y, &refs).unwrap();
                minima.push(r.iter().copied().fold(f64::INFINITY, f64::min));
                for (acc, v) in per_k.iter_mut().zip(r) {
                    acc.push(v);
                }
            }
            let stats = |v: &[f64]| {
                let k = v.len() as f64;
                let m = v.iter().sum::<f64>() / k;
                let var = v.iter().map(|r| (r - m).powi(2)).sum::<f64>() / (k - 1.0);
                (m, (var / k).sqrt())
            };
            for (j, &k) in ks.iter().enumerate() {
                if let Err(e) = check(
                    &format!("{name} N={n_train} GD k={k}"),
                    path[k],
                    stats(&per_k[j]),
                    model.floor(),
                ) {
                    failures.push(e);
                }
            }
            let predicted_min = ks.iter().map(|&k| path[k]).fold(f64::INFINITY, f64::min);
            if let Err(e) = check(
                &format!("{name} N={n_train} GD early-stopped"),
                predicted_min,
                stats(&minima),
                model.floor(),
            ) {
                failures.push(e);
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
