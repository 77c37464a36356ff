//! The subspace denoising model of Klug & Heckel (2023), Section 5, as a validated value.
//!
//! A signal `x = U c` lives in a random `d`-dimensional subspace of `R^n` (`U` has orthonormal
//! columns, `c ~ N(0, I_d)`), and is observed as `y = x + z` with `z ~ N(0, sigma^2 I_n)`.
//! A linear estimator `x_hat = W y` has the risk, normalised by `E ||x||^2 = d`,
//!
//! ```text
//! R(W) = ( ||(W - I) U||_F^2 + sigma^2 ||W||_F^2 ) / d,
//! ```
//!
//! whose minimum over `W` is the error floor `sigma^2 / (1 + sigma^2)`.

use strum::{EnumString, IntoStaticStr};

use crate::error::TheoryError;

/// A validated model: `1 <= d <= n` and `sigma` finite and non-negative.
///
/// Invalid combinations cannot be constructed, so every function taking a `Setup` may rely on
/// them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Setup {
    d: usize,
    n: usize,
    sigma: f64,
}

/// Largest noise level accepted: beyond it the signal is invisible to 12 digits (`1/sigma^2 <
/// 1e-12`), and from `sigma ~ 1e150` the eigensolvers overflow (`theory --sigma 1e154` panicked).
pub const MAX_SIGMA: f64 = 1e6;

/// Largest training-set size `N` accepted by the Monte Carlo and the analytic risks: 10^9.
/// The analytic quadrature of the sample spectrum (support width `~ sqrt(n / N)`) loses mass as
/// `N` grows: the risk at `k = 0`, exactly 1, comes out `1 - 3e-9` at `N = 10^9` (`d = 2`,
/// `n = 10`, `sigma = 1`; `5e-10` at `d = 10, n = 100, sigma = 0.1`), `1 - 1e-5` at `10^12` and
/// `0.0099` from `10^15`; the Monte Carlo reported risk 1 for every estimator at
/// `N = 2^64 - 1`. At `10^9` the Monte Carlo and the analytic risks agree (`d = 10, n = 100,
/// sigma = 0.1`: excess within 1.5% for PCA, least squares and early stopping).
pub const MAX_TRAIN_SIZE: usize = 1_000_000_000;

/// `Ok` for `1 <= n_train <= MAX_TRAIN_SIZE`.
///
/// # Errors
/// [`TheoryError::InvalidArgument`] naming the bound.
pub fn check_train_size(n_train: usize) -> Result<(), TheoryError> {
    if n_train == 0 {
        return Err(TheoryError::InvalidArgument(
            "training-set size N must be at least 1".into(),
        ));
    }
    if n_train > MAX_TRAIN_SIZE {
        return Err(TheoryError::InvalidArgument(format!(
            "training-set size N = {n_train:.2e} is above 1e9, the largest at which the risks \
             are computed accurately"
        )));
    }
    Ok(())
}

impl Setup {
    /// Checks and builds a setup.
    ///
    /// # Errors
    /// [`TheoryError::InvalidSetup`] when `d == 0`, `d > n`, or `sigma` is negative, not finite
    /// or above [`MAX_SIGMA`].
    pub fn new(d: usize, n: usize, sigma: f64) -> Result<Self, TheoryError> {
        if d == 0 {
            return Err(TheoryError::InvalidSetup("d must be at least 1".into()));
        }
        if d > n {
            return Err(TheoryError::InvalidSetup(format!(
                "d ({d}) must not exceed n ({n})"
            )));
        }
        if !sigma.is_finite() || sigma < 0.0 {
            return Err(TheoryError::InvalidSetup(format!(
                "sigma must be finite and non-negative, got {sigma}"
            )));
        }
        if sigma > MAX_SIGMA {
            return Err(TheoryError::InvalidSetup(format!(
                "sigma = {sigma} is above {MAX_SIGMA:e}: the signal-to-noise ratio 1/sigma^2 is \
                 below 1e-12, every estimator's risk is 1 to 12 digits, and the squared data \
                 overflow double precision from sigma ~ 1e150"
            )));
        }
        Ok(Self { d, n, sigma })
    }

    /// Subspace dimension `d`.
    pub fn d(&self) -> usize {
        self.d
    }

    /// Ambient dimension `n`.
    pub fn n(&self) -> usize {
        self.n
    }

    /// Noise standard deviation `sigma`.
    pub fn sigma(&self) -> f64 {
        self.sigma
    }

    /// Noise variance `sigma^2`.
    pub fn sigma2(&self) -> f64 {
        self.sigma * self.sigma
    }

    /// Variance of a measurement along the signal subspace, `1 + sigma^2`.
    pub fn alpha(&self) -> f64 {
        1.0 + self.sigma2()
    }

    /// The error floor `R(W*) = sigma^2 / (1 + sigma^2)`, the risk of `W* = U U^T / (1 + sigma^2)`.
    pub fn floor(&self) -> f64 {
        self.sigma2() / self.alpha()
    }

    /// The eight setups `(d, n, sigma)` of the paper's theory figures, in the paper's order.
    pub fn paper_setups() -> Vec<Setup> {
        [
            (10, 100, 0.2),
            (10, 100, 0.1),
            (10, 100, 0.05),
            (10, 1000, 0.1),
            (10, 10000, 0.1),
            (50, 1000, 0.1),
            (100, 1000, 0.1),
            (10, 1000, 0.05),
        ]
        .into_iter()
        .map(|(d, n, s)| Setup::new(d, n, s).expect("paper setups are valid"))
        .collect()
    }

    /// The training-set sizes of the paper's figures for `d` in {10, 50, 100}; otherwise powers
    /// of two from 1 to 16384.
    pub fn default_train_sizes(&self) -> Vec<usize> {
        match self.d {
            10 => vec![
                1, 2, 4, 8, 10, 12, 14, 16, 18, 22, 24, 30, 36, 44, 64, 100, 256, 512, 1024, 2048,
                4096, 8192, 16384,
            ],
            50 => vec![
                1, 4, 10, 18, 30, 44, 50, 58, 64, 70, 76, 86, 100, 128, 256, 512, 1024, 2048, 4096,
                8192, 16384,
            ],
            100 => vec![
                1, 10, 15, 30, 50, 70, 80, 90, 100, 110, 120, 130, 150, 175, 200, 256, 512, 1024,
                2048, 4096, 8192, 16384,
            ],
            _ => (0..=14).map(|p| 1usize << p).collect(),
        }
    }
}

/// Gradient-descent step size.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum StepSize {
    /// The paper's rule `eta = 1 / (N (1 + eps) (1 + sigma^2))` with
    /// `eps = sqrt(10 (d + sigma^2 n) ln(n) / N)`.
    Paper,
    /// A fixed step `eta > 0`.
    Fixed(f64),
}

impl StepSize {
    /// Checks that a fixed step is finite and positive (the paper's rule always is).
    ///
    /// # Errors
    /// [`TheoryError::InvalidArgument`] naming the step otherwise.
    pub fn validate(&self) -> Result<(), TheoryError> {
        match *self {
            StepSize::Fixed(eta) if !(eta.is_finite() && eta > 0.0) => {
                Err(TheoryError::InvalidArgument(format!(
                    "step must be finite and positive, got {eta}"
                )))
            }
            _ => Ok(()),
        }
    }

    /// The step `eta` for a training set of `n_train` examples.
    pub fn eta(&self, setup: &Setup, n_train: usize) -> f64 {
        match *self {
            StepSize::Fixed(eta) => eta,
            StepSize::Paper => {
                let (d, n, s2) = (setup.d() as f64, setup.n() as f64, setup.sigma2());
                let m = n_train as f64;
                let eps = (10.0 * (d + s2 * n) * n.ln() / m).sqrt();
                1.0 / (m * (1.0 + eps) * setup.alpha())
            }
        }
    }
}

/// The estimators that `plateau theory` reports. Their names (`optimal`, `pca`,
/// `least_squares`, `gd_early_stopped`: the command line's and the CSV files') are derived:
/// [`Estimator::name`] and `FromStr`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, IntoStaticStr, EnumString)]
#[strum(
    serialize_all = "snake_case",
    parse_err_ty = TheoryError,
    parse_err_fn = unknown_estimator
)]
pub enum Estimator {
    /// `W* = U U^T / (1 + sigma^2)`; knows `U`, its risk is the floor.
    Optimal,
    /// `U_hat U_hat^T / (1 + sigma^2)` with `U_hat` the top-`d` left singular vectors of `Y`.
    Pca,
    /// Minimum-norm least squares `W_inf = X pinv(Y)`, the limit of gradient descent from 0.
    LeastSquares,
    /// Gradient descent from 0 stopped at the iteration `k <= 5000` of lowest risk (oracle).
    GdEarlyStopped,
}

impl Estimator {
    /// All estimators, in report order.
    pub const ALL: [Estimator; 4] = [
        Estimator::Optimal,
        Estimator::Pca,
        Estimator::LeastSquares,
        Estimator::GdEarlyStopped,
    ];

    /// The name used on the command line and in CSV files.
    pub fn name(&self) -> &'static str {
        self.into()
    }

    /// Whether the expected risk at `(setup, N)` is infinite, so that no mean of draws
    /// estimates it: least squares with noise at `N` in `{n - 1, n, n + 1}`, where the
    /// inverse-Wishart moment behind its variance diverges (`theory/analytic.md`; the analytic
    /// side predicts no risk there). Every other expected risk is finite. `O(1)`.
    pub fn has_infinite_mean(self, setup: &Setup, n_train: usize) -> bool {
        self == Estimator::LeastSquares
            && setup.sigma() > 0.0
            && at_least_squares_pole(setup.n(), n_train)
    }
}

/// `N` in `{n - 1, n, n + 1}`: where min-norm least squares' expected risk is infinite when the
/// data are noisy (inverse-Wishart moments, `theory/analytic.md`).
pub(crate) fn at_least_squares_pole(n: usize, n_train: usize) -> bool {
    n_train + 1 >= n && n_train <= n + 1
}

// By hand: `write_str` ignores width and fill, as the tables that print it expect (strum's
// derived `Display` pads).
impl std::fmt::Display for Estimator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// `FromStr`'s error: the valid names listed.
fn unknown_estimator(s: &str) -> TheoryError {
    let names: Vec<&str> = Estimator::ALL.iter().map(Estimator::name).collect();
    TheoryError::InvalidArgument(format!(
        "unknown estimator '{s}' (expected one of {})",
        names.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn infinite_means_are_where_the_analytic_side_predicts_no_risk() {
        for (d, n, sigma) in [(1, 2, 0.5), (3, 20, 0.3), (10, 100, 0.1), (5, 50, 1e-3)] {
            let setup = Setup::new(d, n, sigma).unwrap();
            for n_train in n.saturating_sub(4).max(1)..=n + 4 {
                let none = crate::analytic::least_squares(&setup, n_train)
                    .unwrap()
                    .is_none();
                let ls = Estimator::LeastSquares.has_infinite_mean(&setup, n_train);
                assert_eq!(ls, none, "({d}, {n}, {sigma}) N = {n_train}");
                for e in [
                    Estimator::Optimal,
                    Estimator::Pca,
                    Estimator::GdEarlyStopped,
                ] {
                    assert!(!e.has_infinite_mean(&setup, n_train), "{e}");
                }
            }
        }
        // Without noise least squares interpolates clean data: finite everywhere.
        let clean = Setup::new(3, 20, 0.0).unwrap();
        assert!(!Estimator::LeastSquares.has_infinite_mean(&clean, 20));
    }

    #[test]
    fn rejects_invalid_setups() {
        assert!(Setup::new(0, 10, 0.1).is_err());
        assert!(Setup::new(11, 10, 0.1).is_err());
        assert!(Setup::new(1, 10, -0.1).is_err());
        assert!(Setup::new(1, 10, f64::NAN).is_err());
        assert!(Setup::new(1, 10, f64::INFINITY).is_err());
        assert!(Setup::new(10, 10, 0.0).is_ok());
    }

    #[test]
    fn paper_grid_sizes() {
        let s = Setup::new(10, 100, 0.1).unwrap();
        assert_eq!(s.default_train_sizes().len(), 23);
        assert_eq!(
            Setup::new(50, 1000, 0.1)
                .unwrap()
                .default_train_sizes()
                .len(),
            21
        );
        assert_eq!(
            Setup::new(100, 1000, 0.1)
                .unwrap()
                .default_train_sizes()
                .len(),
            22
        );
    }

    #[test]
    fn estimator_names_round_trip() {
        for e in Estimator::ALL {
            assert_eq!(e.name().parse::<Estimator>().unwrap(), e);
        }
        let e = "ridge".parse::<Estimator>().unwrap_err().to_string();
        assert!(
            e.contains("unknown estimator 'ridge' (expected one of optimal, pca, least_squares, gd_early_stopped)"),
            "{e}"
        );
        assert_eq!(
            format!("{:>8}", Estimator::Pca),
            "pca",
            "no padding, as before"
        );
    }
}
