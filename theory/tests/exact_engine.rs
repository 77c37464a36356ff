//! The spectral engine against the definitions: explicit iteration, explicit matrices, closed
//! forms, invariances. Referenced from `theory/exact.md`.

use crate::common;

use faer::{Mat, Par};
use plateau_theory::exact::{
    gd_risk_path_iterate, least_squares_expected_risk, least_squares_matrix, optimal_matrix, risk,
    to_nalgebra,
};
use plateau_theory::montecarlo::{mean_std, MonteCarlo};
use plateau_theory::sample::{bartlett_spectrum, random_orthonormal, TrainingSet};
use plateau_theory::spectrum::early_stopped;
use plateau_theory::{Estimator, Setup, StepSize};
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn small_setup() -> impl Strategy<Value = (Setup, usize, u64)> {
    (1usize..5, 0usize..12, 0.0f64..0.6, 1usize..30, any::<u64>()).prop_map(
        |(d, extra, sigma, n_train, seed)| {
            (Setup::new(d, d + extra, sigma).unwrap(), n_train, seed)
        },
    )
}

proptest! {
    #![proptest_config(common::fixed_proptest(48, 7))]

    /// The spectral path equals the explicit iteration `W_{k+1} = W_k - eta (W_k Y Y^T - X Y^T)`
    /// for every k, to a relative error of 1e-9.
    #[test]
    fn spectral_path_matches_iteration((setup, n_train, seed) in small_setup()) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let data = TrainingSet::draw(&setup, n_train, &mut rng).unwrap();
        let eta = StepSize::Paper.eta(&setup, n_train);
        let iters = 300;
        let reference = gd_risk_path_iterate(&data, eta, iters, || {});
        let spectral = data.spectrum(Par::Seq).gd_risk_path(eta, iters, Par::Seq);
        prop_assert_eq!(reference.len(), spectral.len());
        for (k, (a, b)) in reference.iter().zip(&spectral).enumerate() {
            prop_assert!((a - b).abs() <= 1e-9 * a.abs(), "k = {}: iterate {} vs spectral {}", k, a, b);
        }
        prop_assert!((spectral[0] - 1.0).abs() < 1e-15, "R(W_0) = {}", spectral[0]);
    }

    /// W* attains the floor; PCA, least squares and every GD iterate stay above it; the spectral
    /// least-squares risk equals that of the explicit pseudo-inverse.
    #[test]
    fn floor_is_a_lower_bound((setup, n_train, seed) in small_setup()) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let data = TrainingSet::draw(&setup, n_train, &mut rng).unwrap();
        let u = to_nalgebra(data.u());
        let floor = setup.floor();
        let optimal = risk(&setup, &u, &optimal_matrix(&setup, &u));
        prop_assert!((optimal - floor).abs() <= 1e-12, "optimal {} floor {}", optimal, floor);

        let spectrum = data.spectrum(Par::Seq);
        let tol = 1e-12;
        prop_assert!(spectrum.pca_risk() >= floor - tol);
        let ls = spectrum.least_squares_risk();
        prop_assert!(ls >= floor - tol);
        let explicit_ls = risk(&setup, &u, &least_squares_matrix(&data));
        prop_assert!((ls - explicit_ls).abs() <= 1e-7 * explicit_ls.max(1.0), "ls {} vs pinv {}", ls, explicit_ls);
        let pca = spectrum.pca_risk();
        let explicit_pca = risk(&setup, &u, &pca_matrix(&data, setup.d().min(spectrum.rank())));
        prop_assert!((pca - explicit_pca).abs() <= 1e-9 * explicit_pca.max(1.0), "pca {} vs SVD {}", pca, explicit_pca);
        let path = spectrum.gd_risk_path(StepSize::Paper.eta(&setup, n_train), 200, Par::Seq);
        prop_assert!(path.iter().all(|&r| r >= floor - tol));
    }

    /// Rotating the whole problem (U, X, Y) by an orthogonal matrix leaves every risk unchanged.
    #[test]
    fn risk_is_rotation_invariant((setup, n_train, seed) in small_setup()) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let data = TrainingSet::draw(&setup, n_train, &mut rng).unwrap();
        let o = random_orthonormal(setup.n(), setup.n(), &mut rng);
        let rot = |m: faer::MatRef<'_, f64>| &o * m;
        let rotated = TrainingSet::from_data(&setup, rot(data.u()).as_ref(), rot(data.x().as_ref()).as_ref(), rot(data.y()).as_ref()).unwrap();
        let (s0, s1) = (data.spectrum(Par::Seq), rotated.spectrum(Par::Seq));
        let eta = StepSize::Paper.eta(&setup, n_train);
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(1.0);
        prop_assert!(close(s0.pca_risk(), s1.pca_risk()));
        prop_assert!(close(s0.least_squares_risk(), s1.least_squares_risk()));
        for (a, b) in s0.gd_risk_path(eta, 100, Par::Seq).iter().zip(&s1.gd_risk_path(eta, 100, Par::Seq)) {
            prop_assert!(close(*a, *b));
        }
    }
}

/// Setups for the early-stopping search: up to `d = 10`, `n = 160`, `N` on both sides of `n`,
/// `sigma` from `1e-3` to `3`, the paper's step or a fixed step `c / lambda_max` with `c` up to
/// `1.5` (above 1 the filters oscillate and the search falls back to the whole path), and up to
/// 3000 iterations.
fn early_stop_case() -> impl Strategy<Value = (Setup, usize, Option<f64>, usize, u64)> {
    (
        1usize..11,
        0usize..150,
        prop::sample::select(vec![1e-3, 0.05, 0.3, 1.0, 3.0]),
        1usize..400,
        prop_oneof![Just(None), (0.05f64..1.5).prop_map(Some), Just(Some(1.0))],
        0usize..3000,
        any::<u64>(),
    )
        .prop_map(|(d, extra, sigma, n_train, c, iters, seed)| {
            (
                Setup::new(d, d + extra, sigma).unwrap(),
                n_train,
                c,
                iters,
                seed,
            )
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, rng_seed: proptest::test_runner::RngSeed::Fixed(15), ..ProptestConfig::default() })]

    /// The branch-and-bound early stopping equals the minimum over the whole path, to rounding:
    /// the risk within `tol = 1e-12 best + iters eps` (the path's filters carry a relative error
    /// up to `k eps` from their recurrence, an absolute error of that order on risks of scale
    /// `R(W_0) = 1`), and the iterate exactly, or, where the path is flat to rounding at its
    /// minimum, an iterate whose path risk is within `tol` of the minimum.
    #[test]
    fn early_stopping_search_matches_the_whole_path((setup, n_train, c, iters, seed) in early_stop_case()) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let sp = bartlett_spectrum(&setup, n_train, &mut rng, Par::Seq).unwrap();
        let eta = match c {
            Some(c) => c / sp.eigenvalues().first().copied().unwrap_or(1.0),
            None => StepSize::Paper.eta(&setup, n_train),
        };
        let path = sp.gd_risk_path(eta, iters, Par::Seq);
        let (best, k_best) = early_stopped(&path);
        let (risk, k) = sp.gd_early_stopped(eta, iters, Par::Seq);
        let tol = 1e-12 * best + iters as f64 * f64::EPSILON;
        prop_assert!((risk - best).abs() <= tol, "risk {} vs path minimum {}", risk, best);
        prop_assert!(k <= iters);
        prop_assert!(k == k_best || path[k] <= best + tol, "iterate {} (path risk {}) vs {} ({})", k, path[k], k_best, best);
    }
}

/// PCA as an explicit `n x n` matrix: `U_hat U_hat^T / alpha` with `U_hat` the left singular
/// vectors of `Y` of the `m` largest singular values (nalgebra SVD, sorted here).
fn pca_matrix(data: &TrainingSet, m: usize) -> nalgebra::DMatrix<f64> {
    let y = to_nalgebra(data.y());
    let svd = y.svd(true, false);
    let left = svd.u.expect("left singular vectors requested");
    let mut order: Vec<usize> = (0..svd.singular_values.len()).collect();
    order.sort_by(|&i, &j| svd.singular_values[j].total_cmp(&svd.singular_values[i]));
    let n = data.setup().n();
    let mut w = nalgebra::DMatrix::<f64>::zeros(n, n);
    for &i in order.iter().take(m) {
        let col = left.column(i);
        w += col * col.transpose();
    }
    w / data.setup().alpha()
}

/// The quadratic-form kernel (`2 d^2 > r`) and the outer-product kernel (`2 d^2 <= r`) are both
/// exercised above only at small sizes; compare them on one larger case against the iteration.
#[test]
fn both_kernels_match_iteration() {
    for &(d, n, n_train) in &[(6, 40, 20), (3, 40, 60)] {
        let setup = Setup::new(d, n, 0.3).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let data = TrainingSet::draw(&setup, n_train, &mut rng).unwrap();
        let eta = StepSize::Paper.eta(&setup, n_train);
        let reference = gd_risk_path_iterate(&data, eta, 600, || {});
        let spectral = data.spectrum(Par::Seq).gd_risk_path(eta, 600, Par::Seq);
        for (a, b) in reference.iter().zip(&spectral) {
            assert!(
                (a - b).abs() <= 1e-9 * a,
                "{a} vs {b} for d={d} N={n_train}"
            );
        }
    }
}

/// User data that does not fit the setup is refused with a shape error.
#[test]
fn from_data_checks_shapes() {
    let setup = Setup::new(2, 5, 0.1).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let data = TrainingSet::draw(&setup, 4, &mut rng).unwrap();
    let x = data.x();
    assert!(TrainingSet::from_data(&setup, data.u(), x.as_ref(), data.y()).is_ok());
    let wrong_y = Mat::<f64>::zeros(5, 3);
    assert!(TrainingSet::from_data(&setup, data.u(), x.as_ref(), wrong_y.as_ref()).is_err());
    let not_in_span = Mat::<f64>::from_fn(5, 4, |i, j| (i * 4 + j) as f64);
    assert!(TrainingSet::from_data(&setup, data.u(), not_in_span.as_ref(), data.y()).is_err());
}

/// Mean least-squares risk over draws within 3 standard errors of
/// `floor (N - 1) / (N - n - 1)` (valid for N > n + 1; variance finite from N >= n + 4).
#[test]
fn least_squares_mean_matches_closed_form() {
    for &(d, n, sigma, n_train) in &[(3, 20, 0.3, 24), (3, 20, 0.3, 40), (5, 30, 0.1, 200)] {
        let setup = Setup::new(d, n, sigma).unwrap();
        let runs = 2000;
        let rows = MonteCarlo::new(setup, vec![n_train], runs, 2024)
            .estimators(vec![Estimator::LeastSquares])
            .run(|| {})
            .unwrap();
        let expected = least_squares_expected_risk(&setup, n_train).unwrap();
        let row = &rows[0];
        let se = row.stderr.unwrap();
        assert!(
            (row.mean - expected).abs() <= 3.0 * se,
            "N={n_train}: mean {} expected {expected} se {se}",
            row.mean
        );
    }
}

/// Rao-Blackwellised least squares in the Monte Carlo: on the same draws, the mean of the
/// noise-averaged risk agrees with the plain mean within 4 standard errors of their difference
/// (paired draws), and its variance is smaller: at least 2.5 times at `N = n / 2` and 6 times at
/// `N = 2 n` here (measured 4.0-4.6 and 9.6-11.5 times over two seeds; the gain grows with `n`:
/// 35 and 94 times at `d = 10, n = 1000`).
#[test]
fn noise_averaged_least_squares_keeps_the_mean_and_cuts_the_variance() {
    let setup = Setup::new(4, 40, 0.3).unwrap();
    for (n_train, gain) in [(20usize, 2.5), (80, 6.0)] {
        let draws = |averaged: bool| -> Vec<f64> {
            MonteCarlo::new(setup, vec![n_train], 400, 33)
                .estimators(vec![Estimator::LeastSquares])
                .noise_averaged(averaged)
                .draws(|| {})
                .unwrap()
                .iter()
                .map(|d| d.risks[0].1)
                .collect()
        };
        let (plain, averaged) = (draws(false), draws(true));
        let diff: Vec<f64> = plain.iter().zip(&averaged).map(|(a, b)| a - b).collect();
        let (mean_diff, sd_diff) = mean_std(&diff);
        let se = sd_diff.unwrap() / (diff.len() as f64).sqrt();
        assert!(
            mean_diff.abs() <= 4.0 * se,
            "N={n_train}: difference {mean_diff} (se {se})"
        );
        let (sd_plain, sd_avg) = (mean_std(&plain).1.unwrap(), mean_std(&averaged).1.unwrap());
        assert!(
            sd_plain * sd_plain >= gain * sd_avg * sd_avg,
            "N={n_train}: variance {} vs {}",
            sd_plain * sd_plain,
            sd_avg * sd_avg
        );
    }
}

/// The Bartlett sampler and explicit sampling give the same risk distribution: the means of
/// PCA, least squares and early-stopped GD agree within 4 combined standard errors (12
/// comparisons; 4 sigma keeps the family-wise false-alarm rate below 1e-3).
#[test]
fn bartlett_matches_explicit_sampling() {
    let setup = Setup::new(3, 25, 0.4).unwrap();
    let runs = 1500;
    for &n_train in &[6usize, 20, 60, 400] {
        let mut explicit = vec![Vec::new(); 3];
        let mut bartlett = vec![Vec::new(); 3];
        let eta = StepSize::Paper.eta(&setup, n_train);
        for j in 0..runs {
            let mut rng = ChaCha8Rng::seed_from_u64(90_000 + j as u64);
            let s = TrainingSet::draw(&setup, n_train, &mut rng)
                .unwrap()
                .spectrum(Par::Seq);
            let b = bartlett_spectrum(&setup, n_train, &mut rng, Par::Seq).unwrap();
            for (store, sp) in [(&mut explicit, &s), (&mut bartlett, &b)] {
                store[0].push(sp.pca_risk());
                store[1].push(sp.least_squares_risk().min(1e6));
                store[2].push(early_stopped(&sp.gd_risk_path(eta, 400, Par::Seq)).0);
            }
        }
        common::assert_same_means(
            &["pca", "least_squares", "gd"],
            ("explicit", &explicit),
            ("bartlett", &bartlett),
            &format!("N={n_train}"),
        );
    }
}

/// Second moments of the Bartlett sampler, which are exact: with `Y = Sigma^{1/2} G` (`G` an
/// `n x N` standard Gaussian matrix), `E tr(Y Y^T) = N tr(Sigma)` and
/// `E tr((Y Y^T)^2) = N (N + 1) tr(Sigma^2) + N (tr Sigma)^2` (Wishart: `E[W A W] = N (N + 1) A +
/// N tr(A) I` for symmetric `A`). 3000 draws each, below and above `N = n`; within 4 standard
/// errors (8 comparisons).
#[test]
fn bartlett_second_moments_are_exact() {
    // (d, n, sigma, N): N below and above n, N = n, and no noise.
    let cases = [
        (3, 20, 0.3, 7),
        (3, 20, 0.3, 45),
        (5, 12, 0.8, 12),
        (2, 9, 0.0, 30),
    ];
    for (d, n, sigma, n_train) in cases {
        let setup = Setup::new(d, n, sigma).unwrap();
        let (alpha, s) = (setup.alpha(), setup.sigma2());
        let tr = d as f64 * alpha + (n - d) as f64 * s;
        let tr2 = d as f64 * alpha * alpha + (n - d) as f64 * s * s;
        let nt = n_train as f64;
        let want = [nt * tr, nt * (nt + 1.0) * tr2 + nt * tr * tr];
        let runs = 3000;
        let mut got = [Vec::new(), Vec::new()];
        for j in 0..runs {
            let mut rng = ChaCha8Rng::seed_from_u64(70_000 + j as u64);
            let sp = bartlett_spectrum(&setup, n_train, &mut rng, Par::Seq).unwrap();
            got[0].push(sp.eigenvalues().iter().sum::<f64>());
            got[1].push(sp.eigenvalues().iter().map(|l| l * l).sum::<f64>());
        }
        for (which, (values, want)) in ["tr", "tr^2"].iter().zip(got.iter().zip(want)) {
            common::assert_mean_near(values, want, &format!("{which} {setup:?} N={n_train}"));
        }
    }
}

/// The same seed gives bit-identical summaries whatever the number of threads.
#[test]
fn monte_carlo_is_bit_identical_across_thread_counts() {
    let setup = Setup::new(4, 30, 0.2).unwrap();
    let mc = MonteCarlo::new(setup, vec![2, 10, 31, 90], 6, 5);
    let run_with = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| mc.run(|| {}).unwrap())
    };
    let one = run_with(1);
    let three = run_with(3);
    assert_eq!(one, three);
    // A memory budget below one draw's estimate runs the draws one at a time, same results.
    let tight = mc.clone().memory_budget(1);
    assert_eq!(tight.concurrency(), 1);
    assert_eq!(
        rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap()
            .install(|| tight.run(|| {}).unwrap()),
        one
    );
    let other_seed = MonteCarlo::new(setup, vec![2, 10, 31, 90], 6, 6)
        .run(|| {})
        .unwrap();
    assert_ne!(one, other_seed);
}

/// Setups that share `N` (and even `d` and `n`) do not share draws: the streams are keyed by the
/// setup, so z-scores pooled over setups are independent.
#[test]
fn monte_carlo_streams_are_independent_across_setups() {
    let a = Setup::new(4, 30, 0.2).unwrap();
    let b = Setup::new(4, 30, 0.1).unwrap();
    let c = Setup::new(4, 31, 0.2).unwrap();
    let eig = |s: Setup| MonteCarlo::new(s, vec![10], 1, 5).spectrum(10, 0).unwrap();
    let (sa, sb, sc) = (eig(a), eig(b), eig(c));
    // Same (seed, N, draw), same setup: the same draw.
    assert_eq!(sa.eigenvalues(), eig(a).eigenvalues());
    assert_ne!(sa.eigenvalues(), sb.eigenvalues());
    assert_ne!(sa.eigenvalues(), sc.eigenvalues());
    let first = |s: &plateau_theory::spectrum::Spectrum| s.eigenvalues()[0];
    // With a shared Gaussian matrix (the streams before they were keyed by the setup), a and b
    // differ only by the noise scale and the ratio of their largest eigenvalues is nearly
    // constant over draws (about 1.05-1.1); independent draws make it vary by tens of percent.
    let ratios: Vec<f64> = (0..40)
        .map(|j| {
            let ea = MonteCarlo::new(a, vec![10], 1, 5).spectrum(10, j).unwrap();
            let eb = MonteCarlo::new(b, vec![10], 1, 5).spectrum(10, j).unwrap();
            first(&ea) / first(&eb)
        })
        .collect();
    let (_, sd) = mean_std(&ratios);
    assert!(
        sd.unwrap() > 0.05,
        "ratios vary like independent draws: sd {sd:?}"
    );
}

/// Bad configurations are errors, not panics.
#[test]
fn invalid_monte_carlo_configurations() {
    let setup = Setup::new(2, 10, 0.1).unwrap();
    assert!(MonteCarlo::new(setup, vec![], 1, 0).run(|| {}).is_err());
    assert!(MonteCarlo::new(setup, vec![0], 1, 0).run(|| {}).is_err());
    assert!(MonteCarlo::new(setup, vec![4], 0, 0).run(|| {}).is_err());
    assert!(MonteCarlo::new(setup, vec![4], 1, 0)
        .step(StepSize::Fixed(-1.0))
        .run(|| {})
        .is_err());
}
