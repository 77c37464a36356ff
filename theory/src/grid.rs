//! Log-spaced grids: training-set sizes of learning curves, and the abscissae at which a fitted
//! power law is drawn. One implementation for the whole workspace.

use crate::TheoryError;

/// `points` values from `lo` to `hi`, evenly spaced in `log x` (a geometric sequence), ascending;
/// the ends are exactly `lo` and `hi`. Cost `O(points)`.
///
/// ```
/// use plateau_theory::grid::log_spaced;
/// let xs = log_spaced(1.0, 1000.0, 4).unwrap();
/// assert_eq!(xs[0], 1.0);
/// assert!((xs[1] - 10.0).abs() < 1e-12 && (xs[2] - 100.0).abs() < 1e-12);
/// assert_eq!(xs[3], 1000.0);
/// ```
///
/// # Errors
/// [`TheoryError::InvalidArgument`] unless `0 < lo <= hi < inf` and `points >= 2`.
pub fn log_spaced(lo: f64, hi: f64, points: usize) -> Result<Vec<f64>, TheoryError> {
    if !(lo > 0.0 && lo <= hi && hi.is_finite()) {
        return Err(TheoryError::InvalidArgument(format!(
            "a log-spaced grid needs 0 < lo <= hi < inf, got lo = {lo}, hi = {hi}"
        )));
    }
    if points < 2 {
        return Err(TheoryError::InvalidArgument(format!(
            "a log-spaced grid needs at least 2 points (its two ends), got {points}"
        )));
    }
    let (l0, l1) = (lo.ln(), hi.ln());
    let last = points - 1;
    Ok((0..points)
        .map(|i| match i {
            0 => lo,
            _ if i == last => hi,
            _ => (l0 + (l1 - l0) * i as f64 / last as f64).exp(),
        })
        .collect())
}

/// Training-set sizes: [`log_spaced`] from `lo` to `hi` rounded to integers, duplicates (at the
/// small end, where the spacing is below 1) removed; ascending, from `lo` to `hi`.
///
/// # Errors
/// [`TheoryError::InvalidArgument`] unless `1 <= lo <= hi` and `points >= 2`.
pub fn log_spaced_sizes(lo: usize, hi: usize, points: usize) -> Result<Vec<usize>, TheoryError> {
    if lo == 0 {
        return Err(TheoryError::InvalidArgument(
            "a grid of training-set sizes starts at 1 or more, got 0".into(),
        ));
    }
    let mut sizes: Vec<usize> = log_spaced(lo as f64, hi as f64, points)?
        .into_iter()
        .map(|x| x.round() as usize)
        .collect();
    sizes.dedup();
    Ok(sizes)
}

/// The number of points that gives at least `per_decade` points per decade on `[lo, hi]` with
/// both ends included: `ceil(log10(hi / lo) per_decade) + 1`, at least 2. For `lo <= 0` or
/// non-finite ends the answer is meaningless ([`log_spaced`] rejects such ends).
pub fn points_per_decade(lo: f64, hi: f64, per_decade: usize) -> usize {
    let decades = hi.log10() - lo.log10();
    (decades * per_decade as f64).ceil().max(1.0) as usize + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn geometric_with_exact_ends() {
        let xs = log_spaced(3.0, 3e6, 7).unwrap();
        assert_eq!((xs[0], xs[6]), (3.0, 3e6));
        for (i, x) in xs.iter().enumerate() {
            let want = 3.0 * 10f64.powi(i as i32);
            assert!((x - want).abs() <= 1e-13 * want, "{i}: {x} vs {want}");
        }
        assert_eq!(log_spaced(2.5, 2.5, 3).unwrap(), vec![2.5; 3]);
    }

    #[test]
    fn sizes_are_rounded_and_distinct() {
        // 1..16384 in 15 points is the powers of two.
        let pow2: Vec<usize> = (0..=14).map(|p| 1 << p).collect();
        assert_eq!(log_spaced_sizes(1, 16384, 15).unwrap(), pow2);
        // Dense at the small end: 1, 2, 3 appear once each.
        let s = log_spaced_sizes(1, 100, 40).unwrap();
        assert!(s.windows(2).all(|w| w[0] < w[1]), "{s:?}");
        assert_eq!((s[0], s[1], s[2], *s.last().unwrap()), (1, 2, 3, 100));
    }

    #[test]
    fn per_decade_count() {
        assert_eq!(points_per_decade(1.0, 1e6, 6), 37);
        assert_eq!(points_per_decade(4.0, 1e6, 6), 34);
        assert_eq!(points_per_decade(5.0, 5.0, 6), 2);
    }

    #[test]
    fn bad_ends_and_counts_are_errors() {
        assert!(log_spaced(0.0, 1.0, 5).is_err());
        assert!(log_spaced(2.0, 1.0, 5).is_err());
        assert!(log_spaced(1.0, f64::INFINITY, 5).is_err());
        assert!(log_spaced(f64::NAN, 1.0, 5).is_err());
        assert!(log_spaced(1.0, 2.0, 1).is_err());
        assert!(log_spaced_sizes(0, 10, 5).is_err());
    }
}
