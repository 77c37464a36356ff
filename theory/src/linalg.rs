//! Thin wrappers over faer with the parallelism passed explicitly.
//!
//! The Monte Carlo engine runs many decompositions side by side on a rayon pool and asks each for
//! `Par::Seq`, which keeps every draw's floating-point operations in a fixed order: results are
//! bit-identical whatever the number of threads. A caller with one large problem passes
//! `Par::rayon(0)` instead.

use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::evd::{self, ComputeEigenvectors};
use faer::{Accum, Mat, MatRef, Par};

/// Symmetric eigendecomposition `A = P diag(lambda) P^T` of an `m x m` matrix (lower triangle
/// read), with the eigenvalues in **descending** order and the eigenvectors as the columns of `P`
/// in the same order.
///
/// Cost `O(m^3)` flops, memory `O(m^2)`.
pub fn sym_eig_desc(a: MatRef<'_, f64>, par: Par) -> (Vec<f64>, Mat<f64>) {
    let m = a.nrows();
    assert_eq!(m, a.ncols(), "sym_eig_desc needs a square matrix");
    let mut s = faer::diag::Diag::<f64>::zeros(m);
    let mut u = Mat::<f64>::zeros(m, m);
    let scratch =
        evd::self_adjoint_evd_scratch::<f64>(m, ComputeEigenvectors::Yes, par, Default::default());
    let mut buf = MemBuffer::new(scratch);
    evd::self_adjoint_evd(
        a,
        s.as_mut(),
        Some(u.as_mut()),
        par,
        MemStack::new(&mut buf),
        Default::default(),
    )
    // The self-adjoint QR/divide-and-conquer iteration only fails on NaN input, which our
    // samplers never produce from a validated Setup.
    .expect("symmetric eigendecomposition did not converge (NaN in input?)");
    // faer returns ascending order; reverse both.
    let lambda: Vec<f64> = (0..m).rev().map(|i| s[i]).collect();
    let p = Mat::from_fn(m, m, |i, j| u[(i, m - 1 - j)]);
    (lambda, p)
}

/// `A^T A` for an `r x c` matrix: a `c x c` Gram matrix. Cost `r c^2` flops.
pub fn gram_t(a: MatRef<'_, f64>, par: Par) -> Mat<f64> {
    let mut g = Mat::<f64>::zeros(a.ncols(), a.ncols());
    faer::linalg::matmul::matmul(g.as_mut(), Accum::Replace, a.transpose(), a, 1.0, par);
    g
}

/// `A B`. Cost `r k c` flops.
pub fn mul(a: MatRef<'_, f64>, b: MatRef<'_, f64>, par: Par) -> Mat<f64> {
    let mut out = Mat::<f64>::zeros(a.nrows(), b.ncols());
    faer::linalg::matmul::matmul(out.as_mut(), Accum::Replace, a, b, 1.0, par);
    out
}

/// `A U` for an upper triangular `U` (its lower triangle is not read). Cost `r k^2` flops for
/// `k x k` `U`: half of [`mul`]'s.
pub fn mul_upper(a: MatRef<'_, f64>, u: MatRef<'_, f64>, par: Par) -> Mat<f64> {
    use faer::linalg::matmul::triangular::{matmul, BlockStructure};
    let mut out = Mat::<f64>::zeros(a.nrows(), u.ncols());
    matmul(
        out.as_mut(),
        BlockStructure::Rectangular,
        Accum::Replace,
        a,
        BlockStructure::Rectangular,
        u,
        BlockStructure::TriangularUpper,
        1.0,
        par,
    );
    out
}

/// Number of eigenvalues (sorted descending) that are numerically non-zero: larger than
/// `lambda_max * max(rows, cols) * eps`, the usual rank threshold for a matrix of that shape.
pub fn numerical_rank(lambda_desc: &[f64], rows: usize, cols: usize) -> usize {
    let Some(&top) = lambda_desc.first() else {
        return 0;
    };
    if top <= 0.0 {
        return 0;
    }
    let tol = top * (rows.max(cols) as f64) * f64::EPSILON;
    lambda_desc.iter().take_while(|&&l| l > tol).count()
}

/// The lower triangle of `T T^T` for a lower-triangular square `T` (the upper triangle is left
/// zero; [`sym_eig_desc`] reads only the lower one). Cost `n^3 / 3` flops instead of `n^3`.
pub fn lower_tri_outer(t: MatRef<'_, f64>, par: Par) -> Mat<f64> {
    use faer::linalg::matmul::triangular::{matmul, BlockStructure};
    let n = t.nrows();
    let mut out = Mat::<f64>::zeros(n, n);
    matmul(
        out.as_mut(),
        BlockStructure::TriangularLower,
        Accum::Replace,
        t,
        BlockStructure::TriangularLower,
        t.transpose(),
        BlockStructure::TriangularUpper,
        1.0,
        par,
    );
    out
}
