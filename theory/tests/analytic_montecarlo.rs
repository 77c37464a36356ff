//! The deterministic equivalents against the Monte Carlo engine (50 draws, fixed seeds), on the
//! paper setups with `n <= 1000` and the paper grid with `N >= 4 d`: every prediction for
//! `gd_early_stopped`, `least_squares` (except `N in {n-1, n, n+1}`, infinite) and `pca` must lie
//! within `max(5% of the excess risk R - floor, 3 standard errors)` of the Monte Carlo mean.
//! Referenced from `theory/analytic.md`. Run with `--release` (the n = 1000 setups take about a
//! minute each in release builds, so they are ignored in debug builds; `(100, 1000, 0.1)` takes
//! about 150 s and is always `#[ignore]`d). The n = 100 setups run by default in every build;
//! `.ci/run` runs the four n = 1000 setups in release (`-- --include-ignored _1000_`).
//!
//! `finite_size_correction_removes_the_bias` asserts the pooled effect of the finite-`d`
//! correction, `least_squares_near_threshold_n100` least squares up to `N = n - 5` (the `n = 1000`
//! setups: `plateau validate` in `.ci/run`), `n100_accuracy_holds_across_n_minus_d`
//! the two-sided accuracy at `n = 100` across `N = n - d` (section 8b). The per-point table of every paper setup is
//! `plateau validate --preset paper` (`theory/analytic.md`).

use crate::common;

use plateau_theory::analytic::{curve, CurvePoint};
use plateau_theory::montecarlo::{MonteCarlo, Summary};
use plateau_theory::validate::Criterion;
use plateau_theory::{Estimator, Setup, StepSize};
use proptest::prelude::*;

const RUNS: usize = 50;
const SEED: u64 = 2023;
const CHECKED: [Estimator; 3] = [
    Estimator::GdEarlyStopped,
    Estimator::LeastSquares,
    Estimator::Pca,
];

/// One compared point.
struct Row {
    n_train: usize,
    estimator: Estimator,
    predicted: Option<f64>,
    mc: Summary,
}

impl Row {
    /// `(predicted - mc) / (mc - floor)` and `(predicted - mc) / stderr`.
    fn errors(&self, floor: f64) -> Option<(f64, f64)> {
        let p = self.predicted?;
        let diff = p - self.mc.mean;
        Some((
            diff / (self.mc.mean - floor),
            diff / self.mc.stderr.unwrap_or(f64::NAN),
        ))
    }

    /// The default criterion of `plateau_theory::validate`: within `max(5% of the excess, 3
    /// standard errors)`.
    fn passes(&self, floor: f64) -> bool {
        self.predicted.is_some_and(|p| {
            Criterion::default().passes(
                p - self.mc.mean,
                self.mc.mean - floor,
                self.mc.stderr.unwrap_or(0.0),
            )
        })
    }
}

/// The Monte Carlo rows: least squares and PCA from `RUNS` draws; early stopping compared like
/// with like (as `plateau_theory::validate` does): the prediction `min_k E[R_k]` against the
/// minimum of the `RUNS`-draw mean path, not the oracle `E[min_k R_k]` (which is below it).
fn compare(setup: &Setup, sizes: Vec<usize>, seed: u64) -> Vec<Row> {
    let predictions: Vec<CurvePoint> = curve(setup, &sizes, StepSize::Paper).unwrap();
    let mut mc = MonteCarlo::new(*setup, sizes.clone(), RUNS, seed)
        .estimators(vec![Estimator::LeastSquares, Estimator::Pca])
        .run(|| {})
        .unwrap();
    mc.extend(mean_path_minima(setup, &sizes, &predictions, seed));
    mc.sort_by_key(|m| {
        let slot = CHECKED.iter().position(|&e| e == m.estimator).unwrap();
        (sizes.iter().position(|&n| n == m.n_train).unwrap(), slot)
    });
    mc.into_iter()
        .map(|m| {
            let p = predictions
                .iter()
                .find(|p| p.n_train == m.n_train && p.estimator == m.estimator)
                .expect("every size and estimator is predicted")
                .prediction;
            Row {
                n_train: m.n_train,
                estimator: m.estimator,
                predicted: p.risk,
                mc: m,
            }
        })
        .collect()
}

/// Early stopping at every size: the minimum of the mean path over exactly `RUNS` draws
/// (`plateau_theory::validate::compare` with an unreachable standard-error target), as a
/// [`Summary`] whose `stderr` is that of the mean path at its argmin.
fn mean_path_minima(
    setup: &Setup,
    sizes: &[usize],
    predictions: &[CurvePoint],
    seed: u64,
) -> Vec<Summary> {
    use plateau_theory::validate::{compare, Config, Target};
    let config = Config {
        criterion: Criterion::new(0.05, 3.0, 1e-12, RUNS).unwrap(),
        seed,
        ..Config::default()
    };
    let targets: Vec<Target> = sizes
        .iter()
        .map(|&n_train| Target {
            setup: *setup,
            n_train,
            estimator: Estimator::GdEarlyStopped,
            predicted: predictions
                .iter()
                .find(|p| p.n_train == n_train && p.estimator == Estimator::GdEarlyStopped)
                .and_then(|p| p.prediction.risk)
                .expect("early stopping is always predicted"),
            caveat: None,
        })
        .collect();
    let report = compare(&targets, &config, |_| {}).unwrap();
    report
        .points
        .iter()
        .map(|p| Summary {
            n_train: p.target.n_train,
            estimator: Estimator::GdEarlyStopped,
            mean: p.mc_mean,
            std: Some(p.mc_se * (p.draws as f64).sqrt()),
            stderr: Some(p.mc_se),
            runs: p.draws,
            k_opt_mean: p.k_mean_path.map(|k| k as f64),
        })
        .collect()
}

fn exempt(setup: &Setup, row: &Row) -> bool {
    row.estimator == Estimator::LeastSquares
        && row.n_train + 1 >= setup.n()
        && row.n_train <= setup.n() + 1
}

fn check_setup(index: usize) {
    let setup = Setup::paper_setups()[index];
    let sizes: Vec<usize> = setup
        .default_train_sizes()
        .into_iter()
        .filter(|&n| n >= 4 * setup.d())
        .collect();
    let rows = compare(&setup, sizes, SEED);
    let floor = setup.floor();
    let mut failures = Vec::new();
    for row in rows.iter().filter(|r| !exempt(&setup, r)) {
        let (rel, z) = row.errors(floor).unwrap_or((f64::NAN, f64::NAN));
        println!(
            "{:?} N={:>6} {:>16}: predicted {:.6e} mc {:.6e} +- {:.1e}  rel.excess {:+.4} z {:+.2}",
            (setup.d(), setup.n(), setup.sigma()),
            row.n_train,
            row.estimator.name(),
            row.predicted.unwrap_or(f64::NAN),
            row.mc.mean,
            row.mc.stderr.unwrap_or(f64::NAN),
            rel,
            z
        );
        if !row.passes(floor) {
            failures.push(format!(
                "N={} {} rel {rel:+.4} z {z:+.2}",
                row.n_train, row.estimator
            ));
        }
    }
    assert!(failures.is_empty(), "{setup:?}: {}", failures.join("; "));
}

/// Small noise (`sigma = 1e-2, 1e-4`: the scales of signal and noise far apart), where the
/// subspace model's noise bulk once fell out of the support and PCA was predicted at risk 1
/// (`two_atom::tests::tiny_noise_keeps_the_noise_bulk`): every estimator within the default
/// criterion of 50 draws, as on the paper setups.
#[test]
fn small_noise_matches_monte_carlo() {
    for sigma in [1e-2, 1e-4] {
        let setup = Setup::new(10, 100, sigma).unwrap();
        let rows = compare(&setup, vec![44, 64, 200, 1024], SEED);
        for row in rows.iter().filter(|r| !exempt(&setup, r)) {
            let (rel, z) = row.errors(setup.floor()).unwrap_or((f64::NAN, f64::NAN));
            assert!(
                row.passes(setup.floor()),
                "sigma {sigma} N={} {}: rel {rel:+.4} z {z:+.2}",
                row.n_train,
                row.estimator
            );
        }
    }
}

#[test]
fn setup_10_100_020() {
    check_setup(0);
}

#[test]
fn setup_10_100_010() {
    check_setup(1);
}

#[test]
fn setup_10_100_005() {
    check_setup(2);
}

#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "n = 1000: run with --release (about a minute)"
)]
fn setup_10_1000_010() {
    check_setup(3);
}

#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "n = 1000: run with --release (about a minute)"
)]
fn setup_50_1000_010() {
    check_setup(5);
}

/// Within 5 of the interpolation threshold the least-squares risk is heavy-tailed (finite
/// variance only from `n - N >= 4`) and the prediction is not asserted
/// (`plateau_theory::validate::LS_THRESHOLD_MARGIN`).
const LS_THRESHOLD_BAND: usize = plateau_theory::validate::LS_THRESHOLD_MARGIN;

fn near_threshold(setup: &Setup, row: &Row) -> bool {
    row.estimator == Estimator::LeastSquares
        && row.n_train < setup.n()
        && setup.n() - row.n_train < LS_THRESHOLD_BAND
}

/// A random subspace setup: `d` in 5..=25, `n` in `4d..=6d` plus up to 60, `sigma` in
/// 0.05..0.5, and `N` in `4d..=3n` (the criterion's range).
fn random_setup() -> impl Strategy<Value = (Setup, usize)> {
    (
        5usize..=25,
        0usize..=60,
        4usize..=6,
        0.05f64..0.5,
        0.0f64..1.0,
    )
        .prop_map(|(d, extra, ratio, sigma, u)| {
            let setup = Setup::new(d, ratio * d + extra, sigma).unwrap();
            let (lo, hi) = (4 * d, 3 * setup.n());
            (setup, lo + (u * (hi - lo) as f64) as usize)
        })
}

proptest! {
    #![proptest_config(common::fixed_proptest(8, 2023))]

    /// The criterion of the paper setups holds on random setups too (fixed seeds): GD-ES, LS and
    /// PCA within `max(5% of the excess, 3 standard errors)` of 50 Monte Carlo draws. Least
    /// squares is not compared within [`LS_THRESHOLD_BAND`] below the interpolation threshold.
    #[test]
    fn criterion_holds_on_random_setups((setup, n_train) in random_setup()) {
        let floor = setup.floor();
        for row in compare(&setup, vec![n_train], SEED) {
            if exempt(&setup, &row) || near_threshold(&setup, &row) {
                continue;
            }
            let (rel, z) = row.errors(floor).unwrap_or((f64::NAN, f64::NAN));
            prop_assert!(
                row.passes(floor),
                "{setup:?} N={} {}: rel {rel:+.4} z {z:+.2}",
                row.n_train,
                row.estimator
            );
        }
    }
}

/// Ignored by default: about 150 s in a release build on the 2-core machine (over the 2-minute
/// budget for default tests); run with `--release -- --ignored`.
#[test]
#[ignore = "about 150 s in release (d = 100, n = 1000, 50 draws); run with --release -- --ignored"]
fn setup_100_1000_010() {
    check_setup(6);
}

#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "n = 1000: run with --release (about a minute)"
)]
fn setup_10_1000_005() {
    check_setup(7);
}

/// The finite-`d` correction removes the limit's bias (`theory/analytic.md`, section 9): on the
/// points where it applies and matters (`d = 10` and `50`, `4d <= N < n - d`; GD-ES and LS
/// against the same draws, `plateau_theory::validate`, standard error 2% of the excess), the
/// proportional limit alone is low (sign test and mean z reject at 1%, mean error below -1.5%
/// of the excess), and the corrected prediction is not rejected by either test at 1%.
#[test]
fn finite_size_correction_removes_the_bias() {
    use plateau_theory::analytic::SpectralEquivalent;
    use plateau_theory::validate::{compare, Config, Pooled, Target};
    let points: [(usize, &[usize]); 6] = [
        (0, &[44, 64]),
        (1, &[44, 64]),
        (2, &[44, 64]),
        (3, &[44, 64, 100, 256]),
        (5, &[200]),
        (7, &[44, 64, 100, 256]),
    ];
    let mut limit = Vec::new();
    let mut corrected = Vec::new();
    for (index, sizes) in points {
        let setup = Setup::paper_setups()[index];
        for &n_train in sizes {
            let eq = SpectralEquivalent::new(&setup, n_train).unwrap();
            assert!(eq.has_finite_size_correction());
            let lim = eq.clone().proportional_limit();
            for estimator in [Estimator::GdEarlyStopped, Estimator::LeastSquares] {
                let target = |e: &SpectralEquivalent| Target {
                    setup,
                    n_train,
                    estimator,
                    predicted: e.predict(estimator, StepSize::Paper).risk.unwrap(),
                    caveat: None,
                };
                limit.push(target(&lim));
                corrected.push(target(&eq));
            }
        }
    }
    // The two estimators pooled together: each on its own draws, so that all z are independent.
    let config = Config {
        seed: SEED,
        common_draws: false,
        ..Config::default()
    };
    let summary = |targets: &[Target]| {
        let report = compare(targets, &config, |_| {}).unwrap();
        let rel: Vec<f64> = report.points.iter().map(|p| p.rel_excess_err).collect();
        let mean_rel = rel.iter().sum::<f64>() / rel.len() as f64;
        let z: Vec<f64> = report.points.iter().map(|p| p.z_normal()).collect();
        (Pooled::of(&z).unwrap(), mean_rel)
    };
    let (lim, lim_rel): (Pooled, f64) = summary(&limit);
    let (cor, cor_rel): (Pooled, f64) = summary(&corrected);
    println!("limit alone: {lim:?}, mean rel {lim_rel:+.4}");
    println!("corrected:   {cor:?}, mean rel {cor_rel:+.4}");
    assert!(lim.negative > lim.positive && lim.sign_p < 0.01 && lim.mean_z_p < 0.01);
    assert!(lim_rel < -0.015, "limit mean rel {lim_rel}");
    assert!(
        cor.sign_p >= 0.01 && cor.mean_z_p >= 0.01,
        "corrected {cor:?}"
    );
    assert!(cor_rel.abs() < lim_rel.abs());
}

/// Least squares just below the interpolation threshold (`theory/analytic.md`, section 9): with
/// the real-Gaussian degrees-of-freedom term, every `N <= n - 5` meets the criterion
/// (`plateau_theory::validate`, standard error at most 2% of the excess, up to `max_draws`), and
/// the pooled statistics of the points do not reject at 1%. Without the term (the limit) the
/// same draws reject.
fn least_squares_near_threshold(index: usize, sizes: &[usize], max_draws: usize) {
    use plateau_theory::analytic::SpectralEquivalent;
    use plateau_theory::validate::{compare, Config, Criterion, Target};
    let setup = Setup::paper_setups()[index];
    let targets = |limit: bool| -> Vec<Target> {
        sizes
            .iter()
            .map(|&n_train| {
                let mut eq = SpectralEquivalent::new(&setup, n_train).unwrap();
                if limit {
                    eq = eq.proportional_limit();
                }
                Target {
                    setup,
                    n_train,
                    estimator: Estimator::LeastSquares,
                    predicted: eq
                        .predict(Estimator::LeastSquares, StepSize::Paper)
                        .risk
                        .unwrap(),
                    caveat: None,
                }
            })
            .collect()
    };
    let config = Config {
        criterion: Criterion::new(0.05, 3.0, 0.02, max_draws).unwrap(),
        seed: SEED,
        ..Config::default()
    };
    let report = compare(&targets(false), &config, |_| {}).unwrap();
    for p in &report.points {
        println!(
            "{setup:?} N={} n-N={}: rel {:+.4} z {:+.2} ({} draws)",
            p.target.n_train,
            setup.n() - p.target.n_train,
            p.rel_excess_err,
            p.z,
            p.draws
        );
        assert!(
            p.pass,
            "N={}: rel {:+.4} z {:+.2}",
            p.target.n_train, p.rel_excess_err, p.z
        );
    }
    assert!(
        !report
            .pooled(Estimator::LeastSquares, None)
            .unwrap()
            .rejects(0.01),
        "{:?}",
        report.pooled(Estimator::LeastSquares, None)
    );
    let limit = compare(&targets(true), &config, |_| {}).unwrap();
    assert!(
        limit
            .pooled(Estimator::LeastSquares, None)
            .unwrap()
            .rejects(0.01),
        "{:?}",
        limit.pooled(Estimator::LeastSquares, None)
    );
}

#[test]
fn least_squares_near_threshold_n100() {
    for index in 0..3 {
        least_squares_near_threshold(index, &[64, 70, 80, 85, 90, 95], 1000);
    }
}

/// The accuracy at `n = 100` across `N = n - d` (`theory/analytic.md`, sections 8b and 9, "The
/// bias at n = 100"). Before section 8b the correction stopped at `N = n - d = 90` and early
/// stopping and PCA were predicted 1.0-1.8% of the excess low from there on (measured at
/// standard error 0.5%: mean -1.2% over `N = 90..256`). The test redraws 18 points (three
/// `n = 100` setups; GD-ES at `N = 90, 100, 256`, PCA at `N = 90, 100, 128`; standard error 1%
/// of the excess): every point within `max(2%, 3 s.e.)` of the excess, and the mean error within
/// 3 of its standard errors of 0 (`sqrt(sum se_i^2)/18`, about 0.24% of the excess), two-sided:
/// the former -1.2% bias is 5 of them. PCA stops at `N = 128`: from `N = 2n` on it has a
/// separate positive residual (section 9, up to +1-2% at `N = 256-1024`) that section 8b does
/// not address.
#[test]
fn n100_accuracy_holds_across_n_minus_d() {
    use plateau_theory::validate::{analytic_targets, compare, Config, Criterion};
    let config = Config {
        criterion: Criterion::new(0.02, 3.0, 0.01, 2000).unwrap(),
        seed: SEED,
        // The mean error's standard error below treats the 18 points as independent.
        common_draws: false,
        ..Config::default()
    };
    let mut targets = Vec::new();
    for (estimator, sizes) in [
        (Estimator::GdEarlyStopped, [90, 100, 256]),
        (Estimator::Pca, [90, 100, 128]),
    ] {
        let grid: Vec<(Setup, Vec<usize>)> = Setup::paper_setups()[..3]
            .iter()
            .map(|&s| (s, sizes.to_vec()))
            .collect();
        targets.extend(analytic_targets(&grid, &[estimator], &config).unwrap().0);
    }
    let report = compare(&targets, &config, |_| {}).unwrap();
    for p in &report.points {
        println!(
            "{:?} N={} {:?}: rel {:+.4} z {:+.2} ({} draws)",
            p.target.setup, p.target.n_train, p.target.estimator, p.rel_excess_err, p.z, p.draws
        );
        assert!(p.pass, "{p:?}");
    }
    let count = report.points.len() as f64;
    let mean_rel = report.points.iter().map(|p| p.rel_excess_err).sum::<f64>() / count;
    let se_mean = report
        .points
        .iter()
        .map(|p| (p.mc_se / p.excess()).powi(2))
        .sum::<f64>()
        .sqrt()
        / count;
    println!(
        "pooled GD-ES {:?}, PCA {:?}, mean rel {mean_rel:+.4} +- {se_mean:.4}",
        report.pooled(Estimator::GdEarlyStopped, None),
        report.pooled(Estimator::Pca, None)
    );
    assert!(
        mean_rel.abs() < 3.0 * se_mean,
        "mean rel {mean_rel} +- {se_mean}"
    );
}
