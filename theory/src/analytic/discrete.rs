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
//! & Choi 1995), found by sampling `x'(m)` between consecutive poles `-1/v_k` and refining sign
//! changes by bisection. Where two clusters almost separate (a *neck*: the density dips steeply
//! without vanishing) the support is split, so every interval ends at an edge (square-root or,
//! at 0, inverse square-root behaviour) or at a neck (finite value). The tanh-sinh rule
//! (`x = mid + half tanh(pi/2 sinh t)`, trapezoid in `t`) converges geometrically for all of
//! these end behaviours; the nodes are doubled until the measures' exact total masses are
//! reproduced (see [`Rule::TanhSinh`]).

use super::poly::C64;
use super::population::Population;
use super::quadrature::{Quadrature, Rule};
use super::scalar::{bisect, golden_section};

/// Samples of `x'(m)` per interval between poles when looking for critical points.
const SCAN: usize = 128;

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
        }
    }

    fn x_of_m(&self, m: f64) -> f64 {
        -1.0 / m
            + self
                .c
                .iter()
                .zip(&self.v)
                .map(|(c, v)| c * v / (1.0 + v * m))
                .sum::<f64>()
    }

    fn dx_of_m(&self, m: f64) -> f64 {
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
            let (mut s0, mut s1) = (C64::new(0.0, 0.0), C64::new(0.0, 0.0));
            for (c, v) in self.c.iter().zip(&self.v) {
                let q = 1.0 / (1.0 + m * *v);
                s0 += q * *c;
                s1 += q * q * (c * v);
            }
            let f = inv * (excess - s0) - z;
            let df = inv * inv * (s0 - excess) + inv * s1;
            let step = f / df;
            if !(step.re.is_finite() && step.im.is_finite()) {
                return None;
            }
            m -= step;
            last = step.norm();
            if last <= 1e-14 * m.norm() {
                return Some(m);
            }
        }
        (last <= 1e-9 * m.norm()).then_some(m)
    }

    /// Real roots of `x'(m) = 0`: sampled between consecutive poles (`-1/v_k`, 0) and on both
    /// unbounded ends, sign changes refined by bisection. Also returns the **necks**: peaks of
    /// `x'` that stay just below 0 (`m^2 x'(m) > -1`), where two clusters almost separate and the
    /// density dips steeply without vanishing; the quadrature splits there, since a near-kink
    /// inside an interval would slow its convergence to first order.
    fn critical_points(&self) -> (Vec<f64>, Vec<f64>) {
        // No direction with positive variance: Sigma_hat = 0, no support.
        if self.v.is_empty() {
            return (Vec::new(), Vec::new());
        }
        let mut poles: Vec<f64> = self.v.iter().map(|v| -1.0 / v).collect();
        poles.push(0.0);
        let mut roots = Vec::new();
        let mut necks = Vec::new();
        let mut scan = |m_of: &dyn Fn(f64) -> f64| {
            // Cluster the samples towards both ends, where x' changes fastest.
            let at = |j: usize| {
                let s = (j as f64 + 0.5) / SCAN as f64;
                m_of(0.5 * (1.0 - (std::f64::consts::PI * s).cos()))
            };
            let ms: Vec<f64> = (0..SCAN).map(at).collect();
            let ds: Vec<f64> = ms.iter().map(|&m| self.dx_of_m(m)).collect();
            for j in 1..SCAN {
                if ds[j - 1].is_finite() && ds[j].is_finite() && (ds[j - 1] > 0.0) != (ds[j] > 0.0)
                {
                    roots.push(bisect(|t| self.dx_of_m(t), ms[j - 1], ms[j]));
                }
            }
            // A gap too narrow for the samples: x' stays negative at every sample but peaks
            // above 0 in between. Refine the largest sample by golden section and look again.
            if !ds.iter().any(|&d| d > 0.0) {
                let Some(j) = (0..SCAN)
                    .filter(|&j| ds[j].is_finite())
                    .max_by(|&p, &q| ds[p].total_cmp(&ds[q]))
                else {
                    return;
                };
                let (lo, hi) = (ms[j.saturating_sub(1)], ms[(j + 1).min(SCAN - 1)]);
                let peak = golden_section(|m| -self.dx_of_m(m), lo, hi, 100);
                let top = self.dx_of_m(peak);
                if top > 0.0 {
                    roots.push(bisect(|t| self.dx_of_m(t), lo, peak));
                    roots.push(bisect(|t| self.dx_of_m(t), peak, hi));
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
        let big = 1.0 / self.v[0];
        scan(&|u: f64| big * u / (1.0 - u));
        (roots, necks)
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
        let (roots, necks) = self.critical_points();
        roots
            .into_iter()
            .chain(necks)
            .map(|m| self.x_of_m(m))
            .collect()
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
