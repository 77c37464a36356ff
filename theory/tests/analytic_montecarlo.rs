//! The deterministic equivalents against the Monte Carlo engine (50 draws, fixed seeds), on the
//! paper setups with `n <= 1000` and the paper grid with `N >= 4 d`: every prediction for
//! `gd_early_stopped`, `least_squares` (except `N in {n-1, n, n+1}`, infinite) and `pca` must lie
//! within `max(5% of the excess risk R - floor, 3 standard errors)` of the Monte Carlo mean.
//! Referenced from `theory/analytic.md`. Run with `--release` (the n = 1000 setups take about a
//! minute each in release builds, so they are ignored in debug builds; `(100, 1000, 0.1)` takes
//! about 150 s and is always `#[ignore]`d). The n = 100 setups run by default in every build.
//!
//! `discrepancy_table` (ignored) prints the Markdown table of `theory/analytic.md` for all `N`;
//! `finite_size_correction_effect` (ignored) compares the limit alone with the corrected prediction.

use plateau_theory::analytic::{curve, CurvePoint};
use plateau_theory::montecarlo::{MonteCarlo, Summary};
use plateau_theory::{Estimator, Setup, StepSize};
use proptest::prelude::*;

const RUNS: usize = 50;
const SEED: u64 = 2023;
/// Seed of the published discrepancy table (an independent set of draws).
const TABLE_SEED: u64 = 1;
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

    fn passes(&self, floor: f64) -> bool {
        match self.predicted {
            None => false,
            Some(p) => {
                let tol = (0.05 * (self.mc.mean - floor)).max(3.0 * self.mc.stderr.unwrap_or(0.0));
                (p - self.mc.mean).abs() <= tol
            }
        }
    }
}

fn compare(setup: &Setup, sizes: Vec<usize>, seed: u64) -> Vec<Row> {
    let predictions: Vec<CurvePoint> = curve(setup, &sizes, StepSize::Paper).unwrap();
    let mc = MonteCarlo::new(*setup, sizes, RUNS, seed)
        .estimators(CHECKED.to_vec())
        .run(|| {})
        .unwrap();
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

/// Below the interpolation threshold the min-norm variance grows like `1/(n - N)`, and the
/// limit misses the real-Gaussian `O(1/(n - N))` term of the noise block (the signal-block
/// correction does not cover it): least squares is 3-9% of the excess low for `n - N` from 13 to
/// 30 and 7-23% low at `n - N <= 10` (`theory/analytic.md`, section 9). The paper grids stay
/// outside this band (`n - N >= 36`).
const LS_THRESHOLD_BAND: usize = 30;

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
    #![proptest_config(ProptestConfig {
        cases: 8,
        failure_persistence: None,
        rng_seed: proptest::test_runner::RngSeed::Fixed(2023),
        ..ProptestConfig::default()
    })]

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

/// Prints, for every paper setup with `n <= 1000` and every `N` of the grid, the relative error
/// on the excess risk and the z-score of each prediction (Markdown), as published in
/// `theory/analytic.md`.
#[test]
#[ignore]
fn discrepancy_table() {
    for (index, setup) in Setup::paper_setups().into_iter().enumerate() {
        if setup.n() > 1000 {
            continue;
        }
        let rows = compare(&setup, setup.default_train_sizes(), TABLE_SEED);
        let floor = setup.floor();
        println!(
            "\n#### ({}, {}, {}) (setup {index})\n",
            setup.d(),
            setup.n(),
            setup.sigma()
        );
        println!("| N | GD-ES rel | GD-ES z | LS rel | LS z | PCA rel | PCA z |");
        println!("|---|---|---|---|---|---|---|");
        for n_train in setup.default_train_sizes() {
            let cell = |e: Estimator| {
                let row = rows
                    .iter()
                    .find(|r| r.n_train == n_train && r.estimator == e)
                    .unwrap();
                match row.errors(floor) {
                    Some((rel, z)) => format!("{:+.3} | {:+.1}", rel, z),
                    None => "inf | -".to_string(),
                }
            };
            println!(
                "| {n_train} | {} | {} | {} |",
                cell(Estimator::GdEarlyStopped),
                cell(Estimator::LeastSquares),
                cell(Estimator::Pca)
            );
        }
    }
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
    let config = Config {
        seed: SEED,
        ..Config::default()
    };
    let summary = |targets: &[Target]| {
        let report = compare(targets, &config, |_| {}).unwrap();
        let rel: Vec<f64> = report.points.iter().map(|p| p.rel_excess_err).collect();
        let mean_rel = rel.iter().sum::<f64>() / rel.len() as f64;
        (report.pooled().unwrap(), mean_rel)
    };
    let (lim, lim_rel): (Pooled, f64) = summary(&limit);
    let (cor, cor_rel): (Pooled, f64) = summary(&corrected);
    println!("limit alone: {lim:?}, mean rel {lim_rel:+.4}");
    println!("corrected:   {cor:?}, mean rel {cor_rel:+.4}");
    assert!(lim.negative > lim.positive && lim.sign_p < 0.01 && lim.mean_z_p < 0.01);
    assert!(lim_rel < -0.015, "limit mean rel {lim_rel}");
    assert!(cor.sign_p >= 0.01 && cor.mean_z_p >= 0.01, "corrected {cor:?}");
    assert!(cor_rel.abs() < lim_rel.abs());
}

/// Prints least squares just below the interpolation threshold (`theory/analytic.md`, section
/// 9): `rel` and `z` of the limit alone and of the corrected prediction, seed 2023.
#[test]
#[ignore]
fn least_squares_near_threshold() {
    use plateau_theory::analytic::SpectralEquivalent;
    // (setup (d, n, sigma), sizes N, Monte Carlo draws)
    type Case = ((usize, usize, f64), &'static [usize], usize);
    let cases: [Case; 3] = [
        ((10, 100, 0.1), &[64, 70, 75, 80, 85, 90, 95], 200),
        ((10, 58, 0.4279), &[30, 40, 45, 50, 54], 400),
        ((10, 1000, 0.1), &[900, 950, 975, 990], 50),
    ];
    for ((d, n, sigma), sizes, runs) in cases {
        let setup = Setup::new(d, n, sigma).unwrap();
        let mc = MonteCarlo::new(setup, sizes.to_vec(), runs, SEED)
            .estimators(vec![Estimator::LeastSquares])
            .run(|| {})
            .unwrap();
        for m in mc {
            let corrected = SpectralEquivalent::new(&setup, m.n_train).unwrap();
            let limit = corrected.clone().proportional_limit();
            let cells: Vec<String> = [limit, corrected]
                .iter()
                .map(|eq| {
                    let p = eq.predict(m.estimator, StepSize::Paper).risk.unwrap();
                    let rel = (p - m.mean) / (m.mean - setup.floor());
                    format!("{rel:+.3} ({:+.1})", (p - m.mean) / m.stderr.unwrap())
                })
                .collect();
            println!(
                "| {:?} | {} | {} | {runs} | {} | {} |",
                (d, n, sigma),
                m.n_train,
                n - m.n_train,
                cells[0],
                cells[1]
            );
        }
    }
}
