//! `--measure-linear S`: the learned linear map trained on `S` training sets per `N` (the first
//! `N` training images for data seeds `1..=S`, as `plateau train --seed s` takes them), its risk
//! evaluated exactly over the noise on two populations: the pool (the training photographs'
//! images, whose spectrum the predictions use) and the test split (other photographs); and the
//! control, the same learning on Gaussian images with the pool's second moment.

use anyhow::Result;
use faer::Mat;
use rand::SeedableRng;
use rayon::prelude::*;
use serde::Serialize;

use super::pool::{moments, PoolSource, Which};
use super::SpectrumArgs;
use crate::spectrum::learned::{gaussian_like, learned_linear};
use crate::spectrum::moments::Moments;
use crate::spectrum::predict::Estimator;
use crate::streams::Split;

/// One row of `measured.csv`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Measured {
    /// Training-set size.
    #[serde(rename = "N")]
    pub n_train: usize,
    /// Data seed of the training set (and of its noise).
    pub seed: u64,
    /// `ridge_tuned` or `gd_early_stopped` (each at its best penalty or step for the pool).
    pub estimator: Estimator,
    /// Per-pixel MSE on the pool's population (the predictions' population).
    pub mse: f64,
    /// Per-pixel MSE on the test split's images (other photographs), the penalty or step tuned
    /// on that population.
    pub mse_test: f64,
    /// The control: the same learning on `N` Gaussian images with the pool's second moment (the
    /// theory's assumption), per-pixel MSE on the pool's population.
    pub mse_gaussian: f64,
}

/// The `n x N` matrix of the first `count` training images for `seed`.
fn training_set(source: &PoolSource, count: usize, seed: u64) -> Result<Mat<f64>> {
    let images = source.images(Split::Train, count, seed)?;
    let cols: Vec<Vec<f64>> = (0..images.len)
        .map(|i| images.get(i))
        .collect::<Result<_>>()?;
    let n = cols.first().map_or(0, Vec::len);
    Ok(Mat::from_fn(n, cols.len(), |i, j| cols[j][i]))
}

/// Trains and evaluates the learned linear maps for every `N` and seed (in parallel).
///
/// # Errors
/// Unreadable data.
pub fn measure(args: &SpectrumArgs, source: &PoolSource, pool: &Moments) -> Result<Vec<Measured>> {
    let m_pool = pool.pooled(&vec![1.0; pool.blocks()]);
    let test = moments(source, args, Which::Test)?;
    let m_test = test.pooled(&vec![1.0; test.blocks()]);
    let jobs: Vec<(usize, u64)> = args
        .train_sizes
        .iter()
        .flat_map(|&n| (1..=args.measure_linear as u64).map(move |s| (n, s)))
        .collect();
    let rows: Vec<[Measured; 2]> = jobs
        .par_iter()
        .map(|&(n, seed)| -> Result<[Measured; 2]> {
            let x = training_set(source, n, seed)?;
            let noise = || {
                let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
                r.set_stream(n as u64);
                r
            };
            let on_pool = learned_linear(&x, args.noise_std, &m_pool, &mut noise());
            let on_test = learned_linear(&x, args.noise_std, &m_test, &mut noise());
            let mut rng = noise();
            let g = gaussian_like(&m_pool, n, &mut rng);
            let gauss = learned_linear(&g, args.noise_std, &m_pool, &mut rng);
            let row = |estimator, mse, mse_test, mse_gaussian| Measured {
                n_train: n,
                seed,
                estimator,
                mse,
                mse_test,
                mse_gaussian,
            };
            Ok([
                row(
                    Estimator::RidgeTuned,
                    on_pool.ridge,
                    on_test.ridge,
                    gauss.ridge,
                ),
                row(Estimator::GdEarlyStopped, on_pool.gd, on_test.gd, gauss.gd),
            ])
        })
        .collect::<Result<_>>()?;
    Ok(rows.into_iter().flatten().collect())
}
