//! Validate any prediction of the expected risk against the exact engine's Monte Carlo.
//!
//! A [`Target`] is a predicted expected risk for one `(setup, N, estimator)`; [`compare`] draws
//! exact risks (Bartlett sampler, [`crate::montecarlo`]) until the standard error is at most
//! `target_rel_se` of the excess risk (or `max_draws`), and judges every point by the
//! [`Criterion`]: `|predicted - mean| <= max(tol_excess (mean - floor), ABS_TOL)` or `|z| <= tol_z`
//! with `z` on the normal scale ([`Point::z_normal`]: skew and estimated standard error
//! accounted for). The [`Report`] adds the [`Pooled`] statistics (mean z, chi-square, sign test,
//! Holm worst point), overall and per setup, judged together at a family-wise level
//! ([`Report::pooled_rejects`]). Least squares and the mean gradient-descent path are drawn
//! noise-averaged by default ([`Config::noise_averaged`]). [`compare_formula`] does the same for a function
//! `Fn(&Setup, usize) -> f64`, [`analytic_targets`] builds the targets of the crate's own
//! deterministic equivalents.
//!
//! **Early stopping.** A deterministic prediction of early-stopped gradient descent is
//! `min_k E[R_k]`: one stopping time for all training sets. Its Monte Carlo counterpart is the
//! minimum of the *mean* path, so that is what a `gd_early_stopped` target is compared with
//! (standard error: that of the mean path at its argmin). The oracle `E[min_k R_k]` (each draw
//! stopped at its own best iterate, what the paper and [`crate::montecarlo`] report) is given
//! alongside ([`Point::oracle`]); it is never above the mean-path minimum.
//!
//! **Draws.** Draw `j` of estimator `e` at `(setup, N)` is draw `e 2^24 + j` of
//! [`crate::montecarlo::draw_rng`] (`e` the index in [`Estimator::ALL`]): independent across
//! setups, sizes and estimators, reproducible from the seed, and bit-identical for any number of
//! threads. Each point starts with [`MIN_DRAWS`] draws and adds batches (at most doubling, sized
//! from the current standard deviation) until the target is met.
//!
//! A worked example with a user's formula: `theory/validate.md` (doc-tested below).
//!
#![doc = include_str!("../../validate.md")]

mod caveat;
mod pooled;

pub use caveat::{caveat, Caveat, LS_THRESHOLD_MARGIN};
pub use pooled::{holm_adjust, sign_test, skew_corrected, t_to_normal, Pooled};

use rayon::prelude::*;

use crate::analytic::SpectralEquivalent;
use crate::montecarlo::{draw_memory_bytes, mean_std, MonteCarlo, DEFAULT_MEMORY_BUDGET};
use crate::spectrum::{early_stopped, Spectrum};
use crate::{Estimator, Setup, StepSize, TheoryError};

/// Absolute tolerance on the risk (units of the zero estimator's risk, 1): an error at most
/// this always passes. Far above rounding (about `1e-15`) and far below any excess the relative
/// tolerances judge; it decides the points whose excess is zero (no noise, or `d = n`), where a
/// fraction of the excess would be a fraction of rounding error.
pub const ABS_TOL: f64 = 1e-9;

/// Draws every point starts with (enough for a usable standard deviation).
pub const MIN_DRAWS: usize = 20;

/// Largest `max_draws`: draw indices of one estimator live in `[e 2^24, (e + 1) 2^24)`.
pub const MAX_DRAWS_LIMIT: usize = 1 << 24;

/// The per-point criterion and the draw budget.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Criterion {
    tol_excess: f64,
    tol_z: f64,
    target_rel_se: f64,
    max_draws: usize,
}

impl Default for Criterion {
    /// 5% of the excess, 3 standard errors, standard error 2% of the excess, 400 draws.
    fn default() -> Self {
        Self {
            tol_excess: 0.05,
            tol_z: 3.0,
            target_rel_se: 0.02,
            max_draws: 400,
        }
    }
}

impl Criterion {
    /// A point passes when `|predicted - mean| <= max(tol_excess (mean - floor), tol_z stderr)`;
    /// draws continue until `stderr <= target_rel_se (mean - floor)` or `max_draws`.
    ///
    /// # Errors
    /// [`TheoryError::InvalidArgument`] when a tolerance is not finite and positive, or
    /// `max_draws` is below [`MIN_DRAWS`] or above [`MAX_DRAWS_LIMIT`].
    pub fn new(
        tol_excess: f64,
        tol_z: f64,
        target_rel_se: f64,
        max_draws: usize,
    ) -> Result<Self, TheoryError> {
        for (name, v) in [
            ("tol-excess", tol_excess),
            ("tol-z", tol_z),
            ("target-rel-se", target_rel_se),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(TheoryError::InvalidArgument(format!(
                    "{name} must be finite and positive, got {v}"
                )));
            }
        }
        if !(MIN_DRAWS..=MAX_DRAWS_LIMIT).contains(&max_draws) {
            return Err(TheoryError::InvalidArgument(format!(
                "max-draws must be in {MIN_DRAWS}..={MAX_DRAWS_LIMIT}, got {max_draws}"
            )));
        }
        Ok(Self {
            tol_excess,
            tol_z,
            target_rel_se,
            max_draws,
        })
    }

    /// Tolerance as a fraction of the excess risk `mean - floor`.
    pub fn tol_excess(&self) -> f64 {
        self.tol_excess
    }

    /// Tolerance in standard errors.
    pub fn tol_z(&self) -> f64 {
        self.tol_z
    }

    /// Target standard error as a fraction of the excess risk.
    pub fn target_rel_se(&self) -> f64 {
        self.target_rel_se
    }

    /// Largest number of draws per point.
    pub fn max_draws(&self) -> usize {
        self.max_draws
    }

    /// Whether an error `diff = predicted - mean` passes, given the excess and standard error:
    /// `|diff| <= max(tol_excess excess, tol_z stderr, ABS_TOL)` ([`ABS_TOL`]).
    pub fn passes(&self, diff: f64, excess: f64, stderr: f64) -> bool {
        diff.abs()
            <= (self.tol_excess * excess)
                .max(self.tol_z * stderr)
                .max(ABS_TOL)
    }

    /// What [`compare`] judges: `|diff| <= tol_excess excess`, or `|z_normal| <= tol_z` with
    /// `z_normal` on the standard-normal scale ([`Point::z_normal`]: skew and estimated
    /// standard error accounted for), so that `tol_z = 3` rejects a right prediction with
    /// probability 0.27% whatever the draws' skew and number.
    /// An error within [`ABS_TOL`] passes too (a zero excess judged at rounding level).
    pub fn passes_z(&self, diff: f64, excess: f64, z_normal: f64) -> bool {
        diff.abs() <= (self.tol_excess * excess).max(ABS_TOL) || z_normal.abs() <= self.tol_z
    }
}

/// How the Monte Carlo runs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Config {
    /// The per-point criterion and draw budget.
    pub criterion: Criterion,
    /// Seed of the draws.
    pub seed: u64,
    /// Gradient-descent step.
    pub step: StepSize,
    /// Largest gradient-descent iteration considered for early stopping.
    pub iters: usize,
    /// Bound on the memory concurrent draws may hold together (bytes).
    pub memory_budget: usize,
    /// Average the label noise out of each draw given its spectrum (Rao-Blackwellisation,
    /// `theory/exact.md`) where that keeps the compared mean: least squares and the mean
    /// gradient-descent path. PCA's risk does not depend on the labels' noise given the
    /// spectrum (already averaged); the early-stopping oracle stays plain.
    pub noise_averaged: bool,
}

impl Default for Config {
    /// The default criterion, seed 0, the paper's step, `k <= 5000`, 16 GiB, noise averaged.
    fn default() -> Self {
        Self {
            criterion: Criterion::default(),
            seed: 0,
            step: StepSize::Paper,
            iters: crate::montecarlo::DEFAULT_ITERS,
            memory_budget: DEFAULT_MEMORY_BUDGET,
            noise_averaged: true,
        }
    }
}

/// A predicted expected risk to check.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Target {
    /// The model.
    pub setup: Setup,
    /// Training-set size `N`.
    pub n_train: usize,
    /// The estimator (not [`Estimator::Optimal`], which has no excess risk).
    pub estimator: Estimator,
    /// The predicted expected risk (finite); for early stopping, `min_k E[R_k]`.
    pub predicted: f64,
    /// Where the prediction is known to be inaccurate, if it is.
    pub caveat: Option<Caveat>,
}

/// One compared point.
#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    /// What was predicted.
    pub target: Target,
    /// Monte Carlo mean of the compared quantity (early stopping: minimum of the mean path).
    pub mc_mean: f64,
    /// Its standard error.
    pub mc_se: f64,
    /// Number of draws.
    pub draws: usize,
    /// `(predicted - mc_mean) / mc_se`.
    pub z: f64,
    /// Sample skewness `m_3 / m_2^{3/2}` of the draws of the compared quantity (0 when they do
    /// not vary): what [`Point::z_normal`] corrects for.
    pub skewness: f64,
    /// `(predicted - mc_mean) / (mc_mean - floor)`.
    pub rel_excess_err: f64,
    /// Whether the point meets the criterion.
    pub pass: bool,
    /// Early stopping only: `(E[min_k R_k], stderr)`, each draw at its own best iterate.
    pub oracle: Option<(f64, f64)>,
    /// Early stopping only: the argmin of the mean path.
    pub k_mean_path: Option<usize>,
}

impl Point {
    /// The excess risk `mc_mean - floor`.
    pub fn excess(&self) -> f64 {
        self.mc_mean - self.target.setup.floor()
    }

    /// Whether the error is within the absolute tolerance [`ABS_TOL`] (then the relative
    /// error, a fraction of a possibly zero excess, says nothing).
    pub fn within_abs_tol(&self) -> bool {
        (self.target.predicted - self.mc_mean).abs() <= ABS_TOL
    }

    /// `z` on the standard-normal scale, what the per-point `tol_z` and the [`Pooled`]
    /// statistics take. Two corrections, both `O(1/sqrt(m))` or smaller where they matter:
    /// the skew of the draws (risks are right-skewed; with skewness 2 and `m = 20` the plain
    /// `z` has mean about +0.25 and `P(|z| > 3)` about 3%) is removed by Hall's transform
    /// ([`pooled::skew_corrected`]), and the standard error estimated from the `m` draws is
    /// accounted for by mapping Student-t with `m - 1` degrees of freedom to the normal
    /// quantile of the same tail probability ([`pooled::t_to_normal`]).
    pub fn z_normal(&self) -> f64 {
        pooled::t_to_normal(
            pooled::skew_corrected(self.z, self.skewness, self.draws),
            self.draws,
        )
    }
}

/// The result of [`compare`].
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// The criterion applied.
    pub criterion: Criterion,
    /// The seed of the draws.
    pub seed: u64,
    /// Whether least squares and the mean gradient-descent path were noise-averaged
    /// ([`Config::noise_averaged`]).
    pub noise_averaged: bool,
    /// Every point, in the order of the targets.
    pub points: Vec<Point>,
}

impl Report {
    /// Whether every point meets the criterion.
    pub fn all_pass(&self) -> bool {
        self.points.iter().all(|p| p.pass)
    }

    /// The points that fail.
    pub fn failures(&self) -> Vec<&Point> {
        self.points.iter().filter(|p| !p.pass).collect()
    }

    /// Pooled statistics over every point (`None` without a finite z), of the z-scores on the
    /// normal scale ([`Point::z_normal`]).
    pub fn pooled(&self) -> Option<Pooled> {
        Pooled::of(&self.points.iter().map(Point::z_normal).collect::<Vec<_>>())
    }

    /// Pooled statistics per setup, in order of first appearance.
    pub fn pooled_by_setup(&self) -> Vec<(Setup, Option<Pooled>)> {
        let mut setups: Vec<Setup> = Vec::new();
        for p in &self.points {
            if !setups.contains(&p.target.setup) {
                setups.push(p.target.setup);
            }
        }
        setups
            .into_iter()
            .map(|s| {
                let z: Vec<f64> = self
                    .points
                    .iter()
                    .filter(|p| p.target.setup == s)
                    .map(Point::z_normal)
                    .collect();
                (s, Pooled::of(&z))
            })
            .collect()
    }

    /// Every pooled test of the report, overall and per setup (four each), with its p-value
    /// Holm-adjusted over all of them: the family that [`Report::pooled_rejects`] judges.
    pub fn pooled_family(&self) -> Vec<FamilyTest> {
        let mut scopes = vec![(None, self.pooled())];
        scopes.extend(
            self.pooled_by_setup()
                .into_iter()
                .map(|(s, p)| (Some(s), p)),
        );
        let mut family: Vec<FamilyTest> = scopes
            .into_iter()
            .filter_map(|(setup, p)| p.map(|p| (setup, p)))
            .flat_map(|(setup, p)| {
                p.tests().into_iter().map(move |(test, p)| FamilyTest {
                    setup,
                    test,
                    p,
                    holm_p: p,
                })
            })
            .collect();
        let adjusted = holm_adjust(&family.iter().map(|t| t.p).collect::<Vec<_>>());
        for (t, a) in family.iter_mut().zip(adjusted) {
            t.holm_p = a;
        }
        family
    }

    /// Whether a pooled test rejects at family-wise level `level`: Holm over the four tests
    /// overall and of every setup together ([`Report::pooled_family`]), so that the chance
    /// of any false rejection is at most `level` whatever the dependence between the tests
    /// (the overall and per-setup statistics share points).
    pub fn pooled_rejects(&self, level: f64) -> bool {
        self.pooled_family().iter().any(|t| t.holm_p < level)
    }
}

/// One pooled test in the family of [`Report::pooled_family`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FamilyTest {
    /// The setup whose points it pools; `None` for all points.
    pub setup: Option<Setup>,
    /// The test's name (as [`Pooled::rejected_tests`]).
    pub test: &'static str,
    /// Its own p-value.
    pub p: f64,
    /// Its p-value Holm-adjusted over the family.
    pub holm_p: f64,
}

/// Compares every target with the Monte Carlo, one point after the other (draws of a point in
/// parallel). `on_point` is called after each point. Cost: the draws, `O(n min(n, N)^2)` each
/// plus `O(iters r min(d^2, r))` for early stopping.
///
/// # Errors
/// [`TheoryError::InvalidArgument`] for a target with `N == 0`, a non-finite prediction, the
/// estimator [`Estimator::Optimal`], or a non-positive step.
pub fn compare(
    targets: &[Target],
    config: &Config,
    on_point: impl Fn(&Point) + Sync,
) -> Result<Report, TheoryError> {
    config.step.validate()?;
    for t in targets {
        check_target(t)?;
    }
    let largest = targets
        .iter()
        .map(|t| draw_memory_bytes(&t.setup, t.n_train, crate::engine::Engine::Auto))
        .max()
        .unwrap_or(1);
    let threads = (config.memory_budget / largest.max(1)).clamp(1, rayon::current_num_threads());
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| TheoryError::InvalidArgument(format!("cannot start threads: {e}")))?;
    let points = pool.install(|| {
        targets
            .iter()
            .map(|t| {
                let p = compare_one(t, config)?;
                on_point(&p);
                Ok(p)
            })
            .collect::<Result<Vec<_>, TheoryError>>()
    })?;
    Ok(Report {
        criterion: config.criterion,
        seed: config.seed,
        noise_averaged: config.noise_averaged,
        points,
    })
}

/// [`compare`] for a user's formula: `predict(setup, N)` is the predicted expected risk of
/// `estimator` at each `(setup, N)` of `points`.
///
/// # Errors
/// As [`compare`]; a non-finite prediction names its point.
pub fn compare_formula(
    estimator: Estimator,
    points: &[(Setup, usize)],
    predict: impl Fn(&Setup, usize) -> f64,
    config: &Config,
) -> Result<Report, TheoryError> {
    let targets: Vec<Target> = points
        .iter()
        .map(|&(setup, n_train)| Target {
            setup,
            n_train,
            estimator,
            predicted: predict(&setup, n_train),
            caveat: None,
        })
        .collect();
    compare(&targets, config, |_| {})
}

/// A point [`analytic_targets`] leaves out because the expected risk is infinite.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Skipped {
    /// The model.
    pub setup: Setup,
    /// Training-set size `N`.
    pub n_train: usize,
    /// The estimator.
    pub estimator: Estimator,
}

/// The crate's deterministic equivalents ([`crate::analytic`], with the finite-`d` correction)
/// as targets, each with its [`caveat`]; least squares at `N` in `{n-1, n, n+1}` (infinite
/// expectation) is returned apart. One spectral solve per `(setup, N)`, in parallel. The
/// step and the iterations searched for early stopping are `config`'s ([`Config::step`],
/// [`Config::iters`]): pass the config the targets will be compared with, so that the
/// prediction and the Monte Carlo search the same iterates.
///
/// # Errors
/// [`TheoryError::InvalidArgument`] for `N == 0`, [`Estimator::Optimal`], a bad step or
/// `iters` above [`crate::montecarlo::MAX_ITERS`].
pub fn analytic_targets(
    grid: &[(Setup, Vec<usize>)],
    estimators: &[Estimator],
    config: &Config,
) -> Result<(Vec<Target>, Vec<Skipped>), TheoryError> {
    let (step, iters) = (config.step, config.iters);
    step.validate()?;
    crate::montecarlo::check_iters(iters)?;
    if estimators.contains(&Estimator::Optimal) {
        return Err(optimal_error());
    }
    let pairs: Vec<(Setup, usize)> = grid
        .iter()
        .flat_map(|(s, sizes)| sizes.iter().map(move |&n| (*s, n)))
        .collect();
    let per_pair: Vec<Vec<Result<Target, Skipped>>> = pairs
        .par_iter()
        .map(|&(setup, n_train)| {
            let eq = SpectralEquivalent::new(&setup, n_train)?;
            Ok(estimators
                .iter()
                .map(
                    |&estimator| match eq.predict_iters(estimator, step, iters).risk {
                        Some(predicted) => Ok(Target {
                            setup,
                            n_train,
                            estimator,
                            predicted,
                            caveat: caveat(&setup, n_train, estimator),
                        }),
                        None => Err(Skipped {
                            setup,
                            n_train,
                            estimator,
                        }),
                    },
                )
                .collect())
        })
        .collect::<Result<_, TheoryError>>()?;
    let mut targets = Vec::new();
    let mut skipped = Vec::new();
    for r in per_pair.into_iter().flatten() {
        match r {
            Ok(t) => targets.push(t),
            Err(s) => skipped.push(s),
        }
    }
    Ok((targets, skipped))
}

fn optimal_error() -> TheoryError {
    TheoryError::InvalidArgument(
        "the optimal estimator has no excess risk to validate (its risk is the floor)".into(),
    )
}

fn check_target(t: &Target) -> Result<(), TheoryError> {
    if t.n_train == 0 {
        return Err(TheoryError::InvalidArgument(
            "training-set size N must be at least 1".into(),
        ));
    }
    if t.estimator == Estimator::Optimal {
        return Err(optimal_error());
    }
    if !t.predicted.is_finite() {
        return Err(TheoryError::InvalidArgument(format!(
            "prediction for {} at N = {} ({:?}) is not finite: {}",
            t.estimator, t.n_train, t.setup, t.predicted
        )));
    }
    Ok(())
}

/// The risks of one draw: the scalar risk and, for early stopping, the whole path.
struct DrawRisk {
    risk: f64,
    path: Option<Vec<f64>>,
}

/// The Monte Carlo estimate of one point so far.
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

/// Compares the prediction of `t` with a sequential Monte Carlo estimate: draws in parallel
/// batches until the standard error meets the criterion (see [`sample_until_settled`]).
fn compare_one(t: &Target, config: &Config) -> Result<Point, TheoryError> {
    let mc = MonteCarlo::new(t.setup, vec![t.n_train], 1, config.seed);
    let slot = Estimator::ALL
        .iter()
        .position(|&e| e == t.estimator)
        .expect("every estimator is in ALL");
    let eta = config.step.eta(&t.setup, t.n_train);
    let draw = |j: usize| -> Result<DrawRisk, TheoryError> {
        let spectrum = mc.spectrum(t.n_train, (slot << 24) | j)?;
        Ok(draw_risk(&spectrum, t.estimator, config, eta))
    };
    let criterion = &config.criterion;
    let floor = t.setup.floor();
    let (estimate, draws) = sample_until_settled(draw, criterion, floor)?;
    let diff = t.predicted - estimate.mean;
    let excess = estimate.mean - floor;
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
    Ok(point)
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

/// Draws `draw(0), draw(1), ...` in parallel batches until the standard error of the estimate
/// is `criterion.target_rel_se` of its excess over `floor`, too small to change the verdict, or
/// `criterion.max_draws` are spent; the estimate and the number of draws.
fn sample_until_settled(
    draw: impl Fn(usize) -> Result<DrawRisk, TheoryError> + Sync,
    criterion: &Criterion,
    floor: f64,
) -> Result<(Estimate, usize), TheoryError> {
    let mut draws: Vec<DrawRisk> = Vec::new();
    let mut batch = MIN_DRAWS.min(criterion.max_draws);
    loop {
        let start = draws.len();
        let new: Vec<DrawRisk> = (start..start + batch)
            .into_par_iter()
            .map(&draw)
            .collect::<Result<_, _>>()?;
        draws.extend(new);
        let e = estimate(&draws);
        let goal = criterion.target_rel_se * (e.mean - floor);
        let done = draws.len();
        // A standard error far below the absolute tolerance cannot change the verdict.
        let settled = criterion.tol_z * e.se <= 0.01 * ABS_TOL && e.mean - floor <= ABS_TOL;
        if done >= criterion.max_draws || e.se <= goal || settled {
            return Ok((e, done));
        }
        // Draws needed for the goal at the current spread (10% margin), at most doubling.
        let needed = if goal > 0.0 {
            (1.1 * (e.sd / goal).powi(2)).ceil() as usize
        } else {
            criterion.max_draws
        };
        batch = needed
            .saturating_sub(done)
            .clamp(MIN_DRAWS / 2, done)
            .min(criterion.max_draws - done);
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
