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
//!   ([`crate::mask::column_mask`]) and are drawn per example from `(seed, split, example index)`,
//!   except [`MaskKind::Fixed`]: one `RandomMaskFunc` mask drawn from the mask seed
//!   ([`crate::streams::fixed_mask_rng`]) for every example. With [`MriInput::Complex`] the
//!   network sees instead `[Re z, Im z]` of the complex zero-filled image `z` (`2K` channels)
//!   and, when the mask varies per example, the mask as one more channel (`m[c]` at every pixel
//!   of column `c`): the information of the Bayes estimator (`theory/field.md`). The baseline is
//!   then `Re z` ([`baseline_image`]).
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
use crate::streams::{example_rng, fixed_mask_rng, Split};

pub use plateau_run::problem::{num_low, Downsample, MaskKind, MaskSeed, MriInput, Task};

/// The baseline reconstruction in a network input of `channels` image channels: the input
/// itself, or its first `channels` channels (`Re z` of MRI's complex input). `[B, K, H, W]`.
pub fn baseline_image(input: &Tensor, channels: i64) -> Tensor {
    if input.size()[1] == channels {
        input.shallow_clone()
    } else {
        input.narrow(1, 0, channels)
    }
}

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
            Task::Mri { mask, input, .. } => {
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
                let z = zero_filled(clean, &m);
                match input {
                    MriInput::Magnitude => z.abs(),
                    MriInput::Complex => {
                        let mut parts = vec![z.real().contiguous(), z.imag().contiguous()];
                        if mask != MaskKind::Fixed {
                            parts.push(m.expand([b as i64, 1, h, w], false).contiguous());
                        }
                        Tensor::cat(&parts, 1)
                    }
                }
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
                mask_seed,
                ..
            } => {
                let mut rng = if mask == MaskKind::Fixed {
                    fixed_mask_rng(mask_seed.resolve(seed))
                } else {
                    example_rng(seed, split, index)
                };
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
    fn complex_input_holds_the_zero_filled_image_and_the_mask() {
        let x = crate::testing::rand(4, [3, 1, 16, 16]);
        let task = |mask, input| Task::Mri {
            acceleration: 4,
            center_fraction: 0.125,
            mask,
            mask_seed: MaskSeed::Value(9),
            input,
        };
        let magnitude = task(MaskKind::Random, MriInput::Magnitude).measure(&x, Split::Train, 1, 0);
        let complex = task(MaskKind::Random, MriInput::Complex).measure(&x, Split::Train, 1, 0);
        assert_eq!(complex.size(), [3, 3, 16, 16]);
        // |Re + i Im| is the magnitude input; the third channel is each example's mask.
        let (re, im) = (complex.narrow(1, 0, 1), complex.narrow(1, 1, 1));
        let modulus = (re.square() + im.square()).sqrt();
        assert!((modulus - &magnitude).abs().max().double_value(&[]) < 1e-6);
        for i in 0..3 {
            let mask = task(MaskKind::Random, MriInput::Complex)
                .mask_for(16, Split::Train, 1, i)
                .unwrap();
            for (c, &m) in mask.iter().enumerate() {
                for r in [0, 7, 15] {
                    let v = complex.double_value(&[i as i64, 2, r, c as i64]);
                    assert_eq!(v, f64::from(u8::from(m)), "example {i} column {c}");
                }
            }
        }
        assert_eq!(baseline_image(&complex, 1).size(), [3, 1, 16, 16]);
        // A fixed mask: the same for every example and split, from the mask seed alone; no
        // mask channel.
        let fixed = task(MaskKind::Fixed, MriInput::Complex);
        let m0 = fixed.mask_for(16, Split::Train, 1, 0).unwrap();
        assert_eq!(m0, fixed.mask_for(16, Split::Test, 5, 40).unwrap());
        assert_eq!(fixed.measure(&x, Split::Train, 1, 0).size(), [3, 2, 16, 16]);
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
                mask_seed: MaskSeed::Run,
                input: MriInput::Magnitude,
            },
            Task::Mri {
                acceleration: 4,
                center_fraction: 0.08,
                mask: MaskKind::Random,
                mask_seed: MaskSeed::Run,
                input: MriInput::Complex,
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
