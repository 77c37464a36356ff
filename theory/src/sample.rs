//! Drawing training sets: explicitly as matrices `(U, C, Y)`, or directly as a [`Spectrum`]
//! through the Bartlett decomposition at a cost independent of `N`.

use faer::{Mat, MatRef, Par};
use rand::Rng;
use rand_distr::{ChiSquared, Distribution, StandardNormal};

use crate::linalg::{gram_t, lower_tri_outer, mul, numerical_rank, sym_eig_desc};
use crate::spectrum::Spectrum;
use crate::{Setup, TheoryError};

/// A `rows x cols` matrix of independent standard normal entries, filled column by column.
pub fn gaussian_matrix<R: Rng + ?Sized>(rows: usize, cols: usize, rng: &mut R) -> Mat<f64> {
    let mut m = Mat::<f64>::zeros(rows, cols);
    for j in 0..cols {
        for i in 0..rows {
            m[(i, j)] = rng.sample(StandardNormal);
        }
    }
    m
}

/// A uniformly (Haar) distributed `n x d` matrix with orthonormal columns.
pub fn random_orthonormal<R: Rng + ?Sized>(n: usize, d: usize, rng: &mut R) -> Mat<f64> {
    let g = gaussian_matrix(n, d, rng);
    let qr = g.qr();
    let mut q = qr.compute_thin_Q();
    // Fix the signs so that diag(R) > 0, which makes Q exactly Haar distributed.
    let r = qr.R();
    for j in 0..d {
        if r[(j, j)] < 0.0 {
            for i in 0..n {
                q[(i, j)] = -q[(i, j)];
            }
        }
    }
    q
}

/// One training set of the subspace model, as explicit matrices.
///
/// `U` is `n x d` with orthonormal columns, `C` is `d x N`, `X = U C` and `Y = X + Z` are `n x N`.
#[derive(Clone, Debug)]
pub struct TrainingSet {
    setup: Setup,
    u: Mat<f64>,
    c: Mat<f64>,
    y: Mat<f64>,
}

impl TrainingSet {
    /// Draws `U` (Haar), `C ~ N(0, 1)` entries and `Z ~ N(0, sigma^2)` entries.
    /// Cost `O(n N d)`.
    pub fn draw<R: Rng + ?Sized>(
        setup: &Setup,
        n_train: usize,
        rng: &mut R,
    ) -> Result<Self, TheoryError> {
        check_train_size(n_train)?;
        let (n, d, sigma) = (setup.n(), setup.d(), setup.sigma());
        let u = random_orthonormal(n, d, rng);
        let c = gaussian_matrix(d, n_train, rng);
        let mut y = mul(u.as_ref(), c.as_ref(), Par::Seq);
        for j in 0..n_train {
            for i in 0..n {
                let z: f64 = rng.sample(StandardNormal);
                y[(i, j)] += sigma * z;
            }
        }
        Ok(Self {
            setup: *setup,
            u,
            c,
            y,
        })
    }

    /// A training set brought by the user: the subspace basis `U` (`n x d`, orthonormal columns),
    /// clean signals `X` (`n x N`, in the span of `U`) and measurements `Y` (`n x N`).
    ///
    /// # Errors
    /// [`TheoryError::Shape`] when the shapes disagree with `setup`, `U` is not orthonormal, or
    /// `X` does not lie in the span of `U` (both to a relative tolerance of `1e-8`).
    pub fn from_data(
        setup: &Setup,
        u: MatRef<'_, f64>,
        x: MatRef<'_, f64>,
        y: MatRef<'_, f64>,
    ) -> Result<Self, TheoryError> {
        let (n, d) = (setup.n(), setup.d());
        if u.nrows() != n || u.ncols() != d {
            return Err(TheoryError::Shape(format!(
                "U is {}x{}, expected {n}x{d}",
                u.nrows(),
                u.ncols()
            )));
        }
        if x.nrows() != n || y.nrows() != n || x.ncols() != y.ncols() {
            return Err(TheoryError::Shape(format!(
                "X is {}x{} and Y is {}x{}, expected both {n}xN",
                x.nrows(),
                x.ncols(),
                y.nrows(),
                y.ncols()
            )));
        }
        check_train_size(x.ncols())?;
        let utu = mul(u.transpose(), u, Par::Seq);
        let off = (0..d)
            .flat_map(|i| (0..d).map(move |j| (i, j)))
            .map(|(i, j)| (utu[(i, j)] - if i == j { 1.0 } else { 0.0 }).abs())
            .fold(0.0, f64::max);
        if off > 1e-8 {
            return Err(TheoryError::Shape(format!(
                "U^T U differs from I by {off:e}"
            )));
        }
        let c = mul(u.transpose(), x, Par::Seq);
        let resid = (x.to_owned() - mul(u, c.as_ref(), Par::Seq)).norm_l2();
        if resid > 1e-8 * x.norm_l2().max(f64::MIN_POSITIVE) {
            return Err(TheoryError::Shape("X does not lie in the span of U".into()));
        }
        Ok(Self {
            setup: *setup,
            u: u.to_owned(),
            c,
            y: y.to_owned(),
        })
    }

    /// The model.
    pub fn setup(&self) -> &Setup {
        &self.setup
    }

    /// `N`, the number of examples.
    pub fn n_train(&self) -> usize {
        self.y.ncols()
    }

    /// The subspace basis `U`, `n x d`.
    pub fn u(&self) -> MatRef<'_, f64> {
        self.u.as_ref()
    }

    /// Coefficients `C`, `d x N`.
    pub fn c(&self) -> MatRef<'_, f64> {
        self.c.as_ref()
    }

    /// Clean signals `X = U C`, `n x N`.
    pub fn x(&self) -> Mat<f64> {
        mul(self.u.as_ref(), self.c.as_ref(), Par::Seq)
    }

    /// Measurements `Y`, `n x N`.
    pub fn y(&self) -> MatRef<'_, f64> {
        self.y.as_ref()
    }

    /// One eigendecomposition, of the smaller of `Y^T Y` (`N x N`) and `Y Y^T` (`n x n`).
    ///
    /// Cost `O(n N min(n, N) + min(n, N)^3)`; no `n x n` matrix is formed when `N < n`.
    pub fn spectrum(&self, par: Par) -> Spectrum {
        let (n, n_train) = (self.setup.n(), self.n_train());
        let ut_y = mul(self.u.transpose(), self.y.as_ref(), par); // d x N
        if n_train <= n {
            // Y^T Y = Q diag(lambda) Q^T; p_i = Y q_i / s_i, so a_i = U^T Y q_i / s_i and
            // v_i = C Y^T p_i / lambda_i = C q_i / s_i.
            let (lambda, q) = sym_eig_desc(gram_t(self.y.as_ref(), par).as_ref(), par);
            let r = numerical_rank(&lambda, n, n_train);
            let q = q.subcols(0, r);
            let a = scale_cols(mul(ut_y.as_ref(), q, par), &lambda[..r], |l| 1.0 / l.sqrt());
            let v = scale_cols(mul(self.c.as_ref(), q, par), &lambda[..r], |l| {
                1.0 / l.sqrt()
            });
            Spectrum::new(self.setup, n_train, lambda[..r].to_vec(), a, v)
        } else {
            let (lambda, p) = sym_eig_desc(gram_t(self.y.transpose(), par).as_ref(), par);
            let r = numerical_rank(&lambda, n, n_train);
            let p = p.subcols(0, r);
            let a = mul(self.u.transpose(), p, par);
            let c_yt = mul(self.c.as_ref(), self.y.transpose(), par); // d x n
            let v = scale_cols(mul(c_yt.as_ref(), p, par), &lambda[..r], |l| 1.0 / l);
            Spectrum::new(self.setup, n_train, lambda[..r].to_vec(), a, v)
        }
    }
}

/// Draws the [`Spectrum`] of a training set of `n_train` examples without forming the data.
///
/// In the basis `[U, U_perp]`, `Y` has independent columns `N(0, Sigma)` with
/// `Sigma = diag((1 + sigma^2) I_d, sigma^2 I_{n-d})`, and `C = Y_1 / (1 + sigma^2) + E`, where
/// `Y_1` holds the first `d` rows and `E` has i.i.d. `N(0, sigma^2 / (1 + sigma^2))` entries
/// independent of `Y`. By the Bartlett decomposition `Y = Sigma^{1/2} T Q` in distribution, with
/// `Q` orthogonal and `T` (`n x min(n, N)`) lower trapezoidal: `T_ii = sqrt(chi^2_{N-i})`
/// (0-based `i`), `T_ij ~ N(0, 1)` below the diagonal. Hence `Y Y^T = T' T'^T` with
/// `T' = Sigma^{1/2} T`, and given `Y`, `v_i = a_i / (1 + sigma^2) + xi_i / sqrt(lambda_i)` with
/// `xi_i ~ N(0, tau^2 I_d)` i.i.d. The risk of every estimator then has exactly the law it has
/// under explicit sampling (`theory/exact.md`).
///
/// Cost `O(n min(n, N)^2)` flops, independent of `N` once `N >= n`; memory `O(n min(n, N))`.
pub fn bartlett_spectrum<R: Rng + ?Sized>(
    setup: &Setup,
    n_train: usize,
    rng: &mut R,
    par: Par,
) -> Result<Spectrum, TheoryError> {
    check_train_size(n_train)?;
    let (n, d) = (setup.n(), setup.d());
    let m = n.min(n_train);
    let (row_sd_signal, row_sd_noise) = (setup.alpha().sqrt(), setup.sigma());
    let mut t = Mat::<f64>::zeros(n, m);
    for j in 0..m {
        for i in j..n {
            let x = if i == j {
                // chi^2 with N - i degrees of freedom (>= 1 since i < m <= N).
                let chi2 =
                    ChiSquared::new((n_train - i) as f64).expect("positive degrees of freedom");
                chi2.sample(rng).sqrt()
            } else {
                rng.sample(StandardNormal)
            };
            t[(i, j)] = x * if i < d { row_sd_signal } else { row_sd_noise };
        }
    }
    let (lambda, a) = if n_train < n {
        // Gram T'^T T' = Q diag(lambda) Q^T; first d rows of p_i = T' q_i / s_i.
        let (lambda, q) = sym_eig_desc(gram_t(t.as_ref(), par).as_ref(), par);
        let r = numerical_rank(&lambda, n, n_train);
        let a = scale_cols(
            mul(t.subrows(0, d), q.subcols(0, r), par),
            &lambda[..r],
            |l| 1.0 / l.sqrt(),
        );
        (lambda[..r].to_vec(), a)
    } else {
        // T is square lower triangular here.
        let (lambda, p) = sym_eig_desc(lower_tri_outer(t.as_ref(), par).as_ref(), par);
        let r = numerical_rank(&lambda, n, n_train);
        (lambda[..r].to_vec(), p.submatrix(0, 0, d, r).to_owned())
    };
    let tau = (setup.sigma2() / setup.alpha()).sqrt();
    let alpha = setup.alpha();
    let v = Mat::from_fn(d, lambda.len(), |p, i| {
        let xi: f64 = rng.sample(StandardNormal);
        a[(p, i)] / alpha + tau * xi / lambda[i].sqrt()
    });
    Ok(Spectrum::new(*setup, n_train, lambda, a, v))
}

fn scale_cols(mut m: Mat<f64>, lambda: &[f64], scale: impl Fn(f64) -> f64) -> Mat<f64> {
    for (j, &l) in lambda.iter().enumerate() {
        let s = scale(l);
        for i in 0..m.nrows() {
            m[(i, j)] *= s;
        }
    }
    m
}

fn check_train_size(n_train: usize) -> Result<(), TheoryError> {
    crate::setup::check_train_size(n_train)
}
