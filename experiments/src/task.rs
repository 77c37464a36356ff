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
//!   ([`column_mask`]) and are drawn per example from `(seed, split, example index)`.
//! - [`Task::Sr`]: downsampling by `scale` ([`Downsample`]: area, i.e. the mean over
//!   `scale x scale` blocks, or antialiased bicubic; no noise), then bicubic upsampling back to
//!   `H x W` (PyTorch `upsample_bicubic2d`, `align_corners = false`, `a = -0.75`).
//!
//! The operators run in LibTorch (`f32` on the images' device; the FFTs in complex64): the
//! same code path serves training, evaluation and the tests.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use tch::{Device, Kind, Tensor};

use crate::data::Split;

pub use plateau_run::problem::{num_low, Downsample, MaskKind, Task};

/// The LibTorch half of a [`Task`]: applying it to images. (The task's parameters and their
/// validation are plain data in `plateau_run::problem`, which the LibTorch-free `plateau`
/// binary shares.)
pub trait Measure {
    /// The network input (= the baseline reconstruction) for clean images `clean`
    /// (`[B, 1, H, W]`, `f32`). Example `i` of the batch is example `first + i` of `split`:
    /// its noise or mask is drawn from [`example_rng`]`(seed, split, first + i)`, so it does not
    /// depend on batching, and nested training sets share their measurements.
    fn measure(&self, clean: &Tensor, split: Split, seed: u64, first: usize) -> Tensor;

    /// The column mask of example `index` of `split` (centred k-space, `width` columns), as
    /// [`Measure::measure`] draws it; `None` for tasks without a mask.
    fn mask_for(&self, width: usize, split: Split, seed: u64, index: usize) -> Option<Vec<bool>>;
}

impl Measure for Task {
    fn measure(&self, clean: &Tensor, split: Split, seed: u64, first: usize) -> Tensor {
        let size = clean.size();
        let (b, h, w) = (size[0] as usize, size[2], size[3]);
        match *self {
            Task::Denoise { sigma } => {
                let per = (size[1] * h * w) as usize;
                let mut z = Vec::with_capacity(b * per);
                for i in 0..b {
                    let mut rng = example_rng(seed, split, first + i);
                    z.extend((0..per).map(|_| rng.sample::<f64, _>(StandardNormal) as f32));
                }
                let z = Tensor::from_slice(&z).view(clean.size().as_slice());
                clean + z.to_device(clean.device()) * sigma
            }
            Task::Mri {
                acceleration,
                center_fraction,
                mask,
            } => {
                let _ = (acceleration, center_fraction, mask);
                let masks: Vec<f32> = (0..b)
                    .flat_map(|i| {
                        self.mask_for(w as usize, split, seed, first + i)
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

/// The random stream of example `index` of `split`: ChaCha8 seeded with `seed`, on a stream id
/// disjoint from those of the data splits (1, 2, 3).
pub fn example_rng(seed: u64, split: Split, index: usize) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(((16 + split as u64) << 40) | index as u64);
    rng
}

/// First centre column, `(W - num_low + 1) / 2` (fastMRI's `pad`), so that the centre block
/// `pad..pad + num_low` holds the DC column `W / 2` of centred k-space.
pub fn center_start(width: usize, low: usize) -> usize {
    (width - low).div_ceil(2)
}

/// Probability that a non-centre column is sampled by [`MaskKind::Random`]:
/// `(W / acc - num_low) / (W - num_low)`.
pub fn random_column_probability(width: usize, acceleration: usize, low: usize) -> f64 {
    (width as f64 / acceleration as f64 - low as f64) / (width - low) as f64
}

/// Adjusted spacing of [`MaskKind::Equispaced`]: `acc (num_low - W) / (num_low acc - W)`.
pub fn equispaced_spacing(width: usize, acceleration: usize, low: usize) -> f64 {
    let (w, a, l) = (width as f64, acceleration as f64, low as f64);
    a * (l - w) / (l * a - w)
}

/// The sampled columns of a Cartesian mask for centred k-space of width `width` (index `c` is
/// the frequency `c - W/2`), fastMRI semantics (see [`MaskKind`]); `rng` supplies the random
/// columns or the offset.
pub fn column_mask<R: Rng + ?Sized>(
    width: usize,
    acceleration: usize,
    center_fraction: f64,
    kind: MaskKind,
    rng: &mut R,
) -> Vec<bool> {
    let low = num_low(width, center_fraction);
    let mut mask = vec![false; width];
    match kind {
        MaskKind::Random => {
            let p = random_column_probability(width, acceleration, low);
            for m in mask.iter_mut() {
                *m = rng.random::<f64>() < p;
            }
        }
        MaskKind::Equispaced => {
            for c in equispaced_columns(
                width,
                acceleration,
                low,
                equispaced_offset(width, acceleration, low, rng),
            ) {
                mask[c] = true;
            }
        }
    }
    let pad = center_start(width, low);
    for m in &mut mask[pad..pad + low] {
        *m = true;
    }
    mask
}

/// Number of possible offsets of [`MaskKind::Equispaced`], `round(a')` (at least 1).
pub fn equispaced_offsets(width: usize, acceleration: usize, low: usize) -> usize {
    (equispaced_spacing(width, acceleration, low).round() as usize).max(1)
}

fn equispaced_offset<R: Rng + ?Sized>(
    width: usize,
    acceleration: usize,
    low: usize,
    rng: &mut R,
) -> usize {
    rng.random_range(0..equispaced_offsets(width, acceleration, low))
}

/// Columns `round(offset + j a')` for `offset + j a' < W - 1` (numpy's
/// `np.around(np.arange(offset, W - 1, a'))`), without the centre block.
pub fn equispaced_columns(
    width: usize,
    acceleration: usize,
    low: usize,
    offset: usize,
) -> Vec<usize> {
    let a = equispaced_spacing(width, acceleration, low);
    let mut cols = Vec::new();
    // num_low = W / acc leaves nothing to sample outside the centre (fastMRI divides by zero).
    if !(a.is_finite() && a >= 1.0) {
        return cols;
    }
    let mut j = 0usize;
    loop {
        let t = offset as f64 + j as f64 * a;
        if t >= (width - 1) as f64 {
            break;
        }
        // numpy rounds half to even.
        cols.push(t.round_ties_even() as usize);
        j += 1;
    }
    cols
}

/// Centred orthonormal 2-D DFT of the last two dimensions (fastMRI `fft2c`): complex64.
pub fn fft2c(x: &Tensor) -> Tensor {
    let x = if x.is_complex() {
        x.shallow_clone()
    } else {
        x.to_kind(Kind::ComplexFloat)
    };
    x.fft_ifftshift([-2i64, -1].as_slice())
        .fft_fft2(None::<&[i64]>, [-2i64, -1].as_slice(), "ortho")
        .fft_fftshift([-2i64, -1].as_slice())
}

/// Inverse of [`fft2c`] (fastMRI `ifft2c`).
pub fn ifft2c(k: &Tensor) -> Tensor {
    k.fft_ifftshift([-2i64, -1].as_slice())
        .fft_ifft2(None::<&[i64]>, [-2i64, -1].as_slice(), "ortho")
        .fft_fftshift([-2i64, -1].as_slice())
}

/// The complex zero-filled image `ifft2c(mask * fft2c(x))` for real `x` (`[B, 1, H, W]`) and a
/// column mask broadcastable to it (`[B, 1, 1, W]`, 0/1).
pub fn zero_filled(x: &Tensor, mask: &Tensor) -> Tensor {
    ifft2c(&(fft2c(x) * mask.to_kind(Kind::ComplexFloat)))
}

/// Area downsampling by `scale` (block means), `[B, C, H, W] -> [B, C, H/scale, W/scale]`.
pub fn area_downsample(x: &Tensor, scale: i64) -> Tensor {
    x.avg_pool2d([scale, scale], [scale, scale], [0, 0], false, true, None)
}

/// Bicubic upsampling of `[B, C, h, w]` by `scale` (`align_corners = false`).
pub fn bicubic_upsample(low: &Tensor, scale: i64) -> Tensor {
    let s = low.size();
    low.upsample_bicubic2d([s[2] * scale, s[3] * scale], false, None, None)
}

/// Antialiased bicubic downsampling by `scale`, `[B, C, H, W] -> [B, C, H/scale, W/scale]`.
pub fn bicubic_downsample(x: &Tensor, scale: i64) -> Tensor {
    let s = x.size();
    x.internal_upsample_bicubic2d_aa([s[2] / scale, s[3] / scale], false, None, None)
}

/// The SR baseline: bicubic upsampling of the downsampled image.
pub fn bicubic_baseline(x: &Tensor, scale: i64, downsample: Downsample) -> Tensor {
    let low = match downsample {
        Downsample::Area => area_downsample(x, scale),
        Downsample::Bicubic => bicubic_downsample(x, scale),
    };
    bicubic_upsample(&low, scale)
}

/// `[count, 1, h, w]` `f32` tensor from row-major `f64` images.
pub fn images_to_tensor(v: &[f64], count: usize, h: usize, w: usize, device: Device) -> Tensor {
    let f: Vec<f32> = v.iter().map(|&x| x as f32).collect();
    Tensor::from_slice(&f)
        .view([count as i64, 1, h as i64, w as i64])
        .to_device(device)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_masks_follow_fastmri_semantics() {
        // W = 320, acc 4, cf 0.08: 26 centre columns, p = (80 - 26) / 294.
        let (w, acc, cf) = (320, 4, 0.08);
        assert_eq!(num_low(w, cf), 26);
        assert_eq!(center_start(w, 26), 147);
        let p = random_column_probability(w, acc, 26);
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let (mut total, reps) = (0usize, 400);
        for _ in 0..reps {
            let m = column_mask(w, acc, cf, MaskKind::Random, &mut rng);
            assert!(
                m[147..173].iter().all(|&b| b),
                "centre columns always sampled"
            );
            assert!(m[w / 2], "DC column sampled");
            total += m.iter().filter(|&&b| b).count();
        }
        // Expected columns 26 + 294 p = 80; s.e. of the mean sqrt(294 p (1-p) / reps).
        let mean = total as f64 / reps as f64;
        let se = (294.0 * p * (1.0 - p) / reps as f64).sqrt();
        assert!((mean - 80.0).abs() < 4.0 * se, "{mean} vs 80 (se {se})");
    }

    #[test]
    fn sr_commutes_with_the_symmetries_of_the_square() {
        // What `Augment::Dihedral` relies on: flips and the transpose (hence the rotations by 90
        // degrees) commute with both downsamplings and bicubic upsampling of square images.
        tch::manual_seed(0);
        let x = Tensor::rand([3, 1, 32, 32], (Kind::Float, Device::Cpu));
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
    fn degenerate_equispaced_spacing_samples_only_the_centre() {
        // W = 32, acc 4, num_low = 8 = W / acc: the adjusted spacing is infinite.
        assert!(equispaced_spacing(32, 4, 8).is_infinite());
        assert!(equispaced_columns(32, 4, 8, 0).is_empty());
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let m = column_mask(32, 4, 0.25, MaskKind::Equispaced, &mut rng);
        assert_eq!(m.iter().filter(|&&b| b).count(), 8);
        let full = Task::Mri {
            acceleration: 1,
            center_fraction: 0.99,
            mask: MaskKind::Equispaced,
        };
        assert!(full.validate(32).is_err(), "32 centre columns of 32");
    }

    #[test]
    fn equispaced_masks_sample_a_quarter() {
        let (w, acc) = (64, 4);
        let low = num_low(w, 0.08);
        for offset in 0..equispaced_offsets(w, acc, low) {
            let cols = equispaced_columns(w, acc, low, offset);
            // Spacing a' = 4 (5 - 64) / (20 - 64) = 5.3636: 12 columns, plus 5 centre columns
            // minus those that coincide.
            assert!((11..=12).contains(&cols.len()), "{cols:?}");
            assert!(cols
                .windows(2)
                .all(|p| p[1] - p[0] >= 5 && p[1] - p[0] <= 6));
        }
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let m = column_mask(w, acc, 0.08, MaskKind::Equispaced, &mut rng);
        let n = m.iter().filter(|&&b| b).count();
        assert!((14..=17).contains(&n), "{n} columns sampled");
    }

    #[test]
    fn fft2c_is_unitary_and_centred() {
        tch::manual_seed(1);
        let x = Tensor::randn([2, 1, 8, 8], (Kind::Float, Device::Cpu));
        let k = fft2c(&x);
        let e_x = x.square().sum(Kind::Double).double_value(&[]);
        let e_k = k.abs().square().sum(Kind::Double).double_value(&[]);
        assert!((e_x - e_k).abs() < 1e-4 * e_x, "Parseval {e_x} vs {e_k}");
        // A constant image has all its energy at the centre (DC at row/col W/2).
        let c = Tensor::ones([1, 1, 8, 8], (Kind::Float, Device::Cpu));
        let kc = fft2c(&c).abs();
        assert!((kc.double_value(&[0, 0, 4, 4]) - 8.0).abs() < 1e-5);
        let back = ifft2c(&k).real();
        assert!((back - &x).abs().max().double_value(&[]) < 1e-5);
        // Full mask: the zero-filled magnitude of a non-negative image is the image.
        let pos = x.abs();
        let full = Tensor::ones([2, 1, 1, 8], (Kind::Float, Device::Cpu));
        let zf = zero_filled(&pos, &full).abs();
        assert!((zf - &pos).abs().max().double_value(&[]) < 1e-5);
    }

    #[test]
    fn sr_baseline_preserves_constants_and_block_means() {
        let c = Tensor::full([1, 1, 16, 16], 0.3, (Kind::Float, Device::Cpu));
        for downsample in [Downsample::Area, Downsample::Bicubic] {
            let b = bicubic_baseline(&c, 2, downsample);
            assert!((b - 0.3).abs().max().double_value(&[]) < 1e-6);
        }
        // The antialiased kernel is wider than the block: it mixes neighbouring blocks, so a
        // vertical edge on a block boundary is smoothed, unlike with block means.
        let edge = Tensor::cat(
            &[
                Tensor::zeros([1, 1, 8, 4], (Kind::Float, Device::Cpu)),
                Tensor::ones([1, 1, 8, 4], (Kind::Float, Device::Cpu)),
            ],
            3,
        );
        let area = area_downsample(&edge, 2);
        let aa = bicubic_downsample(&edge, 2);
        assert_eq!(aa.size(), vec![1, 1, 4, 4]);
        assert!(area.double_value(&[0, 0, 0, 1]).abs() < 1e-6);
        let row: Vec<f64> = (0..4).map(|j| aa.double_value(&[0, 0, 0, j])).collect();
        assert!(
            row[1].abs() > 1e-2 && (1.0 - row[2]).abs() > 1e-2,
            "{row:?}"
        );
        // Symmetric kernel: the profile is antisymmetric about the edge.
        assert!((row[1] + row[2] - 1.0).abs() < 1e-5 && (row[0] + row[3] - 1.0).abs() < 1e-5);
        let x = Tensor::arange(16, (Kind::Float, Device::Cpu)).view([1, 1, 4, 4]);
        let low = area_downsample(&x, 2);
        assert_eq!(low.size(), vec![1, 1, 2, 2]);
        assert!((low.double_value(&[0, 0, 0, 0]) - (0.0 + 1.0 + 4.0 + 5.0) / 4.0).abs() < 1e-6);
    }

    #[test]
    fn measurements_do_not_depend_on_batching() {
        tch::manual_seed(2);
        let x = Tensor::rand([4, 1, 16, 16], (Kind::Float, Device::Cpu));
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
