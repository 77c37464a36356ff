//! The Bayes error floor of every task on the synthetic images, and the Bayes estimators that
//! attain it (`theory/field.md`).
//!
//! - Denoising: `(d / n) sigma^2 / (1 + sigma^2)` per pixel for the subspace model, the Wiener
//!   filter's error for the field ([`DataSpec::floor_mse`]); the estimators are `U U^T y / (1 +
//!   sigma^2)` and the Wiener filter ([`DataSpec::oracle_denoise`]).
//! - MRI (column masks of [`crate::mask`]): exact for the field, also in expectation over
//!   random masks; for the subspace model `(d - rank) / n` per mask, exact for equispaced masks,
//!   a Monte Carlo average for random masks.
//! - SR with area downsampling: exact for both models.
//!
//! Everything here is `f64` on the CPU (no LibTorch): the floors are the reference the
//! LibTorch side is tested against.

use faer::Mat;
use plateau_theory::field::{subspace_pixel_floor, subspace_sr_floor, FieldSpectrum, SubspaceMri};

use crate::data::{DataSpec, Model, Pairs};
use crate::mask::{
    centre_columns, column_mask, equispaced_mask, equispaced_offsets, random_column_probability,
};
use crate::metrics::mean_stderr;
use crate::streams::{floor_mask_rng, Split};
use crate::task::{num_low, Downsample, MaskKind, Measure, Task};

/// Masks averaged for the subspace model's MRI floor with random masks (Monte Carlo, on
/// [`crate::streams::floor_mask_rng`]; the standard error is reported beside the floor).
pub const SUBSPACE_MRI_MASKS: usize = 2000;

/// Per-pixel squared error between two images of the same size.
fn pixel_mse(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum::<f64>() / a.len() as f64
}

impl DataSpec {
    /// The Bayes (MMSE) error per pixel: the floor no denoiser can beat in expectation.
    pub fn floor_mse(&self) -> f64 {
        match self.model() {
            Model::Subspace { setup, .. } => subspace_pixel_floor(setup),
            Model::Field(f) => f.mmse_floor(self.noise_std()),
        }
    }

    /// The Bayes-optimal denoiser applied to one noisy image: `U U^T y / (1 + sigma^2)` for the
    /// subspace model, the Wiener filter for the field. Cost `O(n d)` or `O(n log n)`.
    pub fn oracle_denoise(&self, noisy: &[f64]) -> Vec<f64> {
        match self.model() {
            Model::Subspace { basis, setup } => {
                let n = self.pixels();
                let d = basis.ncols();
                let coef: Vec<f64> = (0..d)
                    .map(|j| (0..n).map(|i| basis[(i, j)] * noisy[i]).sum::<f64>() / setup.alpha())
                    .collect();
                (0..n)
                    .map(|i| (0..d).map(|j| basis[(i, j)] * coef[j]).sum())
                    .collect()
            }
            Model::Field(f) => f.wiener_denoise(noisy, self.noise_std()),
        }
    }

    /// Per-pixel MSE of the Bayes-optimal denoiser on each image of `pairs` (length
    /// `pairs.count`); their mean is the oracle's test MSE.
    pub fn oracle_mse_per_image(&self, pairs: &Pairs) -> Vec<f64> {
        let n = self.pixels();
        (0..pairs.count)
            .map(|i| {
                let (x, y) = (
                    &pairs.clean[i * n..(i + 1) * n],
                    &pairs.noisy[i * n..(i + 1) * n],
                );
                pixel_mse(&self.oracle_denoise(y), x)
            })
            .collect()
    }

    /// The Bayes error per pixel of `task` on these images (for a run with seed `seed`, which
    /// draws a fixed mask) and, when it is a Monte Carlo average, its standard error
    /// (`theory/field.md`):
    ///
    /// - denoising: [`DataSpec::floor_mse`];
    /// - MRI on the field: exact, also in expectation over random masks (independent columns)
    ///   and, for equispaced masks, averaged over the equally likely offsets;
    /// - MRI on the subspace model: `(d - rank) / n` per mask, exact for equispaced masks,
    ///   averaged over [`SUBSPACE_MRI_MASKS`] random masks (fixed seed) otherwise;
    /// - MRI with `--mask fixed`: the floor of the run's one mask, exact for both models;
    /// - SR with area downsampling: exact for both (alias groups for the field, `rank(A U)` for
    ///   the subspace). Antialiased bicubic downsampling is refused (no exact floor).
    ///
    /// # Errors
    /// When the task does not fit the image size (see `Task::validate`).
    pub fn task_floor(&self, task: &Task, seed: u64) -> anyhow::Result<(f64, Option<f64>)> {
        task.validate(self.side())?;
        let s = self.side();
        Ok(match (*task, self.model()) {
            (Task::Denoise { .. }, _) => (self.floor_mse(), None),
            (
                Task::Sr {
                    downsample: Downsample::Bicubic,
                    ..
                },
                _,
            ) => anyhow::bail!(
                "--downsample bicubic has no exact floor_mse for synthetic data; use --downsample area"
            ),
            (Task::Sr { scale, .. }, Model::Field(f)) => {
                (f.sr_floor(scale).map_err(theory_error)?, None)
            }
            (Task::Sr { scale, .. }, Model::Subspace { basis, .. }) => (
                subspace_sr_floor(basis.as_ref(), s, scale).map_err(theory_error)?,
                None,
            ),
            (
                Task::Mri {
                    acceleration,
                    center_fraction,
                    mask,
                    ..
                },
                model,
            ) => {
                let masks = MriMasks {
                    task,
                    s,
                    seed,
                    acceleration,
                    center_fraction,
                    low: num_low(s, center_fraction),
                };
                match model {
                    Model::Field(f) => (field_mri_floor(f, mask, &masks), None),
                    Model::Subspace { basis, .. } => subspace_mri_floor(basis, mask, &masks)?,
                }
            }
        })
    }

    /// Per-image MSE of the Bayes estimator of `task` on the test images `test` (drawn with
    /// `seed`), where implemented: denoising (both models) and MRI on the field (the Hermitian
    /// completion of the sampled k-space, with each example's own mask). `None` otherwise.
    pub fn task_oracle_per_image(&self, task: &Task, test: &Pairs, seed: u64) -> Option<Vec<f64>> {
        let n = self.pixels();
        match (task, self.model()) {
            (Task::Denoise { .. }, _) => Some(self.oracle_mse_per_image(test)),
            (Task::Mri { .. }, Model::Field(f)) => Some(
                (0..test.count)
                    .map(|i| {
                        let x = &test.clean[i * n..(i + 1) * n];
                        let mask = task
                            .mask_for(self.side(), Split::Test, seed, i)
                            .expect("an MRI task has masks");
                        pixel_mse(&f.mri_oracle(x, &mask), x)
                    })
                    .collect(),
            ),
            _ => None,
        }
    }
}

fn theory_error(e: plateau_theory::TheoryError) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

/// The column masks of an MRI task on `s x s` images, as its floors average over them.
struct MriMasks<'a> {
    task: &'a Task,
    s: usize,
    /// The run's seed (it draws a fixed mask).
    seed: u64,
    acceleration: usize,
    center_fraction: f64,
    /// Fully sampled centre columns.
    low: usize,
}

impl MriMasks<'_> {
    /// The run's one mask (`--mask fixed`).
    fn fixed(&self) -> Vec<bool> {
        self.task
            .mask_for(self.s, Split::Train, self.seed, 0)
            .expect("an MRI task has masks")
    }

    /// The equally likely equispaced masks, one per offset.
    fn equispaced(&self) -> impl Iterator<Item = Vec<bool>> + '_ {
        (0..equispaced_offsets(self.s, self.acceleration, self.low))
            .map(move |o| equispaced_mask(self.s, self.acceleration, self.low, o))
    }

    /// Each column's probability of being sampled by a random mask.
    fn random_probabilities(&self) -> Vec<f64> {
        let p = random_column_probability(self.s, self.acceleration, self.low);
        let centre = centre_columns(self.s, self.low);
        (0..self.s)
            .map(|c| if centre.contains(&c) { 1.0 } else { p })
            .collect()
    }

    /// One random mask from `rng`.
    fn random(&self, rng: &mut impl rand::Rng) -> Vec<bool> {
        column_mask(
            self.s,
            self.acceleration,
            self.center_fraction,
            MaskKind::Random,
            rng,
        )
    }
}

/// A mask as sampling probabilities (1 sampled, 0 not).
fn indicator(mask: &[bool]) -> Vec<f64> {
    mask.iter().map(|&b| if b { 1.0 } else { 0.0 }).collect()
}

fn mean(v: Vec<f64>) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// The field's MRI floor, exact: for one mask, in expectation over random masks (independent
/// columns), or averaged over the equispaced offsets.
fn field_mri_floor(f: &FieldSpectrum, kind: MaskKind, masks: &MriMasks) -> f64 {
    match kind {
        MaskKind::Fixed => f.mri_floor(&indicator(&masks.fixed())),
        MaskKind::Random => f.mri_floor(&masks.random_probabilities()),
        MaskKind::Equispaced => mean(
            masks
                .equispaced()
                .map(|m| f.mri_floor(&indicator(&m)))
                .collect(),
        ),
    }
}

/// The subspace model's MRI floor `(d - rank) / n` for one mask, averaged over the equispaced
/// offsets, or a Monte Carlo mean over [`SUBSPACE_MRI_MASKS`] random masks with its standard
/// error.
fn subspace_mri_floor(
    basis: &Mat<f64>,
    kind: MaskKind,
    masks: &MriMasks,
) -> anyhow::Result<(f64, Option<f64>)> {
    let op = SubspaceMri::new(basis.as_ref(), masks.s).map_err(theory_error)?;
    Ok(match kind {
        MaskKind::Fixed => (op.floor(&masks.fixed()), None),
        MaskKind::Equispaced => (
            mean(masks.equispaced().map(|m| op.floor(&m)).collect()),
            None,
        ),
        MaskKind::Random => {
            let mut rng = floor_mask_rng();
            let v: Vec<f64> = (0..SUBSPACE_MRI_MASKS)
                .map(|_| op.floor(&masks.random(&mut rng)))
                .collect();
            let (m, se) = mean_stderr(&v);
            (m, Some(se))
        }
    })
}
