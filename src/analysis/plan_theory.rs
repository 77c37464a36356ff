//! "How much more data do I need?" from theory: for a model whose expected risk is known as a
//! function of `N`, the training-set size from which each learned linear estimator stays
//! within a fraction `F` of the floor, the power-law regime and its bend, and the risk at given
//! `N`.
//!
//! Two models:
//! - the paper's subspace model `(d, n, sigma)` ([`plateau_theory::Setup`]): PCA, least squares
//!   and early-stopped gradient descent (the paper's step rule), per `E||x||^2 = d`;
//! - the general Gaussian model of a preset image distribution
//!   ([`plateau_theory::gaussian::DiagonalModel`]): optimally tuned ridge, least squares and
//!   early-stopped gradient descent (step `1/L`), per-pixel MSE.
//!
//! Least squares above its interpolation threshold has an exact expected risk
//! `floor (1 + p / (N - p - 1))` (`p` = `n` for the subspace model, the input rank for the
//! Gaussian one), so within `F` of the floor from `N = ceil(p / F + p + 1)` on, exactly.
//! Everything else comes from the deterministic equivalents, whose measured accuracy
//! (`theory/analytic.md`, `theory/gaussian.md`) is 5% of the excess risk over the floor; the
//! answer's `n_range` is the `N` that the same search gives when the excess is 5% larger or
//! smaller.
//!
//! `N` is "from `N` on": the smallest `N` such that the risk stays within the target for every
//! larger `N` scanned (least squares diverges at its threshold, so an earlier dip does not
//! count). Search: a log grid ([`SCAN_PER_DECADE`] per decade, up to [`MAX_N`]) brackets the last
//! crossing, and interpolation in `(ln N, ln(risk - floor))` finds it on integers (two sizes a
//! round, with bisection's guarantee: `crossing`), assuming the risk is monotone between two
//! grid points. Cost: the grid's `8 log10(MAX_N) + 1` evaluations (in parallel, shared by every
//! target) and about 2-4 more per target, at most bisection's `log2` of the bracket plus 8.

use anyhow::{anyhow, bail, Result};
use plateau_theory::analytic;
use plateau_theory::field::FieldSpectrum;
use plateau_theory::gaussian::DiagonalModel;
use plateau_theory::grid::log_spaced;
use plateau_theory::{Estimator, Setup, StepSize};
use serde::Serialize;

use crate::fit::detect_regime;

/// Largest `N` searched (the extrapolations of the figures stop there too). An evaluation of
/// the subspace model costs milliseconds up to the size bound 1e9 since the cubic's roots stop
/// at the rounding level (it was half a second from `N = 3e5` on: docs/performance.md).
pub const MAX_N: f64 = 1e6;

/// Grid points per decade of the scan.
pub const SCAN_PER_DECADE: usize = 8;

/// Relative accuracy of the deterministic equivalents on the excess risk (the criterion their
/// tests assert: `theory/analytic.md`, `theory/gaussian.md`).
pub const ANALYTIC_EXCESS_ACCURACY: f64 = 0.05;

/// Sizes of the regime detection's curve: [`REGIME_PER_DECADE`] per decade from 1 to this.
const REGIME_MAX_N: f64 = 1e6;

/// Points per decade of the regime detection's curve.
const REGIME_PER_DECADE: f64 = 6.0;

/// A preset of the general Gaussian model: the image distributions of the sweeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Preset {
    /// `experiments/denoise_cpu.toml`'s data: 32x32 gaussian field, 1/f^2 spectrum, f0 = 0.05,
    /// pixel std 0.25, noise std 0.1.
    Field32,
    /// The same field at 16x16.
    Field16,
}

impl Preset {
    /// `(side, exponent, cutoff, pixel std, noise std)`.
    fn parameters(self) -> (usize, f64, f64, f64, f64) {
        match self {
            Preset::Field32 => (32, 2.0, 0.05, 0.25, 0.1),
            Preset::Field16 => (16, 2.0, 0.05, 0.25, 0.1),
        }
    }

    /// The model.
    ///
    /// # Errors
    /// Never for the presets (kept fallible for the theory's validation).
    pub fn model(self) -> Result<DiagonalModel> {
        let (side, exponent, cutoff, std, sigma) = self.parameters();
        let lambda = FieldSpectrum::new(side, exponent, cutoff, std * std)
            .map_err(|e| anyhow!("{e}"))?
            .eigenvalues()
            .to_vec();
        DiagonalModel::denoising(&lambda, sigma).map_err(|e| anyhow!("{e}"))
    }

    /// Description for the output.
    pub fn describe(self) -> String {
        let (side, exponent, cutoff, std, sigma) = self.parameters();
        format!(
            "gaussian-field denoising {side}x{side}, exponent {exponent}, f0 {cutoff}, \
             pixel std {std}, noise std {sigma} (per-pixel MSE)"
        )
    }
}

/// The model whose risks are planned.
#[derive(Clone, Debug)]
pub enum TheoryModel {
    /// The paper's subspace model.
    Subspace(Setup),
    /// A general Gaussian model.
    Gaussian(Preset, DiagonalModel),
}

/// The learned linear estimators planned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, strum::IntoStaticStr)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Learner {
    /// PCA onto the top-`d` sample eigenvectors (subspace model).
    Pca,
    /// Min-norm least squares.
    LeastSquares,
    /// Early-stopped gradient descent from zero.
    GdEarlyStopped,
    /// Ridge with the best penalty (Gaussian model).
    RidgeOptimal,
}

impl TheoryModel {
    /// The error floor (Bayes risk).
    pub fn floor(&self) -> f64 {
        match self {
            TheoryModel::Subspace(s) => s.floor(),
            TheoryModel::Gaussian(_, m) => m.floor(),
        }
    }

    /// Description.
    pub fn describe(&self) -> String {
        match self {
            TheoryModel::Subspace(s) => format!(
                "subspace model d = {}, n = {}, sigma = {} (risk per E||x||^2 = d)",
                s.d(),
                s.n(),
                s.sigma()
            ),
            TheoryModel::Gaussian(p, _) => p.describe(),
        }
    }

    /// The estimators planned for this model.
    pub fn learners(&self) -> Vec<Learner> {
        match self {
            TheoryModel::Subspace(_) => {
                vec![Learner::Pca, Learner::LeastSquares, Learner::GdEarlyStopped]
            }
            TheoryModel::Gaussian(..) => vec![
                Learner::RidgeOptimal,
                Learner::LeastSquares,
                Learner::GdEarlyStopped,
            ],
        }
    }

    /// Input rank `p` of least squares' threshold.
    fn rank(&self) -> usize {
        match self {
            TheoryModel::Subspace(s) => s.n(),
            TheoryModel::Gaussian(_, m) => m.input_rank(),
        }
    }

    /// Expected risk of `learner` at `N` (`+inf` where infinite).
    ///
    /// # Errors
    /// When the theory rejects the size (`N = 0`).
    pub fn risk(&self, learner: Learner, n: usize) -> Result<f64> {
        let e = |e: plateau_theory::TheoryError| anyhow!("{e}");
        let inf = |r: Option<f64>| r.unwrap_or(f64::INFINITY);
        Ok(match (self, learner) {
            (TheoryModel::Subspace(s), Learner::Pca) => analytic::pca(s, n).map_err(e)?,
            (TheoryModel::Subspace(s), Learner::LeastSquares) => {
                inf(analytic::least_squares(s, n).map_err(e)?)
            }
            (TheoryModel::Subspace(s), Learner::GdEarlyStopped) => {
                inf(
                    analytic::expected_risk(s, n, Estimator::GdEarlyStopped, StepSize::Paper)
                        .map_err(e)?
                        .risk,
                )
            }
            (TheoryModel::Subspace(s), Learner::RidgeOptimal) => {
                analytic::ridge_optimal(s, n).map_err(e)?.1
            }
            (TheoryModel::Gaussian(_, m), Learner::LeastSquares) => {
                inf(m.least_squares(n).map_err(e)?)
            }
            (TheoryModel::Gaussian(_, m), Learner::GdEarlyStopped) => {
                m.equivalent(n).map_err(e)?.gd_early_stopped(None).1
            }
            (TheoryModel::Gaussian(_, m), Learner::RidgeOptimal | Learner::Pca) => {
                m.ridge_optimal(n).map_err(e)?.1
            }
        })
    }

    /// Whether the risk of `learner` at `n` is exact (least squares above its threshold).
    fn exact(&self, learner: Learner, n: usize) -> bool {
        learner == Learner::LeastSquares && n > self.rank() + 1
    }
}

/// The answer for one fraction `F`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WithinPlan {
    /// `F`: the risk within `floor (1 + F)`.
    pub within: f64,
    /// That risk.
    pub target_risk: f64,
    /// Smallest `N` from which the risk stays within the target (`null`: not within
    /// [`MAX_N`]).
    pub n: Option<f64>,
    /// `exact` (closed form) or `analytic` (deterministic equivalent).
    pub method: &'static str,
    /// For `analytic`: `N` when the excess risk is 5% smaller / larger (the engine's accuracy).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n_range: Option<[Option<f64>; 2]>,
}

/// The power-law regime of one estimator's predicted curve.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RegimePlan {
    /// `[lo, hi]` of the steep power-law segment.
    pub steep_range: [f64; 2],
    /// Its exponent.
    pub alpha: f64,
    /// Where it bends into the plateau (`null`: no flatter segment up to `1e6`).
    pub bend: Option<f64>,
}

/// One estimator's plan: the JSON object `plateau plan` prints per estimator.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TheoryPlan {
    /// The model.
    pub model: String,
    /// The estimator (the group).
    pub group: &'static str,
    /// The floor.
    pub floor: f64,
    /// One answer per fraction.
    pub within: Vec<WithinPlan>,
    /// The regime (`null` when detection fails).
    pub regime: Option<RegimePlan>,
    /// `(N, risk)` at each requested `N` (`null` risk: infinite).
    pub at: Vec<(f64, Option<f64>)>,
    /// How accurate the analytic numbers are.
    pub accuracy: &'static str,
}

const ACCURACY_SUBSPACE: &str = "least squares above N = n + 1: exact; elsewhere deterministic \
     equivalents within 5% of the excess risk of 50-draw Monte Carlo at N >= 4d \
     (theory/analytic.md); least squares within 30 of n below it: 3-23% low";
const ACCURACY_GAUSSIAN: &str = "least squares above its threshold: exact; elsewhere \
     deterministic equivalents within 5% of the excess risk of Monte Carlo (largest measured \
     2.4%, theory/gaussian.md)";

/// Distinct integer training-set sizes from 1 to `max`, log-spaced at `per_decade` points per
/// decade before rounding.
fn integer_sizes(max: f64, per_decade: f64) -> Result<Vec<usize>> {
    let points = (max.log10() * per_decade).round() as usize + 1;
    let mut sizes: Vec<usize> = log_spaced(1.0, max, points)
        .map_err(|e| anyhow!("{e}"))?
        .into_iter()
        .map(|x| x.round() as usize)
        .collect();
    sizes.dedup();
    Ok(sizes)
}

/// One learner's risks, each `N` computed once: the scans of every target and fraction, the
/// regime and `--at` share their grid points, and a grid is computed in parallel.
struct Memo<'a> {
    risk: &'a (dyn Fn(usize) -> Result<f64> + Sync),
    values: std::sync::Mutex<std::collections::HashMap<usize, f64>>,
}

impl<'a> Memo<'a> {
    fn new(risk: &'a (dyn Fn(usize) -> Result<f64> + Sync)) -> Self {
        Self {
            risk,
            values: Default::default(),
        }
    }

    fn cached(&self, n: usize) -> Option<f64> {
        self.values
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&n)
            .copied()
    }

    fn store(&self, n: usize, r: f64) {
        self.values
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(n, r);
    }

    /// The risk at `n` (computed on first use).
    fn get(&self, n: usize) -> Result<f64> {
        if let Some(r) = self.cached(n) {
            return Ok(r);
        }
        let r = (self.risk)(n)?;
        self.store(n, r);
        Ok(r)
    }

    /// Computes the risks of `ns` not yet known, in parallel (rayon).
    fn prefetch(&self, ns: &[usize]) -> Result<()> {
        use rayon::prelude::*;
        let missing: Vec<usize> = ns
            .iter()
            .copied()
            .filter(|&n| self.cached(n).is_none())
            .collect();
        let values = missing
            .par_iter()
            .map(|&n| (self.risk)(n))
            .collect::<Result<Vec<f64>>>()?;
        for (n, r) in missing.into_iter().zip(values) {
            self.store(n, r);
        }
        Ok(())
    }
}

/// The scan grid of [`n_from_on`]: [`SCAN_PER_DECADE`] integer sizes per decade up to [`MAX_N`].
fn scan_grid() -> Result<Vec<usize>> {
    integer_sizes(MAX_N, SCAN_PER_DECADE as f64)
}

/// The smallest integer `N` in `1..=MAX_N` from which `risk(N) <= target` at every larger
/// scanned `N` (see the module docs); `None` when the last scanned point is above it. `floor`
/// (below `target`) only steers the search ([`crossing`]), not its answer.
fn n_from_on(
    risk: &(dyn Fn(usize) -> Result<f64> + Sync),
    floor: f64,
    target: f64,
) -> Result<Option<f64>> {
    let grid = scan_grid()?;
    let values = grid
        .iter()
        .map(|&n| risk(n))
        .collect::<Result<Vec<f64>>>()?;
    let Some(last_above) = values.iter().rposition(|&r| r.is_nan() || r > target) else {
        return Ok(Some(1.0));
    };
    if last_above + 1 == grid.len() {
        return Ok(None);
    }
    let lo = (grid[last_above], values[last_above]);
    let hi = (grid[last_above + 1], values[last_above + 1]);
    crossing(risk, floor, target, lo, hi).map(|n| Some(n as f64))
}

/// Rounds of interpolation in [`crossing`] before it bisects.
const INTERPOLATION_ROUNDS: usize = 4;

/// The `N` in `(lo, hi]` with `risk(N) <= target < risk(N - 1)`, given `risk(lo) > target >=
/// risk(hi)` and a risk monotone in between (so the answer is the one bisection would find).
///
/// Why not plain bisection: a Gaussian preset's risk costs tens of milliseconds and a bracket
/// of the scan spans hundreds of sizes (ten bisection steps, one after the other). The risk's
/// excess over the floor is locally a power law, so the crossing interpolated in
/// `(ln N, ln(risk - floor))` between the bracket's ends is usually within one size of the
/// answer: a round evaluates the guess `g` and `g - 1` together (two threads) and ends the
/// search when they straddle the target; a near miss
/// leaves one end of the bracket next to the answer, from which the next interpolation is
/// close again. After [`INTERPOLATION_ROUNDS`] rounds it bisects, so the cost is at most
/// bisection's plus `2 INTERPOLATION_ROUNDS`.
fn crossing(
    risk: &(dyn Fn(usize) -> Result<f64> + Sync),
    floor: f64,
    target: f64,
    mut lo: (usize, f64),
    mut hi: (usize, f64),
) -> Result<usize> {
    let mut rounds = 0;
    while hi.0 - lo.0 > 1 {
        let mid = lo.0 + (hi.0 - lo.0) / 2;
        rounds += 1;
        let guess = (rounds <= INTERPOLATION_ROUNDS)
            .then(|| interpolated_guess(floor, target, lo, hi))
            .flatten()
            .map(|g| g.clamp(lo.0 + 1, hi.0));
        let Some(g) = guess.filter(|&g| g - 1 > lo.0) else {
            let r = risk(mid)?;
            if r <= target {
                hi = (mid, r);
            } else {
                lo = (mid, r);
            }
            continue;
        };
        let (r_g, r_before) = rayon::join(|| risk(g), || risk(g - 1));
        let (r_g, r_before) = (r_g?, r_before?);
        if r_g > target || r_g.is_nan() {
            lo = (g, r_g);
        } else if r_before <= target {
            hi = (g - 1, r_before);
        } else {
            (lo, hi) = ((g - 1, r_before), (g, r_g));
        }
    }
    Ok(hi.0)
}

/// The `N` where the line through `(ln lo, ln(r_lo - floor))` and `(ln hi, ln(r_hi - floor))`
/// reaches `ln(target - floor)` (rounded up), or `None` where an excess is not positive and
/// finite.
fn interpolated_guess(
    floor: f64,
    target: f64,
    (lo, r_lo): (usize, f64),
    (hi, r_hi): (usize, f64),
) -> Option<usize> {
    let (e_lo, e_hi, e_t) = (r_lo - floor, r_hi - floor, target - floor);
    let ok = |e: f64| e.is_finite() && e > 0.0;
    if !(ok(e_lo) && ok(e_hi) && ok(e_t) && e_lo > e_hi) {
        return None;
    }
    let t = (e_lo.ln() - e_t.ln()) / (e_lo.ln() - e_hi.ln());
    let ln_n = (lo as f64).ln() + t * ((hi as f64).ln() - (lo as f64).ln());
    Some(ln_n.exp().ceil() as usize)
}

/// The plan of every estimator of `model` for the fractions `within` and the sizes `at`.
///
/// # Errors
/// A fraction that is not positive and finite, a zero floor (nothing is within a fraction of
/// 0), or a size the theory rejects.
pub fn plan_theory(model: &TheoryModel, within: &[f64], at: &[f64]) -> Result<Vec<TheoryPlan>> {
    plan_theory_with_progress(model, within, at, &|| {})
}

/// [`plan_theory`], calling `on_learner` after each estimator's plan (for a progress bar: one
/// estimator of a Gaussian preset takes seconds).
///
/// # Errors
/// As [`plan_theory`].
pub fn plan_theory_with_progress(
    model: &TheoryModel,
    within: &[f64],
    at: &[f64],
    on_learner: &dyn Fn(),
) -> Result<Vec<TheoryPlan>> {
    let floor = model.floor();
    check_request(floor, within, at)?;
    model
        .learners()
        .into_iter()
        .map(|learner| {
            let plan = learner_plan(model, learner, floor, within, at)?;
            on_learner();
            Ok(plan)
        })
        .collect()
}

/// Errors unless every `--within` fraction is positive and finite (and the floor positive when
/// there is one) and every `--at` size is from 1 to the theory's largest.
fn check_request(floor: f64, within: &[f64], at: &[f64]) -> Result<()> {
    if let Some(f) = within.iter().find(|f| !(f.is_finite() && **f > 0.0)) {
        bail!(
            "--within {} must be positive and finite",
            crate::text::number(*f)
        );
    }
    if !within.is_empty() && floor <= 0.0 {
        bail!("the floor is 0 (noise-free model): no risk is within a fraction of it");
    }
    let most = plateau_theory::setup::MAX_TRAIN_SIZE as f64;
    if let Some(n) = at
        .iter()
        .find(|n| !(n.is_finite() && (1.0..=most).contains(*n)))
    {
        bail!(
            "--at {} must be a training-set size from 1 to {most:e} (the largest at which the \
             risks are computed accurately)",
            crate::text::number(*n)
        );
    }
    Ok(())
}

/// One learner's plan: its risk computed once on the scan and regime grids (memoised), then
/// each `within` answer, the regime and the risk at each `at`.
fn learner_plan(
    model: &TheoryModel,
    learner: Learner,
    floor: f64,
    within: &[f64],
    at: &[f64],
) -> Result<TheoryPlan> {
    let compute = |n: usize| model.risk(learner, n);
    let memo = Memo::new(&compute);
    memo.prefetch(&scan_grid()?)?;
    memo.prefetch(&integer_sizes(REGIME_MAX_N, REGIME_PER_DECADE)?)?;
    let risk = |n: usize| memo.get(n);
    let within = within
        .iter()
        .map(|&f| within_plan(model, learner, &risk, floor, f))
        .collect::<Result<Vec<_>>>()?;
    let at = at
        .iter()
        .map(|&n| {
            let r = risk(n.round() as usize)?;
            Ok((n, r.is_finite().then_some(r)))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(TheoryPlan {
        model: model.describe(),
        group: learner.into(),
        floor,
        within,
        regime: regime(&risk)?,
        at,
        accuracy: match model {
            TheoryModel::Subspace(_) => ACCURACY_SUBSPACE,
            TheoryModel::Gaussian(..) => ACCURACY_GAUSSIAN,
        },
    })
}

fn within_plan(
    model: &TheoryModel,
    learner: Learner,
    risk: &(dyn Fn(usize) -> Result<f64> + Sync),
    floor: f64,
    f: f64,
) -> Result<WithinPlan> {
    let target = floor * (1.0 + f);
    if learner == Learner::LeastSquares {
        // Exact above the threshold, and the threshold itself is infinite: the answer is
        // always above it.
        let p = model.rank() as f64;
        let n = (p / f + p + 1.0).ceil().max(p + 2.0);
        debug_assert!(model.exact(learner, n as usize));
        return Ok(WithinPlan {
            within: f,
            target_risk: target,
            n: (n <= MAX_N).then_some(n),
            method: "exact",
            n_range: None,
        });
    }
    let scaled =
        |s: f64| move |n: usize| -> Result<f64> { risk(n).map(|r| floor + (r - floor) * s) };
    let lo = n_from_on(&scaled(1.0 - ANALYTIC_EXCESS_ACCURACY), floor, target)?;
    let hi = n_from_on(&scaled(1.0 + ANALYTIC_EXCESS_ACCURACY), floor, target)?;
    Ok(WithinPlan {
        within: f,
        target_risk: target,
        n: n_from_on(risk, floor, target)?,
        method: "analytic",
        n_range: Some([lo, hi]),
    })
}

fn regime(risk: &dyn Fn(usize) -> Result<f64>) -> Result<Option<RegimePlan>> {
    let sizes = integer_sizes(REGIME_MAX_N, REGIME_PER_DECADE)?;
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    for n in sizes {
        let r = risk(n)?;
        if r.is_finite() && r > 0.0 {
            xs.push(n as f64);
            ys.push(r);
        }
    }
    Ok(detect_regime(&xs, &ys).ok().map(|g| RegimePlan {
        steep_range: g.steep_range,
        alpha: g.segments[g.steep].slope,
        bend: g.bend,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference: plain bisection of a bracket (what `crossing` replaced).
    fn bisect(r: &dyn Fn(usize) -> f64, target: f64, mut lo: usize, mut hi: usize) -> usize {
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if r(mid) <= target {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        hi
    }

    #[test]
    fn crossing_is_the_bisection_answer() {
        use rand::{Rng, SeedableRng};
        use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let (mut ours, mut theirs) = (0, 0);
        for case in 0..400 {
            // Decreasing risks: power laws over a floor, and (every fifth case) a staircase,
            // which defeats interpolation and must fall back to halving.
            let floor: f64 = rng.random_range(1e-4..1.0);
            let a: f64 = rng.random_range(1e-3..10.0);
            let alpha: f64 = rng.random_range(0.1..3.0);
            let stair = case % 5 == 0;
            let r = |n: usize| {
                let n = if stair { (n / 97 * 97).max(1) } else { n } as f64;
                floor + a * n.powf(-alpha)
            };
            let lo = rng.random_range(1..5000usize);
            let hi = lo + rng.random_range(2..20000usize);
            if r(hi) >= r(lo) {
                continue; // one step of the staircase: no crossing inside
            }
            let target = rng.random_range(r(hi)..r(lo));
            let count = AtomicUsize::new(0);
            let counted = |n: usize| {
                count.fetch_add(1, Relaxed);
                r(n)
            };
            let expect = bisect(&counted, target, lo, hi);
            let bisection = count.swap(0, Relaxed);
            let risk = |n: usize| Ok(counted(n));
            // Steered by the floor, or (every third case) by half of it: the answer must not move.
            let steer = if case % 3 == 1 { floor / 2.0 } else { floor };
            let got = crossing(&risk, steer, target, (lo, r(lo)), (hi, r(hi))).unwrap();
            assert_eq!(
                got, expect,
                "case {case}: bracket [{lo}, {hi}], target {target}"
            );
            let used = count.into_inner();
            assert!(
                used <= bisection + 2 * INTERPOLATION_ROUNDS,
                "case {case}: {used} vs {bisection}"
            );
            if !stair && steer == floor {
                (ours, theirs) = (ours + used, theirs + bisection);
            }
        }
        // Where the excess is a power law, a round or two: a fraction of bisection's cost.
        assert!(
            4 * ours < theirs,
            "{ours} evaluations against bisection's {theirs}"
        );
    }

    #[test]
    fn crossing_of_an_infinite_or_undefined_risk_falls_back_to_halving() {
        // Least squares' risk is infinite (or NaN) below its threshold.
        let r = |n: usize| {
            if n < 150 {
                f64::INFINITY
            } else {
                1.0 + 1.0 / n as f64
            }
        };
        let risk = |n: usize| Ok(r(n));
        assert_eq!(
            crossing(&risk, 1.0, 1.0 + 1.0 / 150.0, (100, r(100)), (400, r(400))).unwrap(),
            150
        );
        let nan = |n: usize| Ok(if n < 150 { f64::NAN } else { 1.0 });
        assert_eq!(
            crossing(&nan, 0.5, 1.0, (100, f64::NAN), (400, 1.0)).unwrap(),
            150
        );
    }

    #[test]
    fn least_squares_is_exact_and_meets_its_target() {
        let model = TheoryModel::Subspace(Setup::new(10, 100, 0.1).unwrap());
        let plans = plan_theory(&model, &[0.1], &[]).unwrap();
        let ls = plans.iter().find(|p| p.group == "least_squares").unwrap();
        // N >= n / F + n + 1 = 1101.
        assert_eq!(ls.within[0].n, Some(1101.0));
        let floor = model.floor();
        let r = |n: usize| model.risk(Learner::LeastSquares, n).unwrap();
        assert!(r(1101) <= floor * 1.1 && r(1100) > floor * 1.1);
    }

    #[test]
    fn analytic_answer_is_the_crossing_and_lies_in_its_range() {
        let model = TheoryModel::Subspace(Setup::new(10, 100, 0.1).unwrap());
        let plans = plan_theory(&model, &[0.1], &[1e3]).unwrap();
        let floor = model.floor();
        for p in plans.iter().filter(|p| p.group != "least_squares") {
            let w = &p.within[0];
            let n = w.n.unwrap() as usize;
            let learner = match p.group {
                "pca" => Learner::Pca,
                _ => Learner::GdEarlyStopped,
            };
            let r = |n: usize| model.risk(learner, n).unwrap();
            assert!(
                r(n) <= 1.1 * floor && r(n - 1) > 1.1 * floor,
                "{}: {n}",
                p.group
            );
            let [lo, hi] = w.n_range.unwrap();
            assert!(lo.unwrap() <= n as f64 && n as f64 <= hi.unwrap(), "{w:?}");
            assert!(p.regime.is_some());
            assert!(p.at[0].1.unwrap() > floor);
        }
    }

    #[test]
    fn field_preset_plans_every_estimator() {
        let model = TheoryModel::Gaussian(Preset::Field16, Preset::Field16.model().unwrap());
        let plans = plan_theory(&model, &[0.1], &[]).unwrap();
        assert_eq!(plans.len(), 3);
        // p = 256 coordinates: least squares from 256 / 0.1 + 257 = 2817 on.
        assert_eq!(plans[1].within[0].n, Some(2817.0));
        assert!(plans.iter().all(|p| p.within[0].n.is_some()));
    }

    #[test]
    fn bad_fractions_are_errors() {
        let model = TheoryModel::Subspace(Setup::new(10, 100, 0.1).unwrap());
        assert!(plan_theory(&model, &[0.0], &[]).is_err());
        let noiseless = TheoryModel::Subspace(Setup::new(10, 100, 0.0).unwrap());
        assert!(plan_theory(&noiseless, &[0.1], &[]).is_err());
    }
}
