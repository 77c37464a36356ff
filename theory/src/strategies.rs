//! proptest strategies for valid setups and training-set sizes, for property tests of a formula
//! against [`crate::validate`] (crate feature `strategies`; the harness: `theory/validate.md`).
//!
//! Every value produced is valid by construction (`1 <= d <= n`, `sigma >= 0` finite,
//! `N >= 1`), so a property never has to filter.
//!
//! A formula checked on random setups:
//!
//! ```rust
//! use plateau_theory::strategies::{setup_and_size, SetupRanges};
//! use proptest::prelude::*;
//! use proptest::test_runner::{Config, TestRunner};
//!
//! // N anywhere in [4 d, 3 n] on random setups (d, n, sigma within the default ranges).
//! let mut runner = TestRunner::new(Config { cases: 16, ..Config::default() });
//! runner
//!     .run(&setup_and_size(SetupRanges::default(), 4.0, 3.0), |(setup, n_train)| {
//!         prop_assert!(n_train >= 4 * setup.d() && n_train <= 3 * setup.n());
//!         prop_assert!(setup.floor().is_finite());
//!         Ok(())
//!     })
//!     .unwrap();
//! ```

use std::ops::{Range, RangeInclusive};

use proptest::prelude::*;

use crate::Setup;

/// Ranges of random setups: `d`, the ratio `n / d`, and `sigma`.
#[derive(Clone, Debug, PartialEq)]
pub struct SetupRanges {
    /// Subspace dimension `d` (`>= 1`).
    pub d: RangeInclusive<usize>,
    /// `n / d` (`>= 1`); `n` is rounded down to an integer, and at least `d`.
    pub n_over_d: Range<f64>,
    /// Noise level `sigma` (`>= 0`).
    pub sigma: Range<f64>,
}

impl Default for SetupRanges {
    /// `d` in 5..=25, `n / d` in 4..8, `sigma` in 0.05..0.5: the proportional regime with a
    /// separated signal cluster, where the deterministic equivalents are asserted.
    fn default() -> Self {
        Self {
            d: 5..=25,
            n_over_d: 4.0..8.0,
            sigma: 0.05..0.5,
        }
    }
}

/// Random valid setups within `ranges`.
///
/// # Panics
/// When a range is empty or outside the valid domain (`d` from 1, `n / d >= 1`, `sigma >= 0`
/// finite): a mistake in the test, not in the code under test.
pub fn setups(ranges: SetupRanges) -> impl Strategy<Value = Setup> {
    assert!(*ranges.d.start() >= 1, "d must start at 1 or above");
    assert!(ranges.n_over_d.start >= 1.0, "n / d must be at least 1");
    assert!(
        ranges.sigma.start >= 0.0 && ranges.sigma.end.is_finite(),
        "sigma must be finite and non-negative"
    );
    (ranges.d, ranges.n_over_d, ranges.sigma).prop_map(|(d, ratio, sigma)| {
        let n = ((d as f64 * ratio) as usize).max(d);
        Setup::new(d, n, sigma).expect("valid by construction")
    })
}

/// Training-set sizes `N` in `[ceil(lo d), floor(hi n)]` for `setup` (at least 1; the range is
/// `{lo d}` alone when `hi n < lo d`).
pub fn train_sizes(setup: Setup, lo: f64, hi: f64) -> impl Strategy<Value = usize> {
    let low = ((lo * setup.d() as f64).ceil() as usize).max(1);
    let high = ((hi * setup.n() as f64).floor() as usize).max(low);
    low..=high
}

/// A random setup within `ranges` and a size `N` in `[lo d, hi n]` for it (see
/// [`train_sizes`]).
pub fn setup_and_size(
    ranges: SetupRanges,
    lo: f64,
    hi: f64,
) -> impl Strategy<Value = (Setup, usize)> {
    setups(ranges).prop_flat_map(move |s| (Just(s), train_sizes(s, lo, hi)))
}
