//! Second moments `sum_i x_i x_i^T` of a pool of images, kept per bootstrap block, and their
//! eigenvalues (pooled, and for bootstrap resamples of the blocks).
//!
//! Examples of one file (patches of one photograph) are dependent, so the bootstrap resamples
//! **blocks of whole files**: file `g` goes to block `g mod blocks`. With fewer files than blocks
//! (the scikit-image photographs) every block is one file; with many files a block is a fixed
//! random-like set of them, and resampling blocks of independent files is a valid bootstrap.

use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, Par, Side};
use rand::Rng;
use rayon::prelude::*;

/// Largest number of bootstrap blocks (each holds one `n x n` sum).
pub const MAX_BLOCKS: usize = 64;

/// Per-block sums of `x x^T` and example counts, for `n`-dimensional examples.
#[derive(Clone, Debug)]
pub struct Moments {
    dim: usize,
    sums: Vec<Mat<f64>>,
    counts: Vec<usize>,
}

impl Moments {
    /// Empty sums for `dim`-dimensional examples in `blocks` blocks. Memory `8 blocks dim^2`
    /// bytes.
    pub fn new(dim: usize, blocks: usize) -> Self {
        Self {
            dim,
            sums: (0..blocks).map(|_| Mat::zeros(dim, dim)).collect(),
            counts: vec![0; blocks],
        }
    }

    /// Adds the examples `columns` (each `dim` values) of `group`s (file indices; block
    /// `group mod blocks`): one rank-`m` update per block present, `O(m dim^2)` flops.
    ///
    /// # Panics
    /// When a column does not have `dim` values or the lengths differ.
    pub fn add(&mut self, groups: &[usize], columns: &[Vec<f64>]) {
        assert_eq!(groups.len(), columns.len());
        let blocks = self.sums.len();
        let mut by_block: Vec<Vec<&[f64]>> = vec![Vec::new(); blocks];
        for (g, c) in groups.iter().zip(columns) {
            assert_eq!(c.len(), self.dim, "an example has the wrong size");
            by_block[g % blocks].push(c);
        }
        for (b, cols) in by_block.iter().enumerate().filter(|(_, c)| !c.is_empty()) {
            let x = Mat::from_fn(self.dim, cols.len(), |i, j| cols[j][i]);
            matmul(
                self.sums[b].as_mut(),
                Accum::Add,
                x.as_ref(),
                x.transpose(),
                1.0,
                Par::rayon(0),
            );
            self.counts[b] += cols.len();
        }
    }

    /// Drops the blocks that received no example (so every block can be resampled).
    pub fn compact(mut self) -> Self {
        let keep: Vec<bool> = self.counts.iter().map(|&c| c > 0).collect();
        let mut k = keep.iter();
        self.sums.retain(|_| *k.next().unwrap());
        self.counts.retain(|&c| c > 0);
        self
    }

    /// Example dimension `n`.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Number of blocks.
    pub fn blocks(&self) -> usize {
        self.counts.len()
    }

    /// Examples in all blocks.
    pub fn count(&self) -> usize {
        self.counts.iter().sum()
    }

    /// `sum_b w_b S_b / sum_b w_b c_b`: the second moment of the pool with block `b` counted
    /// `w_b` times (all ones: the pooled estimate). `O(blocks dim^2)`.
    ///
    /// # Panics
    /// When the weighted count is 0.
    pub fn pooled(&self, weights: &[f64]) -> Mat<f64> {
        let total: f64 = weights
            .iter()
            .zip(&self.counts)
            .map(|(w, &c)| w * c as f64)
            .sum();
        assert!(total > 0.0, "no example has positive weight");
        let mut m = Mat::<f64>::zeros(self.dim, self.dim);
        for (s, &w) in self.sums.iter().zip(weights).filter(|(_, w)| **w > 0.0) {
            let c = w / total;
            for j in 0..self.dim {
                for i in 0..self.dim {
                    m[(i, j)] += c * s[(i, j)];
                }
            }
        }
        m
    }

    /// Eigenvalues of the pooled second moment, largest first. `O(dim^3)`.
    pub fn eigenvalues(&self) -> Vec<f64> {
        eigenvalues_desc(&self.pooled(&vec![1.0; self.blocks()]))
    }

    /// Eigenvalues (largest first) of `resamples` bootstrap resamples: each draws `blocks`
    /// blocks with replacement (ChaCha8 stream of `seed`, one per resample, so the result does
    /// not depend on the thread count). `O(resamples dim^3)`, in parallel.
    pub fn bootstrap(&self, resamples: usize, seed: u64) -> Vec<Vec<f64>> {
        use rand::SeedableRng;
        (0..resamples)
            .into_par_iter()
            .map(|r| {
                let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
                rng.set_stream(r as u64 + 1);
                let mut w = vec![0.0; self.blocks()];
                for _ in 0..self.blocks() {
                    w[rng.random_range(0..self.blocks())] += 1.0;
                }
                eigenvalues_desc(&self.pooled(&w))
            })
            .collect()
    }
}

/// Eigenvalues of a symmetric matrix (lower triangle read), largest first, rounding negatives
/// (of order `eps * lambda_max`) up to 0.
///
/// # Panics
/// When the decomposition does not converge (NaN in the input).
pub fn eigenvalues_desc(m: &Mat<f64>) -> Vec<f64> {
    let mut v = m
        .self_adjoint_eigenvalues(Side::Lower)
        .expect("symmetric eigendecomposition did not converge (NaN in the images?)");
    v.iter_mut().for_each(|x| *x = x.max(0.0));
    v.sort_by(|a, b| b.total_cmp(a));
    v
}

/// The `q`-quantile (`0 <= q <= 1`) of `values` by linear interpolation between order
/// statistics. `O(len log len)`.
///
/// # Panics
/// When `values` is empty.
pub fn quantile(values: &[f64], q: f64) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let at = q * (v.len() - 1) as f64;
    let (lo, hi) = (at.floor() as usize, at.ceil() as usize);
    v[lo] + (v[hi] - v[lo]) * (at - lo as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pooled_moment_is_the_sample_second_moment() {
        let xs = [vec![1.0, 2.0], vec![-1.0, 0.5], vec![3.0, -1.0]];
        let mut m = Moments::new(2, 4);
        m.add(&[0, 5, 2], &xs);
        let m = m.compact();
        assert_eq!((m.blocks(), m.count()), (3, 3));
        let p = m.pooled(&[1.0; 3]);
        let want = |i: usize, j: usize| xs.iter().map(|x| x[i] * x[j]).sum::<f64>() / 3.0;
        for i in 0..2 {
            for j in 0..2 {
                assert!((p[(i, j)] - want(i, j)).abs() < 1e-12);
            }
        }
        // Weight 2 on the first block: as if its example appeared twice.
        let w = m.pooled(&[2.0, 0.0, 1.0]);
        let want00 = (2.0 * 1.0 + 9.0) / 3.0;
        assert!((w[(0, 0)] - want00).abs() < 1e-12);
        let e = m.eigenvalues();
        assert!(e[0] >= e[1] && (e[0] + e[1] - (p[(0, 0)] + p[(1, 1)])).abs() < 1e-12);
    }

    #[test]
    fn bootstrap_is_seeded_and_quantiles_interpolate() {
        let mut m = Moments::new(2, 8);
        let xs: Vec<Vec<f64>> = (0..8).map(|i| vec![i as f64, 1.0]).collect();
        m.add(&(0..8).collect::<Vec<_>>(), &xs);
        let a = m.bootstrap(5, 3);
        assert_eq!(a, m.bootstrap(5, 3));
        assert_ne!(a[0], a[1]);
        assert_eq!(quantile(&[3.0, 1.0, 2.0], 0.5), 2.0);
        assert_eq!(quantile(&[0.0, 1.0], 0.25), 0.25);
    }
}
