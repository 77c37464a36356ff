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
//! ([`crate::streams::split_rng`]), so train, validation and test never share random numbers,
//! and the training set of size `N` is the first `N` pairs of the training stream (nested sets
//! over `N`). The floors and Bayes estimators of every task on these images are in the `floors`
//! module (which imports this one).

use faer::Mat;
use plateau_theory::field::FieldSpectrum;
use plateau_theory::Setup;
use rand::Rng;
use rand_distr::StandardNormal;
use tch::{Device, Kind, Tensor};

use crate::streams::{split_rng, Split};

pub use plateau_run::problem::Synthetic;

/// A validated data set description.
#[derive(Clone, Debug)]
pub struct DataSpec {
    kind: Synthetic,
    side: usize,
    noise_std: f64,
    /// Subspace basis `U` (`n x d`, pixel index `row * s + col`), or the field spectrum.
    model: Model,
}

/// The image model behind a [`DataSpec`] (what the `floors` module computes the floors of).
#[derive(Clone, Debug)]
pub(crate) enum Model {
    /// `x = U c`: basis `U` (`n x d`) and the matching `Setup`.
    Subspace { basis: Mat<f64>, setup: Setup },
    /// A stationary Gaussian field.
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
        let to = |v: &[f64]| images_to_tensor(v, self.count, self.side, self.side, device);
        (to(&self.clean), to(&self.noisy))
    }
}

/// `[count, 1, h, w]` `f32` tensor on `device` from `count` row-major `h x w` `f64` images
/// (rounded to `f32`).
pub fn images_to_tensor(v: &[f64], count: usize, h: usize, w: usize, device: Device) -> Tensor {
    let f: Vec<f32> = v.iter().map(|&x| x as f32).collect();
    Tensor::from_slice(&f)
        .view([count as i64, 1, h as i64, w as i64])
        .to_kind(Kind::Float)
        .to_device(device)
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
        self.kind.name()
    }

    /// The image model (for the floors and oracles of the `floors` module).
    pub(crate) fn model(&self) -> &Model {
        &self.model
    }

    /// The subspace model's `Setup` (`d`, `n = s^2`, `sigma`) and basis `U` (`n x d`).
    pub fn subspace(&self) -> Option<(&Setup, &Mat<f64>)> {
        match &self.model {
            Model::Subspace { basis, setup } => Some((setup, basis)),
            Model::Field(_) => None,
        }
    }

    /// Draws the first `count` pairs of `split` for `seed`.
    pub fn generate(&self, split: Split, count: usize, seed: u64) -> Pairs {
        let mut rng = split_rng(seed, split);
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
        // No image of one split appears in another (each image is 64 pixels; a split drawn
        // from another's stream, at any offset within 64 images, would repeat one).
        let images = |split, count| {
            let p = spec.generate(split, count, 0);
            p.clean.chunks(64).map(|c| c.to_vec()).collect::<Vec<_>>()
        };
        let train = images(Split::Train, 64);
        let (val, test) = (images(Split::Validation, 64), images(Split::Test, 64));
        for (name, other) in [("validation", &val), ("test", &test)] {
            assert!(
                other.iter().all(|img| !train.contains(img)),
                "a training image is in the {name} split"
            );
        }
        assert!(val.iter().all(|img| !test.contains(img)));
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
