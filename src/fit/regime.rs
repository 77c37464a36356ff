//! Regime detection: the steep power-law segment of a curve and where it bends into the plateau.
//!
//! Algorithm (segmented regression in log-log space): with `L = ln x`, `Y = ln y`, fit
//! continuous piecewise-linear functions with `K = 1, 2, 3` segments,
//!
//! ```text
//! Y = b0 + b1 L + sum_{j < K-1} b_{j+2} (L - psi_j)_+ ,
//! ```
//!
//! the break points `psi_j` ranging exhaustively over the interior data points (each segment
//! spans at least 3 points, the break point counting in both), each candidate solved by least
//! squares. `K` is chosen by BIC, `n ln(RSS / n) + k ln n` with `k = 2K + 1` (intercept, slope,
//! a slope change and a location per break, the noise variance); a larger `K` must lower the
//! BIC strictly, and RSS is floored at the rounding level so that an exact power law stays one
//! segment. `K <= 3` covers "flat start (risk near 1 for tiny N), steep power law, plateau".
//!
//! The *steep segment* is the segment with the most negative slope; its data range is the
//! power-law range. The *plateau* is the last of the segments that follow the steep one
//! without rising (a segment whose slope exceeds `RISE * |steep slope|`, `RISE = 0.25`, ends
//! the run: e.g. the interpolation peak of least squares at `N = n`); the *fit range* runs from
//! the start of the steep segment to the end of the plateau. The *bend* is where the steep
//! segment's line meets the plateau's line (for adjacent segments, their shared break point):
//! for a curve `a N^(-b) + c` that is `(a / c)^(1/b)`, where the power law would cross the
//! floor.
//!
//! Cost `O(n^2)` for `n` points: every candidate's residual sum of squares is screened in
//! `O(1)` from suffix sums (the hinge columns orthogonalised against the one-segment fit, see
//! `HingeScreen`), and the `RECHECK` best of each `K` are refitted by Householder least
//! squares, the most accurate of which is kept; exhaustive least squares over all `O(n^2)`
//! break pairs, `O(n^3)` in all, took over 30 s at 1000 points.

use anyhow::{bail, Result};
use serde::Serialize;

use super::linalg::lstsq;
use super::{check_log_data, rss_floor, ModelKind};

/// One segment of the piecewise power law.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Segment {
    /// First `x` of the segment (a data point).
    pub lo: f64,
    /// Last `x` of the segment (a data point, shared with the next segment).
    pub hi: f64,
    /// Index of the first point in the sorted data.
    pub start: usize,
    /// Index of the last point.
    pub end: usize,
    /// Exponent `d ln y / d ln x` on the segment.
    pub slope: f64,
    /// `ln y` intercept of the segment's line at `x = 1`.
    pub intercept: f64,
}

/// The detected regimes.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Regime {
    /// The segments of the chosen piecewise fit, in increasing `x`.
    pub segments: Vec<Segment>,
    /// Index into `segments` of the steep (most negative slope) segment.
    pub steep: usize,
    /// `[lo, hi]`: the data range of the steep segment.
    pub steep_range: [f64; 2],
    /// Exponent of the steep segment.
    pub steep_slope: f64,
    /// Index into `segments` of the plateau (`== steep` when no flatter segment follows).
    pub plateau: usize,
    /// `[lo, hi]`: from the start of the steep segment to the end of the plateau.
    pub fit_range: [f64; 2],
    /// Where the steep segment's line meets the plateau's line; `None` when no flatter segment
    /// follows the steep one (or the lines meet outside the fit range).
    pub bend: Option<f64>,
    /// BIC of the best fit with `K = 1, 2, 3` segments (`None` where too few points).
    pub bic: Vec<Option<f64>>,
}

/// A segment after the steep one whose slope exceeds `RISE * |steep slope|` rises: it ends the
/// plateau.
pub const RISE: f64 = 0.25;

/// Detects the regimes of the curve `(xs, ys)` (any order; `x` distinct).
///
/// # Errors
/// Fewer than 3 points, a non-positive or non-finite value, or repeated `x`.
pub fn detect_regime(xs: &[f64], ys: &[f64]) -> Result<Regime> {
    let (ls, lys) = check_log_data(xs, ys, ModelKind::Power)?;
    let mut order: Vec<usize> = (0..ls.len()).collect();
    order.sort_by(|&i, &j| ls[i].total_cmp(&ls[j]));
    let xs: Vec<f64> = order.iter().map(|&i| xs[i]).collect();
    let ls: Vec<f64> = order.iter().map(|&i| ls[i]).collect();
    let lys: Vec<f64> = order.iter().map(|&i| lys[i]).collect();
    if xs.windows(2).any(|w| w[0] == w[1]) {
        bail!("regime detection needs distinct x values");
    }
    detect_regime_log(&xs, &ls, &lys)
}

/// Best continuous piecewise-linear fit with the given break indices: `(coef, rss)`.
fn hinge_fit(ls: &[f64], lys: &[f64], breaks: &[usize]) -> Option<(Vec<f64>, f64)> {
    let n = ls.len();
    let p = 2 + breaks.len();
    let mut design = Vec::with_capacity(n * p);
    for &l in ls {
        design.push(1.0);
        design.push(l);
        for &b in breaks {
            design.push((l - ls[b]).max(0.0));
        }
    }
    lstsq(&design, n, p, lys)
}

/// Candidates of each `K` refitted exactly after the screen.
pub const RECHECK: usize = 8;

/// The `O(1)` residual sum of squares of a continuous piecewise-linear fit with given break
/// indices, for screening. With `r` the residuals of the one-segment (straight line) fit and
/// the hinge columns `h_j = (l - l_j)_+` projected off the span of `(1, l)` (`h~_j`),
/// `RSS = RSS_1 - g^T G^{-1} g` with `g_j = h_j . r` and `G_jk = h~_j . h~_k`, and every dot
/// product is a combination of suffix sums over the sorted points (`l` centred). Rounding makes
/// it less accurate than least squares where the fit is nearly exact, hence the refit of the
/// best candidates ([`refit_best`]).
struct HingeScreen {
    /// Centred `ln x`, increasing.
    l: Vec<f64>,
    /// `s[k][a] = sum_{i > a} l_i^k` for `k = 0, 1, 2`.
    s: [Vec<f64>; 3],
    /// `q[k][a] = sum_{i > a} r_i l_i^k` for `k = 0, 1`.
    q: [Vec<f64>; 2],
    n: f64,
    /// `sum l_i^2`.
    sll: f64,
    /// Residual sum of squares of the straight line.
    rss1: f64,
}

impl HingeScreen {
    /// Suffix sums of the sorted `ls` (increasing) and the line's residuals of `lys`. `O(n)`.
    fn new(ls: &[f64], lys: &[f64]) -> Self {
        let n = ls.len();
        let mean = |v: &[f64]| v.iter().sum::<f64>() / n as f64;
        let (ml, my) = (mean(ls), mean(lys));
        let l: Vec<f64> = ls.iter().map(|x| x - ml).collect();
        let sll: f64 = l.iter().map(|x| x * x).sum();
        let slope = l.iter().zip(lys).map(|(x, y)| x * (y - my)).sum::<f64>() / sll;
        let r: Vec<f64> = l.iter().zip(lys).map(|(x, y)| y - my - slope * x).collect();
        let suffix = |f: &dyn Fn(usize) -> f64| {
            let mut out = vec![0.0; n];
            for a in (0..n.saturating_sub(1)).rev() {
                out[a] = out[a + 1] + f(a + 1);
            }
            out
        };
        Self {
            s: [
                suffix(&|_| 1.0),
                suffix(&|i| l[i]),
                suffix(&|i| l[i] * l[i]),
            ],
            q: [suffix(&|i| r[i]), suffix(&|i| r[i] * l[i])],
            rss1: r.iter().map(|v| v * v).sum(),
            n: n as f64,
            sll,
            l,
        }
    }

    /// `sum_{i > b} (l_i - l_a)(l_i - l_b)` for `a <= b`: the dot product of two hinges.
    fn hinge_dot(&self, a: usize, b: usize) -> f64 {
        let (ta, tb) = (self.l[a], self.l[b]);
        self.s[2][b] - (ta + tb) * self.s[1][b] + ta * tb * self.s[0][b]
    }

    /// `(h_a . 1, h_a . l, h_a . r)`.
    fn moments(&self, a: usize) -> [f64; 3] {
        let t = self.l[a];
        [
            self.s[1][a] - t * self.s[0][a],
            self.s[2][a] - t * self.s[1][a],
            self.q[1][a] - t * self.q[0][a],
        ]
    }

    /// `h~_a . h~_b` from the moments of `a` and `b` (`a <= b`).
    fn projected_dot(&self, a: usize, b: usize, ma: &[f64; 3], mb: &[f64; 3]) -> f64 {
        self.hinge_dot(a, b) - ma[0] * mb[0] / self.n - ma[1] * mb[1] / self.sll
    }

    /// Screened residual sum of squares with breaks `breaks` (one or two, increasing);
    /// `None` where the hinges are numerically dependent on `(1, l)` or on each other.
    fn rss(&self, breaks: &[usize]) -> Option<f64> {
        let m0 = self.moments(breaks[0]);
        let g00 = self.projected_dot(breaks[0], breaks[0], &m0, &m0);
        let h00 = self.hinge_dot(breaks[0], breaks[0]);
        if g00.partial_cmp(&(1e-12 * h00)) != Some(std::cmp::Ordering::Greater) {
            return None;
        }
        let gain = match breaks {
            [_] => m0[2] * m0[2] / g00,
            [a, b] => {
                let m1 = self.moments(*b);
                let g11 = self.projected_dot(*b, *b, &m1, &m1);
                let g01 = self.projected_dot(*a, *b, &m0, &m1);
                let det = g00 * g11 - g01 * g01;
                if !(g11 > 1e-12 * self.hinge_dot(*b, *b) && det > 1e-12 * g00 * g11) {
                    return None;
                }
                let (u, v) = (m0[2], m1[2]);
                (g11 * u * u - 2.0 * g01 * u * v + g00 * v * v) / det
            }
            _ => unreachable!("one or two breaks"),
        };
        Some((self.rss1 - gain).max(0.0))
    }

    /// The [`RECHECK`] candidates of lowest screened RSS, in the order given.
    fn best_candidates<const K: usize>(
        &self,
        candidates: impl Iterator<Item = [usize; K]>,
    ) -> Vec<[usize; K]> {
        // (screened rss, position, breaks), sorted by rss then position.
        let mut kept: Vec<(f64, usize, [usize; K])> = Vec::with_capacity(RECHECK + 1);
        for (pos, breaks) in candidates.enumerate() {
            let Some(rss) = self.rss(&breaks) else {
                continue;
            };
            if kept.len() == RECHECK && rss >= kept[RECHECK - 1].0 {
                continue;
            }
            let at = kept.partition_point(|k| k.0 <= rss);
            kept.insert(at, (rss, pos, breaks));
            kept.truncate(RECHECK);
        }
        kept.sort_by_key(|k| k.1);
        kept.into_iter().map(|k| k.2).collect()
    }
}

/// The exact least-squares fit of lowest RSS among `candidates` (the first on a tie).
fn refit_best<const K: usize>(
    ls: &[f64],
    lys: &[f64],
    candidates: Vec<[usize; K]>,
) -> Option<Piecewise> {
    let mut best: Option<Piecewise> = None;
    for breaks in candidates {
        if let Some((coef, rss)) = hinge_fit(ls, lys, &breaks) {
            if best.as_ref().is_none_or(|b| rss < b.2) {
                best = Some((breaks.to_vec(), coef, rss));
            }
        }
    }
    best
}

/// Shortest segment, in points (its two ends included).
const MIN_SEG: usize = 3;

/// A piecewise power law in hinge form: (break indices, hinge coefficients, rss).
type Piecewise = (Vec<usize>, Vec<f64>, f64);

/// Detection on sorted data with distinct `xs`; `ls = ln xs`, `lys = ln ys`.
pub(crate) fn detect_regime_log(xs: &[f64], ls: &[f64], lys: &[f64]) -> Result<Regime> {
    let n = ls.len();
    if n < 3 {
        bail!("{n} points, regime detection needs at least 3");
    }
    let best = best_piecewise(ls, lys);
    let bic = bic_per_count(&best, lys);
    let Some(k) = lowest(&bic) else {
        bail!("regime detection failed: the x values must not all be equal");
    };
    let (breaks, coef, _) = best[k].clone().expect("chosen has a fit");
    let segments = segment_lines(xs, ls, &breaks, &coef);
    let (steep, plateau) = steep_and_plateau(&segments);
    let (s, t) = (&segments[steep], &segments[plateau]);
    let bend = bend(&segments, steep, plateau);
    let fit_range = [s.lo, t.hi];
    Ok(Regime {
        steep_range: [segments[steep].lo, segments[steep].hi],
        steep_slope: segments[steep].slope,
        segments,
        steep,
        plateau,
        fit_range,
        bend,
        bic,
    })
}

/// The best fit with `K = 1, 2, 3` segments (index `K - 1`), `None` where there are too few
/// points or no fit.
fn best_piecewise(ls: &[f64], lys: &[f64]) -> Vec<Option<Piecewise>> {
    let n = ls.len();
    let mut best: Vec<Option<Piecewise>> = vec![None, None, None];
    // K = 1.
    if let Some((coef, rss)) = hinge_fit(ls, lys, &[]) {
        best[0] = Some((vec![], coef, rss));
    }
    // K = 2 and K = 3: every break index screened. K segments need n >= K (MIN_SEG - 1) + 1
    // points, and more points than the 2K + 1 parameters of the BIC: n >= 6 for K = 2 and
    // n >= 8 for K = 3.
    let lo = MIN_SEG - 1;
    if n > 2 * 2 + 1 {
        let screen = HingeScreen::new(ls, lys);
        let singles = (lo..=(n - MIN_SEG)).map(|j| [j]);
        best[1] = refit_best(ls, lys, screen.best_candidates(singles));
        if n > 2 * 3 + 1 {
            let pairs = (lo..=(n - MIN_SEG))
                .flat_map(|j1| ((j1 + MIN_SEG - 1)..=(n - MIN_SEG)).map(move |j2| [j1, j2]));
            best[2] = refit_best(ls, lys, screen.best_candidates(pairs));
        }
    }
    best
}

/// The BIC of each fit of [`best_piecewise`] (`2K + 1` parameters for `K` segments; the RSS
/// floored by [`rss_floor`]).
fn bic_per_count(best: &[Option<Piecewise>], lys: &[f64]) -> Vec<Option<f64>> {
    let floor = rss_floor(lys);
    let nf = lys.len() as f64;
    let bic_of = |rss: f64, k: usize| nf * (rss.max(floor) / nf).ln() + k as f64 * nf.ln();
    best.iter()
        .enumerate()
        .map(|(k, b)| b.as_ref().map(|b| bic_of(b.2, 2 * (k + 1) + 1)))
        .collect()
}

/// The index of the lowest value (the first on a tie), `None` when there is none.
fn lowest(values: &[Option<f64>]) -> Option<usize> {
    let mut chosen = None;
    for (k, v) in values.iter().enumerate() {
        if let Some(v) = v {
            if chosen.is_none_or(|(_, cv): (usize, f64)| *v < cv) {
                chosen = Some((k, *v));
            }
        }
    }
    chosen.map(|(k, _)| k)
}

/// The segment lines of the hinge fit `coef` with `breaks`: each break adds its hinge's
/// coefficient to the slope.
fn segment_lines(xs: &[f64], ls: &[f64], breaks: &[usize], coef: &[f64]) -> Vec<Segment> {
    let n = ls.len();
    let mut segments = Vec::new();
    let mut slope = coef[1];
    let mut intercept = coef[0];
    let mut start = 0;
    for s in 0..=breaks.len() {
        if s > 0 {
            let psi = ls[breaks[s - 1]];
            slope += coef[1 + s];
            intercept -= coef[1 + s] * psi;
        }
        let end = if s < breaks.len() { breaks[s] } else { n - 1 };
        segments.push(Segment {
            lo: xs[start],
            hi: xs[end],
            start,
            end,
            slope,
            intercept,
        });
        start = end;
    }
    segments
}

/// The steepest segment, and the last segment of the plateau after it: the run of following
/// segments whose slope stays at most [`RISE`] times the steep slope's magnitude.
fn steep_and_plateau(segments: &[Segment]) -> (usize, usize) {
    let steep = (0..segments.len())
        .min_by(|&a, &b| segments[a].slope.total_cmp(&segments[b].slope))
        .expect("at least one segment");
    let rise = RISE * segments[steep].slope.abs();
    let mut plateau = steep;
    while plateau + 1 < segments.len() && segments[plateau + 1].slope <= rise {
        plateau += 1;
    }
    (steep, plateau)
}

/// Where the steep segment's line meets the plateau's, when a flatter segment follows and
/// they meet within the steep segment's start and the plateau's end.
fn bend(segments: &[Segment], steep: usize, plateau: usize) -> Option<f64> {
    let (s, t) = (&segments[steep], &segments[plateau]);
    if plateau == steep || t.slope <= s.slope {
        None
    } else if plateau == steep + 1 {
        // Adjacent segments meet at their shared break point.
        Some(s.hi)
    } else {
        let b = ((t.intercept - s.intercept) / (s.slope - t.slope)).exp();
        (b >= s.lo && b <= t.hi).then_some(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use rand_distr::{Distribution, StandardNormal};

    /// The best fit over every break pair by least squares (the former `O(n^3)` search).
    fn exhaustive(ls: &[f64], lys: &[f64], k: usize) -> Option<(Vec<usize>, f64)> {
        let n = ls.len();
        let mut best: Option<(Vec<usize>, f64)> = None;
        let mut consider = |b: Vec<usize>| {
            if let Some((_, rss)) = hinge_fit(ls, lys, &b) {
                if best.as_ref().is_none_or(|x| rss < x.1) {
                    best = Some((b, rss));
                }
            }
        };
        for j1 in 2..=(n - 3) {
            if k == 2 {
                consider(vec![j1]);
            } else {
                for j2 in (j1 + 2)..=(n - 3) {
                    consider(vec![j1, j2]);
                }
            }
        }
        best
    }

    #[test]
    fn screened_search_finds_the_exhaustive_optimum() {
        for seed in 0..20u64 {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let n = 12 + (seed as usize % 5) * 9;
            let ls: Vec<f64> = (0..n).map(|i| i as f64 * 0.37).collect();
            let noise = [0.0, 1e-6, 0.01, 0.3][seed as usize % 4];
            let lys: Vec<f64> = ls
                .iter()
                .map(|&l| {
                    let z: f64 = StandardNormal.sample(&mut rng);
                    (2.0 * (-0.8 * l).exp() + 0.05).ln() + noise * z
                })
                .collect();
            let screen = HingeScreen::new(&ls, &lys);
            let singles = (2..=(n - 3)).map(|j| [j]);
            let got2 = refit_best(&ls, &lys, screen.best_candidates(singles)).unwrap();
            let want2 = exhaustive(&ls, &lys, 2).unwrap();
            let pairs = (2..=(n - 3)).flat_map(|j1| ((j1 + 2)..=(n - 3)).map(move |j2| [j1, j2]));
            let got3 = refit_best(&ls, &lys, screen.best_candidates(pairs)).unwrap();
            let want3 = exhaustive(&ls, &lys, 3).unwrap();
            // The same optimum, or (noise-free, rounding-level RSS) one as good.
            let floor = rss_floor(&lys);
            for ((b, _, rss), (wb, wrss)) in [(got2, want2), (got3, want3)] {
                assert!(
                    b == wb || rss <= wrss.max(floor),
                    "seed {seed}: {b:?} ({rss:e}) against {wb:?} ({wrss:e})"
                );
            }
        }
    }
}
