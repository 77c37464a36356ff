//! The spectral form of a training set, from which every estimator's exact risk follows.
//!
//! Let `Y Y^T = sum_i lambda_i p_i p_i^T` (`i < r`, the `r = rank(Y)` non-zero eigenvalues, in
//! descending order). Gradient descent from `W_0 = 0` with step `eta` gives
//! `W_k = X Y^T h_k(Y Y^T)` with `h_k(l) = (1 - (1 - eta l)^k) / l`, and with `X = U C`
//!
//! ```text
//! W_k = U sum_i f_k(lambda_i) v_i p_i^T,     f_k(l) = 1 - (1 - eta l)^k,
//! ```
//!
//! where `v_i = C Y^T p_i / lambda_i` (a `d`-vector). Writing `a_i = U^T p_i`, the risk is
//!
//! ```text
//! d R(W_k) = || sum_i f_k(lambda_i) v_i a_i^T - I_d ||_F^2 + sigma^2 sum_i f_k(lambda_i)^2 ||v_i||^2 .
//! ```
//!
//! Only `lambda` (`r`), `A = [a_i]` (`d x r`) and `V = [v_i]` (`d x r`) are needed: no `n x n`
//! matrix. The minimum-norm least-squares solution is the filter `f = 1`, and PCA uses the
//! overlaps `a_i` of the top `d` eigenvectors. See `theory/exact.md` for the derivation.

use faer::{Mat, Par};

use crate::simd::simd_kernel;
use crate::Setup;

mod early_stop;
pub use early_stop::search_cpu_seconds;

/// Iterations per block when evaluating a gradient-descent path: bounds the working memory to
/// `BLOCK * r` doubles while keeping the products large enough for efficient GEMMs.
const BLOCK: usize = 256;

/// `|q| = |1 - eta lambda|^k` below which an eigenvalue's filter is frozen (see `gd_risk_path`).
const FREEZE: f64 = 8.673617379884035e-19; // 2^-60

/// Eigen-data of one training set: everything the exact risks need.
#[derive(Clone, Debug)]
pub struct Spectrum {
    setup: Setup,
    n_train: usize,
    /// Non-zero eigenvalues of `Y Y^T`, descending; length `r`.
    lambda: Vec<f64>,
    /// `d x r`: column `i` is `U^T p_i`.
    a: Mat<f64>,
    /// `d x r`: column `i` is `v_i = C Y^T p_i / lambda_i`.
    v: Mat<f64>,
}

impl Spectrum {
    /// Assembles a spectrum. `lambda` must be positive and descending, `a` and `v` of shape
    /// `d x lambda.len()`.
    pub(crate) fn new(
        setup: Setup,
        n_train: usize,
        lambda: Vec<f64>,
        a: Mat<f64>,
        v: Mat<f64>,
    ) -> Self {
        debug_assert_eq!(a.nrows(), setup.d());
        debug_assert_eq!(v.nrows(), setup.d());
        debug_assert_eq!(a.ncols(), lambda.len());
        debug_assert_eq!(v.ncols(), lambda.len());
        debug_assert!(lambda.windows(2).all(|w| w[0] >= w[1]));
        Self {
            setup,
            n_train,
            lambda,
            a,
            v,
        }
    }

    /// The model this training set was drawn from.
    pub fn setup(&self) -> &Setup {
        &self.setup
    }

    /// Number of training examples `N`.
    pub fn n_train(&self) -> usize {
        self.n_train
    }

    /// Rank `r` of `Y`: the number of non-zero eigenvalues kept.
    pub fn rank(&self) -> usize {
        self.lambda.len()
    }

    /// Non-zero eigenvalues of `Y Y^T`, descending.
    pub fn eigenvalues(&self) -> &[f64] {
        &self.lambda
    }

    /// Risk of the spectral estimator `W = U sum_i filter[i] v_i p_i^T`. `O(r d^2)`.
    pub fn filter_risk(&self, filter: &[f64]) -> f64 {
        assert_eq!(filter.len(), self.rank());
        let d = self.setup.d();
        let mut dmat = Mat::<f64>::zeros(d, d);
        let mut weight = 0.0;
        for (i, &f) in filter.iter().enumerate() {
            let (vi, ai) = (self.v.col(i), self.a.col(i));
            let mut vnorm2 = 0.0;
            for p in 0..d {
                let fv = f * vi[p];
                vnorm2 += vi[p] * vi[p];
                for q in 0..d {
                    dmat[(p, q)] += fv * ai[q];
                }
            }
            weight += f * f * vnorm2;
        }
        (frob2_minus_identity(&dmat) + self.setup.sigma2() * weight) / d as f64
    }

    /// The mean of [`Spectrum::filter_risk`] over the label noise given `(lambda, A)`
    /// (Rao-Blackwellisation): with `v_i = a_i / alpha + tau xi_i / sqrt(lambda_i)`, `xi_i`
    /// i.i.d. `N(0, I_d)` independent of `(lambda, A)` and `tau^2 = sigma^2 / alpha`,
    ///
    /// ```text
    /// E[d R | lambda, A] = ||sum_i f_i a_i a_i^T / alpha - I||_F^2
    ///     + sum_i f_i^2 (tau^2 d / lambda_i) (||a_i||^2 + sigma^2)
    ///     + sigma^2 sum_i f_i^2 ||a_i||^2 / alpha^2 .
    /// ```
    ///
    /// Same mean as the plain risk over draws, smaller variance (`theory/exact.md`). `O(r d^2)`.
    pub fn filter_risk_noise_averaged(&self, filter: &[f64]) -> f64 {
        assert_eq!(filter.len(), self.rank());
        let s = &self.setup;
        let d = s.d();
        let (alpha, sigma2) = (s.alpha(), s.sigma2());
        let tau2 = sigma2 / alpha;
        let mut dmat = Mat::<f64>::zeros(d, d);
        let mut weight = 0.0;
        for (i, &f) in filter.iter().enumerate() {
            let ai = self.a.col(i);
            for p in 0..d {
                let fa = f * ai[p] / alpha;
                for q in 0..d {
                    dmat[(p, q)] += fa * ai[q];
                }
            }
            weight += f * f * noise_weight(d, alpha, tau2, sigma2, self.lambda[i], ai);
        }
        (frob2_minus_identity(&dmat) + weight) / d as f64
    }

    /// The weights `c_i = (tau^2 d / lambda_i)(||a_i||^2 + sigma^2) + sigma^2 ||a_i||^2 / alpha^2`
    /// of `sum_i f_i^2 c_i` in [`Spectrum::filter_risk_noise_averaged`]. `O(r d)`.
    fn noise_weights(&self) -> Vec<f64> {
        let s = &self.setup;
        let (alpha, sigma2) = (s.alpha(), s.sigma2());
        let tau2 = sigma2 / alpha;
        (0..self.rank())
            .map(|i| noise_weight(s.d(), alpha, tau2, sigma2, self.lambda[i], self.a.col(i)))
            .collect()
    }

    /// Risk of minimum-norm least squares `W_inf = X pinv(Y)` (the filter `f = 1`).
    pub fn least_squares_risk(&self) -> f64 {
        self.filter_risk(&vec![1.0; self.rank()])
    }

    /// [`Spectrum::least_squares_risk`] averaged over the label noise given the spectrum
    /// ([`Spectrum::filter_risk_noise_averaged`] with `f = 1`).
    pub fn least_squares_risk_noise_averaged(&self) -> f64 {
        self.filter_risk_noise_averaged(&vec![1.0; self.rank()])
    }

    /// Risk of PCA, `W = U_hat U_hat^T / (1 + sigma^2)` with `U_hat` the eigenvectors of the
    /// `min(d, r)` largest eigenvalues of `Y Y^T`.
    ///
    /// With `m = min(d, r)` and `o = ||U_hat^T U||_F^2 = sum_{i<m} ||a_i||^2`:
    /// `d R = d + (1/alpha^2 - 2/alpha) o + sigma^2 m / alpha^2`, `alpha = 1 + sigma^2`.
    pub fn pca_risk(&self) -> f64 {
        let s = &self.setup;
        let m = s.d().min(self.rank());
        let overlap: f64 = (0..m).map(|i| self.a.col(i).squared_norm_l2()).sum();
        let alpha = s.alpha();
        let d = s.d() as f64;
        (d + (1.0 / (alpha * alpha) - 2.0 / alpha) * overlap
            + s.sigma2() * m as f64 / (alpha * alpha))
            / d
    }

    /// Exact risk `R(W_k)` of every gradient-descent iterate `k = 0..=iters` with step `eta`.
    ///
    /// The filters `f_k(lambda_i)` for a block of iterations form a `block x r` matrix `F`;
    /// the `d x d` matrices `sum_i f_k(lambda_i) v_i a_i^T` of the whole block are one product
    /// `F M` with `M[i, (p, q)] = v_i[p] a_i[q]` (`r x d^2`), or, when `2 d^2 > r`, the
    /// quadratic form `f^T H f`, `H = (V^T V) o (A^T A)` (`r x r`), is evaluated as `2 (F U) o F`
    /// with `U` the upper triangle of `H` (half its diagonal): a triangular product.
    ///
    /// Cost `O(iters * r * min(d^2, r / 2))` flops in GEMMs; memory `O(r * (256 + min(d^2, r)))`.
    pub fn gd_risk_path(&self, eta: f64, iters: usize, par: Par) -> Vec<f64> {
        let vnorm2: Vec<f64> = (0..self.rank())
            .map(|i| self.v.col(i).squared_norm_l2())
            .collect();
        let kernel = Kernel::new(&self.a, &self.v, par);
        self.path_of(&kernel, &vnorm2, self.setup.sigma2(), eta, iters, par)
    }

    /// [`Spectrum::gd_risk_path`] averaged over the label noise given `(lambda, A)`: iterate `k`
    /// is [`Spectrum::filter_risk_noise_averaged`] of the filter `f_k`, so its mean over draws
    /// is `E[R_k]` with a smaller variance (the mean path, not the early-stopped risk: a minimum
    /// over `k` of conditional means is not the conditional mean of the minimum). It is the
    /// plain path with `v_i` replaced by its conditional mean `a_i / alpha` and `sigma^2 ||v_i||^2`
    /// by the weight `c_i` of `Spectrum::noise_weights`. The sum `sum_i f_i a_i a_i^T / alpha`
    /// is symmetric: `d (d + 1) / 2` entries instead of `d^2`, so at most the cost of
    /// [`Spectrum::gd_risk_path`], about half where its outer form is used.
    pub fn gd_risk_path_noise_averaged(&self, eta: f64, iters: usize, par: Par) -> Vec<f64> {
        let kernel = Kernel::symmetric(&self.a, 1.0 / self.setup.alpha(), par);
        self.path_of(&kernel, &self.noise_weights(), 1.0, eta, iters, par)
    }

    /// The path `(||sum_i f_k(lambda_i) v_i a_i^T - I||_F^2 + sigma2 sum_i f_k(lambda_i)^2
    /// vnorm2_i) / d` for `k = 0..=iters` (the fit through `kernel`, of `v` and `a`; `vnorm2`:
    /// `r`; the plain path passes `||v_i||^2` and `sigma^2`, the averaged one its weights and 1);
    /// see [`Spectrum::gd_risk_path`].
    fn path_of(
        &self,
        kernel: &Kernel,
        vnorm2: &[f64],
        sigma2: f64,
        eta: f64,
        iters: usize,
        par: Par,
    ) -> Vec<f64> {
        let d = self.setup.d();
        let mut state = Filters::new(&self.lambda, eta, kernel.width());
        let mut risks = Vec::with_capacity(iters + 1);
        let mut k = 0;
        while k <= iters {
            if kernel.can_freeze() {
                state.freeze(kernel, vnorm2);
            }
            let cols = BLOCK.min(iters + 1 - k);
            let (filters, weights) = state.block(cols, vnorm2);
            let fit = kernel.fit_terms(filters.as_ref(), state.frozen, &state.frozen_sum, par);
            risks.extend(
                fit.iter()
                    .zip(&weights)
                    .map(|(fit, w)| (fit + sigma2 * w) / d as f64),
            );
            k += cols;
        }
        risks
    }
}

/// The filters of a gradient-descent path at iteration `k`: `f_k` and `q_k = (1 - eta l)^k`,
/// advanced as `f_{k+1} = f_k + eta l q_k`: a sum of terms of one sign while `eta l < 1`, so
/// small eigenvalues keep full relative accuracy (unlike `1 - q_k`).
struct Filters {
    f: Vec<f64>,
    q: Vec<f64>,
    step: Vec<f64>,
    /// Eigenvalues `i < frozen` (the largest) have `|q_i| < 2^-60` and `f_i >= 1/2`: every
    /// later increment is below half an ulp of `f_i`, so `f_i` is exactly constant from then
    /// on and their part of the fit is summed once into `frozen_sum` (and of the noise term
    /// into `frozen_weight`) instead of entering every GEMM.
    frozen: usize,
    frozen_sum: Vec<f64>,
    frozen_weight: f64,
}

impl Filters {
    fn new(lambda: &[f64], eta: f64, width: usize) -> Self {
        Self {
            f: vec![0.0; lambda.len()],
            q: vec![1.0; lambda.len()],
            step: lambda.iter().map(|&l| eta * l).collect(),
            frozen: 0,
            frozen_sum: vec![0.0; width],
            frozen_weight: 0.0,
        }
    }

    /// Freezes the leading filters that can no longer change (see `frozen`).
    fn freeze(&mut self, kernel: &Kernel, vnorm2: &[f64]) {
        let (f, q) = (&self.f, &self.q);
        while self.frozen < f.len() && q[self.frozen].abs() < FREEZE && f[self.frozen] >= 0.5 {
            let i = self.frozen;
            kernel.accumulate(i, f[i], &mut self.frozen_sum);
            self.frozen_weight += f[i] * f[i] * vnorm2[i];
            self.frozen += 1;
        }
    }

    /// The active filters of the next `cols` iterations (column `j`: iteration `k + j`,
    /// contiguous in memory) and each iteration's `sum_i f_i^2 vnorm2_i`; advances by `cols`.
    fn block(&mut self, cols: usize, vnorm2: &[f64]) -> (Mat<f64>, Vec<f64>) {
        let frozen = self.frozen;
        let mut filters = Mat::<f64>::zeros(self.f.len() - frozen, cols);
        let mut weights = vec![0.0; cols];
        for (j, weight) in weights.iter_mut().enumerate() {
            let col = filters
                .col_mut(j)
                .try_as_col_major_mut()
                .expect("contiguous column")
                .as_slice_mut();
            *weight = self.frozen_weight
                + advance_filters(
                    &mut self.f[frozen..],
                    &mut self.q[frozen..],
                    &self.step[frozen..],
                    &vnorm2[frozen..],
                    col,
                );
        }
        (filters, weights)
    }
}

simd_kernel! {
    /// Writes the filters `f` into `col`, returns `sum_i f_i^2 vnorm2_i`, and advances every
    /// filter by one iteration (`f += step q`, `q -= step q`). Eight accumulators keep the
    /// reduction off the critical path and let the loop vectorise (hence the indexed loops).
    #[allow(clippy::needless_range_loop, clippy::manual_memcpy)]
    fn advance_filters(
        f: &mut [f64],
        q: &mut [f64],
        step: &[f64],
        vnorm2: &[f64],
        col: &mut [f64],
    ) -> f64 {
        const L: usize = 8;
        let n = f.len();
        let full = n - n % L;
        let mut acc = [0.0; L];
        for c in (0..full).step_by(L) {
            for l in 0..L {
                let i = c + l;
                col[i] = f[i];
                acc[l] += f[i] * f[i] * vnorm2[i];
                let delta = step[i] * q[i];
                f[i] += delta;
                q[i] -= delta;
            }
        }
        for i in full..n {
            col[i] = f[i];
            acc[0] += f[i] * f[i] * vnorm2[i];
            let delta = step[i] * q[i];
            f[i] += delta;
            q[i] -= delta;
        }
        acc.iter().sum()
    }
}

/// One weight of [`Spectrum::noise_weights`]: `(tau^2 d / lambda)(||a||^2 + sigma^2) +
/// sigma^2 ||a||^2 / alpha^2`.
fn noise_weight(
    d: usize,
    alpha: f64,
    tau2: f64,
    sigma2: f64,
    lambda: f64,
    a: faer::ColRef<'_, f64>,
) -> f64 {
    let anorm2 = a.squared_norm_l2();
    let noise = tau2 * d as f64 / lambda;
    noise * (anorm2 + sigma2) + sigma2 * anorm2 / (alpha * alpha)
}

/// `||D - I||_F^2` for a square `D`.
fn frob2_minus_identity(dmat: &Mat<f64>) -> f64 {
    let d = dmat.nrows();
    let mut acc = 0.0;
    for q in 0..d {
        for p in 0..d {
            let x = dmat[(p, q)] - if p == q { 1.0 } else { 0.0 };
            acc += x * x;
        }
    }
    acc
}

/// Evaluates `|| sum_i f_i v_i a_i^T - I ||_F^2` for many filter vectors `f` at once, through
/// whichever of two forms costs less per filter: `r` times the outer form's columns (`d^2`, or
/// `d (d + 1) / 2` when the sum is symmetric) or `r^2 / 2` for the quadratic form.
enum Kernel {
    /// `M[i, c] = v_i[p_c] a_i[q_c]` (`r x` columns `c`), one column per entry `(p_c, q_c)` of
    /// the `d x d` sum: all of them, or when the sum is symmetric (`v_i` a multiple of `a_i`)
    /// those with `p <= q`, the others counted twice.
    Outer { m: Mat<f64>, cols: Vec<Entry> },
    /// `U` (`r x r`): the upper triangle of `H = (V^T V) o (A^T A)` with half its diagonal, so
    /// that `f^T H f = 2 f^T U f` (a triangular product, half the flops of `H`'s); and
    /// `t_i = v_i . a_i`.
    Quadratic { u: Mat<f64>, t: Vec<f64>, d: usize },
}

/// One column of [`Kernel::Outer`]: whether it is a diagonal entry (the identity is subtracted
/// from it) and how many entries of the sum it stands for.
#[derive(Clone, Copy, Debug)]
struct Entry {
    diagonal: bool,
    weight: f64,
}

impl Kernel {
    /// The kernel of the sum `sum_i f_i v_i a_i^T` (`v`, `a`: `d x r`).
    fn new(a: &Mat<f64>, v: &Mat<f64>, par: Par) -> Self {
        let d = a.nrows();
        let pairs: Vec<(usize, usize)> = (0..d).flat_map(|q| (0..d).map(move |p| (p, q))).collect();
        Self::build(a, v, &pairs, par)
    }

    /// The kernel of the symmetric sum `sum_i f_i (scale a_i) a_i^T`: the plain kernel with
    /// `v = scale a`, its outer form on the `d (d + 1) / 2` entries with `p <= q`.
    fn symmetric(a: &Mat<f64>, scale: f64, par: Par) -> Self {
        let d = a.nrows();
        let v = Mat::from_fn(d, a.ncols(), |p, i| scale * a[(p, i)]);
        let pairs: Vec<(usize, usize)> =
            (0..d).flat_map(|q| (0..=q).map(move |p| (p, q))).collect();
        Self::build(a, &v, &pairs, par)
    }

    /// The outer form on the entries `pairs` (each `p < q` pair counted twice when `pairs`
    /// holds only the upper triangle) or the quadratic form, whichever costs less.
    fn build(a: &Mat<f64>, v: &Mat<f64>, pairs: &[(usize, usize)], par: Par) -> Self {
        let (d, r) = (a.nrows(), a.ncols());
        let upper_only = pairs.len() < d * d;
        if 2 * pairs.len() <= r {
            let m = Mat::from_fn(r, pairs.len(), |i, c| {
                let (p, q) = pairs[c];
                v[(p, i)] * a[(q, i)]
            });
            let cols = pairs
                .iter()
                .map(|&(p, q)| Entry {
                    diagonal: p == q,
                    weight: if upper_only && p != q { 2.0 } else { 1.0 },
                })
                .collect();
            Kernel::Outer { m, cols }
        } else {
            let vv = crate::linalg::mul(v.transpose(), v.as_ref(), par);
            let aa = crate::linalg::mul(a.transpose(), a.as_ref(), par);
            let u = Mat::from_fn(r, r, |i, j| match i.cmp(&j) {
                std::cmp::Ordering::Less => vv[(i, j)] * aa[(i, j)],
                std::cmp::Ordering::Equal => 0.5 * vv[(i, j)] * aa[(i, j)],
                std::cmp::Ordering::Greater => 0.0,
            });
            let t = (0..r)
                .map(|i| (0..d).map(|p| v[(p, i)] * a[(p, i)]).sum())
                .collect();
            Kernel::Quadratic { u, t, d }
        }
    }

    /// Whether a prefix of eigenvalues can be summed once ([`Kernel::Outer`] only).
    fn can_freeze(&self) -> bool {
        matches!(self, Kernel::Outer { .. })
    }

    /// Length of the running sum used by [`Kernel::accumulate`].
    fn width(&self) -> usize {
        match self {
            Kernel::Outer { cols, .. } => cols.len(),
            Kernel::Quadratic { .. } => 0,
        }
    }

    /// Adds `f v_i a_i^T` to `sum` (flattened as the columns of `M`).
    fn accumulate(&self, i: usize, f: f64, sum: &mut [f64]) {
        if let Kernel::Outer { m, .. } = self {
            for (col, s) in sum.iter_mut().enumerate() {
                *s += f * m[(i, col)];
            }
        }
    }

    /// One value per column of `filters` (`(r - offset) x cols`, the filters of eigenvalues
    /// `offset..r`); the eigenvalues below `offset` contribute the constant `frozen`.
    fn fit_terms(
        &self,
        filters: faer::MatRef<'_, f64>,
        offset: usize,
        frozen: &[f64],
        par: Par,
    ) -> Vec<f64> {
        let rows = filters.ncols();
        let filters = filters.transpose();
        match self {
            Kernel::Outer { m, cols } => {
                let dm = crate::linalg::mul(filters, m.subrows(offset, m.nrows() - offset), par);
                (0..rows)
                    .map(|row| {
                        let mut acc = 0.0;
                        for (c, e) in cols.iter().enumerate() {
                            let x = dm[(row, c)] + frozen[c] - if e.diagonal { 1.0 } else { 0.0 };
                            acc += e.weight * x * x;
                        }
                        acc
                    })
                    .collect()
            }
            Kernel::Quadratic { u, t, d } => {
                debug_assert_eq!(offset, 0);
                let fu = crate::linalg::mul_upper(filters, u.as_ref(), par);
                (0..rows)
                    .map(|row| {
                        let mut quad = 0.0;
                        let mut lin = 0.0;
                        for i in 0..filters.ncols() {
                            quad += fu[(row, i)] * filters[(row, i)];
                            lin += t[i] * filters[(row, i)];
                        }
                        2.0 * (quad - lin) + *d as f64
                    })
                    .collect()
            }
        }
    }
}

/// The smallest risk on a path and the first iteration that attains it (NaN entries, from a
/// diverging user step, are skipped).
pub fn early_stopped(path: &[f64]) -> (f64, usize) {
    let mut best = (f64::INFINITY, 0);
    for (k, &r) in path.iter().enumerate() {
        if r < best.0 {
            best = (r, k);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_distr::StandardNormal;

    /// The noise-averaged path is, iterate by iterate, the noise-averaged risk of the filter
    /// `f_k(l) = 1 - (1 - eta l)^k`: both kernels (`d^2 <= r` with frozen eigenvalues, and
    /// `d^2 > r`), to `1e-10` relative; it differs from the plain path of the same draw.
    #[test]
    fn noise_averaged_path_is_the_noise_averaged_filter_risk() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        for &(d, n, sigma, n_train) in &[(3, 20, 0.3, 12), (5, 20, 0.3, 12), (2, 40, 0.1, 80)] {
            let setup = Setup::new(d, n, sigma).unwrap();
            let s = crate::sample::bartlett_spectrum(&setup, n_train, &mut rng, Par::Seq).unwrap();
            let eta = 1.0 / s.eigenvalues()[0];
            let iters = 3000;
            let path = s.gd_risk_path_noise_averaged(eta, iters, Par::Seq);
            let plain = s.gd_risk_path(eta, iters, Par::Seq);
            assert_eq!(path.len(), iters + 1);
            for k in [0, 1, 7, 100, 1000, iters] {
                let filter: Vec<f64> = s
                    .eigenvalues()
                    .iter()
                    .map(|&l| 1.0 - (1.0 - eta * l).powi(k as i32))
                    .collect();
                let want = s.filter_risk_noise_averaged(&filter);
                assert!(
                    (path[k] - want).abs() <= 1e-10 * want,
                    "d={d} N={n_train} k={k}: path {} want {want}",
                    path[k]
                );
            }
            assert!(
                (path[iters] - plain[iters]).abs() > 1e-12,
                "d={d}: averaging changed nothing"
            );
        }
    }

    /// The noise-averaged risk is the conditional mean of the plain risk: for one spectrum
    /// `(lambda, A)`, 4000 fresh label-noise draws `xi` give a mean plain risk within 4 standard
    /// errors of it, for least squares and for a random filter, below and above `N = n`.
    #[test]
    fn noise_averaged_risk_is_the_conditional_mean() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(21);
        for &(d, n, sigma, n_train) in &[(3, 20, 0.3, 12), (4, 30, 1.0, 60), (2, 10, 0.05, 9)] {
            let setup = Setup::new(d, n, sigma).unwrap();
            let base =
                crate::sample::bartlett_spectrum(&setup, n_train, &mut rng, Par::Seq).unwrap();
            let r = base.rank();
            let random: Vec<f64> = (0..r).map(|_| rng.random::<f64>()).collect();
            let (alpha, tau) = (setup.alpha(), (setup.sigma2() / setup.alpha()).sqrt());
            for filter in [vec![1.0; r], random] {
                let want = base.filter_risk_noise_averaged(&filter);
                let runs = 4000;
                let risks: Vec<f64> = (0..runs)
                    .map(|_| {
                        let v = Mat::from_fn(d, r, |p, i| {
                            let xi: f64 = rng.sample(StandardNormal);
                            base.a[(p, i)] / alpha + tau * xi / base.lambda[i].sqrt()
                        });
                        let s =
                            Spectrum::new(setup, n_train, base.lambda.clone(), base.a.clone(), v);
                        s.filter_risk(&filter)
                    })
                    .collect();
                let (mean, sd) = crate::montecarlo::mean_std(&risks);
                let se = sd.unwrap() / (runs as f64).sqrt();
                assert!(
                    (mean - want).abs() <= 4.0 * se,
                    "d={d} n={n} N={n_train}: mean {mean} vs averaged {want} (se {se})"
                );
            }
        }
    }
}
