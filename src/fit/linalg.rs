//! Small dense linear algebra for the fits: Householder least squares and a Cholesky solve.
//!
//! Matrices are row-major `&[f64]` slices. The problems here have at most a few hundred rows and
//! at most five columns, so plain loops beat any library call overhead.

/// Least squares `min_b ||A b - y||_2` by Householder QR.
///
/// `a` is `n x p` row-major (`a[i * p + j]`), `y` has length `n`. Returns the coefficients and the
/// residual sum of squares, or `None` when `n < p` or `A` is numerically rank deficient (a
/// diagonal entry of `R` below `1e-12` times the largest one). Cost `O(n p^2)`.
pub(crate) fn lstsq(a: &[f64], n: usize, p: usize, y: &[f64]) -> Option<(Vec<f64>, f64)> {
    debug_assert_eq!(a.len(), n * p);
    debug_assert_eq!(y.len(), n);
    if n < p || p == 0 {
        return None;
    }
    let mut a = a.to_vec();
    let mut b = y.to_vec();
    let mut rdiag = vec![0.0; p];
    for k in 0..p {
        let norm = (k..n).fold(0.0_f64, |acc, i| acc.hypot(a[i * p + k]));
        if norm == 0.0 || !norm.is_finite() {
            return None;
        }
        let alpha = if a[k * p + k] > 0.0 { -norm } else { norm };
        // v = x - alpha e_1, stored in place of column k (rows k..n).
        a[k * p + k] -= alpha;
        let vnorm2: f64 = (k..n).map(|i| a[i * p + k] * a[i * p + k]).sum();
        if vnorm2 == 0.0 {
            return None;
        }
        for j in (k + 1)..p {
            let s: f64 = (k..n).map(|i| a[i * p + k] * a[i * p + j]).sum();
            let f = 2.0 * s / vnorm2;
            for i in k..n {
                a[i * p + j] -= f * a[i * p + k];
            }
        }
        let s: f64 = (k..n).map(|i| a[i * p + k] * b[i]).sum();
        let f = 2.0 * s / vnorm2;
        for i in k..n {
            b[i] -= f * a[i * p + k];
        }
        rdiag[k] = alpha;
    }
    let rmax = rdiag.iter().fold(0.0_f64, |m, r| m.max(r.abs()));
    if rdiag.iter().any(|r| r.abs() <= 1e-12 * rmax) {
        return None;
    }
    let mut coef = vec![0.0; p];
    for k in (0..p).rev() {
        let s: f64 = ((k + 1)..p).map(|j| a[k * p + j] * coef[j]).sum();
        coef[k] = (b[k] - s) / rdiag[k];
    }
    let rss: f64 = b[p..].iter().map(|r| r * r).sum();
    Some((coef, rss))
}

/// Solves `M x = b` for a symmetric positive definite `m x m` matrix (row-major) by Cholesky.
///
/// Returns `None` when `M` is not numerically positive definite. Cost `O(m^3)`.
pub(crate) fn solve_spd(mat: &[f64], b: &[f64], m: usize) -> Option<Vec<f64>> {
    debug_assert_eq!(mat.len(), m * m);
    let mut l = vec![0.0; m * m];
    for i in 0..m {
        for j in 0..=i {
            let s: f64 = (0..j).map(|k| l[i * m + k] * l[j * m + k]).sum();
            if i == j {
                let d = mat[i * m + i] - s;
                if d <= 0.0 || !d.is_finite() {
                    return None;
                }
                l[i * m + i] = d.sqrt();
            } else {
                l[i * m + j] = (mat[i * m + j] - s) / l[j * m + j];
            }
        }
    }
    let mut z = vec![0.0; m];
    for i in 0..m {
        let s: f64 = (0..i).map(|k| l[i * m + k] * z[k]).sum();
        z[i] = (b[i] - s) / l[i * m + i];
    }
    let mut x = vec![0.0; m];
    for i in (0..m).rev() {
        let s: f64 = ((i + 1)..m).map(|k| l[k * m + i] * x[k]).sum();
        x[i] = (z[i] - s) / l[i * m + i];
    }
    Some(x)
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
