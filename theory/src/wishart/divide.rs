//! Eigenvalues of a symmetric tridiagonal matrix by divide and conquer (Cuppen 1981), each
//! merge a rank-one update solved by the crate's secular solver.
//!
//! Tearing `T` (`m x m`) between rows `h - 1` and `h` by its off-diagonal `beta = e_{h-1}`,
//!
//! ```text
//! T = diag(T_1, T_2) + |beta| v v^T,     v = e_{h-1} + sign(beta) e_h,
//! ```
//!
//! with `|beta|` taken off the last diagonal entry of `T_1` and the first of `T_2`. If
//! `T_i = Q_i diag(lambda_i) Q_i^T`, the merge is the rank-one problem `diag(lambda_1, lambda_2)
//! + z z^T` with `z = sqrt|beta| [Q_1^T e_last; sign(beta) Q_2^T e_first]`: it needs only the
//! last row of `Q_1` and the first row of `Q_2`, and the merged matrix's first and last rows are
//! `[Q_1^T e_first; 0]` and `[0; Q_2^T e_last]` carried through the update. So each block keeps
//! its eigenvalues and two rows of its eigenvectors (three tracked columns of
//! `secular::Projected`: first row, last row, `z`), never the eigenvectors themselves.
//!
//! Cost: a merge of size `k` is one rank-one update, `O(k^2)` (the roots, about one pass over
//! the poles each with the far poles expanded, Löwner's formula and three tracked columns), so
//! `O(m^2)` in all, about twice the top merge. The implicit QL iteration that it replaces
//! ([`super::tridiagonal_eigenvalues`]) is also `O(m^2)` but bound by the latency of a chain of
//! divisions; measured at `m = 9990` (the `n = 10000` noise block) on one core, QL 1.4 s, this
//! 0.26 to 0.29 s. Accuracy: absolute `O(eps ||T||)` per eigenvalue, as QL (deflation perturbs the matrix
//! by at most `8 eps max(||T||, ||z||^2)`).

use faer::Par;

use crate::secular::Projected;

/// The eigenvalues, ascending, of the symmetric tridiagonal matrix with diagonal `d` and
/// off-diagonal `e` (`e.len() + 1 == d.len()`, or both empty).
pub fn tridiagonal_eigenvalues_divide(d: &[f64], e: &[f64]) -> Vec<f64> {
    assert_eq!(e.len() + 1, d.len().max(1), "off-diagonal length");
    if d.is_empty() {
        return Vec::new();
    }
    let mut diag = d.to_vec();
    block(&mut diag, e).values
}

/// A solved block: eigenvalues ascending, and the first and last rows of its eigenvectors in
/// the same order.
struct Block {
    values: Vec<f64>,
    first: Vec<f64>,
    last: Vec<f64>,
}

/// Solves the block with diagonal `d` (modified in place by the tears) and off-diagonal `e`,
/// down to single rows (a `1 x 1` block is its own eigenpair; QL cannot give the eigenvector
/// rows that a larger leaf would need, and the small merges are cheap).
fn block(d: &mut [f64], e: &[f64]) -> Block {
    let m = d.len();
    if m == 1 {
        return Block {
            values: d.to_vec(),
            first: vec![1.0],
            last: vec![1.0],
        };
    }
    let h = m / 2;
    let beta = e[h - 1];
    d[h - 1] -= beta.abs();
    d[h] -= beta.abs();
    let (d1, d2) = d.split_at_mut(h);
    let top = block(d1, &e[..h - 1]);
    let bottom = block(d2, &e[h..]);
    merge(top, bottom, beta)
}

/// The eigenpairs of `diag(T_1, T_2) + |beta| v v^T` from those of the two blocks.
fn merge(top: Block, bottom: Block, beta: f64) -> Block {
    let root = beta.abs().sqrt();
    let sign = if beta < 0.0 { -1.0 } else { 1.0 };
    let (n1, n2) = (top.values.len(), bottom.values.len());
    // Rows [first, last, z] of both blocks' eigenvectors, merged in ascending eigenvalue order.
    let mut rows: Vec<(f64, [f64; 3])> = Vec::with_capacity(n1 + n2);
    rows.extend((0..n1).map(|i| (top.values[i], [top.first[i], 0.0, root * top.last[i]])));
    rows.extend((0..n2).map(|j| {
        let z = sign * root * bottom.first[j];
        (bottom.values[j], [0.0, bottom.last[j], z])
    }));
    rows.sort_by(|a, b| a.0.total_cmp(&b.0));
    let values = rows.iter().map(|r| r.0).collect();
    let w = rows.iter().flat_map(|r| r.1).collect();
    let mut merged = Projected::new(values, w, 3);
    merged.add_rank_one(2, Par::Seq);
    let (values, w) = merged.into_parts();
    Block {
        first: w.chunks_exact(3).map(|r| r[0]).collect(),
        last: w.chunks_exact(3).map(|r| r[1]).collect(),
        values,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// Against the implicit QL iteration on random tridiagonals of mixed signs, a Wilkinson-like
    /// matrix with close pairs, a split matrix (zero off-diagonals) and the Wishart bidiagonal
    /// model's `B^T B`: every eigenvalue within `3e-13 ||T||` (`||T||` the largest entry).
    #[test]
    fn divide_and_conquer_matches_ql() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        for (case, m) in [1, 2, 3, 7, 64, 500, 1500].into_iter().enumerate() {
            let cases: [(Vec<f64>, Vec<f64>); 4] = [
                (
                    (0..m).map(|_| rng.random::<f64>() - 0.5).collect(),
                    (1..m).map(|_| rng.random::<f64>() - 0.5).collect(),
                ),
                (
                    (0..m).map(|i| (i as f64 - (m / 2) as f64).abs()).collect(),
                    vec![1.0; m - 1],
                ),
                (
                    (0..m).map(|_| rng.random::<f64>()).collect(),
                    (1..m).map(|i| if i % 5 == 0 { 0.0 } else { 0.3 }).collect(),
                ),
                {
                    let a: Vec<f64> = (0..m).map(|i| ((2 * m - i) as f64).sqrt()).collect();
                    let b: Vec<f64> = (1..m).map(|i| ((m - i) as f64).sqrt()).collect();
                    super::super::bidiagonal_gram(&a, &b)
                },
            ];
            for (kind, (d, e)) in cases.into_iter().enumerate() {
                let got = tridiagonal_eigenvalues_divide(&d, &e);
                let (mut want, mut e2) = (d.clone(), e.clone());
                super::super::tridiagonal_eigenvalues(&mut want, &mut e2);
                let norm = d.iter().chain(&e).fold(0.0f64, |a, x| a.max(x.abs()));
                for (g, w) in got.iter().zip(&want) {
                    assert!(
                        (g - w).abs() <= 1e-13 * 3.0 * norm.max(1e-300),
                        "case {case} kind {kind} m {m}: {g} vs {w}"
                    );
                }
                assert_eq!(got.len(), m);
            }
        }
    }
}
