//! Synthetic denoising data sets whose Bayes error floor is known exactly.
//!
//! - [`Synthetic::Subspace`]: `s x s` images `x = U c` in the span of the `d` lowest 2-D DCT-II
//!   modes (`U`: `n x d`, orthonormal columns, `n = s^2`), `c ~ N(0, I_d)`: the paper's model as
//!   pictures. Floor per pixel `(d / n) sigma^2 / (1 + sigma^2)`.
//! - [`Synthetic::GaussianField`]: stationary periodic Gaussian fields with power spectrum
//!   `(f0^2 + |f|^2)^(-exponent/2)` and pixel standard deviation `std` ([`plateau_theory::field`]); floor
//!   per pixel `(1/n) sum_k lambda_k sigma^2 / (lambda_k + sigma^2)`.
//!
//! Measurements are `y = x + z`, `z ~ N(0, sigma^2)` per pixel (`sigma = noise_std`, in the
//! units of the pixels). Every split is drawn from its own ChaCha8 stream of the seed
//! ([`Split`]), so train, validation and test never share random numbers, and the training set
//! of size `N` is the first `N` pairs of the training stream (nested sets over `N`).

use faer::Mat;
use plateau_theory::field::{subspace_pixel_floor, subspace_sr_floor, FieldSpectrum, SubspaceMri};
use plateau_theory::Setup;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use tch::{Device, Kind, Tensor};

use crate::task::{
    center_start, column_mask, equispaced_columns, equispaced_offsets, num_low,
    random_column_probability, Downsample, MaskKind, Measure, Task,
};

/// Masks averaged for the subspace model's MRI floor with random masks (Monte Carlo; the
/// standard error is reported beside the floor).
pub const SUBSPACE_MRI_MASKS: usize = 2000;

pub use plateau_run::problem::Synthetic;

/// The seed stream of each split (ChaCha8 stream ids): disjoint by construction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Split {
    /// Training pairs.
    Train = 1,
    /// Validation pairs (learning-rate schedule, best checkpoint, early stopping).
    Validation = 2,
    /// Test pairs (reported metrics only).
    Test = 3,
}

/// A validated data set description.
#[derive(Clone, Debug)]
pub struct DataSpec {
    kind: Synthetic,
    side: usize,
    noise_std: f64,
    /// Subspace basis `U` (`n x d`, pixel index `row * s + col`), or the field spectrum.
    model: Model,
}

#[derive(Clone, Debug)]
enum Model {
    Subspace { basis: Mat<f64>, setup: Setup },
    Field(FieldSpectrum),
}

/// Pairs of clean and noisy images, row-major `count x s x s` in `f64`.
#[derive(Clone, Debug)]
pub struct Pairs {
    /// Number of images.
    pub count: usize,
    /// Image side `s`.
    pub side: usize,
    /// Clean images `x`, `count * s * s` values.
    pub clean: Vec<f64>,
    /// Noisy images `y = x + z`.
    pub noisy: Vec<f64>,
}

impl Pairs {
    /// `(clean, noisy)` as `f32` tensors of shape `[count, 1, s, s]` on `device`.
    pub fn tensors(&self, device: Device) -> (Tensor, Tensor) {
        let shape = [self.count as i64, 1, self.side as i64, self.side as i64];
        let to = |v: &[f64]| {
            let f: Vec<f32> = v.iter().map(|&x| x as f32).collect();
            Tensor::from_slice(&f)
                .view(shape)
                .to_kind(Kind::Float)
                .to_device(device)
        };
        (to(&self.clean), to(&self.noisy))
    }
}

impl DataSpec {
    /// Checks the parameters and precomputes the basis or spectrum.
    ///
    /// # Errors
    /// A one-line message when `side < 2`, `noise_std` is not finite and positive, `dim` is
    /// outside `1..=side^2`, or the field parameters are invalid.
    pub fn new(kind: Synthetic, side: usize, noise_std: f64) -> anyhow::Result<Self> {
        kind.validate(side)?;
        anyhow::ensure!(
            noise_std.is_finite() && noise_std > 0.0,
            "noise std must be finite and positive, got {noise_std}"
        );
        let n = side * side;
        let model = match kind {
            Synthetic::Subspace { dim } => {
                let setup = Setup::new(dim, n, noise_std).map_err(|e| anyhow::anyhow!("{e}"))?;
                Model::Subspace {
                    basis: dct_basis(side, dim),
                    setup,
                }
            }
            Synthetic::GaussianField {
                exponent,
                cutoff,
                std,
            } => Model::Field(
                FieldSpectrum::new(side, exponent, cutoff, std * std)
                    .map_err(|e| anyhow::anyhow!("{e}"))?,
            ),
        };
        Ok(Self {
            kind,
            side,
            noise_std,
            model,
        })
    }

    /// The kind of images.
    pub fn kind(&self) -> Synthetic {
        self.kind
    }

    /// Image side `s`.
    pub fn side(&self) -> usize {
        self.side
    }

    /// Pixels per image `n = s^2`.
    pub fn pixels(&self) -> usize {
        self.side * self.side
    }

    /// Noise standard deviation `sigma` (pixel units).
    pub fn noise_std(&self) -> f64 {
        self.noise_std
    }

    /// Name on the command line: `subspace` or `gaussian-field`.
    pub fn name(&self) -> &'static str {
        match self.kind {
            Synthetic::Subspace { .. } => "subspace",
            Synthetic::GaussianField { .. } => "gaussian-field",
        }
    }

    /// The Bayes (MMSE) error per pixel: the floor no denoiser can beat in expectation.
    pub fn floor_mse(&self) -> f64 {
        match &self.model {
            Model::Subspace { setup, .. } => subspace_pixel_floor(setup),
            Model::Field(f) => f.mmse_floor(self.noise_std),
        }
    }

    /// The subspace model's `Setup` (`d`, `n = s^2`, `sigma`) and basis `U` (`n x d`).
    pub fn subspace(&self) -> Option<(&Setup, &Mat<f64>)> {
        match &self.model {
            Model::Subspace { basis, setup } => Some((setup, basis)),
            Model::Field(_) => None,
        }
    }

    /// The Bayes-optimal denoiser applied to one noisy image: `U U^T y / (1 + sigma^2)` for the
    /// subspace model, the Wiener filter for the field.
    pub fn oracle_denoise(&self, noisy: &[f64]) -> Vec<f64> {
        match &self.model {
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
            Model::Field(f) => f.wiener_denoise(noisy, self.noise_std),
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
                let denoised = self.oracle_denoise(y);
                denoised
                    .iter()
                    .zip(x)
                    .map(|(a, b)| (a - b).powi(2))
                    .sum::<f64>()
                    / n as f64
            })
            .collect()
    }

    /// The Bayes error per pixel of `task` on these images and, when it is a Monte Carlo
    /// average, its standard error (`theory/field.md`):
    ///
    /// - denoising: [`DataSpec::floor_mse`];
    /// - MRI on the field: exact, also in expectation over random masks (independent columns)
    ///   and, for equispaced masks, averaged over the equally likely offsets;
    /// - MRI on the subspace model: `(d - rank) / n` per mask, exact for equispaced masks,
    ///   averaged over [`SUBSPACE_MRI_MASKS`] random masks (fixed seed) otherwise;
    /// - SR with area downsampling: exact for both (alias groups for the field, `rank(A U)` for
    ///   the subspace). Antialiased bicubic downsampling is refused (no exact floor).
    ///
    /// # Errors
    /// When the task does not fit the image size (see `Task::validate`).
    pub fn task_floor(&self, task: &Task) -> anyhow::Result<(f64, Option<f64>)> {
        task.validate(self.side)?;
        let s = self.side;
        let err = |e: plateau_theory::TheoryError| anyhow::anyhow!("{e}");
        Ok(match (*task, &self.model) {
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
            (Task::Sr { scale, .. }, Model::Field(f)) => (f.sr_floor(scale).map_err(err)?, None),
            (Task::Sr { scale, .. }, Model::Subspace { basis, .. }) => (
                subspace_sr_floor(basis.as_ref(), s, scale).map_err(err)?,
                None,
            ),
            (
                Task::Mri {
                    acceleration,
                    center_fraction,
                    mask,
                },
                model,
            ) => {
                let low = num_low(s, center_fraction);
                let pad = center_start(s, low);
                let centre = |c: usize| (pad..pad + low).contains(&c);
                let equispaced_masks = || {
                    (0..equispaced_offsets(s, acceleration, low)).map(move |o| {
                        let mut m = vec![false; s];
                        for c in equispaced_columns(s, acceleration, low, o) {
                            m[c] = true;
                        }
                        for (c, v) in m.iter_mut().enumerate() {
                            *v |= centre(c);
                        }
                        m
                    })
                };
                let mean = |v: Vec<f64>| v.iter().sum::<f64>() / v.len() as f64;
                match (mask, model) {
                    (MaskKind::Random, Model::Field(f)) => {
                        let p = random_column_probability(s, acceleration, low);
                        let probs: Vec<f64> =
                            (0..s).map(|c| if centre(c) { 1.0 } else { p }).collect();
                        (f.mri_floor(&probs), None)
                    }
                    (MaskKind::Equispaced, Model::Field(f)) => {
                        let floors = equispaced_masks()
                            .map(|m| {
                                let p: Vec<f64> =
                                    m.iter().map(|&b| if b { 1.0 } else { 0.0 }).collect();
                                f.mri_floor(&p)
                            })
                            .collect();
                        (mean(floors), None)
                    }
                    (kind, Model::Subspace { basis, .. }) => {
                        let op = SubspaceMri::new(basis.as_ref(), s).map_err(err)?;
                        if kind == MaskKind::Equispaced {
                            (
                                mean(equispaced_masks().map(|m| op.floor(&m)).collect()),
                                None,
                            )
                        } else {
                            let mut rng = ChaCha8Rng::seed_from_u64(0);
                            rng.set_stream(99);
                            let v: Vec<f64> = (0..SUBSPACE_MRI_MASKS)
                                .map(|_| {
                                    op.floor(&column_mask(
                                        s,
                                        acceleration,
                                        center_fraction,
                                        MaskKind::Random,
                                        &mut rng,
                                    ))
                                })
                                .collect();
                            let (m, se) = crate::metrics::mean_stderr(&v);
                            (m, Some(se))
                        }
                    }
                }
            }
        })
    }

    /// Per-image MSE of the Bayes estimator of `task` on the test images `test` (drawn with
    /// `seed`), where implemented: denoising (both models) and MRI on the field (the Hermitian
    /// completion of the sampled k-space, with each example's own mask). `None` otherwise.
    pub fn task_oracle_per_image(&self, task: &Task, test: &Pairs, seed: u64) -> Option<Vec<f64>> {
        let n = self.pixels();
        match (task, &self.model) {
            (Task::Denoise { .. }, _) => Some(self.oracle_mse_per_image(test)),
            (Task::Mri { .. }, Model::Field(f)) => Some(
                (0..test.count)
                    .map(|i| {
                        let x = &test.clean[i * n..(i + 1) * n];
                        let mask = task
                            .mask_for(self.side, Split::Test, seed, i)
                            .expect("an MRI task has masks");
                        let xhat = f.mri_oracle(x, &mask);
                        xhat.iter()
                            .zip(x)
                            .map(|(a, b)| (a - b).powi(2))
                            .sum::<f64>()
                            / n as f64
                    })
                    .collect(),
            ),
            _ => None,
        }
    }

    /// Draws the first `count` pairs of `split` for `seed`.
    pub fn generate(&self, split: Split, count: usize, seed: u64) -> Pairs {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(split as u64);
        let n = self.pixels();
        let mut clean = Vec::with_capacity(count * n);
        let mut noisy = Vec::with_capacity(count * n);
        for _ in 0..count {
            let x = match &self.model {
                Model::Subspace { basis, .. } => {
                    let c: Vec<f64> = (0..basis.ncols())
                        .map(|_| rng.sample(StandardNormal))
                        .collect();
                    (0..n)
                        .map(|i| c.iter().enumerate().map(|(j, cj)| basis[(i, j)] * cj).sum())
                        .collect()
                }
                Model::Field(f) => f.sample(&mut rng),
            };
            for &xi in &x {
                let z: f64 = rng.sample(StandardNormal);
                noisy.push(xi + self.noise_std * z);
            }
            clean.extend_from_slice(&x);
        }
        Pairs {
            count,
            side: self.side,
            clean,
            noisy,
        }
    }
}

/// The `d` lowest 2-D DCT-II modes as an `n x d` matrix with orthonormal columns.
///
/// 1-D basis `phi_k(t) = sqrt(c_k / s) cos(pi (t + 1/2) k / s)`, `c_0 = 1`, `c_k = 2`;
/// mode `(kx, ky)` is `phi_kx(col) phi_ky(row)` at pixel `row * s + col`; modes are ordered by
/// `kx^2 + ky^2`, then `ky`, then `kx`.
pub fn dct_basis(side: usize, dim: usize) -> Mat<f64> {
    let s = side;
    let phi = |k: usize, t: usize| {
        let c = if k == 0 { 1.0 } else { 2.0 };
        (c / s as f64).sqrt()
            * (std::f64::consts::PI * (t as f64 + 0.5) * k as f64 / s as f64).cos()
    };
    let mut modes: Vec<(usize, usize)> = (0..s)
        .flat_map(|ky| (0..s).map(move |kx| (kx, ky)))
        .collect();
    modes.sort_by_key(|&(kx, ky)| (kx * kx + ky * ky, ky, kx));
    Mat::from_fn(s * s, dim, |i, j| {
        let (kx, ky) = modes[j];
        phi(kx, i % s) * phi(ky, i / s)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dct_basis_is_orthonormal() {
        let u = dct_basis(6, 10);
        for a in 0..10 {
            for b in 0..10 {
                let dot: f64 = (0..36).map(|i| u[(i, a)] * u[(i, b)]).sum();
                let want = if a == b { 1.0 } else { 0.0 };
                assert!((dot - want).abs() < 1e-12, "({a},{b}) {dot}");
            }
        }
    }

    #[test]
    fn splits_are_disjoint_and_nested() {
        let spec = DataSpec::new(
            Synthetic::GaussianField {
                exponent: 2.0,
                cutoff: 0.05,
                std: 0.25,
            },
            8,
            0.1,
        )
        .unwrap();
        let a = spec.generate(Split::Train, 4, 0);
        let b = spec.generate(Split::Train, 2, 0);
        assert_eq!(&a.clean[..128], &b.clean[..]);
        let v = spec.generate(Split::Validation, 2, 0);
        assert_ne!(a.clean[..128], v.clean[..]);
        let again = spec.generate(Split::Train, 4, 0);
        assert_eq!(a.noisy, again.noisy);
    }

    #[test]
    fn invalid_specs_are_rejected() {
        assert!(DataSpec::new(Synthetic::Subspace { dim: 0 }, 8, 0.1).is_err());
        assert!(DataSpec::new(Synthetic::Subspace { dim: 65 }, 8, 0.1).is_err());
        assert!(DataSpec::new(Synthetic::Subspace { dim: 4 }, 8, -0.1).is_err());
        assert!(DataSpec::new(
            Synthetic::GaussianField {
                exponent: 2.0,
                cutoff: 0.0,
                std: 0.25
            },
            8,
            0.1
        )
        .is_err());
    }
}
