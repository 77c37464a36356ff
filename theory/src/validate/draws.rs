//! The Monte Carlo side of [`super::compare`]: one group of targets at one `(setup, N)`, drawn
//! until every target's standard error meets the criterion.
//!
//! **Common draws.** With [`Config::common_draws`] the estimators of a group are evaluated on
//! the same spectra (common random numbers): a spectrum costs `O(d^2 min(n, N)^2)` and each
//! estimator's risk on it `O(r d^2)` (plus the early-stopping search), so three estimators
//! cost about one third of three independent streams where the spectrum dominates (the
//! `n = 10000` setup of the paper from `N = 2048` on). The estimators' z at one `(setup, N)`
//! are then dependent; the pooled tests therefore pool one estimator at a time
//! ([`super::Report::pooled_family`]), whose points use independent streams.
//!
//! **Streams.** Draw `j` of a group is draw `j` of [`crate::montecarlo::draw_rng`] with common
//! draws, draw `e 2^24 + j` of estimator `e` (its index in [`Estimator::ALL`]) without:
//! independent across setups and sizes (and, without common draws, estimators), reproducible
//! from the seed, and bit-identical for any number of threads.

use rayon::prelude::*;

use super::{distinct, pooled, Config, Criterion, Point, Target, ABS_TOL, MIN_DRAWS};
use crate::montecarlo::{mean_std, MonteCarlo};
use crate::spectrum::{early_stopped, Spectrum};
use crate::{Estimator, TheoryError};

/// The risks of one draw for one estimator: the scalar risk and, for early stopping, the
/// whole path.
struct DrawRisk {
    risk: f64,
    path: Option<Vec<f64>>,
}

/// The Monte Carlo estimate of one estimator's compared quantity so far.
struct Estimate {
    mean: f64,
    se: f64,
    /// Sample standard deviation of one draw of the compared quantity.
    sd: f64,
    /// Sample skewness of the compared quantity.
    skewness: f64,
    oracle: Option<(f64, f64)>,
    k: Option<usize>,
}

/// Compares every target of `group` (one `(setup, N)`; with common draws any estimators,
/// without them one estimator) with a sequential Monte Carlo estimate: draws in parallel
/// batches until every standard error meets the criterion ([`sample_until_settled`]). The
/// points in the order of `group`.
pub(super) fn compare_group(group: &[&Target], config: &Config) -> Result<Vec<Point>, TheoryError> {
    let first = group[0];
    let (setup, n_train) = (first.setup, first.n_train);
    debug_assert!(group
        .iter()
        .all(|t| t.setup == setup && t.n_train == n_train));
    let estimators = distinct(group.iter().map(|t| t.estimator));
    debug_assert!(config.common_draws || estimators.len() == 1);
    let stream = if config.common_draws {
        0
    } else {
        let slot = Estimator::ALL.iter().position(|&e| e == estimators[0]);
        slot.expect("every estimator is in ALL") << 24
    };
    let mc = MonteCarlo::new(setup, vec![n_train], 1, config.seed);
    let eta = config.step.eta(&setup, n_train);
    let draw = |j: usize| -> Result<Vec<DrawRisk>, TheoryError> {
        let spectrum = mc.spectrum(n_train, stream | j)?;
        Ok(estimators
            .iter()
            .map(|&e| draw_risk(&spectrum, e, config, eta))
            .collect())
    };
    let (estimates, draws) =
        sample_until_settled(draw, estimators.len(), &config.criterion, setup.floor())?;
    Ok(group
        .iter()
        .map(|t| {
            let e = estimators.iter().position(|&e| e == t.estimator);
            point(
                t,
                &estimates[e.expect("collected above")],
                draws,
                &config.criterion,
            )
        })
        .collect())
}

/// The compared point of `t` from its estimate over `draws` draws.
fn point(t: &Target, estimate: &Estimate, draws: usize, criterion: &Criterion) -> Point {
    let diff = t.predicted - estimate.mean;
    let excess = estimate.mean - t.setup.floor();
    let mut point = Point {
        target: *t,
        mc_mean: estimate.mean,
        mc_se: estimate.se,
        draws,
        z: z_score(diff, estimate.se),
        skewness: estimate.skewness,
        rel_excess_err: diff / excess,
        pass: false,
        oracle: estimate.oracle,
        k_mean_path: estimate.k,
    };
    point.pass = criterion.passes_z(diff, excess, point.z_normal());
    point
}

/// The risk of `estimator` on one draw's spectrum and, for early stopping, its risk path (the
/// noise-averaged one with `config.noise_averaged`).
fn draw_risk(spectrum: &Spectrum, estimator: Estimator, config: &Config, eta: f64) -> DrawRisk {
    let seq = faer::Par::Seq;
    let averaged = config.noise_averaged;
    match estimator {
        Estimator::Pca => DrawRisk {
            risk: spectrum.pca_risk(),
            path: None,
        },
        Estimator::LeastSquares => DrawRisk {
            risk: if averaged {
                spectrum.least_squares_risk_noise_averaged()
            } else {
                spectrum.least_squares_risk()
            },
            path: None,
        },
        Estimator::GdEarlyStopped if averaged => DrawRisk {
            // The oracle needs the draw's own path: its early-stopping search, not the
            // averaged path (whose minimum is not the mean of the minima).
            risk: spectrum.gd_early_stopped(eta, config.iters, seq).0,
            path: Some(spectrum.gd_risk_path_noise_averaged(eta, config.iters, seq)),
        },
        Estimator::GdEarlyStopped => {
            let path = spectrum.gd_risk_path(eta, config.iters, seq);
            DrawRisk {
                risk: early_stopped(&path).0,
                path: Some(path),
            }
        }
        Estimator::Optimal => unreachable!("rejected by check_target"),
    }
}

/// Draws `draw(0), draw(1), ...` (each the risks of `columns` estimators on one spectrum) in
/// parallel batches until every estimate's standard error is `criterion.target_rel_se` of its
/// excess over `floor`, too small to change the verdict, or `criterion.max_draws` are spent;
/// the estimates and the number of draws (the same for every column).
fn sample_until_settled(
    draw: impl Fn(usize) -> Result<Vec<DrawRisk>, TheoryError> + Sync,
    columns: usize,
    criterion: &Criterion,
    floor: f64,
) -> Result<(Vec<Estimate>, usize), TheoryError> {
    let mut draws: Vec<Vec<DrawRisk>> = (0..columns).map(|_| Vec::new()).collect();
    let mut batch = MIN_DRAWS.min(criterion.max_draws);
    loop {
        let start = draws[0].len();
        let new: Vec<Vec<DrawRisk>> = (start..start + batch)
            .into_par_iter()
            .map(&draw)
            .collect::<Result<_, _>>()?;
        for row in new {
            for (column, risk) in draws.iter_mut().zip(row) {
                column.push(risk);
            }
        }
        let estimates: Vec<Estimate> = draws.iter().map(|c| estimate(c)).collect();
        let done = draws[0].len();
        let needed = estimates
            .iter()
            .map(|e| draws_needed(e, criterion, floor))
            .max()
            .unwrap_or(0);
        if done >= criterion.max_draws || needed <= done {
            return Ok((estimates, done));
        }
        batch = needed
            .saturating_sub(done)
            .clamp(MIN_DRAWS / 2, done)
            .min(criterion.max_draws - done);
    }
}

/// The draws one estimate needs for its goal (standard error `target_rel_se` of the excess) at
/// its current spread, with a 10% margin: `0` when the goal is met or its standard error is
/// far below the absolute tolerance (it cannot change the verdict); `max_draws` when the
/// excess is not positive.
fn draws_needed(e: &Estimate, criterion: &Criterion, floor: f64) -> usize {
    let goal = criterion.target_rel_se * (e.mean - floor);
    let settled = criterion.tol_z * e.se <= 0.01 * ABS_TOL && e.mean - floor <= ABS_TOL;
    if e.se <= goal || settled {
        0
    } else if goal > 0.0 {
        (1.1 * (e.sd / goal).powi(2)).ceil() as usize
    } else {
        criterion.max_draws
    }
}

/// `diff / se`, with `0/0 = 0` (an exact prediction of a deterministic risk); an error within
/// [`ABS_TOL`] also counts as exact (`z = 0`): there the draws differ by rounding only, and
/// their standard error measures rounding, not sampling.
fn z_score(diff: f64, se: f64) -> f64 {
    if diff.abs() <= ABS_TOL {
        0.0
    } else {
        diff / se
    }
}

/// Mean and standard error of the compared quantity: the scalar risk, or for early stopping the
/// minimum of the mean path (with the oracle alongside).
fn estimate(draws: &[DrawRisk]) -> Estimate {
    let count = draws.len() as f64;
    let risks: Vec<f64> = draws.iter().map(|d| d.risk).collect();
    let (mean, sd) = mean_std(&risks);
    let sd = sd.unwrap_or(0.0);
    let Some(len) = draws.first().and_then(|d| d.path.as_ref()).map(Vec::len) else {
        return Estimate {
            mean,
            se: sd / count.sqrt(),
            sd,
            skewness: pooled::skewness(&risks),
            oracle: None,
            k: None,
        };
    };
    let mut mean_path = vec![0.0; len];
    for d in draws {
        for (m, r) in mean_path
            .iter_mut()
            .zip(d.path.as_ref().expect("every draw has a path"))
        {
            *m += r / count;
        }
    }
    let (_, k) = early_stopped(&mean_path);
    let at_k: Vec<f64> = draws
        .iter()
        .map(|d| d.path.as_ref().expect("every draw has a path")[k])
        .collect();
    let (path_mean, path_sd) = mean_std(&at_k);
    let path_sd = path_sd.unwrap_or(0.0);
    Estimate {
        mean: path_mean,
        se: path_sd / count.sqrt(),
        sd: path_sd,
        skewness: pooled::skewness(&at_k),
        oracle: Some((mean, sd / count.sqrt())),
        k: Some(k),
    }
}
