//! # plateau-theory
//!
//! Exact and analytic risk of linear estimators learned from data for the subspace denoising
//! model of Klug & Heckel (ICLR 2023). See [`setup`] for the model and `theory/*.md` for the
//! derivations.

pub mod analytic;
pub mod error;
pub mod setup;

pub use error::TheoryError;
pub use setup::{Estimator, Setup, StepSize};
