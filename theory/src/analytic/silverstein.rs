//! Limiting spectrum of `Sigma_hat = Y Y^T / N` for the two-atom population
//! `Sigma = diag(alpha I_d, sigma^2 I_{n-d})`, from the Silverstein equation.
//!
//! With `c1 = d / N`, `c2 = (n - d) / N`, the Stieltjes transform `mt(z)` of the companion matrix
//! `Y^T Y / N` (`N x N`) solves
//!
//! ```text
//! z = -1/mt + c1 alpha / (1 + alpha mt) + c2 s / (1 + s mt),      s = sigma^2,
//! ```
//!
//! i.e. the cubic `A3 mt^3 + A2 mt^2 + A1 mt + 1 = 0` with `A3 = x alpha s`,
//! `A2 = x (alpha + s) + alpha s (1 - c1 - c2)`, `A1 = x + alpha + s - c1 alpha - c2 s`. On the
//! support, `mt(x + i0)` is the root with positive imaginary part. The support edges are the
//! values `x(m)` at the real critical points of the inverse function `x(m)` (Silverstein & Choi
//! 1995), the real roots of a quartic.
//!
//! [`Grid`] discretises the three spectral measures the risk formulas need on every support
//! interval `[l, r]` with the substitution `x = (l + r)/2 - (r - l)/2 cos(theta)` and the midpoint
//! rule in `theta`: the densities have square-root (or, at a hard edge at 0, inverse square-root)
//! behaviour at the edges, which this substitution turns into smooth periodic integrands, so the
//! rule converges geometrically.

use nalgebra::Complex;

type C64 = Complex<f64>;

/// The two-atom population seen through `N` samples.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Population {
    /// Signal variance `alpha = 1 + sigma^2`.
    pub a: f64,
    /// Noise variance `s = sigma^2`.
    pub s: f64,
    /// `d / N`.
    pub c1: f64,
    /// `(n - d) / N`.
    pub c2: f64,
    /// `d`, `n`, `N` as given.
    pub d: usize,
    pub n: usize,
    pub n_train: usize,
}

impl Population {
    pub fn new(d: usize, n: usize, sigma2: f64, n_train: usize) -> Self {
        let big_n = n_train as f64;
        Self {
            a: 1.0 + sigma2,
            s: sigma2,
            c1: d as f64 / big_n,
            // With sigma = 0 the noise atom sits at 0 and carries no variance: drop it.
            c2: if sigma2 > 0.0 {
                (n - d) as f64 / big_n
            } else {
                0.0
            },
            d,
            n,
            n_train,
        }
    }

    /// Number of non-zero population eigenvalues.
    pub fn pop_rank(&self) -> usize {
        if self.s > 0.0 {
            self.n
        } else {
            self.d
        }
    }

    /// Rank of `Y` (almost surely): `min(N, pop_rank)`.
    pub fn sample_rank(&self) -> usize {
        self.n_train.min(self.pop_rank())
    }

    /// `(1/N) tr Sigma`.
    pub fn trace_over_n(&self) -> f64 {
        self.c1 * self.a + self.c2 * self.s
    }

    /// The inverse function `x(m) = -1/m + c1 a/(1 + a m) + c2 s/(1 + s m)` (real `m`).
    fn x_of_m(&self, m: f64) -> f64 {
        let mut x = -1.0 / m + self.c1 * self.a / (1.0 + self.a * m);
        if self.c2 > 0.0 {
            x += self.c2 * self.s / (1.0 + self.s * m);
        }
        x
    }

    /// Ascending coefficients of the cubic in `mt` at the real point `x`.
    fn cubic(&self, x: f64) -> [f64; 4] {
        let (a, s, c1, c2) = (self.a, self.s, self.c1, self.c2);
        [
            1.0,
            x + a + s - c1 * a - c2 * s,
            x * (a + s) + a * s * (1.0 - c1 - c2),
            x * a * s,
        ]
    }

    /// `mt(x + i0)` for `x` inside the support (the root of largest imaginary part), or `None`
    /// when all roots are real (`x` outside the support).
    pub fn companion_stieltjes(&self, x: f64) -> Option<C64> {
        self.companion_stieltjes_from(x, None)
    }

    /// As [`Self::companion_stieltjes`], first trying Newton's method from `guess` (the root at a
    /// nearby point), which is much cheaper than the full root finder.
    pub fn companion_stieltjes_from(&self, x: f64, guess: Option<C64>) -> Option<C64> {
        let cubic = self.cubic(x);
        if let Some(mut z) = guess {
            for _ in 0..30 {
                let (p, dp) = eval(&cubic, z);
                let step = p / dp;
                if !(step.re.is_finite() && step.im.is_finite()) {
                    break;
                }
                z -= step;
                if step.norm() <= 1e-14 * z.norm() {
                    if z.im > 1e-7 * z.norm() {
                        return Some(z);
                    }
                    break;
                }
            }
        }
        let roots = poly_roots(&cubic);
        let best = roots.into_iter().max_by(|p, q| p.im.total_cmp(&q.im))?;
        (best.im > 1e-7 * best.norm()).then_some(best)
    }

    /// `kappa0 = 1 / mt(0)`: the positive root of `c1 a/(a + k) + c2 s/(s + k) = 1`, which exists
    /// when the population has more non-zero directions than samples (then `Sigma_hat` has an
    /// atom at 0). It is the effective ridge of the min-norm interpolator.
    pub fn kappa0(&self) -> Option<f64> {
        if self.pop_rank() <= self.n_train {
            return None;
        }
        let g = |k: f64| self.c1 * self.a / (self.a + k) + self.c2 * self.s / (self.s + k) - 1.0;
        // g decreases from pop_rank/N - 1 > 0 at 0 to -1 at infinity.
        let mut hi = self.trace_over_n();
        while g(hi) > 0.0 {
            hi *= 2.0;
        }
        Some(bisect(g, 0.0, hi))
    }

    /// Support intervals of the continuous part of the limiting spectrum of `Sigma_hat`, in
    /// ascending order (adjacent intervals may touch).
    pub fn support(&self) -> Vec<(f64, f64)> {
        let mut cands = vec![0.0];
        for m in self.critical_points() {
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
            .filter(|&(l, r)| r > l && self.companion_stieltjes(0.5 * (l + r)).is_some())
            .collect()
    }

    /// Real roots of `x'(m) = 0`, i.e. of
    /// `(1+am)^2 (1+sm)^2 - c1 a^2 m^2 (1+sm)^2 - c2 s^2 m^2 (1+am)^2`.
    fn critical_points(&self) -> Vec<f64> {
        let (a, s, c1, c2) = (self.a, self.s, self.c1, self.c2);
        let pa = [1.0, a];
        let ps = [1.0, s];
        let pa2 = poly_mul(&pa, &pa);
        let ps2 = poly_mul(&ps, &ps);
        let mut p = poly_mul(&pa2, &ps2);
        let t1 = poly_mul(&[0.0, 0.0, c1 * a * a], &ps2);
        let t2 = poly_mul(&[0.0, 0.0, c2 * s * s], &pa2);
        for (i, c) in p.iter_mut().enumerate() {
            *c -= t1.get(i).copied().unwrap_or(0.0) + t2.get(i).copied().unwrap_or(0.0);
        }
        poly_roots(&p)
            .into_iter()
            .filter(|r| r.im.abs() <= 1e-6 * (1.0 + r.re.abs()))
            .map(|r| polish_real(&p, r.re))
            .filter(|&m| m != 0.0 && (1.0 + a * m).abs() > 1e-12 && (1.0 + s * m).abs() > 1e-12)
            .collect()
    }
}

/// Relative error allowed on the total masses of the discretised measures.
pub(crate) const MASS_TOL: f64 = 1e-11;

/// Upper bound on the nodes per support interval.
pub(crate) const MAX_NODES: usize = 6144;

/// The three spectral measures on a quadrature grid, plus their atoms at 0.
///
/// For a function `g`, `sum_j w[j] g(x[j])` approximates `integral g d(mu)` over the continuous
/// part. The measures (Stieltjes convention `F(z) = F_inf + integral rho(x) / (z - x) dx`):
/// - `esd`: limiting eigenvalue distribution of `Sigma_hat` (mass `rank / n`);
/// - `wu`: `rho_u`, of `u(z) = 1 / (z mt(z))`, the measure
///   `(1/N) sum_i (p_i^T Sigma p_i) delta(lambda_i)` (total mass `tr(Sigma) / N`);
/// - `we`: `rho_e`, of `e(z) = 1 / (1 + alpha mt(z))`, where `e(z) / z` is the transform of
///   `(1/d) sum_i ||P1 p_i||^2 delta(lambda_i)` (mass of `rho_e`: `alpha`).
#[derive(Clone, Debug)]
pub(crate) struct Grid {
    pub x: Vec<f64>,
    pub esd: Vec<f64>,
    pub wu: Vec<f64>,
    pub we: Vec<f64>,
    /// Atom of `rho_u` at 0: `kappa0` when `N < rank(Sigma)`, else 0.
    pub atom_u: f64,
    /// Mass of the signal projector at 0: `e(0) = kappa0 / (alpha + kappa0)`.
    pub atom_p1: f64,
    /// Support intervals.
    pub support: Vec<(f64, f64)>,
    pub kappa0: Option<f64>,
}

impl Grid {
    /// Discretises with at least `min_nodes` points per support interval, doubling them (up to
    /// [`MAX_NODES`]) until every measure has its exact total mass to [`MASS_TOL`]: the masses
    /// are known in closed form, so they serve as a built-in error estimate. This matters where
    /// the two clusters of the spectrum almost touch (a cusp-like neck in the density).
    /// Cost `O(nodes)` cubic solves per attempt.
    pub fn adaptive(pop: &Population, min_nodes: usize) -> Self {
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

    /// Largest relative error of the four total masses (see [`Grid`]).
    pub fn mass_error(&self, pop: &Population) -> f64 {
        let rel = |got: f64, want: f64| (got - want).abs() / want;
        let esd: f64 = self.esd.iter().sum();
        let u: f64 = self.wu.iter().sum::<f64>() + self.atom_u;
        let e: f64 = self.we.iter().sum();
        let p1: f64 = self.we.iter().zip(&self.x).map(|(w, x)| w / x).sum::<f64>() + self.atom_p1;
        rel(esd, pop.sample_rank() as f64 / pop.n as f64)
            .max(rel(u, pop.trace_over_n()))
            .max(rel(e, pop.a))
            .max(rel(p1, 1.0))
    }

    /// Discretises with `nodes` points per support interval. Cost `O(nodes)` cubic solves.
    fn new(pop: &Population, support: Vec<(f64, f64)>, nodes: usize) -> Self {
        let cap = nodes * support.len();
        let (mut x, mut esd, mut wu, mut we) = (
            Vec::with_capacity(cap),
            Vec::with_capacity(cap),
            Vec::with_capacity(cap),
            Vec::with_capacity(cap),
        );
        let inv_pi = std::f64::consts::FRAC_1_PI;
        let ratio = pop.n_train as f64 / pop.n as f64;
        for &(l, r) in &support {
            let (mid, half) = (0.5 * (l + r), 0.5 * (r - l));
            let dtheta = std::f64::consts::PI / nodes as f64;
            let mut guess = None;
            for j in 0..nodes {
                let theta = (j as f64 + 0.5) * dtheta;
                let xj = mid - half * theta.cos();
                let dx = half * theta.sin() * dtheta;
                let Some(mt) = pop.companion_stieltjes_from(xj, guess) else {
                    continue;
                };
                guess = Some(mt);
                let u = 1.0 / (mt * xj);
                let e = 1.0 / (1.0 + mt * pop.a);
                x.push(xj);
                esd.push(ratio * inv_pi * mt.im * dx);
                wu.push(-inv_pi * u.im * dx);
                we.push(-inv_pi * e.im * dx);
            }
        }
        let kappa0 = pop.kappa0();
        Self {
            x,
            esd,
            wu,
            we,
            atom_u: kappa0.unwrap_or(0.0),
            atom_p1: kappa0.map_or(0.0, |k| k / (pop.a + k)),
            support,
            kappa0,
        }
    }
}

/// `root` of `g` in `[lo, hi]` with `g(lo) > 0 > g(hi)` (or the reverse), to machine precision.
pub(crate) fn bisect(g: impl Fn(f64) -> f64, mut lo: f64, mut hi: f64) -> f64 {
    let up = g(lo) < 0.0;
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if (g(mid) < 0.0) == up {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// Product of two polynomials in ascending coefficients.
fn poly_mul(p: &[f64], q: &[f64]) -> Vec<f64> {
    let mut out = vec![0.0; p.len() + q.len() - 1];
    for (i, &pi) in p.iter().enumerate() {
        for (j, &qj) in q.iter().enumerate() {
            out[i + j] += pi * qj;
        }
    }
    out
}

/// Polynomial and derivative at a complex point (ascending coefficients).
fn eval(c: &[f64], z: C64) -> (C64, C64) {
    let mut p = C64::new(0.0, 0.0);
    let mut dp = C64::new(0.0, 0.0);
    for &ci in c.iter().rev() {
        dp = dp * z + p;
        p = p * z + ci;
    }
    (p, dp)
}

/// Newton polish of a real root.
fn polish_real(c: &[f64], mut m: f64) -> f64 {
    for _ in 0..8 {
        let (p, dp) = eval(c, C64::new(m, 0.0));
        if dp.re == 0.0 {
            break;
        }
        let step = p.re / dp.re;
        if !step.is_finite() {
            break;
        }
        m -= step;
        if step.abs() <= 1e-16 * m.abs() {
            break;
        }
    }
    m
}

/// All complex roots of a low-degree real polynomial (ascending coefficients) by the
/// Aberth-Ehrlich iteration, then Newton-polished. Leading zero coefficients are dropped.
pub(crate) fn poly_roots(c: &[f64]) -> Vec<C64> {
    let scale = c.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let mut deg = c.len() - 1;
    while deg > 0 && c[deg].abs() <= 1e-15 * scale {
        deg -= 1;
    }
    if deg == 0 {
        return Vec::new();
    }
    let c = &c[..=deg];
    // Start on a circle whose radius is the geometric mean of the root moduli.
    let radius = (c[0].abs() / c[deg].abs())
        .powf(1.0 / deg as f64)
        .max(1e-12);
    let mut z: Vec<C64> = (0..deg)
        .map(|k| {
            let ang = 0.4 + 2.0 * std::f64::consts::PI * k as f64 / deg as f64;
            C64::from_polar(radius, ang)
        })
        .collect();
    for _ in 0..500 {
        let mut moved = 0.0f64;
        for i in 0..deg {
            let (p, dp) = eval(c, z[i]);
            if p.norm() == 0.0 {
                continue;
            }
            let ratio = p / dp;
            let mut rep = C64::new(0.0, 0.0);
            for (j, zj) in z.iter().enumerate() {
                if j != i {
                    rep += 1.0 / (z[i] - zj);
                }
            }
            let w = ratio / (1.0 - ratio * rep);
            if w.re.is_finite() && w.im.is_finite() {
                z[i] -= w;
                moved = moved.max(w.norm() / z[i].norm().max(1e-300));
            }
        }
        if moved < 1e-15 {
            break;
        }
    }
    for zi in z.iter_mut() {
        for _ in 0..3 {
            let (p, dp) = eval(c, *zi);
            let step = p / dp;
            if step.re.is_finite() && step.im.is_finite() {
                *zi -= step;
            }
        }
    }
    z
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots_of_known_cubic() {
        // (z - 1)(z - 2)(z + 3) = z^3 - 7 z + 6
        let mut r: Vec<f64> = poly_roots(&[6.0, -7.0, 0.0, 1.0])
            .iter()
            .map(|z| z.re)
            .collect();
        r.sort_by(f64::total_cmp);
        for (got, want) in r.iter().zip([-3.0, 1.0, 2.0]) {
            assert!((got - want).abs() < 1e-12, "{r:?}");
        }
    }

    #[test]
    fn marchenko_pastur_edges() {
        // d = n, sigma = 0: white Wishart with variance 1, ratio n / N = 1/4.
        let pop = Population::new(100, 100, 0.0, 400);
        let sup = pop.support();
        assert_eq!(sup.len(), 1);
        let (l, r) = sup[0];
        assert!(
            (l - 0.25).abs() < 1e-10 && (r - 2.25).abs() < 1e-10,
            "{sup:?}"
        );
    }

    #[test]
    fn grid_masses() {
        for &(d, n, s, nt) in &[
            (10, 100, 0.01, 44),
            (100, 1000, 0.01, 256),
            (10, 100, 0.04, 1024),
        ] {
            let pop = Population::new(d, n, s, nt);
            let g = Grid::adaptive(&pop, 64);
            let esd: f64 = g.esd.iter().sum();
            let wu: f64 = g.wu.iter().sum::<f64>() + g.atom_u;
            let we: f64 = g.we.iter().sum();
            let rank = pop.sample_rank() as f64 / n as f64;
            assert!((esd - rank).abs() < 1e-9, "esd mass {esd} vs {rank}");
            assert!((wu - pop.trace_over_n()).abs() < 1e-9 * wu, "u mass {wu}");
            assert!((we - pop.a).abs() < 1e-9, "e mass {we}");
        }
    }
}
