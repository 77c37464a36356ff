//! Reconstruction tasks: what the network sees for a clean image, and the classical baseline.
//!
//! Every task maps a batch of clean images `x` (`[B, 1, H, W]`, `f32`) to the network input;
//! the baseline of each task *is* that input (noisy image, zero-filled magnitude, bicubic
//! upsampling), so `input_mse` in `metrics.json` is the baseline's error.
//!
//! - [`Task::Denoise`]: `y = x + sigma z`, `z ~ N(0, 1)` per pixel (pixel units).
//! - [`Task::Mri`]: single-coil emulation with the fastMRI conventions. k-space is the centred
//!   orthonormal 2-D DFT `k = fftshift(fft2(ifftshift(x), norm = "ortho"))` (DC at column
//!   `W / 2`); a Cartesian mask keeps whole columns (phase-encode lines); the network sees the
//!   magnitude `|ifftshift^-1 ... ifft2c(m * k)|` of the zero-filled image. Noise-free: the
//!   data-consistency information is exact, the loss of information is the mask (and the
//!   magnitude). Masks follow fastMRI's `RandomMaskFunc` / `EquispacedMaskFractionFunc`
//!   ([`crate::mask::column_mask`]) and are drawn per example from `(seed, split, example index)`.
//! - [`Task::Sr`]: downsampling by `scale` ([`Downsample`]: area, i.e. the mean over
//!   `scale x scale` blocks, or antialiased bicubic; no noise), then bicubic upsampling back to
//!   `H x W` (PyTorch `upsample_bicubic2d`, `align_corners = false`, `a = -0.75`).
//!
//! The operators run in LibTorch (`f32` on the images' device; the FFTs in complex64): the
//! same code path serves training, evaluation and the tests. They live in [`crate::fourier`],
//! [`crate::mask`] and [`crate::sr`]; this module applies them per example, with the random
//! streams of [`crate::streams`].

use rand::Rng;
use rand_distr::StandardNormal;
use tch::Tensor;

use crate::fourier::zero_filled;
use crate::mask::column_mask;
use crate::sr::bicubic_baseline;
use crate::streams::{example_rng, Split};

pub use plateau_run::problem::{num_low, Downsample, MaskKind, Task};

/// The LibTorch half of a [`Task`]: applying it to images. (The task's parameters and their
/// validation are plain data in `plateau_run::problem`, which the LibTorch-free `plateau`
/// binary shares.)
pub trait Measure {
    /// The network input (= the baseline reconstruction) for clean images `clean`
    /// (`[B, 1, H, W]`, `f32`). Example `i` of the batch is example `first + i` of `split`:
    /// its noise or mask is drawn from [`example_rng`]`(seed, split, first + i)`, so it does not
    /// depend on batching, and nested training sets share their measurements.
    fn measure(&self, clean: &Tensor, split: Split, seed: u64, first: usize) -> Tensor {
        let indices: Vec<usize> = (first..first + clean.size()[0] as usize).collect();
        self.measure_at(clean, split, seed, &indices)
    }

    /// As [`Measure::measure`] for a batch of any examples: example `b` of the batch is example
    /// `indices[b]` of `split` (a shuffled mini-batch of a streamed split).
    fn measure_at(&self, clean: &Tensor, split: Split, seed: u64, indices: &[usize]) -> Tensor;

    /// The column mask of example `index` of `split` (centred k-space, `width` columns), as
    /// [`Measure::measure`] draws it; `None` for tasks without a mask.
    fn mask_for(&self, width: usize, split: Split, seed: u64, index: usize) -> Option<Vec<bool>>;
}

impl Measure for Task {
    fn measure_at(&self, clean: &Tensor, split: Split, seed: u64, indices: &[usize]) -> Tensor {
        let size = clean.size();
        let (b, h, w) = (size[0] as usize, size[2], size[3]);
        assert_eq!(indices.len(), b, "one example index per image");
        match *self {
            Task::Denoise { sigma } => {
                let per = (size[1] * h * w) as usize;
                let mut z = Vec::with_capacity(b * per);
                for &i in indices {
                    let mut rng = example_rng(seed, split, i);
                    z.extend((0..per).map(|_| rng.sample::<f64, _>(StandardNormal) as f32));
                }
                let z = Tensor::from_slice(&z).view(clean.size().as_slice());
                clean + z.to_device(clean.device()) * sigma
            }
            Task::Mri { .. } => {
                let masks: Vec<f32> = indices
                    .iter()
                    .flat_map(|&i| {
                        self.mask_for(w as usize, split, seed, i)
                            .expect("an MRI task has masks")
                            .into_iter()
                            .map(|m| if m { 1.0f32 } else { 0.0 })
                    })
                    .collect();
                let m = Tensor::from_slice(&masks)
                    .view([b as i64, 1, 1, w])
                    .to_device(clean.device());
                zero_filled(clean, &m).abs()
            }
            Task::Sr { scale, downsample } => bicubic_baseline(clean, scale as i64, downsample),
        }
    }

    fn mask_for(&self, width: usize, split: Split, seed: u64, index: usize) -> Option<Vec<bool>> {
        match *self {
            Task::Mri {
                acceleration,
                center_fraction,
                mask,
            } => {
                let mut rng = example_rng(seed, split, index);
                Some(column_mask(
                    width,
                    acceleration,
                    center_fraction,
                    mask,
                    &mut rng,
                ))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sr_commutes_with_the_symmetries_of_the_square() {
        // What `Augment::Dihedral` relies on: flips and the transpose (hence the rotations by 90
        // degrees) commute with both downsamplings and bicubic upsampling of square images.
        let x = crate::testing::rand(0, [3, 1, 32, 32]);
        for (scale, downsample) in [2, 4]
            .into_iter()
            .flat_map(|s| [(s, Downsample::Area), (s, Downsample::Bicubic)])
        {
            let task = Task::Sr { scale, downsample };
            let y = task.measure(&x, Split::Train, 0, 0);
            let symmetries: [&dyn Fn(&Tensor) -> Tensor; 4] = [
                &|t| t.flip([3]),
                &|t| t.flip([2]),
                &|t| t.transpose(2, 3),
                &|t| t.rot90(1, [2, 3]),
            ];
            for g in symmetries {
                let diff = (task.measure(&g(&x).contiguous(), Split::Train, 0, 0) - g(&y))
                    .abs()
                    .max()
                    .double_value(&[]);
                assert!(diff < 1e-6, "scale {scale}: {diff}");
            }
        }
    }

    #[test]
    fn measurements_do_not_depend_on_batching() {
        let x = crate::testing::rand(2, [4, 1, 16, 16]);
        for task in [
            Task::Denoise { sigma: 0.1 },
            Task::Mri {
                acceleration: 4,
                center_fraction: 0.08,
                mask: MaskKind::Random,
            },
        ] {
            let all = task.measure(&x, Split::Train, 5, 0);
            let tail = task.measure(&x.narrow(0, 2, 2), Split::Train, 5, 2);
            assert!((all.narrow(0, 2, 2) - tail).abs().max().double_value(&[]) < 1e-7);
            let other = task.measure(&x, Split::Test, 5, 0);
            assert!((all - other).abs().max().double_value(&[]) > 1e-3);
        }
    }
}
