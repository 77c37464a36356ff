//! Analysis of measured runs: the scaling curves of a sweep's results ([`scaling`]) and the
//! learned-linear theory they are set against ([`linear_theory`]). Computations return numbers;
//! `crate::figures` draws them.

pub mod band;
pub mod capacity;
pub mod estimate;
pub mod joint_plan;
pub mod joint_plan_text;
pub mod linear_theory;
pub mod plan;
pub mod plan_text;
pub mod plan_theory;
pub mod scaling;
pub mod spectrum_theory;
pub mod subspace_theory;

/// A predicted curve: `(N, MSE)` points in increasing `N`, with its legend text.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct PredictedCurve {
    /// What it is (`learned linear, tuned ridge (theory)`).
    pub label: String,
    /// `(N, MSE)` points, increasing `N`.
    pub points: Vec<(f64, f64)>,
}

/// A predicted error that does not depend on `N` (drawn as a horizontal line), with its legend
/// text: the best linear map of a real-data curve ([`spectrum_theory`]).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct PredictedLevel {
    /// What it is (`best linear map (Gaussian LMMSE, data's spectrum)`).
    pub label: String,
    /// The error (MSE units).
    pub mse: f64,
    /// Its 95% interval, when known (MSE units).
    pub band: Option<(f64, f64)>,
}
