//! The general linear Gaussian model with a forward operator that is diagonal in the signal's
//! eigenbasis, and the expected risk of linear estimators learned from `N` examples of it.
//! Derivations, assumptions and the tests that check them: `theory/gaussian.md`.
//!
//! # Model
//! In the signal's eigenbasis (the Fourier basis for a stationary image model), coordinate `i`
//! of the signal, the gain of the operator on it and the measurement are
//!
//! ```text
//! x_i ~ N(0, lambda_i),   y_i = a_i x_i + sigma z_i,   z ~ N(0, I_n),   i = 1..n,
//! ```
//!
//! all independent. Denoising is `a = 1`; masking (a fixed Cartesian mask in an orthonormal
//! Fourier basis, a blur) has `a_i` in `{0, 1}` or general. The Bayes (= linear MMSE) estimator
//! acts coordinate-wise, `x_hat_i = w_i y_i` with `w_i = a_i lambda_i / v_i`,
//! `v_i = a_i^2 lambda_i + sigma^2` (the input variance); its error is the **floor**
//!
//! ```text
//! floor = (1/n) sum_i tau_i^2,   tau_i^2 = lambda_i sigma^2 / v_i   (= lambda_i where v_i = 0).
//! ```
//!
//! # Learned estimators
//! An `n x n` matrix `W` learned from `N` pairs `(x, y)` has risk
//! `R(W) = (1/n) E ||W y - x||^2 = floor + (1/n) sum_i sum_j (W_ij - w_i delta_ij)^2 v_j`
//! (per coordinate, the units of a per-pixel MSE). For ridge
//! `W = X Y^T (Y Y^T + N lambda I)^{-1}` the deterministic equivalent (large `n`, `N`, fixed ratio)
//! is, with the effective regularisation `kappa` solving
//! `lambda = kappa (1 - (1/N) sum_j v_j / (v_j + kappa))`,
//!
//! ```text
//! D = (1/N) sum_j v_j^2 / (v_j + kappa)^2,
//! R = floor + [ (1/n) sum_i kappa^2 w_i^2 v_i / (v_i + kappa)^2 + floor D ] / (1 - D).
//! ```
//!
//! Min-norm least squares is `lambda -> 0`; for `N > p + 1` (`p` the number of coordinates with
//! `v_i > 0`) its expectation is exact: `floor (1 + p / (N - p - 1))` (inverse Wishart).
//!
//! The closed forms (floor, ridge, least squares) cost `O(atoms)` per evaluation, where atoms
//! are the distinct `(lambda_i, a_i)` pairs (an isotropic `s x s` spectrum has about `s^2 / 8` of
//! them). Gradient descent and gradient flow go through [`DiagonalModel::equivalent`]: the
//! limiting spectrum of the sample covariance on a quadrature grid (its support from the
//! critical points of `x(m)`: `O(1)` per gap between atoms that a closed-form bound rules out,
//! a few `O(atoms)` Newton steps for the others; `O(atoms)` per node), then `O(nodes)` per
//! gradient-descent step.
//!
//! ```
//! use plateau_theory::gaussian::DiagonalModel;
//! // A 1/f^2-like spectrum on 64 coordinates, denoising at sigma = 0.5.
//! let lambda: Vec<f64> = (1..=64).map(|i| 1.0 / (i * i) as f64).collect();
//! let model = DiagonalModel::denoising(&lambda, 0.5).unwrap();
//! let (_, risk) = model.ridge_optimal(256).unwrap();
//! assert!(risk > model.floor());
//! ```

use faer::{Mat, Par};
use rand::Rng;
use rand_distr::StandardNormal;

use crate::analytic::check_n_train;
use crate::analytic::discrete::Discrete;
use crate::analytic::filter::RiskKernel;
use crate::analytic::gd::{best_iterate, GD_ITERS};
use crate::analytic::quadrature::Grid;
use crate::analytic::scalar::{bisect, minimise_log};
use crate::linalg::{mul, sym_eig_desc};
use crate::TheoryError;

/// Distinct `(lambda, a)` pairs with their multiplicities, and what the estimators need of them.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Atom {
    lambda: f64,
    gain: f64,
    count: f64,
    /// Input variance `v = a^2 lambda + sigma^2`.
    v: f64,
    /// Bayes weight `w = a lambda / v` (0 where `v = 0`).
    w: f64,
    /// Residual variance `tau^2 = lambda sigma^2 / v` (`lambda` where `v = 0`).
    tau2: f64,
}

/// A validated linear Gaussian model, diagonal in the signal's eigenbasis.
#[derive(Clone, Debug)]
pub struct DiagonalModel {
    /// Per coordinate `(lambda_i, a_i)`, in the order given (for sampling).
    coords: Vec<(f64, f64)>,
    atoms: Vec<Atom>,
    sigma2: f64,
    floor: f64,
}

impl DiagonalModel {
    /// The model with signal variances `lambda` (the covariance eigenvalues), operator gains `a`
    /// (one per coordinate) and noise standard deviation `sigma`.
    ///
    /// # Errors
    /// [`TheoryError::InvalidSetup`] when the lengths differ or are 0, a variance is negative or
    /// not finite, all variances are 0, a gain is not finite, or `sigma` is negative or not
    /// finite.
    pub fn new(lambda: &[f64], gains: &[f64], sigma: f64) -> Result<Self, TheoryError> {
        let bad = |m: String| Err(TheoryError::InvalidSetup(m));
        if lambda.is_empty() || lambda.len() != gains.len() {
            return bad(format!(
                "need one gain per signal variance and at least one of each, got {} variances and {} gains",
                lambda.len(),
                gains.len()
            ));
        }
        if let Some(l) = lambda.iter().find(|l| !(l.is_finite() && **l >= 0.0)) {
            return bad(format!("signal variances must be finite and >= 0, got {l}"));
        }
        if lambda.iter().all(|&l| l == 0.0) {
            return bad("at least one signal variance must be positive".into());
        }
        if let Some(a) = gains.iter().find(|a| !a.is_finite()) {
            return bad(format!("operator gains must be finite, got {a}"));
        }
        if !(sigma.is_finite() && sigma >= 0.0) {
            return bad(format!("noise sigma must be finite and >= 0, got {sigma}"));
        }
        let sigma2 = sigma * sigma;
        let coords: Vec<(f64, f64)> = lambda.iter().copied().zip(gains.iter().copied()).collect();
        let mut sorted = coords.clone();
        // |a| only enters through a^2 and the sign of w, which the risk squares away.
        sorted.iter_mut().for_each(|c| c.1 = c.1.abs());
        sorted.sort_by(|p, q| p.0.total_cmp(&q.0).then(p.1.total_cmp(&q.1)));
        let mut atoms: Vec<Atom> = Vec::new();
        for (l, a) in sorted {
            match atoms.last_mut() {
                Some(last) if last.lambda == l && last.gain == a => last.count += 1.0,
                _ => {
                    let v = a * a * l + sigma2;
                    let (w, tau2) = if v > 0.0 {
                        (a * l / v, l * sigma2 / v)
                    } else {
                        (0.0, l)
                    };
                    atoms.push(Atom {
                        lambda: l,
                        gain: a,
                        count: 1.0,
                        v,
                        w,
                        tau2,
                    });
                }
            }
        }
        let n = coords.len() as f64;
        let floor = atoms.iter().map(|t| t.count * t.tau2).sum::<f64>() / n;
        Ok(Self {
            coords,
            atoms,
            sigma2,
            floor,
        })
    }

    /// Denoising, `a = 1`: `y = x + sigma z`.
    ///
    /// # Errors
    /// As [`Self::new`].
    pub fn denoising(lambda: &[f64], sigma: f64) -> Result<Self, TheoryError> {
        Self::new(lambda, &vec![1.0; lambda.len()], sigma)
    }

    /// Number of coordinates `n`.
    pub fn dim(&self) -> usize {
        self.coords.len()
    }

    /// Number of distinct `(lambda, |a|)` pairs (the cost unit of every prediction).
    pub fn atoms(&self) -> usize {
        self.atoms.len()
    }

    /// Noise variance `sigma^2`.
    pub fn sigma2(&self) -> f64 {
        self.sigma2
    }

    /// The LMMSE (= MMSE) error per coordinate, `(1/n) sum_i tau_i^2`.
    pub fn floor(&self) -> f64 {
        self.floor
    }

    /// Risk per coordinate of the zero estimator, `(1/n) sum_i lambda_i`.
    pub fn signal_power(&self) -> f64 {
        self.coords.iter().map(|c| c.0).sum::<f64>() / self.dim() as f64
    }

    /// Number of coordinates with positive input variance (the rank of `E y y^T`).
    pub fn input_rank(&self) -> usize {
        self.atoms
            .iter()
            .filter(|t| t.v > 0.0)
            .map(|t| t.count as usize)
            .sum()
    }

    /// `(1/N) sum_j v_j^r / (v_j + kappa)^r` for `r = 1, 2`.
    fn dofs(&self, n_train: f64, kappa: f64) -> (f64, f64) {
        let (mut d1, mut d2) = (0.0, 0.0);
        for t in &self.atoms {
            if t.v > 0.0 {
                let q = t.v / (t.v + kappa);
                d1 += t.count * q;
                d2 += t.count * q * q;
            }
        }
        (d1 / n_train, d2 / n_train)
    }

    /// The effective regularisation `kappa > 0` of ridge penalty `lambda > 0`: the unique root of
    /// `kappa (1 - df1(kappa)/N) = lambda` (the left side increases from 0 without bound).
    fn effective_ridge(&self, n_train: f64, lambda: f64) -> f64 {
        let trace: f64 = self.atoms.iter().map(|t| t.count * t.v).sum::<f64>() / n_train;
        bisect(
            |k| k * (1.0 - self.dofs(n_train, k).0) - lambda,
            lambda,
            lambda + trace,
        )
    }

    /// `kappa0 > 0` with `df1(kappa0) = N`, the effective ridge of the min-norm interpolator, when
    /// `N < p` (rank of the inputs); `None` otherwise.
    fn interpolation_ridge(&self, n_train: f64) -> Option<f64> {
        if n_train >= self.input_rank() as f64 {
            return None;
        }
        let vmax = self.atoms.iter().map(|t| t.v).fold(0.0, f64::max);
        let p = self.input_rank() as f64;
        // df1(k) <= p vmax / (vmin + k): at k = p vmax / N it is below N.
        Some(bisect(
            |k| n_train - self.dofs(n_train, k).0 * n_train,
            0.0,
            p * vmax / n_train,
        ))
    }

    /// Ridge risk at effective regularisation `kappa >= 0` (`kappa = 0` needs `N > p`).
    fn risk_at_kappa(&self, n_train: f64, kappa: f64) -> f64 {
        let (_, dd) = self.dofs(n_train, kappa);
        let n = self.dim() as f64;
        let bias = if kappa > 0.0 {
            self.atoms
                .iter()
                .filter(|t| t.v > 0.0)
                .map(|t| {
                    t.count * kappa * kappa * t.w * t.w * t.v / ((t.v + kappa) * (t.v + kappa))
                })
                .sum::<f64>()
                / n
        } else {
            0.0
        };
        let excess = bias + self.floor * dd;
        // Noiseless interpolation at N = p: D = 1 but nothing to amplify (exact recovery).
        if excess == 0.0 {
            return self.floor;
        }
        self.floor + excess / (1.0 - dd)
    }

    /// Deterministic equivalent of the expected risk (per coordinate) of ridge
    /// `W = X Y^T (Y Y^T + N lambda I)^{-1}`, `lambda > 0` in the units of `Y Y^T / N`.
    ///
    /// # Errors
    /// [`TheoryError::InvalidArgument`] for `n_train == 0` or `lambda` not finite and positive.
    pub fn ridge(&self, n_train: usize, lambda: f64) -> Result<f64, TheoryError> {
        check_n_train(n_train)?;
        if !(lambda.is_finite() && lambda > 0.0) {
            return Err(TheoryError::InvalidArgument(format!(
                "ridge penalty must be finite and positive, got {lambda}"
            )));
        }
        let nt = n_train as f64;
        Ok(self.risk_at_kappa(nt, self.effective_ridge(nt, lambda)))
    }

    /// The optimally tuned ridge `(lambda*, risk)`: the deterministic equivalent minimised over
    /// `lambda` in `[1e-10, 1e4] * (mean input variance)` (log grid, then golden section).
    ///
    /// # Errors
    /// [`TheoryError::InvalidArgument`] for `n_train == 0`.
    pub fn ridge_optimal(&self, n_train: usize) -> Result<(f64, f64), TheoryError> {
        check_n_train(n_train)?;
        let nt = n_train as f64;
        let scale = self.atoms.iter().map(|t| t.count * t.v).sum::<f64>() / self.dim() as f64;
        let scale = if scale > 0.0 { scale } else { 1.0 };
        let f = |log_l: f64| self.risk_at_kappa(nt, self.effective_ridge(nt, log_l.exp()));
        let (x, r) = minimise_log(f, (1e-10 * scale).ln(), (1e4 * scale).ln());
        Ok((x.exp(), r))
    }

    /// Expected risk of min-norm least squares `W = X pinv(Y)`: exact
    /// `floor (1 + p / (N - p - 1))` for `N > p + 1` (`p` = [`Self::input_rank`]), infinite
    /// (`None`) for `N` in `{p - 1, p, p + 1}` when `floor > 0`, and the deterministic equivalent
    /// for `N < p - 1`.
    ///
    /// # Errors
    /// [`TheoryError::InvalidArgument`] for `n_train == 0`.
    pub fn least_squares(&self, n_train: usize) -> Result<Option<f64>, TheoryError> {
        check_n_train(n_train)?;
        let p = self.input_rank();
        let nt = n_train as f64;
        if n_train > p + 1 {
            return Ok(Some(
                self.floor * (1.0 + p as f64 / (n_train - p - 1) as f64),
            ));
        }
        if self.floor > 0.0 && n_train + 1 >= p {
            return Ok(None);
        }
        Ok(Some(match self.interpolation_ridge(nt) {
            Some(k0) => self.risk_at_kappa(nt, k0),
            None => self.risk_at_kappa(nt, 0.0),
        }))
    }

    /// The deterministic equivalent of the sample spectrum for `n_train` examples: build once,
    /// then evaluate the gradient-descent path, gradient flow or any spectral filter. Cost: the
    /// support search (`O(atoms)` bounds, `O(atoms)` per Newton step where a bound does not
    /// rule a gap out) and `O(atoms)` per quadrature node.
    ///
    /// # Errors
    /// [`TheoryError::InvalidArgument`] for `n_train == 0`.
    pub fn equivalent(&self, n_train: usize) -> Result<GaussianEquivalent, TheoryError> {
        check_n_train(n_train)?;
        let n = self.dim() as f64;
        let pop = Discrete::new(
            self.atoms
                .iter()
                .map(|t| (t.v, t.count, t.count * t.w * t.w / n)),
            self.dim(),
            n_train,
        );
        let grid = Grid::adaptive(&pop, 32);
        Ok(GaussianEquivalent {
            floor: self.floor,
            n_train,
            grid,
        })
    }

    /// Draws a training set: `(X, Y)`, both `n x N` (coordinates in the model's order).
    pub fn sample<R: Rng + ?Sized>(&self, n_train: usize, rng: &mut R) -> (Mat<f64>, Mat<f64>) {
        let n = self.dim();
        let sigma = self.sigma2.sqrt();
        let mut x = Mat::<f64>::zeros(n, n_train);
        let mut y = Mat::<f64>::zeros(n, n_train);
        for j in 0..n_train {
            for (i, &(l, a)) in self.coords.iter().enumerate() {
                let xi = l.sqrt() * rng.sample::<f64, _>(StandardNormal);
                x[(i, j)] = xi;
                y[(i, j)] = a * xi + sigma * rng.sample::<f64, _>(StandardNormal);
            }
        }
        (x, y)
    }

    /// The exact risk (per coordinate) of `W = X Y^T V diag(f(mu)) V^T` for the eigenpairs
    /// `(mu, V)` of `Y Y^T`, for each filter in `filters` (`f(mu) = 1/(mu + N lambda)` is ridge,
    /// `1/mu` on the non-zero eigenvalues is min-norm least squares). One `n x n` eigen-
    /// decomposition plus `O(n^2)` per filter: the Monte Carlo referee of [`Self::ridge`].
    ///
    /// # Errors
    /// [`TheoryError::Shape`] when `X` or `Y` is not `n x N` with the same `N >= 1`.
    pub fn exact_risks(
        &self,
        x: &Mat<f64>,
        y: &Mat<f64>,
        filters: &[&dyn Fn(f64) -> f64],
    ) -> Result<Vec<f64>, TheoryError> {
        let n = self.dim();
        if x.nrows() != n || y.nrows() != n || x.ncols() != y.ncols() || x.ncols() == 0 {
            return Err(TheoryError::Shape(format!(
                "X and Y must both be {n} x N with N >= 1, got {}x{} and {}x{}",
                x.nrows(),
                x.ncols(),
                y.nrows(),
                y.ncols()
            )));
        }
        let form = FilterRiskForm::new(self, x, y);
        Ok(filters
            .iter()
            .map(|f| self.floor + form.excess(f))
            .collect())
    }
}

/// The excess risk of `W = Z diag(f(mu)) V^T` (`Z = X Y^T V`, `(mu, V)` the eigenpairs of
/// `Y Y^T`) as a quadratic form in the filter values `f(mu)`: `O(n^3)` to build, `O(n^2)` per
/// filter.
struct FilterRiskForm {
    /// Eigenvalues of `Y Y^T`, descending.
    mu: Vec<f64>,
    /// `Z^T Z`.
    ztz: Mat<f64>,
    /// `V^T diag(v) V`, `v` the variance of each coordinate of `y`.
    vdv: Mat<f64>,
    /// `g_a = sum_i w_i v_i Z_ia V_ia`, `w` the Bayes weights.
    g: Vec<f64>,
    /// `sum_i w_i^2 v_i`.
    wvw: f64,
}

impl FilterRiskForm {
    fn new(model: &DiagonalModel, x: &Mat<f64>, y: &Mat<f64>) -> FilterRiskForm {
        let n = model.dim();
        let par = Par::Seq;
        let yyt = mul(y.as_ref(), y.transpose(), par);
        let (mu, v) = sym_eig_desc(yyt.as_ref(), par);
        // Z = X Y^T V, so W = Z diag(f) V^T.
        let z = mul(
            mul(x.as_ref(), y.transpose(), par).as_ref(),
            v.as_ref(),
            par,
        );
        let var: Vec<f64> = model
            .coords
            .iter()
            .map(|&(l, a)| a * a * l + model.sigma2)
            .collect();
        let bayes: Vec<f64> = model
            .coords
            .iter()
            .zip(&var)
            .map(|(&(l, a), &vi)| if vi > 0.0 { a * l / vi } else { 0.0 })
            .collect();
        // ||W diag(sqrt v)||_F^2 = sum_ab f_a f_b (Z^T Z)_ab (V^T diag(v) V)_ab.
        let ztz = mul(z.transpose(), z.as_ref(), par);
        let dv = Mat::from_fn(n, n, |i, j| var[i] * v[(i, j)]);
        let vdv = mul(v.transpose(), dv.as_ref(), par);
        // sum_i w_i v_i W_ii = sum_a f_a g_a, g_a = sum_i w_i v_i Z_ia V_ia.
        let g: Vec<f64> = (0..n)
            .map(|a| {
                (0..n)
                    .map(|i| bayes[i] * var[i] * z[(i, a)] * v[(i, a)])
                    .sum()
            })
            .collect();
        let wvw: f64 = bayes.iter().zip(&var).map(|(w, vi)| w * w * vi).sum();
        FilterRiskForm {
            mu,
            ztz,
            vdv,
            g,
            wvw,
        }
    }

    /// The risk above the floor, per coordinate, of the filter `f`.
    fn excess(&self, f: &dyn Fn(f64) -> f64) -> f64 {
        let n = self.mu.len();
        let fv: Vec<f64> = self.mu.iter().map(|&m| f(m)).collect();
        let mut quad = 0.0;
        for b in 0..n {
            if fv[b] == 0.0 {
                continue;
            }
            let mut row = 0.0;
            for (a, &fa) in fv.iter().enumerate() {
                row += fa * self.ztz[(a, b)] * self.vdv[(a, b)];
            }
            quad += fv[b] * row;
        }
        let cross: f64 = fv.iter().zip(&self.g).map(|(f, g)| f * g).sum();
        (quad - 2.0 * cross + self.wvw) / n as f64
    }
}

/// The deterministic equivalent of one `(model, N)` (see [`DiagonalModel::equivalent`]).
///
/// For a spectral estimator `W = X Y^T h(Y Y^T)` with filter `phi(x) = x h(N x)` on the
/// eigenvalues `x` of `Y Y^T / N` and `psi = 1 - phi`:
/// `R = floor + int rho_E J^2 + floor int rho_u phi^2 / x`, with
/// `J(x) = -psi(x) + int rho_u(y) (psi(y) - psi(x)) / (y - x) dy` (atom at 0 included) — the
/// two-resolvent collapse of `theory/analytic.md`, with the signal projector replaced by
/// `A = diag(w_i^2)` (`theory/gaussian.md`).
#[derive(Clone, Debug)]
pub struct GaussianEquivalent {
    floor: f64,
    n_train: usize,
    grid: Grid,
}

impl GaussianEquivalent {
    /// The risk kernel: the measures, the floor, and bias scale 1 (`A` carries the weights).
    fn kernel(&self) -> RiskKernel<'_> {
        RiskKernel {
            measures: self.grid.measures(),
            floor: self.floor,
            bias_scale: 1.0,
        }
    }

    /// Support intervals of the limiting spectrum of `Y Y^T / N` (without the atom at 0).
    pub fn support(&self) -> &[(f64, f64)] {
        &self.grid.support
    }

    /// The largest eigenvalue of `Y Y^T / N` in the limit (0 if the support is empty).
    pub fn top_eigenvalue(&self) -> f64 {
        self.grid.support.last().map_or(0.0, |s| s.1)
    }

    /// Total masses of the discretised measures `(esd, rho_u + atom, rho_E, rho_E/x + E(0))`;
    /// exact values `(min(N, p)/n, tr(Sigma)/N, (1/n) sum w_i^2 v_i, (1/n) sum w_i^2)`. For tests.
    pub fn masses(&self) -> (f64, f64, f64, f64) {
        self.grid.masses()
    }

    /// Expected risk of gradient descent from `W = 0` on `||W Y - X||_F^2 / 2` with step
    /// `eta = c / N`, after `k = 0..=iters` steps (`path[0]` = the signal power). Stable for
    /// `c < 2 / top_eigenvalue`. Cost `O(iters * nodes)`.
    pub fn gd_path(&self, c: f64, iters: usize) -> Vec<f64> {
        self.kernel().gd_path(c, iters, &[], false)
    }

    /// Early-stopped gradient descent: `(k_opt, risk)`, the minimum of [`Self::gd_path`] over
    /// `k <= GD_ITERS`, with `c` = `1 / top_eigenvalue` when `None` (the step `1/L` for the
    /// limiting largest eigenvalue `L` of `Y Y^T / N`).
    pub fn gd_early_stopped(&self, c: Option<f64>) -> (usize, f64) {
        let c = c.unwrap_or_else(|| 1.0 / self.top_eigenvalue().max(f64::MIN_POSITIVE));
        best_iterate(&self.kernel().gd_path(c, GD_ITERS, &[], true))
    }

    /// Expected risk of the spectral estimator with residual filter `psi = 1 - phi`, given with
    /// its divided difference `dd(y, x) = (psi(y) - psi(x)) / (y - x)` (`dd(x, x) = psi'(x)`);
    /// `psi` analytic near the spectrum and 0, `phi(0) = 0`. Cost `O(nodes^2)`.
    pub fn filter_risk(&self, psi: impl Fn(f64) -> f64, dd: impl Fn(f64, f64) -> f64) -> f64 {
        self.kernel().filter(psi, dd)
    }

    /// Expected risk of gradient flow at time `t` (`psi = exp(-t x)`; GD with `c` after `k`
    /// steps is close to `t = c k`). Cost `O(nodes^2)`.
    pub fn gradient_flow(&self, t: f64) -> f64 {
        self.kernel().gradient_flow(t)
    }

    /// Training-set size `N`.
    pub fn n_train(&self) -> usize {
        self.n_train
    }
}
