//! Drawing a training set's [`Spectrum`] from the structure of its Gram matrix, and the two
//! engines that decompose it: `structured` (rank-`d` updates of a diagonal, `O(d^2 K^2)`) and
//! `dense` (one `K x K` symmetric eigendecomposition, `O(K^3)`), `K = min(n, N)`.
//!
//! In the basis `[U, U_perp]` the measurements are `Y = [Y_1; Y_2]` with `Y_1 = sqrt(alpha) G_1`
//! (`d x N`) and `Y_2 = sigma G_2` (`(n - d) x N`), `G_1, G_2` independent standard normal. So
//!
//! ```text
//! Y^T Y = sigma^2 G_2^T G_2 + alpha G_1^T G_1,
//! ```
//!
//! a null real Wishart matrix plus an independent rank-`d` term. `G_2^T G_2 = O^T diag(mu) O`
//! with `O` Haar and independent of `mu`, and `G_1 O^T` is again standard normal and
//! independent of `mu`; on the `N - m` null directions of `G_2` (`m = min(n - d, N)`) the
//! rank-`d` term is rotated further into a lower-trapezoidal Bartlett factor with `k = min(d,
//! N - m)` columns. What remains is the `K x K` matrix, `K = m + k = min(n, N)`,
//!
//! ```text
//! M = diag(0_k, sigma^2 mu) + B^T B,      B = sqrt(alpha) [T_0 | H]     (d x K),
//! ```
//!
//! with `mu` drawn directly ([`crate::wishart`]), `H` standard normal and `T_0` the Bartlett
//! factor. `M` has the eigenvalues `lambda_i` of `Y^T Y`, and `a_i = B q_i / sqrt(lambda_i)` are
//! the projections that the risk needs (`theory/exact.md`). A [`SpectralDraw`] holds these
//! ingredients, so the two engines can be run on the same draw.

use faer::{Mat, Par};
use rand::Rng;
use rand_distr::{ChiSquared, Distribution, StandardNormal};
use strum::{EnumString, IntoStaticStr, VariantNames};

use crate::linalg::{gram_t, mul, numerical_rank, sym_eig_desc};
pub use crate::secular::nonconverged_roots as secular_nonconverged_roots;
use crate::secular::Projected;
use crate::spectrum::Spectrum;
use crate::wishart::null_wishart_eigenvalues;
use crate::{Setup, TheoryError};

/// How a draw's spectrum is computed. Its names (`structured`, `dense`, `auto`: the command
/// line's) are derived: [`Engine::name`] and `FromStr`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, IntoStaticStr, EnumString, VariantNames)]
#[strum(
    serialize_all = "lowercase",
    parse_err_ty = TheoryError,
    parse_err_fn = unknown_engine
)]
pub enum Engine {
    /// `d` rank-one updates of the diagonal by secular equations: `O(d^2 K^2)` flops, `O(d K)`
    /// memory.
    Structured,
    /// One dense `K x K` symmetric eigendecomposition: `O(K^3)` flops, `O(K^2)` memory. The
    /// referee.
    Dense,
    /// Whichever of the two has the smaller estimated cost for the setup and `N`.
    Auto,
}

impl Engine {
    /// The name used on the command line.
    pub fn name(&self) -> &'static str {
        self.into()
    }

    /// The engine that runs for this setup and `N`: `Auto` resolved by estimated cost.
    pub fn resolve(&self, setup: &Setup, n_train: usize) -> Engine {
        match self {
            Engine::Auto => {
                if structured_cost(setup, n_train) <= dense_cost(setup, n_train) {
                    Engine::Structured
                } else {
                    Engine::Dense
                }
            }
            other => *other,
        }
    }

    /// Estimated peak bytes of one draw's decomposition (not counting the gradient-descent
    /// path kernels): the ingredients `O(d K)` for both engines, plus `6 K^2` doubles for the
    /// dense one (matrix, eigenvectors and workspace; measured 5.2 GB at `K = 10000`).
    /// Saturates at `usize::MAX` (a size no machine holds) instead of overflowing.
    pub fn memory_bytes(&self, setup: &Setup, n_train: usize) -> usize {
        let k = setup.n().min(n_train);
        let base = (4usize.saturating_mul(setup.d()).saturating_add(66))
            .saturating_mul(k)
            .saturating_mul(8);
        match self.resolve(setup, n_train) {
            Engine::Dense => base.saturating_add(48usize.saturating_mul(k).saturating_mul(k)),
            _ => base,
        }
    }

    /// Estimated CPU time of one draw (seconds of one core): drawing the ingredients
    /// (`3.5e-9 m^2` s, `m = min(n - d, N)`: the noise block's eigenvalues) plus this engine's
    /// decomposition by the cost model that `Auto` chooses with, at `COST_UNITS_PER_CPU_SECOND`.
    /// Against the timings of `theory/exact.md` it is within a factor of about 2 (it leaves out
    /// the gradient-descent path, a small share with the early-stopping search): an order of
    /// magnitude to show before long work, not a benchmark.
    pub fn estimated_cpu_seconds(&self, setup: &Setup, n_train: usize) -> f64 {
        let m = (setup.n() - setup.d()).min(n_train) as f64;
        let units = match self.resolve(setup, n_train) {
            Engine::Dense => dense_cost(setup, n_train),
            _ => structured_cost(setup, n_train),
        };
        3.5e-9 * m * m + units / COST_UNITS_PER_CPU_SECOND
    }

    /// Draws the ingredients and decomposes them with this engine.
    ///
    /// # Errors
    /// [`TheoryError::InvalidArgument`] when `n_train == 0`.
    pub fn spectrum<R: Rng + ?Sized>(
        &self,
        setup: &Setup,
        n_train: usize,
        rng: &mut R,
        par: Par,
    ) -> Result<Spectrum, TheoryError> {
        let draw = SpectralDraw::draw(setup, n_train, rng)?;
        Ok(match self.resolve(setup, n_train) {
            Engine::Dense => draw.dense(par),
            _ => draw.structured(par),
        })
    }
}

// By hand: `write_str` ignores width and fill, as the tables that print it expect (strum's
// derived `Display` pads).
impl std::fmt::Display for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// `FromStr`'s error: the valid names listed.
fn unknown_engine(s: &str) -> TheoryError {
    let (last, rest) = Engine::VARIANTS.split_last().expect("engines exist");
    TheoryError::InvalidArgument(format!(
        "unknown engine '{s}' (expected {} or {last})",
        rest.join(", ")
    ))
}

/// Units of [`structured_cost`] and [`dense_cost`] per second of one core: `d = 50, K = 2048`
/// took 1.7 s dense (2.9e10 units) and 0.80 s structured (1.8e10), and `d = 10, n = 10000,
/// N = 16384` 1.8 s structured (4.3e10) on this machine's cores (`theory/exact.md`).
const COST_UNITS_PER_CPU_SECOND: f64 = 2e10;

/// Relative cost of the structured engine's decomposition (arbitrary units shared with
/// [`dense_cost`]; drawing the ingredients is common to both engines and not counted): `d`
/// updates of `K^2 (d + 32)` work each (the GEMM of the projections, and the roots, Löwner's
/// formula and the Cauchy blocks as 32 units per pole) and a per-update overhead of `10^4 K`.
/// Fitted to CPU times at `d = 10, 50, 100` and `K` from 64 to 10000 (`theory/exact.md`): at
/// `d = 50` the two engines cross near `K = 1000`, where dense measured 10% faster.
fn structured_cost(setup: &Setup, n_train: usize) -> f64 {
    let k = setup.n().min(n_train) as f64;
    let d = setup.d() as f64;
    d * k * k * (d + 32.0) + 1e4 * d * k
}

/// Relative cost of the dense engine: a `K x K` eigendecomposition with vectors, `2.2 K^3 +
/// 2380 K^2` in the units of [`structured_cost`] (the `K^2` part dominates below `K ~ 1000`).
fn dense_cost(setup: &Setup, n_train: usize) -> f64 {
    let k = setup.n().min(n_train) as f64;
    2.2 * k * k * k + 2380.0 * k * k
}

/// The random ingredients of one training set's spectrum (see the module documentation).
#[derive(Clone, Debug)]
pub struct SpectralDraw {
    setup: Setup,
    n_train: usize,
    /// The diagonal of `M`, ascending: `k` zeros, then `sigma^2 mu` (`K` in all).
    diag: Vec<f64>,
    /// `B = sqrt(alpha) [T_0 | H]`, `d x K`, columns aligned with `diag`.
    b: Mat<f64>,
    /// Standard normal `d x K`: the label noise of the `i`-th largest eigenvalue's target
    /// (`v_i = a_i / alpha + tau xi_i / sqrt(lambda_i)`).
    xi: Mat<f64>,
}

impl SpectralDraw {
    /// Draws the ingredients for `n_train` examples. Cost `O(m^2 + d K)` flops (the noise
    /// block's tridiagonal eigenvalues dominate), memory `O(d K)`.
    ///
    /// # Errors
    /// [`TheoryError::InvalidArgument`] when `n_train == 0`.
    pub fn draw<R: Rng + ?Sized>(
        setup: &Setup,
        n_train: usize,
        rng: &mut R,
    ) -> Result<Self, TheoryError> {
        crate::setup::check_train_size(n_train)?;
        let (n, d) = (setup.n(), setup.d());
        let noise_rows = n - d;
        let m = noise_rows.min(n_train);
        let null_dims = n_train - m;
        let k = d.min(null_dims);
        let mu = if setup.sigma() > 0.0 {
            null_wishart_eigenvalues(noise_rows, n_train, setup.sigma2(), rng)
        } else {
            // Consume nothing: the noise block is exactly zero.
            vec![0.0; m]
        };
        let root_alpha = setup.alpha().sqrt();
        let mut b = Mat::<f64>::zeros(d, k + m);
        for j in 0..m {
            for c in 0..d {
                let x: f64 = rng.sample(StandardNormal);
                b[(c, k + j)] = root_alpha * x;
            }
        }
        for j in 0..k {
            for c in j..d {
                let x = if c == j {
                    ChiSquared::new((null_dims - c) as f64)
                        .expect("positive degrees of freedom")
                        .sample(rng)
                        .sqrt()
                } else {
                    rng.sample(StandardNormal)
                };
                b[(c, j)] = root_alpha * x;
            }
        }
        let xi = Mat::from_fn(d, k + m, |_, _| rng.sample::<f64, _>(StandardNormal));
        let mut diag = vec![0.0; k];
        diag.extend(mu);
        Ok(Self {
            setup: *setup,
            n_train,
            diag,
            b,
            xi,
        })
    }

    /// `K = min(n, N)`, the size of the decomposed matrix.
    pub fn size(&self) -> usize {
        self.diag.len()
    }

    /// The matrix `M = diag + B^T B` (`K x K`), explicitly. Cost `O(d K^2)`.
    pub fn matrix(&self, par: Par) -> Mat<f64> {
        let mut m = gram_t(self.b.as_ref(), par);
        for (j, &x) in self.diag.iter().enumerate() {
            m[(j, j)] += x;
        }
        m
    }

    /// The structured engine: `d` rank-one updates of `diag`, carrying only `B q_i`.
    /// Cost `O(d K^2 (d + iterations))` flops, memory `O(d K)`.
    pub fn structured(&self, par: Par) -> Spectrum {
        let (d, k) = (self.setup.d(), self.size());
        let w: Vec<f64> = (0..k)
            .flat_map(|j| (0..d).map(move |c| (j, c)))
            .map(|(j, c)| self.b[(c, j)])
            .collect();
        let mut proj = Projected::new(self.diag.clone(), w, d);
        for c in 0..d {
            proj.add_rank_one(c, par);
        }
        let (lambda_asc, w) = proj.into_parts();
        let lambda: Vec<f64> = lambda_asc.iter().rev().copied().collect();
        let bq = Mat::from_fn(d, k, |c, i| w[(k - 1 - i) * d + c]);
        self.finish(lambda, bq)
    }

    /// The dense engine (the referee): eigendecomposition of the explicit `M`.
    /// Cost `O(K^3)` flops, memory `O(K^2)`.
    pub fn dense(&self, par: Par) -> Spectrum {
        let (lambda, q) = sym_eig_desc(self.matrix(par).as_ref(), par);
        let bq = mul(self.b.as_ref(), q.as_ref(), par);
        self.finish(lambda, bq)
    }

    /// From the eigenvalues of `M` (descending) and the projections `B q_i` (`d x K`), the
    /// spectrum: numerical rank, `a_i = B q_i / sqrt(lambda_i)` with the sign that makes its
    /// largest entry positive (an eigenvector's sign is arbitrary; fixing it lets both engines
    /// pair the same `xi_i` with the same `a_i`), and `v_i`.
    fn finish(&self, lambda: Vec<f64>, bq: Mat<f64>) -> Spectrum {
        let s = &self.setup;
        let d = s.d();
        let r = numerical_rank(&lambda, s.n(), self.n_train);
        let (alpha, tau) = (s.alpha(), (s.sigma2() / s.alpha()).sqrt());
        let mut a = Mat::<f64>::zeros(d, r);
        let mut v = Mat::<f64>::zeros(d, r);
        for i in 0..r {
            let root = lambda[i].sqrt();
            let lead =
                (0..d)
                    .map(|c| bq[(c, i)])
                    .fold(0.0f64, |acc, x| if x.abs() > acc.abs() { x } else { acc });
            let sign = if lead < 0.0 { -1.0 } else { 1.0 };
            for c in 0..d {
                a[(c, i)] = sign * bq[(c, i)] / root;
                v[(c, i)] = a[(c, i)] / alpha + tau * self.xi[(c, i)] / root;
            }
        }
        Spectrum::new(*s, self.n_train, lambda[..r].to_vec(), a, v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_names_round_trip_and_unknown_ones_list_them() {
        for (e, name) in [
            (Engine::Structured, "structured"),
            (Engine::Dense, "dense"),
            (Engine::Auto, "auto"),
        ] {
            assert_eq!((e.name(), e.to_string()), (name, name.to_string()));
            assert_eq!(name.parse::<Engine>().unwrap(), e);
        }
        let e = "fast".parse::<Engine>().unwrap_err().to_string();
        assert!(
            e.contains("unknown engine 'fast' (expected structured, dense or auto)"),
            "{e}"
        );
    }
}
