//! The paper's two-atom population `Sigma = diag(alpha I_d, sigma^2 I_{n-d})` seen through `N`
//! samples, whose Silverstein equation is a cubic.
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
//! The bias weight is the signal projector (`A = 1` on the signal atom, 0 on the noise atom), so
//! the bias transform is `e(z) = 1 / (1 + alpha mt(z))`. The measures are discretised with the
//! Chebyshev midpoint rule ([`Rule::ChebyshevMidpoint`]): every interval ends at a square-root
//! edge or a hard edge at 0.

use super::finite_size::NEGLIGIBLE_NOISE;
use super::poly::{
    backward_error, eval, polish_real, poly_mul, poly_roots, C64, ROUNDING_BACKWARD_ERROR,
};
use super::population::Population;
use super::quadrature::{Quadrature, Rule};

/// The two-atom population seen through `N` samples.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TwoAtom {
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

impl TwoAtom {
    pub fn new(d: usize, n: usize, sigma2: f64, n_train: usize) -> Self {
        let big_n = n_train as f64;
        Self {
            a: 1.0 + sigma2,
            s: sigma2,
            c1: d as f64 / big_n,
            // With sigma = 0 the noise atom sits at 0 and carries no variance: drop it. So also
            // below `NEGLIGIBLE_NOISE`, where it moves every risk by a relative `O(s)` (below
            // rounding) and its scale `1/s` is out of the range of the root finders.
            c2: if sigma2 > NEGLIGIBLE_NOISE {
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
        if self.c2 > 0.0 || self.n == self.d {
            self.n
        } else {
            self.d
        }
    }

    /// Rank of `Y` (almost surely): `min(N, pop_rank)`.
    pub fn sample_rank(&self) -> usize {
        self.n_train.min(self.pop_rank())
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

    /// Real roots of `x'(m) = 0`, i.e. of
    /// `(1+am)^2 (1+sm)^2 - c1 a^2 m^2 (1+sm)^2 - c2 s^2 m^2 (1+am)^2`.
    ///
    /// With a small noise variance the roots come in two scales, `|m| ~ 1/a` (the signal
    /// cluster's edges) and `|m| ~ 1/s` (the noise bulk's). In `m` the quartic's leading
    /// coefficient is `O(s^2)` and the root finder drops it below `1e-15` of the largest, losing
    /// the noise bulk (for `s <= 1e-8` the whole bulk vanished from the support and PCA's risk
    /// came out as 1); in `mu = s m` the small roots are lost instead. So when the scales are
    /// apart ([`scale_separated`](Self::scale_separated)) each scale's roots come from the
    /// quartic written in it, split at `|m| = 1/sqrt(a s)`. Test
    /// `tiny_noise_keeps_the_noise_bulk`.
    fn critical_points(&self) -> Vec<f64> {
        let (a, s) = (self.a, self.s);
        let mut roots = if self.scale_separated() {
            let split = 1.0 / (a * s).sqrt();
            let mut small: Vec<f64> = self.quartic_roots(1.0);
            small.retain(|m| m.abs() < split);
            let large = self.quartic_roots(s).into_iter().map(|mu| mu / s);
            small.extend(large.filter(|m| m.abs() >= split));
            small
        } else {
            self.quartic_roots(1.0)
        };
        roots.retain(|&m| m != 0.0 && (1.0 + a * m).abs() > 1e-12 && (1.0 + s * m).abs() > 1e-12);
        roots
    }

    /// Whether the noise variance is so far below the signal's (`s < 1e-3 a`, `sigma < 0.03`)
    /// that the polynomials in `m` lose the noise bulk's roots to rounding; then they are found
    /// in the bulk's own scale. Above it (the paper's setups) the plain polynomials are exact.
    fn scale_separated(&self) -> bool {
        self.c2 > 0.0 && self.s < 1e-3 * self.a
    }

    /// The real roots `mu` of the critical-point quartic written in `mu = k m`, Newton-polished.
    fn quartic_roots(&self, k: f64) -> Vec<f64> {
        let (a, s, c1, c2) = (self.a / k, self.s / k, self.c1, self.c2);
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
            .collect()
    }
}

impl Population for TwoAtom {
    const QUADRATURE: Quadrature = Quadrature {
        rule: Rule::ChebyshevMidpoint,
        mass_tol: 1e-11,
        max_nodes: 6144,
    };

    fn n(&self) -> usize {
        self.n
    }

    fn n_train(&self) -> usize {
        self.n_train
    }

    fn rank(&self) -> f64 {
        self.pop_rank() as f64
    }

    fn atoms(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        let noise = (self.c2 > 0.0).then_some((self.s, self.c2));
        std::iter::once((self.a, self.c1)).chain(noise)
    }

    /// The root of the cubic of largest imaginary part, first trying Newton's method from
    /// `guess`, which is much cheaper than the full root finder.
    fn stieltjes(&self, x: f64, guess: Option<C64>) -> Option<C64> {
        let cubic = self.cubic(x);
        if let Some(mut z) = guess {
            for _ in 0..30 {
                let (p, dp) = eval(&cubic, z);
                let step = p / dp;
                if !(step.re.is_finite() && step.im.is_finite()) {
                    break;
                }
                z -= step;
                // Converged: the step is negligible, or the residual is at the rounding level
                // (at large `N` rounding keeps the steps above 1e-14 and Newton used to give
                // up here, sending every node to the full root finder).
                if step.norm() <= 1e-14 * z.norm()
                    || backward_error(&cubic, z) <= ROUNDING_BACKWARD_ERROR
                {
                    if z.im > 1e-7 * z.norm() {
                        return Some(z);
                    }
                    break;
                }
            }
        }
        let roots = if self.scale_separated() && x < (self.a * self.s).sqrt() {
            // In the noise bulk `mt ~ 1/x`: the cubic in `mu = x mt` keeps its leading
            // coefficient `x a s`, which in `mt` is below the root finder's 1e-15 cut-off.
            let scaled = [
                cubic[0] * x * x * x,
                cubic[1] * x * x,
                cubic[2] * x,
                cubic[3],
            ];
            poly_roots(&scaled).into_iter().map(|mu| mu / x).collect()
        } else {
            poly_roots(&cubic)
        };
        let best = roots.into_iter().max_by(|p, q| p.im.total_cmp(&q.im))?;
        (best.im > 1e-7 * best.norm()).then_some(best)
    }

    fn edge_candidates(&self) -> Vec<f64> {
        self.critical_points()
            .into_iter()
            .map(|m| self.x_of_m(m))
            .collect()
    }

    fn bias_transform(&self, mt: C64) -> C64 {
        1.0 / (1.0 + mt * self.a)
    }

    fn bias_atom(&self, kappa0: f64) -> f64 {
        kappa0 / (self.a + kappa0)
    }

    fn bias_masses(&self) -> (f64, f64) {
        (self.a, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::super::quadrature::Grid;
    use super::*;

    #[test]
    fn marchenko_pastur_edges() {
        // d = n, sigma = 0: white Wishart with variance 1, ratio n / N = 1/4.
        let pop = TwoAtom::new(100, 100, 0.0, 400);
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
            let pop = TwoAtom::new(d, n, s, nt);
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

    /// With a small noise variance (scales `a` and `s` apart) the noise bulk stays in the support
    /// and the grid reproduces every measure's mass on few nodes. Before, for `sigma <= 1e-4`,
    /// the bulk's edges and Stieltjes roots fell below the root finder's cut-off: the support
    /// lost the bulk, the grid ran to its node limit, and PCA's predicted risk came out as 1.
    #[test]
    fn tiny_noise_keeps_the_noise_bulk() {
        for sigma in [3e-2, 1e-2, 1e-4, 1e-6, 1e-8] {
            for n_train in [44, 200, 1024] {
                let pop = TwoAtom::new(10, 100, sigma * sigma, n_train);
                let sup = pop.support();
                assert_eq!(sup.len(), 2, "sigma {sigma} N {n_train}: {sup:?}");
                let g = Grid::adaptive(&pop, 64);
                assert!(
                    g.x.len() <= 1024,
                    "sigma {sigma} N {n_train}: {} nodes",
                    g.x.len()
                );
                let esd: f64 = g.esd.iter().sum();
                let rank = pop.sample_rank() as f64 / 100.0;
                assert!(
                    (esd - rank).abs() < 1e-9,
                    "sigma {sigma} N {n_train}: esd {esd}"
                );
                let we: f64 = g.we.iter().sum();
                assert!(
                    (we - pop.a).abs() < 1e-9,
                    "sigma {sigma} N {n_train}: e mass {we}"
                );
            }
        }
    }
}
