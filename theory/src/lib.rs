//! # plateau-theory
//!
//! Exact and analytic risk of linear estimators learned from data for the subspace denoising
//! model of Klug & Heckel (ICLR 2023).
//!
//! - [`setup`]: the model (`Setup`), the estimators and the step-size rule.
//! - [`sample`]: training sets, explicit (`TrainingSet`) or drawn directly as a spectrum through
//!   the Bartlett decomposition.
//! - [`engine`]: a training set's spectrum drawn from the structure of its Gram matrix (a null
//!   Wishart matrix plus a rank-`d` term), decomposed by `d` secular rank-one updates
//!   (`structured`) or one dense eigendecomposition (`dense`, the referee).
//! - [`wishart`]: null real Wishart eigenvalues drawn directly (bidiagonal model).
//! - [`spectrum`]: the exact risk of every estimator, and of every gradient-descent iterate, from
//!   one eigendecomposition.
//! - [`exact`]: the risk functional for explicit matrices and the slow reference iteration.
//! - [`montecarlo`]: independent draws in parallel, reproducible from a seed.
//! - [`analytic`]: deterministic equivalents of the expected risk.
//! - [`validate`]: any prediction (the crate's own or a user's formula) against the exact Monte
//!   Carlo, with per-point and pooled statistics (`theory/validate.md`); `strategies` (feature
//!   `strategies`): proptest strategies for setups and sizes.
//! - [`gaussian`]: the general linear Gaussian model (any spectrum, a diagonal operator): LMMSE
//!   floor and the expected risk of ridge, least squares and gradient descent learned from `N`
//!   examples.
//! - [`grid`]: log-spaced grids (training-set sizes, curve abscissae).
//!
//! The derivations live in `theory/*.md`, each naming the test that checks it.
//!
//! **Two linear-algebra crates, each for what it does best.** faer does every decomposition the
//! engine times (dense and tridiagonal eigensolvers, the Bartlett sampler's products): it is the
//! fast, parallel one at `n` in the thousands. nalgebra holds the slow referee in [`exact`]
//! (explicit `n x n` matrices and the literal gradient-descent iteration, written as the paper
//! writes it, so that it shares no code with the engine it checks) and `Complex` for polynomial
//! roots.
//!
//! ```
//! use plateau_theory::{montecarlo::MonteCarlo, Estimator, Setup};
//! let setup = Setup::new(5, 40, 0.1).unwrap();
//! let mc = MonteCarlo::new(setup, vec![8, 64], 3, 0);
//! let rows = mc.run(|| {}).unwrap();
//! let optimal = rows.iter().find(|r| r.estimator == Estimator::Optimal).unwrap();
//! assert!((optimal.mean - setup.floor()).abs() < 1e-15);
//! ```

pub mod analytic;
pub mod engine;
pub mod error;
pub mod exact;
pub mod field;
pub mod gaussian;
pub mod grid;
mod linalg;
pub mod montecarlo;
pub mod sample;
mod secular;
pub mod setup;
pub mod simd;
pub mod spectrum;
#[cfg(feature = "strategies")]
pub mod strategies;
pub mod validate;
pub mod wishart;

pub use error::TheoryError;
pub use setup::{Estimator, Setup, StepSize};
