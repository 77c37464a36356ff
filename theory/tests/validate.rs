//! The validation harness (`plateau_theory::validate`): exact formulas pass, wrong ones fail,
//! the analytic predictions pass on an `n = 100` paper setup, early stopping is compared like
//! with like, bad input is refused, and the result is reproducible. Referenced from
//! `docs/validate.md` and `theory/analytic.md`.

use plateau_theory::validate::{
    analytic_targets, compare, compare_formula, Config, Criterion, Target,
};
use plateau_theory::{Estimator, Setup, StepSize};

/// `E R` of min-norm least squares for `d = n` (isotropic `Sigma = alpha I`): for `N < n - 1`
/// the bias is `(n - N)/(n alpha)` exactly (the unseen directions) and the variance
/// `floor E tr((G^T G)^{-1}) = floor N/(n - N - 1)` (real inverse Wishart, `N x N` with `n`
/// degrees of freedom); for `N > n + 1`, `floor (N - 1)/(N - n - 1)`.
fn least_squares_isotropic(s: &Setup, n_train: usize) -> f64 {
    let (n, nt) = (s.n() as f64, n_train as f64);
    if n_train < s.n() {
        s.floor() + (n - nt) / (n * s.alpha()) + s.floor() * nt / (n - nt - 1.0)
    } else {
        s.floor() * (nt - 1.0) / (nt - n - 1.0)
    }
}

/// The Bartlett sampler against the exact `d = n` least-squares expectation on both sides of
/// the threshold (variance finite: `|n - N| >= 5`); the proportional limit (`n - N` in place of
/// `n - N - 1`) is rejected just below the threshold.
#[test]
fn least_squares_at_d_equal_n_matches_the_exact_expectation() {
    let setup = Setup::new(20, 20, 0.3).unwrap();
    let points: Vec<(Setup, usize)> = [4, 10, 15, 25, 40, 80]
        .iter()
        .map(|&n| (setup, n))
        .collect();
    let config = Config {
        criterion: Criterion::new(0.05, 3.0, 0.01, 4000).unwrap(),
        seed: 11,
        ..Config::default()
    };
    let report = compare_formula(
        Estimator::LeastSquares,
        &points,
        least_squares_isotropic,
        &config,
    )
    .unwrap();
    for p in &report.points {
        assert!(
            p.pass,
            "N = {}: exact {} MC {} +- {} ({} draws)",
            p.target.n_train, p.target.predicted, p.mc_mean, p.mc_se, p.draws
        );
    }
    assert!(!report.pooled().unwrap().rejects(0.01));
    let limit = |s: &Setup, n_train: usize| {
        let (n, nt) = (s.n() as f64, n_train as f64);
        s.floor() + (n - nt) / (n * s.alpha()) + s.floor() * nt / (n - nt)
    };
    let near = [(setup, 15)];
    let report = compare_formula(Estimator::LeastSquares, &near, limit, &config).unwrap();
    assert!(
        !report.all_pass(),
        "the limit is 20% of the variance low at N = n - 5"
    );
}

/// The deterministic equivalents on the paper setup `(10, 100, 0.1)` from `N = 4d`: every point
/// meets the default criterion (standard error 2% of the excess, up to 400 draws). For early
/// stopping the oracle `E[min_k R_k]` is never above the mean path's minimum (an identity:
/// the mean of minima is at most the minimum of means), and the mean path's argmin is reported.
#[test]
fn analytic_predictions_pass_on_a_paper_setup() {
    let setup = Setup::paper_setups()[1];
    let grid = vec![(setup, vec![44, 64, 256, 1024])];
    let estimators = [
        Estimator::GdEarlyStopped,
        Estimator::LeastSquares,
        Estimator::Pca,
    ];
    let (targets, skipped) = analytic_targets(&grid, &estimators, StepSize::Paper).unwrap();
    assert!(skipped.is_empty());
    assert!(targets.iter().all(|t| t.caveat.is_none()));
    let report = compare(&targets, &Config::default(), |_| {}).unwrap();
    for p in &report.points {
        assert!(
            p.pass,
            "N = {} {}: rel {:+.4} z {:+.2}",
            p.target.n_train, p.target.estimator, p.rel_excess_err, p.z
        );
        let target_se = report.criterion.target_rel_se() * p.excess();
        assert!(p.mc_se <= target_se || p.draws == report.criterion.max_draws());
        if p.target.estimator == Estimator::GdEarlyStopped {
            let (oracle, _) = p.oracle.unwrap();
            assert!(
                oracle <= p.mc_mean,
                "oracle {oracle} mean path {}",
                p.mc_mean
            );
            assert!(p.k_mean_path.is_some());
        } else {
            assert!(p.oracle.is_none());
        }
    }
}

/// Least squares at the interpolation threshold is infinite: left out, not compared.
#[test]
fn infinite_predictions_are_skipped_and_caveats_flagged() {
    let setup = Setup::new(10, 100, 0.1).unwrap();
    let grid = vec![(setup, vec![20, 80, 97, 100])];
    let (targets, skipped) = analytic_targets(
        &grid,
        &[Estimator::LeastSquares, Estimator::Pca],
        StepSize::Paper,
    )
    .unwrap();
    assert_eq!(skipped.len(), 1);
    assert_eq!(
        (skipped[0].n_train, skipped[0].estimator),
        (100, Estimator::LeastSquares)
    );
    let flag = |n, e| {
        targets
            .iter()
            .find(|t| t.n_train == n && t.estimator == e)
            .unwrap()
            .caveat
    };
    assert!(flag(20, Estimator::Pca).is_some(), "N < 4d");
    assert!(
        flag(97, Estimator::LeastSquares).is_some(),
        "within 5 of N = n"
    );
    assert!(flag(80, Estimator::LeastSquares).is_none());
    assert!(flag(97, Estimator::Pca).is_none());
    assert!(flag(100, Estimator::Pca).is_none());
}

/// Bad input is an error, never a panic.
#[test]
fn bad_input_is_refused() {
    assert!(Criterion::new(0.0, 3.0, 0.02, 400).is_err());
    assert!(Criterion::new(0.05, -1.0, 0.02, 400).is_err());
    assert!(Criterion::new(0.05, 3.0, f64::NAN, 400).is_err());
    assert!(Criterion::new(0.05, 3.0, 0.02, 0).is_err());
    let setup = Setup::new(2, 10, 0.1).unwrap();
    let target = |n_train, estimator, predicted| Target {
        setup,
        n_train,
        estimator,
        predicted,
        caveat: None,
    };
    let config = Config::default();
    for bad in [
        target(0, Estimator::Pca, 0.5),
        target(5, Estimator::Optimal, setup.floor()),
        target(5, Estimator::Pca, f64::NAN),
    ] {
        assert!(compare(&[bad], &config, |_| {}).is_err(), "{bad:?}");
    }
    let bad_step = Config {
        step: StepSize::Fixed(-1.0),
        ..Config::default()
    };
    assert!(compare(&[target(5, Estimator::Pca, 0.5)], &bad_step, |_| {}).is_err());
    assert!(analytic_targets(&[(setup, vec![5])], &[Estimator::Optimal], StepSize::Paper).is_err());
}

/// The same seed gives the same report whatever the number of threads; another seed does not.
#[test]
fn reports_are_reproducible() {
    let setup = Setup::new(4, 30, 0.2).unwrap();
    let grid = vec![(setup, vec![16, 60])];
    let (targets, _) = analytic_targets(
        &grid,
        &[Estimator::GdEarlyStopped, Estimator::Pca],
        StepSize::Paper,
    )
    .unwrap();
    let config = Config {
        criterion: Criterion::new(0.05, 3.0, 0.05, 60).unwrap(),
        ..Config::default()
    };
    let run = |threads, config: &Config| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| compare(&targets, config, |_| {}).unwrap())
    };
    let one = run(1, &config);
    assert_eq!(one, run(2, &config));
    let other = Config { seed: 1, ..config };
    assert_ne!(one, run(2, &other));
}
