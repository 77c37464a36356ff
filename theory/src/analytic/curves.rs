//! Analytic learning curves: every estimator's prediction over a grid of training-set sizes,
//! one spectral solve per size, in parallel.

use rayon::prelude::*;

use super::equivalent::{Prediction, SpectralEquivalent};
use crate::{Estimator, Setup, StepSize, TheoryError};

/// One point of an analytic learning curve.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CurvePoint {
    /// Training-set size `N`.
    pub n_train: usize,
    /// The estimator.
    pub estimator: Estimator,
    /// Its predicted expected risk.
    pub prediction: Prediction,
}

/// All four estimators at every `N` of `train_sizes`, one spectral solve per `N`, in parallel.
/// Ordered by size then [`Estimator::ALL`].
///
/// # Errors
/// As [`expected_risk`](super::expected_risk).
pub fn curve(
    setup: &Setup,
    train_sizes: &[usize],
    step: StepSize,
) -> Result<Vec<CurvePoint>, TheoryError> {
    curve_iters(setup, train_sizes, step, super::GD_ITERS)
}

/// [`curve`] with gradient descent stopped early over `k <= iters` instead of
/// [`GD_ITERS`](super::GD_ITERS) (`theory --analytic --iters`).
///
/// # Errors
/// As [`curve`], and `iters` above [`MAX_ITERS`](crate::montecarlo::MAX_ITERS).
pub fn curve_iters(
    setup: &Setup,
    train_sizes: &[usize],
    step: StepSize,
    iters: usize,
) -> Result<Vec<CurvePoint>, TheoryError> {
    step.validate()?;
    crate::montecarlo::check_iters(iters)?;
    let per_size: Result<Vec<Vec<CurvePoint>>, TheoryError> = train_sizes
        .par_iter()
        .map(|&n_train| all_estimators(setup, n_train, step, iters))
        .collect();
    Ok(per_size?.into_iter().flatten().collect())
}

/// [`curve`] for several setups over their paper grids ([`Setup::default_train_sizes`]), with
/// all `(setup, N)` pairs spread over the rayon pool at once (better balanced than one setup at
/// a time). One curve per setup, in the order given.
///
/// # Errors
/// As [`expected_risk`](super::expected_risk).
pub fn curves(setups: &[Setup], step: StepSize) -> Result<Vec<Vec<CurvePoint>>, TheoryError> {
    step.validate()?;
    let tasks: Vec<(usize, usize)> = setups
        .iter()
        .enumerate()
        .flat_map(|(i, s)| s.default_train_sizes().into_iter().map(move |n| (i, n)))
        .collect();
    let points: Vec<Vec<CurvePoint>> = tasks
        .par_iter()
        .map(|&(i, n_train)| all_estimators(&setups[i], n_train, step, super::GD_ITERS))
        .collect::<Result<_, TheoryError>>()?;
    let mut out = vec![Vec::new(); setups.len()];
    for (&(i, _), p) in tasks.iter().zip(points) {
        out[i].extend(p);
    }
    Ok(out)
}

/// The points of every estimator in [`Estimator::ALL`] order at one `N`: one spectral solve.
fn all_estimators(
    setup: &Setup,
    n_train: usize,
    step: StepSize,
    iters: usize,
) -> Result<Vec<CurvePoint>, TheoryError> {
    let eq = SpectralEquivalent::new(setup, n_train)?;
    Ok(Estimator::ALL
        .iter()
        .map(|&estimator| CurvePoint {
            n_train,
            estimator,
            prediction: eq.predict_iters(estimator, step, iters),
        })
        .collect())
}
