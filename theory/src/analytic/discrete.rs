//! Limiting spectrum of `Sigma_hat = Y Y^T / N` for a general discrete population
//! `Sigma = diag(v_1 I_{n_1}, ..., v_K I_{n_K})` (plus zero-variance directions, which carry no
//! eigenvalue), and the spectral measures that the risk of a spectral filter needs.
//!
//! With `c_k = n_k / N`, the Stieltjes transform `mt(z)` of the companion matrix `Y^T Y / N`
//! solves the Silverstein equation
//!
//! ```text
//! z = -1/mt + sum_k c_k v_k / (1 + v_k mt).
//! ```
//!
//! For `Im z > 0` the root with `Im mt > 0` is unique; on the real axis inside the support,
//! `mt(x + i0)` is reached from `x + i eta` by Newton's method along a geometric homotopy
//! `eta -> 0` (and, node to node, by continuation from the neighbour's root). The support edges
//! are the values `x(m)` at the real critical points of the inverse function `x(m)` (Silverstein
//! & Choi 1995), found interval by interval between consecutive poles `-1/v_k` from the
//! convexity of `x'` in `1/m` (`super::critical`), which also gives the gaps. Where two clusters almost separate (a *neck*: the density dips steeply
//! without vanishing) the support is split, so every interval ends at an edge (square-root or,
//! at 0, inverse square-root behaviour) or at a neck (finite value). The tanh-sinh rule
//! (`x = mid + half tanh(pi/2 sinh t)`, trapezoid in `t`) converges geometrically for all of
//! these end behaviours; the nodes are doubled until the measures' exact total masses are
//! reproduced (see [`Rule::TanhSinh`]).

use super::poly::C64;
use super::population::{intervals_between, Population};
use super::quadrature::{Quadrature, Rule};
use crate::simd::simd_kernel;

/// A discrete population with bias weights, seen through `N` samples.
#[derive(Clone, Debug)]
pub(crate) struct Discrete {
    /// Distinct positive variances `v_k`, ascending.
    pub v: Vec<f64>,
    /// `c_k = n_k / N`.
    pub c: Vec<f64>,
    /// Bias weights `A_k >= 0` (sum of `w_i^2 / n` over the directions of atom `k`).
    pub a: Vec<f64>,
    /// Ambient dimension `n` (zero-variance directions included).
    pub n: usize,
    pub n_train: usize,
    /// The soft edges `(x(m_c), m_c, x''(m_c))` at the critical points, ascending in `x`, once
    /// the support has been found: the seeds of the first Stieltjes solve of an interval.
    edges: std::sync::OnceLock<Vec<(f64, f64, f64)>>,
}

impl Discrete {
    /// The population of `atoms` `(v, count, A)` in dimension `n` seen through `n_train` samples:
    /// atoms with `v <= 0` are dropped (they carry no eigenvalue), atoms with equal `v` merged
    /// (the spectrum only sees `v`; their bias weights add). Cost `O(K log K)`.
    pub fn new(atoms: impl Iterator<Item = (f64, f64, f64)>, n: usize, n_train: usize) -> Self {
        let nt = n_train as f64;
        let mut by_v: Vec<(f64, f64, f64)> = atoms.filter(|t| t.0 > 0.0).collect();
        by_v.sort_by(|p, q| p.0.total_cmp(&q.0));
        let mut merged: Vec<(f64, f64, f64)> = Vec::with_capacity(by_v.len());
        for (v, count, a) in by_v {
            match merged.last_mut() {
                Some(last) if last.0 == v => {
                    last.1 += count;
                    last.2 += a;
                }
                _ => merged.push((v, count, a)),
            }
        }
        Self {
            v: merged.iter().map(|t| t.0).collect(),
            c: merged.iter().map(|t| t.1 / nt).collect(),
            a: merged.iter().map(|t| t.2).collect(),
            n,
            n_train,
            edges: std::sync::OnceLock::new(),
        }
    }

    pub(super) fn x_of_m(&self, m: f64) -> f64 {
        -1.0 / m
            + self
                .c
                .iter()
                .zip(&self.v)
                .map(|(c, v)| c * v / (1.0 + v * m))
                .sum::<f64>()
    }

    pub(super) fn dx_of_m(&self, m: f64) -> f64 {
        1.0 / (m * m)
            - self
                .c
                .iter()
                .zip(&self.v)
                .map(|(c, v)| {
                    let q = v / (1.0 + v * m);
                    c * q * q
                })
                .sum::<f64>()
    }

    /// Newton's method for `x(m) = z` from `m`; `None` if it does not converge in 60 steps.
    /// Near a support edge the root is nearly double, so it is only determined to about
    /// `eps / |x'(m)|`: a last step below `1e-9 |m|` is accepted there.
    fn newton(&self, z: C64, mut m: C64) -> Option<C64> {
        let mut last = f64::INFINITY;
        // x(m) = (C - 1)/m - (1/m) sum_k c_k / (1 + v_k m) with C = sum_k c_k = rank/N: the
        // same function without the cancellation of -1/m against sum_k c_k v_k/(1 + v_k m) for
        // large |m| (near a hard edge at 0, where C = 1).
        let excess = self.rank() / self.n_train as f64 - 1.0;
        for _ in 0..60 {
            let inv = 1.0 / m;
            let (s0, s1) = pole_sums(&self.c, &self.v, m);
            let f = inv * (excess - s0) - z;
            let df = inv * inv * (s0 - excess) + inv * s1;
            let step = f / df;
            if !(step.re.is_finite() && step.im.is_finite()) {
                return None;
            }
            m -= step;
            let (prev, size) = (last, m.norm());
            last = step.norm();
            // Converged; or converging quadratically (the step shrank like the square of the
            // previous one), so that the next step would be below 1e-17: its evaluation is
            // skipped. Near an edge the root is nearly double and Newton converges only
            // linearly: the second test does not fire there.
            if last <= 1e-14 * size || (last <= 1e-9 * size && last * size <= 10.0 * prev * prev) {
                return Some(m);
            }
        }
        (last <= 1e-9 * m.norm()).then_some(m)
    }
}

impl Discrete {
    /// `(x(m), m, x''(m))` at the critical points `roots`, ascending in `x`.
    fn soft_edges(&self, roots: &[f64]) -> Vec<(f64, f64, f64)> {
        let mut edges: Vec<(f64, f64, f64)> = roots
            .iter()
            .map(|&m| {
                let curv: f64 = self
                    .c
                    .iter()
                    .zip(&self.v)
                    .map(|(c, v)| c * (v / (1.0 + v * m)).powi(3))
                    .sum();
                (self.x_of_m(m), m, 2.0 * (curv - 1.0 / (m * m * m)))
            })
            .filter(|e| e.0.is_finite() && e.2.is_finite() && e.2 != 0.0)
            .collect();
        edges.sort_by(|p, q| p.0.total_cmp(&q.0));
        edges
    }

    /// A start for Newton's method at `x` within 1% of a soft edge `x_e = x(m_c)`: the root of
    /// `x(m) ~ x_e + x''(m_c) (m - m_c)^2 / 2` in the upper half plane. `None` elsewhere
    /// (and before the support is known).
    fn edge_seed(&self, x: f64) -> Option<C64> {
        let edges = self.edges.get()?;
        let i = edges.partition_point(|e| e.0 < x);
        let near = [i.checked_sub(1), Some(i)]
            .into_iter()
            .flatten()
            .filter_map(|j| edges.get(j))
            .min_by(|p, q| (p.0 - x).abs().total_cmp(&(q.0 - x).abs()))?;
        let (xe, m, curv) = *near;
        if (x - xe).abs() > 1e-2 * xe.abs() {
            return None;
        }
        let d = C64::new(2.0 * (x - xe) / curv, 0.0).sqrt();
        // The branch with a positive imaginary part (real d: outside the support).
        Some(C64::new(m, 0.0) + C64::new(d.re, d.im.abs()))
    }
}

/// Accumulator lanes of [`pole_sums`] (a multiple of the SIMD width).
const LANES: usize = 4;

simd_kernel! {
    /// `(sum_k c_k q_k, sum_k c_k v_k q_k^2)` with `q_k = 1 / (1 + v_k m)`: the sums of one
    /// Newton step, `O(K)`, in real arithmetic over `LANES` accumulators so that the loop
    /// vectorises (built for AVX2+FMA and AVX-512 too, chosen at run time; the results differ
    /// only by FMA rounding).
    fn pole_sums(c: &[f64], v: &[f64], m: C64) -> (C64, C64) {
        let mut acc = [[0.0; LANES]; 4];
        let term = |acc: &mut [[f64; LANES]; 4], l: usize, c: f64, v: f64| {
            let (dr, di) = (1.0 + m.re * v, m.im * v);
            let inv = 1.0 / (dr * dr + di * di);
            let (qr, qi) = (dr * inv, -di * inv);
            let cv = c * v;
            acc[0][l] += c * qr;
            acc[1][l] += c * qi;
            acc[2][l] += cv * (qr * qr - qi * qi);
            acc[3][l] += cv * 2.0 * qr * qi;
        };
        let (cs, vs) = (c.chunks_exact(LANES), v.chunks_exact(LANES));
        let (c_rest, v_rest) = (cs.remainder(), vs.remainder());
        for (cb, vb) in cs.zip(vs) {
            for l in 0..LANES {
                term(&mut acc, l, cb[l], vb[l]);
            }
        }
        for (&ck, &vk) in c_rest.iter().zip(v_rest) {
            term(&mut acc, 0, ck, vk);
        }
        let sum = |a: &[f64; LANES]| a.iter().sum::<f64>();
        (
            C64::new(sum(&acc[0]), sum(&acc[1])),
            C64::new(sum(&acc[2]), sum(&acc[3])),
        )
    }
}

impl Population for Discrete {
    const QUADRATURE: Quadrature = Quadrature {
        rule: Rule::TanhSinh,
        // Looser than the two-atom grid's 1e-11: many clusters, each with its own edges.
        mass_tol: 1e-9,
        max_nodes: 2048,
    };

    fn n(&self) -> usize {
        self.n
    }

    fn n_train(&self) -> usize {
        self.n_train
    }

    /// `sum_k n_k`, as `N sum_k c_k`.
    fn rank(&self) -> f64 {
        self.c.iter().sum::<f64>() * self.n_train as f64
    }

    fn atoms(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        self.v.iter().copied().zip(self.c.iter().copied())
    }

    /// `mt(x + i0)` for `x` inside the support (`Im mt > 0`), or `None` outside it. Tries Newton
    /// from `guess` first (a neighbour's root), then the homotopy in `eta`.
    fn stieltjes(&self, x: f64, guess: Option<C64>) -> Option<C64> {
        let accept = |m: C64| (m.im > 1e-10 * m.norm()).then_some(m);
        if let Some(g) = guess {
            if let Some(m) = self.newton(C64::new(x, 0.0), g).and_then(accept) {
                return Some(m);
            }
        }
        if let Some(m) = self
            .edge_seed(x)
            .and_then(|g| self.newton(C64::new(x, 0.0), g))
            .and_then(accept)
        {
            return Some(m);
        }
        let scale = x.abs().max(self.trace_over_n());
        let mut eta = 4.0 * scale;
        let mut m = -1.0 / C64::new(x, eta);
        // Shrink eta geometrically; where the root moves fast (near an edge, eta ~ distance to
        // it) Newton may fail from the previous root: then take a smaller step.
        let mut factor = 0.25;
        while eta > 1e-15 * scale {
            let next = eta * factor;
            match self.newton(C64::new(x, next), m) {
                Some(r) if r.im > 0.0 => {
                    m = r;
                    eta = next;
                    factor = 0.25;
                }
                _ => {
                    factor = 1.0 - 0.5 * (1.0 - factor);
                    if factor > 0.999 {
                        return None;
                    }
                }
            }
        }
        self.newton(C64::new(x, 0.0), m).and_then(accept)
    }

    fn edge_candidates(&self) -> Vec<f64> {
        let c = self.critical();
        c.roots
            .iter()
            .chain(&c.necks)
            .map(|&m| self.x_of_m(m))
            .collect()
    }

    /// The intervals between the edge candidates that no gap covers: no Stieltjes solve.
    fn support(&self) -> Vec<(f64, f64)> {
        let c = self.critical();
        let _ = self.edges.set(self.soft_edges(&c.roots));
        let cands = c
            .roots
            .iter()
            .chain(&c.necks)
            .map(|&m| self.x_of_m(m))
            .collect();
        intervals_between(cands, |x| !c.gaps.iter().any(|&(lo, hi)| lo < x && x < hi))
    }

    fn bias_transform(&self, mt: C64) -> C64 {
        self.a
            .iter()
            .zip(&self.v)
            .map(|(a, v)| *a / (1.0 + mt * *v))
            .sum()
    }

    fn bias_atom(&self, kappa0: f64) -> f64 {
        self.a
            .iter()
            .zip(&self.v)
            .map(|(a, v)| a * kappa0 / (v + kappa0))
            .sum()
    }

    fn bias_masses(&self) -> (f64, f64) {
        (
            self.a.iter().zip(&self.v).map(|(a, v)| a * v).sum(),
            self.a.iter().sum(),
        )
    }
}
