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
//! reproduced.

use nalgebra::Complex;

use super::silverstein::bisect;

type C64 = Complex<f64>;

/// Relative error allowed on the total masses (looser than the two-atom grid's `1e-11`: many
/// clusters, each with its own edges).
pub(crate) const MASS_TOL: f64 = 1e-9;

/// Upper bound on `nodes` (the quadrature has `2 nodes + 1` points per support interval).
const MAX_NODES: usize = 2048;

/// Half-width of the tanh-sinh parameter range: at `|t| = 4` the nodes are within `1e-37` of
/// the ends (relative). Beyond `|t| = 3` they round onto an edge unless it is 0, but a hard
/// edge at 0 (`N = rank`, density `~ x^{-1/2}`) needs them: its tail mass below `x` is
/// `~ sqrt(x)`.
const TANH_SINH_T: f64 = 4.0;

/// Samples of `x'(m)` per interval between poles when looking for critical points.
const SCAN: usize = 128;

/// A discrete population with bias weights, seen through `N` samples.
#[derive(Clone, Debug)]
pub(crate) struct Atoms {
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

impl Atoms {
    /// `sum_k n_k`: the rank of `Sigma`.
    pub fn rank(&self) -> f64 {
        self.c.iter().sum::<f64>() * self.n_train as f64
    }

    /// `(1/N) tr Sigma`.
    pub fn trace_over_n(&self) -> f64 {
        self.c.iter().zip(&self.v).map(|(c, v)| c * v).sum()
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

    /// `mt(x + i0)` for `x` inside the support (`Im mt > 0`), or `None` outside it. Tries Newton
    /// from `guess` first (a neighbour's root), then the homotopy in `eta`.
    pub fn stieltjes(&self, x: f64, guess: Option<C64>) -> Option<C64> {
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

    /// `kappa0 = 1/mt(0)`, the positive root of `sum_k c_k v_k / (v_k + kappa) = 1`, when
    /// `rank(Sigma) > N` (then `Sigma_hat` has an atom at 0).
    pub fn kappa0(&self) -> Option<f64> {
        if self.rank() <= self.n_train as f64 {
            return None;
        }
        let g = |k: f64| {
            self.c
                .iter()
                .zip(&self.v)
                .map(|(c, v)| c * v / (v + k))
                .sum::<f64>()
                - 1.0
        };
        let mut hi = self.trace_over_n();
        while g(hi) > 0.0 {
            hi *= 2.0;
        }
        Some(bisect(g, 0.0, hi))
    }

    /// Real roots of `x'(m) = 0`: sampled between consecutive poles (`-1/v_k`, 0) and on both
    /// unbounded ends, sign changes refined by bisection. Also returns the **necks**: peaks of
    /// `x'` that stay just below 0 (`m^2 x'(m) > -1`), where two clusters almost separate and the
    /// density dips steeply without vanishing; the quadrature splits there, since a near-kink
    /// inside an interval would slow its convergence to first order.
    fn critical_points(&self) -> (Vec<f64>, Vec<f64>) {
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
                let (mut l, mut r) = (ms[j.saturating_sub(1)], ms[(j + 1).min(SCAN - 1)]);
                let gr = 0.5 * (5f64.sqrt() - 1.0);
                for _ in 0..100 {
                    let (a, b) = (r - gr * (r - l), l + gr * (r - l));
                    if self.dx_of_m(a) > self.dx_of_m(b) {
                        r = b;
                    } else {
                        l = a;
                    }
                }
                let peak = 0.5 * (l + r);
                let top = self.dx_of_m(peak);
                if top > 0.0 {
                    let (lo, hi) = (ms[j.saturating_sub(1)], ms[(j + 1).min(SCAN - 1)]);
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

    /// Support intervals of the continuous part of the limiting spectrum of `Sigma_hat`,
    /// ascending; adjacent intervals touch at necks (see [`Self::critical_points`]).
    pub fn support(&self) -> Vec<(f64, f64)> {
        // No direction with positive variance: Sigma_hat = 0.
        if self.v.is_empty() {
            return Vec::new();
        }
        let mut cands = vec![0.0];
        let (roots, necks) = self.critical_points();
        for m in roots.into_iter().chain(necks) {
            let x = self.x_of_m(m);
            if x.is_finite() && x > 0.0 {
                cands.push(x);
            }
        }
        cands.sort_by(f64::total_cmp);
        cands.dedup_by(|p, q| (*p - *q).abs() <= 1e-13 * q.abs().max(1e-300));
        cands
            .windows(2)
            .map(|w| (w[0], w[1]))
            .filter(|&(l, r)| r > l && self.stieltjes(0.5 * (l + r), None).is_some())
            .collect()
    }
}

/// The measures on a quadrature grid (as in `silverstein::Grid`): `esd` (eigenvalue
/// distribution of `Sigma_hat`, mass `min(N, rank)/n`), `wu` (`rho_u` of `u = 1/(z mt)`, mass with
/// the atom `tr(Sigma)/N`), `we` (`rho_E` of `E(z) = sum_k A_k / (1 + v_k mt(z))`, mass
/// `sum_k A_k v_k`; with `E/x` and `E(0)` it has mass `sum_k A_k`).
#[derive(Clone, Debug)]
pub(crate) struct Grid {
    pub x: Vec<f64>,
    pub esd: Vec<f64>,
    pub wu: Vec<f64>,
    pub we: Vec<f64>,
    pub atom_u: f64,
    /// `E(0) = sum_k A_k kappa0 / (v_k + kappa0)` (0 without an atom).
    pub atom_a: f64,
    pub support: Vec<(f64, f64)>,
}

impl Grid {
    /// At least `min_nodes` per support interval, doubled until all four masses are exact to
    /// [`MASS_TOL`] (or [`MAX_NODES`] is reached).
    pub fn adaptive(pop: &Atoms, min_nodes: usize) -> Self {
        let support = pop.support();
        let mut nodes = min_nodes;
        loop {
            let grid = Self::new(pop, support.clone(), nodes);
            if nodes >= MAX_NODES || grid.mass_error(pop) < MASS_TOL {
                return grid;
            }
            nodes *= 2;
        }
    }

    /// Largest relative error of the four masses (the bias masses are skipped when all `A_k`
    /// are 0).
    pub fn mass_error(&self, pop: &Atoms) -> f64 {
        let rel = |got: f64, want: f64| {
            if want == 0.0 {
                got.abs()
            } else {
                (got - want).abs() / want
            }
        };
        let masses = self.masses();
        let rank = pop.rank().min(pop.n_train as f64);
        let a_v: f64 = pop.a.iter().zip(&pop.v).map(|(a, v)| a * v).sum();
        let a_sum: f64 = pop.a.iter().sum();
        rel(masses.0, rank / pop.n as f64)
            .max(rel(masses.1, pop.trace_over_n()))
            .max(rel(masses.2, a_v))
            .max(rel(masses.3, a_sum))
    }

    /// `(esd, rho_u + atom, rho_E, rho_E / x + E(0))` total masses.
    pub fn masses(&self) -> (f64, f64, f64, f64) {
        (
            self.esd.iter().sum(),
            self.wu.iter().sum::<f64>() + self.atom_u,
            self.we.iter().sum(),
            self.we.iter().zip(&self.x).map(|(w, x)| w / x).sum::<f64>() + self.atom_a,
        )
    }

    fn new(pop: &Atoms, support: Vec<(f64, f64)>, nodes: usize) -> Self {
        let cap = (2 * nodes + 1) * support.len();
        let mut x = Vec::with_capacity(cap);
        let mut esd = Vec::with_capacity(cap);
        let mut wu = Vec::with_capacity(cap);
        let mut we = Vec::with_capacity(cap);
        let inv_pi = std::f64::consts::FRAC_1_PI;
        let ratio = pop.n_train as f64 / pop.n as f64;
        for &(l, r) in &support {
            let half = 0.5 * (r - l);
            let h = TANH_SINH_T / nodes as f64;
            let mut guess = None;
            for j in -(nodes as i64)..=(nodes as i64) {
                let t = j as f64 * h;
                let arg = std::f64::consts::FRAC_PI_2 * t.sinh();
                // Distance to the nearer end, half (1 - tanh|arg|), without cancellation.
                let dist = 2.0 * half / ((2.0 * arg.abs()).exp() + 1.0);
                let xj = if t < 0.0 { l + dist } else { r - dist };
                let dx =
                    half * std::f64::consts::FRAC_PI_2 * t.cosh() / (arg.cosh() * arg.cosh()) * h;
                // Beyond double precision the node sits on the edge itself.
                if xj == l || xj == r {
                    continue;
                }
                let Some(mt) = pop.stieltjes(xj, guess) else {
                    continue;
                };
                guess = Some(mt);
                let u = 1.0 / (mt * xj);
                let e: C64 = pop
                    .a
                    .iter()
                    .zip(&pop.v)
                    .map(|(a, v)| *a / (1.0 + mt * *v))
                    .sum();
                x.push(xj);
                esd.push(ratio * inv_pi * mt.im * dx);
                wu.push(-inv_pi * u.im * dx);
                we.push(-inv_pi * e.im * dx);
            }
        }
        let kappa0 = pop.kappa0();
        let atom_a = kappa0.map_or(0.0, |k| {
            pop.a.iter().zip(&pop.v).map(|(a, v)| a * k / (v + k)).sum()
        });
        Self {
            x,
            esd,
            wu,
            we,
            atom_u: kappa0.unwrap_or(0.0),
            atom_a,
            support,
        }
    }
}
