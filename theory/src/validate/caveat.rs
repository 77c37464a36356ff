//! Where the analytic predictions are known to be inaccurate (`theory/analytic.md`, section 9),
//! so that a prediction made there is flagged, never a silent number.

use crate::{Estimator, Setup};

/// Least squares is not asserted within this many sizes below the interpolation threshold
/// `N = n`: the prediction is asserted for `N <= n - LS_THRESHOLD_MARGIN` only.
pub const LS_THRESHOLD_MARGIN: usize = 5;

/// Why an analytic prediction may be off by more than the criterion allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum Caveat {
    /// `N < 4 d`: the two clusters of the spectrum merge (or `N < d`); the deterministic
    /// equivalents are published there but not asserted (deviations up to 12% of the excess).
    #[strum(serialize = "below_4d")]
    BelowFourD,
    /// Least squares with `n - LS_THRESHOLD_MARGIN < N < n - 1`: the variance is heavy-tailed
    /// (finite second moment only from `n - N >= 4`) and the degrees-of-freedom term is checked
    /// only up to `N = n - 5`.
    NearInterpolationThreshold,
}

impl Caveat {
    /// A short machine-readable name (`below_4d`, `near_interpolation_threshold`).
    pub fn name(&self) -> &'static str {
        self.into()
    }
}

impl std::fmt::Display for Caveat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Caveat::BelowFourD => {
                "N < 4d: the spectral clusters merge; the analytic prediction is not asserted here"
            }
            Caveat::NearInterpolationThreshold => {
                "least squares within 5 of N = n: heavy-tailed, the prediction is not asserted here"
            }
        })
    }
}

/// The caveat of the analytic prediction for `estimator` at `(setup, N)`, if any.
pub fn caveat(setup: &Setup, n_train: usize, estimator: Estimator) -> Option<Caveat> {
    let n = setup.n();
    if estimator == Estimator::LeastSquares && n_train + LS_THRESHOLD_MARGIN > n && n_train + 1 < n
    {
        return Some(Caveat::NearInterpolationThreshold);
    }
    (estimator != Estimator::Optimal && n_train < 4 * setup.d()).then_some(Caveat::BelowFourD)
}
