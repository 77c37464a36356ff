//! The real critical points of a discrete population's inverse function `x(m)`, and the gaps
//! of its limiting spectrum, found interval by interval from the structure of `x'` rather than
//! by sampling it.
//!
//! In `u = 1/m` the derivative of `x(m) = -1/m + sum_k c_k v_k / (1 + v_k m)` is
//!
//! ```text
//! x'(m) = u^2 (1 - F(u)),    F(u) = sum_k c_k v_k^2 / (u + v_k)^2,
//! ```
//!
//! and `F` is a sum of convex functions with poles at `u = -v_k`. With `C = sum_k c_k`:
//! - below the largest pole (`u < -v_K`, `m` in `(-1/v_K, 0)`) `F` rises from 0 to infinity:
//!   one critical point, the top edge; `x' > 0` beyond it (the gap above the support);
//! - between two poles `F` is convex and infinite at both ends: no critical point, or two
//!   around its minimum `u*` (`x' > 0` between them: a gap), or none with a **neck** when the
//!   peak of `x'` stays just below 0 (`m^2 x'(m) > -1`, as in `super::discrete`);
//! - between the smallest pole and 0 (`m < -1/v_1`) `F` falls from infinity to `C`: one
//!   critical point when `C < 1` (the lower edge, `N > rank`);
//! - for `u > 0` (`m > 0`) `F` falls from `C` to 0: one critical point when `C > 1` (the lower
//!   edge above the atom at 0, `N < rank`).
//!
//! Between two poles `F >= a/(u + v_{k+1})^2 + b/(u + v_k)^2` (its two nearest terms), whose
//! minimum is `(a^(1/3) + b^(1/3))^3 / (v_{k+1} - v_k)^2` in closed form: where that bound is at
//! least 2, the interval holds neither a critical point nor a neck and costs `O(1)`. Elsewhere
//! each root is a safeguarded Newton iteration (bisection when a step leaves the bracket or
//! does not halve it), `O(K)` per step. The support is then the complement of the images of
//! the ranges where `x' > 0` (Silverstein & Choi 1995), with no Stieltjes solve.

use super::discrete::Discrete;

/// Most steps of one safeguarded Newton iteration (bisection alone needs at most about 1100
/// to exhaust a double bracket; Newton's steps take a few).
const MAX_STEPS: usize = 200;

/// Lower bound of `F` between two poles beyond which neither a critical point (`F = 1`) nor a
/// neck (`m^2 x' > -1`, i.e. `F < 2` at the peak of `x'`) can lie there.
const NECK_LEVEL: f64 = 2.0;

/// The critical structure of `x(m)`: what the support and the quadrature need.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Critical {
    /// Real critical points of `x(m)` (the support edges are `x` there).
    pub roots: Vec<f64>,
    /// Peaks of `x'` just below 0, where the quadrature splits an interval.
    pub necks: Vec<f64>,
    /// The gaps `(lo, hi)` in `x`: images of the ranges of `m` where `x' > 0` (ends may be
    /// infinite). Outside them, and off 0, lies the support.
    pub gaps: Vec<(f64, f64)>,
}

/// `F(u)`, `F'(u)` and `F''(u)` in one pass (`O(K)`).
fn f_and_derivatives(pop: &Discrete, u: f64) -> [f64; 3] {
    let mut s = [0.0; 3];
    for (c, v) in pop.c.iter().zip(&pop.v) {
        let q = 1.0 / (u + v);
        let t = c * v * v * q * q;
        s[0] += t;
        s[1] -= 2.0 * t * q;
        s[2] += 6.0 * t * q * q;
    }
    s
}

/// The root of `g` in `(lo, hi)`, where `g` changes sign once (`g(lo)` and `g(hi)` of opposite
/// signs, or the ends are poles), by Newton's method from `start` kept inside the bracket:
/// a step that leaves it, or that does not halve the previous step, is replaced by bisection.
/// `g` returns the value and the derivative. Stops at the rounding level of the bracket.
fn safeguarded_newton(
    g: impl Fn(f64) -> (f64, f64),
    mut lo: f64,
    mut hi: f64,
    start: f64,
    rising: bool,
) -> f64 {
    let mut x = start;
    let mut last_step = hi - lo;
    for _ in 0..MAX_STEPS {
        let (value, slope) = g(x);
        if value == 0.0 {
            return x;
        }
        // Keep the root inside [lo, hi].
        if (value > 0.0) == rising {
            hi = x;
        } else {
            lo = x;
        }
        let newton = x - value / slope;
        if (newton - x).abs() <= 2.0 * f64::EPSILON * x.abs() && newton > lo && newton < hi {
            return newton;
        }
        let next = if newton > lo && newton < hi && (newton - x).abs() <= 0.5 * last_step.abs() {
            newton
        } else {
            0.5 * (lo + hi)
        };
        last_step = next - x;
        if next <= lo || next >= hi || next == x {
            return x;
        }
        x = next;
    }
    x
}

impl Discrete {
    /// The critical structure of `x(m)` (see the module docs). Cost `O(K)` for the intervals
    /// that the two-pole bound rules out, `O(K)` per Newton step elsewhere.
    pub(crate) fn critical(&self) -> Critical {
        let mut out = Critical::default();
        let Some(&top) = self.v.last() else {
            return out;
        };
        self.top_edge(top, &mut out);
        for k in 0..self.v.len() - 1 {
            self.between_poles(k, &mut out);
        }
        self.lower_edge(&mut out);
        out
    }

    /// `u < -v_K`: `F` rises from 0 to infinity and crosses 1 within `sqrt(sum c v^2)` of the
    /// pole (where `F <= sum_k c_k v_k^2 / (u + v_K)^2 <= 1`).
    fn top_edge(&self, top: f64, out: &mut Critical) {
        let s = self.second_moment().sqrt();
        let u = self.crossing(-top - s, -top, true);
        let m = 1.0 / u;
        out.roots.push(m);
        out.gaps.push((self.x_of_m(m), f64::INFINITY));
    }

    /// The lower edge: for `C < 1` a crossing in `(-v_1, 0)` (`m < -1/v_1`), for `C > 1` one
    /// in `(0, sqrt(sum c v^2)]` (`m > 0`, above the atom at 0); none for `C = 1` (a hard
    /// edge at 0).
    fn lower_edge(&self, out: &mut Critical) {
        let total: f64 = self.c.iter().sum();
        if total < 1.0 {
            let u = self.crossing(-self.v[0], 0.0, false);
            let m = 1.0 / u;
            out.roots.push(m);
            out.gaps.push((0.0, self.x_of_m(m)));
        } else if total > 1.0 {
            let u = self.crossing(0.0, self.second_moment().sqrt(), false);
            let m = 1.0 / u;
            out.roots.push(m);
            out.gaps.push((f64::NEG_INFINITY, self.x_of_m(m)));
        }
    }

    /// `(u_lo, u_hi) = (-v_{k+1}, -v_k)`: nothing when the two-pole bound is at least
    /// [`NECK_LEVEL`]; else the minimum of `F`, then two crossings or a neck.
    fn between_poles(&self, k: usize, out: &mut Critical) {
        let (lo, hi) = (-self.v[k + 1], -self.v[k]);
        let a = (self.c[k + 1] * self.v[k + 1] * self.v[k + 1]).cbrt();
        let b = (self.c[k] * self.v[k] * self.v[k]).cbrt();
        let width = hi - lo;
        if (a + b).powi(3) / (width * width) >= NECK_LEVEL {
            return;
        }
        // Minimum of F: F' rises from -inf to +inf; start at the two-pole minimiser.
        let start = lo + width * a / (a + b);
        let u_min = safeguarded_newton(
            |u| {
                let [_, d1, d2] = f_and_derivatives(self, u);
                (d1, d2)
            },
            lo,
            hi,
            start,
            true,
        );
        let f_min = f_and_derivatives(self, u_min)[0];
        if f_min < 1.0 {
            let (u1, u2) = (
                self.crossing(lo, u_min, false),
                self.crossing(u_min, hi, true),
            );
            let (m1, m2) = (1.0 / u1, 1.0 / u2);
            out.roots.extend([m1, m2]);
            // x rises on [m2, m1] (u1 < u2 < 0).
            out.gaps.push((self.x_of_m(m2), self.x_of_m(m1)));
        } else if f_min < NECK_LEVEL {
            let m = self.peak_of_slope(u_min, hi);
            if m * m * self.dx_of_m(m) > -1.0 {
                out.necks.push(m);
            }
        }
    }

    /// `m` at the peak of `x'(m) = u^2 (1 - F(u))` right of the minimum `u_min` of `F` (where
    /// `F >= 1`): the root of `h(u) = u F'(u) - 2 (1 - F(u))` in `(u_min, u_hi)`, positive at
    /// `u_min` and tending to `-inf` at the pole.
    fn peak_of_slope(&self, u_min: f64, hi: f64) -> f64 {
        let u = safeguarded_newton(
            |u| {
                let [f, d1, d2] = f_and_derivatives(self, u);
                (u * d1 - 2.0 * (1.0 - f), 3.0 * d1 + u * d2)
            },
            u_min,
            hi,
            0.5 * (u_min + hi),
            false,
        );
        1.0 / u
    }

    /// The `u` in `(lo, hi)` where `F(u) = 1`, `F` monotone there (`rising` or falling), by
    /// Newton's method on `1 / sqrt(F) - 1`, which is nearly linear next to a pole.
    fn crossing(&self, lo: f64, hi: f64, rising: bool) -> f64 {
        let g = |u: f64| {
            let [f, d1, _] = f_and_derivatives(self, u);
            let r = 1.0 / f.sqrt();
            (r - 1.0, -0.5 * d1 * r / f)
        };
        // 1/sqrt(F) falls where F rises.
        safeguarded_newton(g, lo, hi, 0.5 * (lo + hi), !rising)
    }

    /// `sum_k c_k v_k^2`.
    fn second_moment(&self) -> f64 {
        self.c.iter().zip(&self.v).map(|(c, v)| c * v * v).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::super::population::{intervals_between, Population};
    use super::super::scalar::{bisect, golden_section};
    use super::*;
    use crate::field::FieldSpectrum;

    /// Samples of `x'(m)` per interval of the reference search.
    const SCAN: usize = 128;

    /// The search that [`Discrete::critical`] replaced, kept as its reference: `x'(m)` sampled
    /// at `SCAN` points between consecutive poles (`-1/v_k`, 0) and on both unbounded ends,
    /// sign changes refined by bisection; where no sample is positive, the largest refined by
    /// golden section (two roots, or a neck when `m^2 x'(m) > -1` there). Returns
    /// `(roots, necks)` in `m`.
    fn sampled_critical_points(pop: &Discrete) -> (Vec<f64>, Vec<f64>) {
        let mut poles: Vec<f64> = pop.v.iter().map(|v| -1.0 / v).collect();
        poles.push(0.0);
        let (mut roots, mut necks) = (Vec::new(), Vec::new());
        let mut scan = |m_of: &dyn Fn(f64) -> f64| {
            let at = |j: usize| {
                let s = (j as f64 + 0.5) / SCAN as f64;
                m_of(0.5 * (1.0 - (std::f64::consts::PI * s).cos()))
            };
            let ms: Vec<f64> = (0..SCAN).map(at).collect();
            let ds: Vec<f64> = ms.iter().map(|&m| pop.dx_of_m(m)).collect();
            for j in 1..SCAN {
                if ds[j - 1].is_finite() && ds[j].is_finite() && (ds[j - 1] > 0.0) != (ds[j] > 0.0)
                {
                    roots.push(bisect(|t| pop.dx_of_m(t), ms[j - 1], ms[j]));
                }
            }
            if !ds.iter().any(|&d| d > 0.0) {
                let Some(j) = (0..SCAN)
                    .filter(|&j| ds[j].is_finite())
                    .max_by(|&p, &q| ds[p].total_cmp(&ds[q]))
                else {
                    return;
                };
                let (lo, hi) = (ms[j.saturating_sub(1)], ms[(j + 1).min(SCAN - 1)]);
                let peak = golden_section(|m| -pop.dx_of_m(m), lo, hi, 100);
                let top = pop.dx_of_m(peak);
                if top > 0.0 {
                    roots.push(bisect(|t| pop.dx_of_m(t), lo, peak));
                    roots.push(bisect(|t| pop.dx_of_m(t), peak, hi));
                } else if peak * peak * top > -1.0 {
                    necks.push(peak);
                }
            }
        };
        let first = poles[0];
        scan(&|u: f64| first - (1.0 / u - 1.0) * (-first));
        for w in poles.windows(2) {
            let (l, r) = (w[0], w[1]);
            scan(&|u: f64| l + (r - l) * u);
        }
        let big = 1.0 / pop.v[0];
        scan(&|u: f64| big * u / (1.0 - u));
        (roots, necks)
    }

    /// Positive edge values `x(m)` of `ms`, ascending.
    fn edges(pop: &Discrete, ms: &[f64]) -> Vec<f64> {
        let mut x: Vec<f64> = ms
            .iter()
            .map(|&m| pop.x_of_m(m))
            .filter(|x| x.is_finite() && *x > 0.0)
            .collect();
        x.sort_by(f64::total_cmp);
        x
    }

    fn assert_close(got: &[f64], want: &[f64], tol: f64, what: &str) {
        assert_eq!(got.len(), want.len(), "{what}: {got:?} vs {want:?}");
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() <= tol * w.abs(), "{what}: {g} vs {w}");
        }
    }

    /// Denoising populations `v = lambda + sigma^2` (bias weights irrelevant here): the
    /// gaussian fields of the plan presets (few distinct variances, high multiplicity) and a
    /// power law with every variance distinct (as a sample covariance of image patches).
    fn populations() -> Vec<Discrete> {
        let mut spectra: Vec<Vec<f64>> = [16, 32]
            .iter()
            .map(|&s| {
                FieldSpectrum::new(s, 2.0, 0.05, 0.0625)
                    .unwrap()
                    .eigenvalues()
                    .to_vec()
            })
            .collect();
        spectra.push((1..=200).map(|i| (i as f64).powf(-1.6)).collect());
        // Two close clusters: a neck for some N.
        spectra.push([vec![1.0; 30], vec![1.6; 30], vec![1e-3; 40]].concat());
        let mut pops = Vec::new();
        for lambda in &spectra {
            for &(sigma, n_train) in &[
                (0.1, 4),
                (0.1, 60),
                (0.1, 300),
                (0.1, 1024),
                (0.1, 5000),
                (0.1, 100_000),
                (0.01, 700),
                // N = rank: a hard edge at 0 (sum c_k is 1 up to rounding).
                (0.1, lambda.len()),
                (0.01, 1_000_000),
            ] {
                pops.push(Discrete::new(
                    lambda.iter().map(|l| (l + sigma * sigma, 1.0, 0.0)),
                    lambda.len(),
                    n_train,
                ));
            }
        }
        pops
    }

    /// The structural search finds the same edges and necks as the sampling it replaced, and
    /// the same support as the Stieltjes test at each candidate interval's midpoint.
    #[test]
    fn agrees_with_the_sampled_search() {
        let (mut splits, mut neck_count) = (0, 0);
        for pop in populations() {
            let (roots, necks) = sampled_critical_points(&pop);
            let c = pop.critical();
            let what = format!("K = {}, N = {}", pop.v.len(), pop.n_train);
            // Critical values are stationary: they agree to rounding even where m does not.
            // The sampling misses both edges of a cluster narrower than its samples (three
            // atoms at N = 1e6): there every edge it found must be one of the new ones.
            let (new_edges, old_edges) = (edges(&pop, &c.roots), edges(&pop, &roots));
            if new_edges.len() != old_edges.len() {
                assert!(
                    old_edges
                        .iter()
                        .all(|o| new_edges.iter().any(|e| (e - o).abs() <= 1e-12 * o.abs())),
                    "{what}: {new_edges:?} vs {old_edges:?}"
                );
                continue;
            }
            assert_close(&new_edges, &old_edges, 1e-12, &what);
            // The reference locates a neck by golden section, to about sqrt(eps) in m.
            assert_close(&edges(&pop, &c.necks), &edges(&pop, &necks), 1e-7, &what);
            let cands: Vec<f64> = roots.iter().chain(&necks).map(|&m| pop.x_of_m(m)).collect();
            let reference = intervals_between(cands, |x| pop.stieltjes(x, None).is_some());
            let support = pop.support();
            let flat = |s: &[(f64, f64)]| s.iter().flat_map(|&(l, r)| [l, r]).collect::<Vec<_>>();
            assert_close(&flat(&support), &flat(&reference), 1e-7, &what);
            splits += support.len();
            neck_count += necks.len();
        }
        // The populations exercise separated clusters and necks.
        assert!(
            splits > 100 && neck_count > 0,
            "{splits} intervals, {neck_count} necks"
        );
    }
}
