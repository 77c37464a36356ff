//! The early-stopped gradient-descent risk `min_{k <= K} R(W_k)` and its first minimiser without
//! evaluating every iterate: a branch and bound over the iterations.
//!
//! With `0 < eta lambda_i <= 1` every filter `f_k(lambda_i) = 1 - q_i^k`, `q_i = 1 - eta
//! lambda_i`, increases with `k`, and over a segment `k0 <= k <= k1` it moves by at most
//! `q_i^{k0} (1 - q_i^{k1 - k0})`. Writing `d R(W_k) = F_k + sigma^2 G_k` with the fit
//! `F_k = ||sum_i f_k(lambda_i) v_i a_i^T - I||_F^2` and `G_k = sum_i f_k(lambda_i)^2 ||v_i||^2`:
//!
//! ```text
//! sqrt(F_k) >= max(sqrt(F_k0), sqrt(F_k1)) - rho,   rho = sum_i q_i^{k0} (1 - q_i^s) ||v_i|| ||a_i||,
//! G_k >= G_k0                                       (every f_i is non-decreasing),
//! ```
//!
//! for `k1 - k0 <= s` (the triangle inequality on the fit, `||v a^T||_F = ||v|| ||a||`). So the
//! risk is evaluated every [`STRIDE`] iterations, and only segments whose lower bound does not
//! exceed the best risk found are searched iterate by iterate, the most promising first.
//! Derivation and test: `theory/exact.md` ("Early stopping without the whole path").

use faer::{Mat, Par};

use super::{advance_filters, early_stopped, Kernel, Spectrum, BLOCK};

/// Iterations between two coarse evaluations of the risk.
const STRIDE: usize = 16;

/// CPU seconds of one evaluated iterate of the search: a fixed `5e-8` s plus `1.5e-10` s per
/// unit of `r min(d^2, r / 2)` (`r` the rank of the draw; the kernel's cost). Fitted to release
/// builds (on a loaded 2-core machine, so rather high): `d = 2, n = N = 10` at `iters = 1e5`
/// (0.056 us an evaluation) and `d = 10, n = N = 1000` at `iters = 1e5` (15 us).
const SECONDS_PER_EVALUATION: (f64, f64) = (5e-8, 1.5e-10);

/// Estimated CPU time of one [`Spectrum::gd_early_stopped`] search over `iters` iterations on
/// a draw of rank `r` in a model of signal dimension `d`, seconds of one core, as a range:
/// from the coarse evaluations alone (every `STRIDE`-th iterate) to every iterate (segments
/// the bounds cannot exclude are searched one by one; the whole path when the step is too
/// large for the bounds). Measured: 0.07 s for 2000 searches at `d = 2, r = 10, iters = 5000`
/// and 2.7 s for 100 at `iters = 1e6`, the latter near the upper end.
pub fn search_cpu_seconds(d: usize, r: usize, iters: usize) -> [f64; 2] {
    let (fixed, per_unit) = SECONDS_PER_EVALUATION;
    let units = r as f64 * (d as f64 * d as f64).min(r as f64 / 2.0);
    let per_evaluation = fixed + per_unit * units;
    let all = iters as f64 * per_evaluation;
    [all / STRIDE as f64, all]
}

/// Relative slack of the lower bounds: a segment is skipped only when its bound exceeds the
/// best risk by more than this, which covers the rounding errors of the bound and of the risks.
const SLACK: f64 = 1e-10;

impl Spectrum {
    /// The smallest risk of gradient descent over the iterates `0..=iters` with step `eta` and
    /// the first iterate that attains it: `early_stopped(&self.gd_risk_path(eta, iters, par))`
    /// up to rounding (the risks agree to about `1e-15` relative; the iterate too, unless two
    /// iterates tie to that precision).
    ///
    /// Cost: the risk at every `16`-th iterate (`O(iters r min(d^2, r / 2) / 16)` flops in GEMMs)
    /// plus the iterates of the segments the bounds cannot exclude, typically a few; the whole
    /// path when `eta lambda_max > 1` (filters that are not monotone). Memory
    /// `O(r (256 + min(d^2, r)))`.
    pub fn gd_early_stopped(&self, eta: f64, iters: usize, par: Par) -> (f64, usize) {
        let step: Vec<f64> = self.lambda.iter().map(|&l| eta * l).collect();
        // `!(s <= 1)` also catches NaN.
        if step.is_empty() || step.iter().any(|&s| !(s > 0.0 && s <= 1.0)) {
            return early_stopped(&self.gd_risk_path(eta, iters, par));
        }
        Search::new(self, step, par).run(iters)
    }
}

/// The fit, weight and spread of one evaluated iterate (see the module documentation).
#[derive(Clone, Copy, Debug)]
struct Point {
    k: usize,
    /// `F_k`.
    fit: f64,
    /// `G_k`.
    weight: f64,
    /// `rho` of the segment that starts at `k`.
    spread: f64,
}

struct Search<'a> {
    spectrum: &'a Spectrum,
    kernel: Kernel,
    step: Vec<f64>,
    /// `||v_i||^2`.
    vnorm2: Vec<f64>,
    /// `(1 - q_i^STRIDE) ||v_i|| ||a_i||`.
    spread: Vec<f64>,
    par: Par,
}

impl<'a> Search<'a> {
    fn new(spectrum: &'a Spectrum, step: Vec<f64>, par: Par) -> Self {
        let r = spectrum.rank();
        let vnorm2: Vec<f64> = (0..r)
            .map(|i| spectrum.v.col(i).squared_norm_l2())
            .collect();
        let (g, _) = jump(&step, STRIDE);
        let spread = (0..r)
            .map(|i| g[i] * (vnorm2[i] * spectrum.a.col(i).squared_norm_l2()).sqrt())
            .collect();
        Self {
            spectrum,
            kernel: Kernel::new(&spectrum.a, &spectrum.v, par),
            step,
            vnorm2,
            spread,
            par,
        }
    }

    fn risk(&self, fit: f64, weight: f64) -> f64 {
        let s = &self.spectrum.setup;
        (fit + s.sigma2() * weight) / s.d() as f64
    }

    /// A lower bound of the risk at every iterate strictly between two consecutive coarse
    /// points `p0` and `p1` (at most [`STRIDE`] apart).
    fn lower_bound(&self, p0: &Point, p1: &Point) -> f64 {
        let root = p0.fit.max(p1.fit).sqrt();
        let fit = (root - p0.spread).max(0.0);
        self.risk(fit * fit, p0.weight)
    }

    fn run(&self, iters: usize) -> (f64, usize) {
        let coarse = self.coarse(iters);
        let risks: Vec<f64> = coarse.iter().map(|p| self.risk(p.fit, p.weight)).collect();
        let (risk, slot) = early_stopped(&risks);
        let mut best = (risk, coarse[slot].k);
        let mut segments: Vec<(f64, usize)> = coarse
            .windows(2)
            .enumerate()
            .filter(|(_, w)| w[1].k - w[0].k >= 2)
            .map(|(j, w)| (self.lower_bound(&w[0], &w[1]), j))
            .collect();
        segments.sort_by(|a, b| a.0.total_cmp(&b.0));
        for (bound, j) in segments {
            if bound > best.0 * (1.0 + SLACK) {
                break;
            }
            for (k, risk) in self.segment(coarse[j].k, coarse[j + 1].k) {
                if risk < best.0 || (risk == best.0 && k < best.1) {
                    best = (risk, k);
                }
            }
        }
        best
    }

    /// The iterates `0, STRIDE, 2 STRIDE, ..` and `iters`, evaluated in blocks of [`BLOCK`].
    /// The filters advance by `f += q (1 - q_i^s)`, `q *= q_i^s`: sums of non-negative terms,
    /// so they keep their relative accuracy.
    fn coarse(&self, iters: usize) -> Vec<Point> {
        let r = self.step.len();
        let mut ks: Vec<usize> = (0..=iters).step_by(STRIDE).collect();
        if !iters.is_multiple_of(STRIDE) {
            ks.push(iters);
        }
        let regular = jump(&self.step, STRIDE);
        let last = jump(&self.step, iters % STRIDE);
        let (mut f, mut q) = (vec![0.0; r], vec![1.0; r]);
        let mut points = Vec::with_capacity(ks.len());
        for block in ks.chunks(BLOCK) {
            let mut filters = Mat::<f64>::zeros(r, block.len());
            let mut weights = Vec::with_capacity(block.len());
            for (j, &k) in block.iter().enumerate() {
                let (g, qs) = if k + STRIDE <= iters {
                    (&regular.0, &regular.1)
                } else {
                    (&last.0, &last.1)
                };
                let col = filters
                    .col_mut(j)
                    .try_as_col_major_mut()
                    .expect("contiguous column")
                    .as_slice_mut();
                weights.push(coarse_column(
                    &mut f,
                    &mut q,
                    g,
                    qs,
                    &self.spread,
                    &self.vnorm2,
                    col,
                ));
            }
            let fits = self.fits(filters);
            points.extend(block.iter().zip(fits).zip(weights).map(
                |((&k, fit), (weight, spread))| Point {
                    k,
                    fit,
                    weight,
                    spread,
                },
            ));
        }
        points
    }

    /// `(k, R(W_k))` for `k0 < k < k1`, starting from the filters at `k0` in closed form.
    fn segment(&self, k0: usize, k1: usize) -> Vec<(usize, f64)> {
        let r = self.step.len();
        let (mut f, mut q): (Vec<f64>, Vec<f64>) = self
            .step
            .iter()
            .map(|&s| {
                if k0 == 0 {
                    (0.0, 1.0)
                } else {
                    // q^k0 = exp(k0 ln(1 - s)) and 1 - q^k0 without cancellation.
                    let log_q = k0 as f64 * (-s).ln_1p();
                    (-log_q.exp_m1(), log_q.exp())
                }
            })
            .unzip();
        let mut scratch = vec![0.0; r];
        advance_filters(&mut f, &mut q, &self.step, &self.vnorm2, &mut scratch);
        let cols = k1 - k0 - 1;
        let mut filters = Mat::<f64>::zeros(r, cols);
        let weights: Vec<f64> = (0..cols)
            .map(|j| {
                let col = filters
                    .col_mut(j)
                    .try_as_col_major_mut()
                    .expect("contiguous column")
                    .as_slice_mut();
                advance_filters(&mut f, &mut q, &self.step, &self.vnorm2, col)
            })
            .collect();
        let fits = self.fits(filters);
        fits.iter()
            .zip(&weights)
            .enumerate()
            .map(|(j, (&fit, &weight))| (k0 + 1 + j, self.risk(fit, weight)))
            .collect()
    }

    fn fits(&self, filters: Mat<f64>) -> Vec<f64> {
        let frozen = vec![0.0; self.kernel.width()];
        self.kernel
            .fit_terms(filters.as_ref(), 0, &frozen, self.par)
    }
}

/// `(1 - q_i^s, q_i^s)` for `q_i = 1 - step_i`, by the same non-negative recurrence as the path.
fn jump(step: &[f64], s: usize) -> (Vec<f64>, Vec<f64>) {
    let mut g = vec![0.0; step.len()];
    let mut qs = vec![1.0; step.len()];
    for _ in 0..s {
        for ((g, q), &st) in g.iter_mut().zip(&mut qs).zip(step) {
            let delta = st * *q;
            *g += delta;
            *q -= delta;
        }
    }
    (g, qs)
}

/// Writes the filters `f` into `col`, returns `(sum_i f_i^2 vnorm2_i, sum_i q_i spread_i)` and
/// jumps the filters ahead (`f += q g`, `q *= qs`). `O(r)`, once per coarse iterate: a small
/// share of the GEMM that evaluates the same column, so a plain loop.
fn coarse_column(
    f: &mut [f64],
    q: &mut [f64],
    g: &[f64],
    qs: &[f64],
    spread: &[f64],
    vnorm2: &[f64],
    col: &mut [f64],
) -> (f64, f64) {
    let (mut weight, mut rho) = (0.0, 0.0);
    let filters = f.iter_mut().zip(q.iter_mut()).zip(col.iter_mut());
    let jumps = g.iter().zip(qs).zip(spread.iter().zip(vnorm2));
    for (((fi, qi), ci), ((gi, qsi), (si, wi))) in filters.zip(jumps) {
        *ci = *fi;
        weight += *fi * *fi * wi;
        rho += *qi * si;
        *fi += *qi * gi;
        *qi *= qsi;
    }
    (weight, rho)
}
