//! The deterministic equivalents against the Monte Carlo engine (50 draws, fixed seeds), on the
//! paper setups with `n <= 1000` and the paper grid with `N >= 4 d`: every prediction for
//! `gd_early_stopped`, `least_squares` (except `N in {n-1, n, n+1}`, infinite) and `pca` must lie
//! within `max(5% of the excess risk R - floor, 3 standard errors)` of the Monte Carlo mean.
//! Referenced from `theory/analytic.md`. Run with `--release` (the n = 1000 setups take about a
//! minute each in release builds, so they are ignored in debug builds; `(100, 1000, 0.1)` takes
//! about 150 s and is always `#[ignore]`d). The n = 100 setups run by default in every build.
//!
//! `discrepancy_table` (ignored) prints the Markdown table of `theory/analytic.md` for all `N`.

use plateau_theory::analytic::{curve, CurvePoint};
use plateau_theory::montecarlo::{MonteCarlo, Summary};
use plateau_theory::{Estimator, Setup, StepSize};

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

/// Known finite-size exceptions, measured and explained in `theory/analytic.md` (section 8): with
/// `d = 10` signal directions, `n = 1000` and `N <= 64` (min-norm interpolation regime, where
/// early-stopped GD equals least squares), the bias is dominated by `E tr W^{-2}` of a real
/// `10 x 10` Wishart matrix with `N` degrees of freedom, whose exact value exceeds its
/// deterministic equivalent by `(N-1)(N-d)^2 / (N (N-d-1)(N-d-3)) - 1` = 6% (N = 64) to 10%
/// (N = 44). There the prediction is only required to be within 12% of the excess risk.
fn known_finite_size_exception(setup: &Setup, row: &Row) -> bool {
    setup.d() == 10
        && setup.n() == 1000
        && row.n_train <= 64
        && matches!(
            row.estimator,
            Estimator::GdEarlyStopped | Estimator::LeastSquares
        )
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
        let ok = if known_finite_size_exception(&setup, row) {
            row.passes(floor) || rel.abs() <= 0.12
        } else {
            row.passes(floor)
        };
        if !ok {
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
