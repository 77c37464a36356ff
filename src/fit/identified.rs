//! Whether a fitted quantity is identified by the data: one rule, shared by `plan`, `scaling`,
//! `fit` and the capacity summaries.
//!
//! A quantity is **not identified** when
//! - a parameter sits at a bound of its fit (the data do not pin it: `beta at its bound 10`);
//! - its bootstrap 95% interval spans more than [`MAX_DECADES`] decades (positive quantities);
//! - a derived size (a saturation `N`, the `N` for a target) exceeds [`MAX_SIZE`] or its
//!   interval has no finite end.
//!
//! Such a number is printed as `not identified (reason)` instead of its value; the JSON keeps
//! the raw value beside `"identified": false` and the `reason`.

use std::fmt;

/// Widest 95% interval, in decades, of an identified positive quantity.
pub const MAX_DECADES: f64 = 2.0;

/// Largest identified training-set size or parameter count.
pub const MAX_SIZE: f64 = 1e12;

/// Why a quantity is not identified.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Unidentified {
    /// The parameter `param` of the fit sits at its bound `bound`.
    AtBound {
        /// Parameter name.
        param: &'static str,
        /// The bound it sits at.
        bound: f64,
    },
    /// The 95% interval spans `decades` decades (more than [`MAX_DECADES`]; infinite when it
    /// reaches 0).
    Wide {
        /// `log10(hi / lo)`.
        decades: f64,
    },
    /// A size beyond [`MAX_SIZE`].
    Huge {
        /// The size.
        value: f64,
    },
    /// The interval (or the value) has no finite end.
    Open,
}

impl fmt::Display for Unidentified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Unidentified::AtBound { param, bound } => write!(f, "{param} at its bound {bound}"),
            Unidentified::Wide { decades } if decades.is_finite() => {
                write!(f, "its 95% interval spans {decades:.1} decades")
            }
            Unidentified::Wide { .. } => write!(f, "its 95% interval reaches 0"),
            Unidentified::Huge { value } => write!(f, "{value:.2e} is beyond 1e12"),
            Unidentified::Open => write!(f, "its 95% interval has no finite end"),
        }
    }
}

/// Fraction of a parameter's range within which it counts as sitting at a bound.
const AT_BOUND: f64 = 1e-6;

/// `Some(AtBound)` when `value` sits at `lo` or `hi` (within `AT_BOUND` of the range, or of
/// the bound's size for an infinite range).
pub fn at_bound(param: &'static str, value: f64, [lo, hi]: [f64; 2]) -> Option<Unidentified> {
    let scale = if (hi - lo).is_finite() {
        hi - lo
    } else {
        1.0 + value.abs()
    };
    let tol = AT_BOUND * scale;
    [lo, hi]
        .into_iter()
        .filter(|b| b.is_finite())
        .find(|&b| (value - b).abs() <= tol)
        .map(|bound| Unidentified::AtBound { param, bound })
}

/// `Some(Wide)` when the positive quantity's interval `[lo, hi]` spans more than
/// [`MAX_DECADES`] decades (NaN ends, no bootstrap: no verdict).
pub fn wide(ci: [f64; 2]) -> Option<Unidentified> {
    let [lo, hi] = ci;
    if lo.is_nan() || hi.is_nan() {
        return None;
    }
    let decades = (hi / lo).log10();
    (decades > MAX_DECADES || lo <= 0.0 && hi > 0.0).then_some(Unidentified::Wide { decades })
}

/// `Some` when a size `value` with interval `ci` is not identified: beyond [`MAX_SIZE`], or
/// with no finite end (an infinite value or upper end); else the [`wide`] rule.
pub fn size(value: f64, ci: [f64; 2]) -> Option<Unidentified> {
    if value.is_infinite() || ci[1].is_infinite() {
        return Some(Unidentified::Open);
    }
    if value > MAX_SIZE {
        return Some(Unidentified::Huge { value });
    }
    if ci[1] > MAX_SIZE {
        return Some(Unidentified::Huge { value: ci[1] });
    }
    wide(ci)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rules_flag_bounds_wide_intervals_and_huge_sizes() {
        assert_eq!(
            at_bound("beta", 10.0, [0.0, 10.0]),
            Some(Unidentified::AtBound {
                param: "beta",
                bound: 10.0
            })
        );
        assert_eq!(at_bound("beta", 9.9, [0.0, 10.0]), None);
        assert_eq!(
            at_bound("beta", 10.0, [0.0, 10.0]).unwrap().to_string(),
            "beta at its bound 10"
        );
        assert_eq!(wide([1.0, 99.0]), None);
        assert!(matches!(
            wide([1.0, 101.0]),
            Some(Unidentified::Wide { .. })
        ));
        assert!(wide([0.0, 1.0]).is_some());
        assert_eq!(wide([f64::NAN, f64::NAN]), None);
        assert_eq!(size(1e5, [5e4, 2e5]), None);
        assert_eq!(
            size(2e12, [1e11, 1e12]),
            Some(Unidentified::Huge { value: 2e12 })
        );
        assert_eq!(size(1e5, [5e4, f64::INFINITY]), Some(Unidentified::Open));
        assert_eq!(size(f64::INFINITY, [f64::NAN; 2]), Some(Unidentified::Open));
    }
}
