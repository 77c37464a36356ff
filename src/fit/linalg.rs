//! Small dense linear algebra for the fits, through faer: Householder least squares and a
//! Cholesky solve.
//!
//! Matrices are row-major `&[f64]` slices (the fits build them row by row); the problems have
//! at most a few hundred rows and five columns.

use faer::linalg::solvers::{Solve, SolveLstsq};
use faer::{Mat, Side};

/// Least squares `min_b ||A b - y||_2` by Householder QR.
///
/// `a` is `n x p` row-major (`a[i * p + j]`), `y` has length `n`. Returns the coefficients and the
/// residual sum of squares, or `None` when `n < p`, an entry is not finite, or `A` is numerically
/// rank deficient (a diagonal entry of `R` at most `1e-12` times the largest one). Cost
/// `O(n p^2)`.
pub(crate) fn lstsq(a: &[f64], n: usize, p: usize, y: &[f64]) -> Option<(Vec<f64>, f64)> {
    debug_assert_eq!(a.len(), n * p);
    debug_assert_eq!(y.len(), n);
    if n < p || p == 0 || a.iter().chain(y).any(|v| !v.is_finite()) {
        return None;
    }
    let mat = Mat::from_fn(n, p, |i, j| a[i * p + j]);
    let qr = mat.qr();
    let r = qr.thin_R();
    let rmax = (0..p).fold(0.0_f64, |m, k| m.max(r[(k, k)].abs()));
    if rmax == 0.0 || (0..p).any(|k| r[(k, k)].abs() <= 1e-12 * rmax) {
        return None;
    }
    let rhs = Mat::from_fn(n, 1, |i, _| y[i]);
    let coef = qr.solve_lstsq(&rhs);
    let coef: Vec<f64> = (0..p).map(|j| coef[(j, 0)]).collect();
    let rss = (0..n)
        .map(|i| {
            let fit: f64 = (0..p).map(|j| a[i * p + j] * coef[j]).sum();
            (y[i] - fit).powi(2)
        })
        .sum();
    Some((coef, rss))
}

/// Solves `M x = b` for a symmetric positive definite `m x m` matrix (row-major) by Cholesky.
///
/// Returns `None` when `M` is not numerically positive definite. Cost `O(m^3)`.
pub(crate) fn solve_spd(mat: &[f64], b: &[f64], m: usize) -> Option<Vec<f64>> {
    debug_assert_eq!(mat.len(), m * m);
    if mat.iter().chain(b).any(|v| !v.is_finite()) {
        return None;
    }
    let a = Mat::from_fn(m, m, |i, j| mat[i * m + j]);
    let llt = a.llt(Side::Lower).ok()?;
    let x = llt.solve(Mat::from_fn(m, 1, |i, _| b[i]));
    let x: Vec<f64> = (0..m).map(|i| x[(i, 0)]).collect();
    x.iter().all(|v| v.is_finite()).then_some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lstsq_recovers_exact_line_and_rss() {
        // y = 3 - 2 x exactly, then one perturbed point.
        let xs = [0.0, 1.0, 2.0, 3.0, 4.0];
        let a: Vec<f64> = xs.iter().flat_map(|&x| [1.0, x]).collect();
        let y: Vec<f64> = xs.iter().map(|x| 3.0 - 2.0 * x).collect();
        let (c, rss) = lstsq(&a, 5, 2, &y).unwrap();
        assert!((c[0] - 3.0).abs() < 1e-14 && (c[1] + 2.0).abs() < 1e-14);
        assert!(rss < 1e-26);
        // Perturb the middle point by 1: the fit moves by the hat-matrix row, rss = 1 - h_22.
        let mut y2 = y.clone();
        y2[2] += 1.0;
        let (_, rss2) = lstsq(&a, 5, 2, &y2).unwrap();
        // h_22 = 1/5 + (x-2)^2/10 = 0.2 at x = 2.
        assert!((rss2 - 0.8).abs() < 1e-12, "{rss2}");
    }

    #[test]
    fn lstsq_rejects_rank_deficient_and_short() {
        let a = [1.0, 2.0, 2.0, 4.0, 3.0, 6.0];
        assert!(lstsq(&a, 3, 2, &[1.0, 2.0, 3.0]).is_none());
        assert!(lstsq(&[1.0, 2.0], 1, 2, &[1.0]).is_none());
    }

    #[test]
    fn cholesky_solves_and_rejects_indefinite() {
        let m = [4.0, 2.0, 2.0, 3.0];
        let x = solve_spd(&m, &[2.0, 1.0], 2).unwrap();
        assert!((4.0 * x[0] + 2.0 * x[1] - 2.0).abs() < 1e-14);
        assert!((2.0 * x[0] + 3.0 * x[1] - 1.0).abs() < 1e-14);
        assert!(solve_spd(&[1.0, 2.0, 2.0, 1.0], &[1.0, 1.0], 2).is_none());
    }
}
