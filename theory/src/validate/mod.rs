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
//! **Draws.** Each `(setup, N)` is one group: by default its estimators are evaluated on the
//! same spectra ([`Config::common_draws`], a third of the cost for three estimators), and the
//! pooled statistics pool one estimator at a time, whose points use independent streams
//! (`draws.rs` has the streams). A group starts with [`MIN_DRAWS`] draws and adds batches (at
//! most doubling, sized from the current standard deviations) until every target is met.
//!
//! A worked example with a user's formula: `theory/validate.md` (doc-tested below).
//!
#![doc = include_str!("../../validate.md")]

mod caveat;
mod draws;
mod pooled;

pub use caveat::{caveat, Caveat, LS_THRESHOLD_MARGIN};
pub use pooled::{holm_adjust, sign_test, skew_corrected, t_to_normal, Pooled};

use rayon::prelude::*;

use crate::analytic::SpectralEquivalent;
use crate::montecarlo::{draw_memory_bytes, DEFAULT_MEMORY_BUDGET};
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
    /// Evaluate the estimators of one `(setup, N)` on the same draws (common random numbers):
    /// the spectrum, which dominates the cost at large `min(n, N)`, is drawn once for all of
    /// them. Each estimator's points stay independent of one another, which is what the
    /// pooled tests need ([`Report::pooled_family`]); `false` gives every estimator its own
    /// stream (`draws.rs`).
    pub common_draws: bool,
}

impl Default for Config {
    /// The default criterion, seed 0, the paper's step, `k <= 5000`, 16 GiB, noise averaged,
    /// common draws.
    fn default() -> Self {
        Self {
            criterion: Criterion::default(),
            seed: 0,
            step: StepSize::Paper,
            iters: crate::montecarlo::DEFAULT_ITERS,
            memory_budget: DEFAULT_MEMORY_BUDGET,
            noise_averaged: true,
            common_draws: true,
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
    /// Whether the estimators of one `(setup, N)` shared their draws ([`Config::common_draws`]).
    pub common_draws: bool,
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

    /// The estimators of the report, in order of first appearance.
    pub fn estimators(&self) -> Vec<Estimator> {
        distinct(self.points.iter().map(|p| p.target.estimator))
    }

    /// The setups of the report, in order of first appearance.
    pub fn setups(&self) -> Vec<Setup> {
        distinct(self.points.iter().map(|p| p.target.setup))
    }

    /// Pooled statistics of the z-scores on the normal scale ([`Point::z_normal`]) of every
    /// point of `estimator` (of `setup` only, when given); `None` without a finite z. One
    /// estimator at a time: its points use independent draws, whereas with common draws two
    /// estimators at one `(setup, N)` share theirs ([`Config::common_draws`]).
    pub fn pooled(&self, estimator: Estimator, setup: Option<Setup>) -> Option<Pooled> {
        let z: Vec<f64> = self
            .points_of(estimator, setup)
            .map(Point::z_normal)
            .collect();
        Pooled::of(&z)
    }

    /// The points of `estimator` (of `setup` only, when given), in report order: those that
    /// [`Report::pooled`] pools (its `worst` indexes them).
    pub fn points_of(
        &self,
        estimator: Estimator,
        setup: Option<Setup>,
    ) -> impl Iterator<Item = &Point> + '_ {
        self.points.iter().filter(move |p| {
            p.target.estimator == estimator && setup.is_none_or(|s| p.target.setup == s)
        })
    }

    /// Every pooled test of the report, for each estimator overall and per setup (four each),
    /// with its p-value Holm-adjusted over all of them: the family that
    /// [`Report::pooled_rejects`] judges.
    pub fn pooled_family(&self) -> Vec<FamilyTest> {
        let setups = self.setups();
        let mut family: Vec<FamilyTest> = Vec::new();
        for estimator in self.estimators() {
            let scopes = std::iter::once(None).chain(setups.iter().copied().map(Some));
            for setup in scopes {
                let Some(pooled) = self.pooled(estimator, setup) else {
                    continue;
                };
                family.extend(pooled.tests().into_iter().map(|(test, p)| FamilyTest {
                    estimator,
                    setup,
                    test,
                    p,
                    holm_p: p,
                }));
            }
        }
        let adjusted = holm_adjust(&family.iter().map(|t| t.p).collect::<Vec<_>>());
        for (t, a) in family.iter_mut().zip(adjusted) {
            t.holm_p = a;
        }
        family
    }

    /// Whether a pooled test rejects at family-wise level `level`: Holm over the four tests
    /// of every estimator, overall and per setup ([`Report::pooled_family`]), so that the
    /// chance of any false rejection is at most `level` whatever the dependence between the
    /// tests (the overall and per-setup statistics share points; with common draws the
    /// estimators share draws).
    pub fn pooled_rejects(&self, level: f64) -> bool {
        self.pooled_family().iter().any(|t| t.holm_p < level)
    }
}

/// The distinct items, in order of first appearance (`O(k^2)`: a report has a few setups and
/// estimators).
fn distinct<T: PartialEq>(items: impl Iterator<Item = T>) -> Vec<T> {
    let mut out = Vec::new();
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

/// One pooled test in the family of [`Report::pooled_family`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FamilyTest {
    /// The estimator whose points it pools.
    pub estimator: Estimator,
    /// The setup whose points it pools; `None` for all setups.
    pub setup: Option<Setup>,
    /// The test's name (as [`Pooled::rejected_tests`]).
    pub test: &'static str,
    /// Its own p-value.
    pub p: f64,
    /// Its p-value Holm-adjusted over the family.
    pub holm_p: f64,
}

/// Compares every target with the Monte Carlo, one `(setup, N)` after the other (draws of a
/// group in parallel; with [`Config::common_draws`] a group holds every estimator at that
/// `(setup, N)`, in the order of first appearance). `on_point` is called after each point, in
/// the order the groups finish; the report's points are in the order of the targets. Cost: the
/// draws, each one spectrum (with `K = min(n, N)`: `O(d^2 K^2)` structured, `O(K^3)` dense,
/// `theory/exact.md`) and, per early-stopping target, `O(iters r min(d^2, r / 2))`.
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
    let mut points: Vec<Option<Point>> = vec![None; targets.len()];
    pool.install(|| {
        for group in groups(targets, config.common_draws) {
            let members: Vec<&Target> = group.iter().map(|&i| &targets[i]).collect();
            for (i, p) in group
                .into_iter()
                .zip(draws::compare_group(&members, config)?)
            {
                on_point(&p);
                points[i] = Some(p);
            }
        }
        Ok::<_, TheoryError>(())
    })?;
    Ok(Report {
        criterion: config.criterion,
        seed: config.seed,
        noise_averaged: config.noise_averaged,
        common_draws: config.common_draws,
        points: points
            .into_iter()
            .map(|p| p.expect("every group compared"))
            .collect(),
    })
}

/// The targets (indices) drawn together: one group per `(setup, N)` with common draws, per
/// `(setup, N, estimator)` without, each in the order of first appearance.
fn groups(targets: &[Target], common: bool) -> Vec<Vec<usize>> {
    let key = |t: &Target| (t.setup, t.n_train, (!common).then_some(t.estimator));
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (i, t) in targets.iter().enumerate() {
        match groups.iter_mut().find(|g| key(&targets[g[0]]) == key(t)) {
            Some(g) => g.push(i),
            None => groups.push(vec![i]),
        }
    }
    groups
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
