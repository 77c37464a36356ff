//! Up-front estimates of the memory a training run holds, so that a run this machine cannot
//! hold is refused with one line (the estimate and the limit) before any folder is created or
//! tensor allocated, instead of aborting in the allocator or panicking in LibTorch.
//!
//! The estimate ([`MemoryEstimate`], bytes, `f64` so that absurd sizes saturate instead of
//! overflowing) has three named terms:
//!
//! - parameters ([`unet_parameters`], exact closed form) x 4 bytes x (weights + gradients +
//!   the optimiser's moments: Adam 2, RMSprop 1);
//! - activations of one mini-batch kept for the backward pass ([`unet_activation_floats`]);
//! - the data held in memory for the whole run ([`data_resident_bytes`]).
//!
//! It is an estimate of the order of magnitude that errs low, meant to stop runs that cannot fit,
//! not to pack a machine tightly: for `--channels 32 --pools 2 --image-size 128 --batch-size 16
//! --train-size 64` (gaussian-field) it says 2.7 GB where the measured peak resident set was
//! 4.3 GB (`/usr/bin/time -v`, one epoch, debug build). Time is not estimated: a long run is
//! legitimate, and the counts it loops over are `usize` epochs and batches, which cannot overflow.

use anyhow::{ensure, Result};

use crate::problem::Data;
use crate::record::{Architecture, RunConfig};
use crate::settings::{OptimiserKind, UNetShape};

/// Bytes of an `f32`, the trainer's element type.
const F32: f64 = 4.0;

/// One GiB in bytes.
const GIB: f64 = (1u64 << 30) as f64;

/// Images per forward pass at evaluation (the trainer's chunk).
const EVAL_BATCH: f64 = 64.0;

/// Resident memory of the LibTorch runtime and the binary before any tensor (measured about
/// 0.3 GB on this machine's CPU build; a round upper value).
const RUNTIME_BYTES: f64 = 0.5 * GIB;

/// The parameter count of a U-Net of `shape` with `image_channels` (`K`) input and output
/// channels, in closed form: with `c_l = C 2^l`,
/// `9 K C + 9 C^2` (first block) `+ sum_{l=1}^{P} 9 (c_{l-1} c_l + c_l^2)` (the other down
/// blocks and the bottleneck) `+ sum_{l=0}^{P-1} [4 c_{l+1} c_l + 9 (c_{l+1} c_l + c_l^2)]`
/// (transposed convs and up blocks) `+ K C + K` (the 1x1 conv and its bias). `O(P)`.
///
/// `None` when the count overflows `u64` (or a width is negative).
pub fn unet_parameters(shape: UNetShape, image_channels: u64) -> Option<u64> {
    unet_parameters_io(shape, image_channels, image_channels)
}

/// As [`unet_parameters`] for `k_in` input and `k_out` output channels (MRI's complex input:
/// `9 k_in C` in the first conv, `k_out C + k_out` in the last).
pub fn unet_parameters_io(shape: UNetShape, k_in: u64, k_out: u64) -> Option<u64> {
    let c = u64::try_from(shape.channels).ok()?;
    let k = k_in;
    let width = |l: usize| c.checked_mul(1u64.checked_shl(u32::try_from(l).ok()?)?);
    // 9 (a b + b^2) for a 3x3 block a -> b (two convs, no bias).
    let block = |a: u64, b: u64| {
        a.checked_mul(b)?
            .checked_add(b.checked_mul(b)?)?
            .checked_mul(9)
    };
    let mut total = block(k, c)?;
    for l in 1..=shape.pools {
        total = total.checked_add(block(width(l - 1)?, width(l)?)?)?;
    }
    for l in 0..shape.pools {
        let (wide, narrow) = (width(l + 1)?, width(l)?);
        let transposed = wide.checked_mul(narrow)?.checked_mul(4)?;
        let up = wide
            .checked_mul(narrow)?
            .checked_add(narrow.checked_mul(narrow)?)?
            .checked_mul(9)?;
        total = total.checked_add(transposed)?.checked_add(up)?;
    }
    total.checked_add(k_out.checked_mul(c)?)?.checked_add(k_out)
}

/// [`unet_parameters`] in `f64`, for the memory estimate of a network whose count overflows
/// `u64` (`--channels 4294967296`): the same closed form, never overflowing (at most about
/// `1e43` for `i64` widths and 8 pools). Negative widths count as 0.
pub fn unet_parameters_f64(shape: UNetShape, image_channels: u64) -> f64 {
    let c = shape.channels.max(0) as f64;
    let k = image_channels as f64;
    let width = |l: usize| c * 2f64.powi(l as i32);
    let block = |a: f64, b: f64| 9.0 * (a * b + b * b);
    let down: f64 = (1..=shape.pools)
        .map(|l| block(width(l - 1), width(l)))
        .sum();
    let up: f64 = (0..shape.pools)
        .map(|l| {
            let (wide, narrow) = (width(l + 1), width(l));
            4.0 * wide * narrow + block(wide, narrow)
        })
        .sum();
    block(k, c) + down + up + k * c + k
}

/// Floats of the activations one image keeps for the backward pass through a U-Net on
/// `side x side` images: per level `l` of side `s_l = s / 2^l` and width `c_l = C 2^l`, the down
/// block keeps 6 maps (two convs, two norms, two activations) and its pooled copy, the up path
/// 11 (transposed conv, norm, activation, the concatenation of 2, and a block of 6), the
/// bottleneck 6; backward about doubles the peak (gradients of the live maps). Since
/// `c_l s_l^2 = C s^2 / 2^l` the sum is below `2 x 36 C s^2`.
pub fn unet_activation_floats(shape: UNetShape, side: usize) -> f64 {
    let area = (side as f64).powi(2);
    let c = shape.channels as f64;
    let levels: f64 = (0..shape.pools)
        .map(|l| (6.0 + 1.0 + 11.0) * c * area / 2f64.powi(l as i32))
        .sum();
    let bottom = 6.0 * c * area / 2f64.powi(shape.pools as i32);
    2.0 * (levels + bottom)
}

/// Bytes of the data that a run holds in memory from start to end: every example of the three
/// splits as `f32` clean image and network input (`8` bytes a pixel), and for synthetic data
/// also the `f64` clean / noisy pairs that the floors are computed from (`16` more).
///
/// This is the term that a streamed training set changes (only the evaluation splits and the
/// prefetch queue stay resident); it is kept separate for that reason.
pub fn data_resident_bytes(config: &RunConfig) -> f64 {
    let problem = &config.curve.problem;
    let pixels = (problem.image_size() as f64).powi(2) * problem.image_channels() as f64;
    let per_pixel = match problem.data() {
        Data::Synthetic(_) => 24.0,
        Data::Real { .. } => 8.0,
    };
    let eval = &config.curve.evaluation;
    let examples = config.train_size as f64 + eval.val_size as f64 + eval.test_size as f64;
    examples * pixels * per_pixel
}

/// The estimated peak memory of a run, by term (bytes).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MemoryEstimate {
    /// Weights, gradients and the optimiser's state.
    pub parameters: f64,
    /// Activations of the largest forward / backward pass.
    pub activations: f64,
    /// Data held for the whole run ([`data_resident_bytes`]).
    pub data: f64,
}

impl MemoryEstimate {
    /// The estimate for `config` (a U-Net of its width, or the linear model).
    pub fn of(config: &RunConfig) -> MemoryEstimate {
        let curve = &config.curve;
        let problem = &curve.problem;
        let k = problem.image_channels();
        let data = data_resident_bytes(config);
        match curve.architecture {
            Architecture::Unet { pools } => {
                let shape = UNetShape {
                    channels: config.channels.unwrap_or(1),
                    pools,
                };
                let k_in = problem.input_channels() as u64;
                // The f64 closed form where the count overflows u64 (`--channels 4294967296`);
                // the wider of the input and output channels makes it an upper bound.
                let params = unet_parameters_io(shape, k_in, k as u64).map_or_else(
                    || unet_parameters_f64(shape, k_in.max(k as u64)),
                    |p| p as f64,
                );
                let moments = match curve.optimiser.optimiser {
                    OptimiserKind::Adam => 2.0,
                    OptimiserKind::Rmsprop => 1.0,
                };
                let per_image = unet_activation_floats(shape, problem.image_size()) * k as f64;
                let batch = curve.optimiser.batch_size.min(config.train_size) as f64;
                // Evaluation keeps no graph: about a quarter of a training pass per image.
                let images = batch.max(EVAL_BATCH / 4.0);
                MemoryEstimate {
                    parameters: params * F32 * (2.0 + moments),
                    activations: images * per_image * F32,
                    data,
                }
            }
            Architecture::Linear => {
                // W (n x n) with its gradient and best copy; full-batch products of N x n.
                let n = (problem.image_size() as f64).powi(2);
                let batch = config.train_size as f64 * n;
                MemoryEstimate {
                    parameters: 3.0 * n * n * F32,
                    activations: 2.0 * batch * F32,
                    data,
                }
            }
        }
    }

    /// The estimate for `plateau bench-train`: a grey U-Net of `shape` trained with Adam on
    /// batches of `batch` random `side x side` images (input and target, `f32`).
    pub fn of_bench(shape: UNetShape, side: usize, batch: usize) -> MemoryEstimate {
        let params =
            unet_parameters(shape, 1).map_or_else(|| unet_parameters_f64(shape, 1), |p| p as f64);
        let batch = batch as f64;
        MemoryEstimate {
            parameters: params * F32 * 4.0,
            activations: batch * unet_activation_floats(shape, side) * F32,
            data: batch * 2.0 * (side as f64).powi(2) * F32,
        }
    }

    /// The total, the runtime's own memory included (bytes).
    pub fn total(&self) -> f64 {
        RUNTIME_BYTES + self.parameters + self.activations + self.data
    }

    /// Refuses an estimate above `limit` bytes (the machine's memory) with one line naming the
    /// estimate, its terms and the limit.
    ///
    /// # Errors
    /// When `total() > limit`.
    pub fn check(&self, limit: usize) -> Result<()> {
        let gib = |b: f64| {
            let g = b / GIB;
            if !g.is_finite() {
                "over 1e300".to_string()
            } else if g >= 1e4 {
                format!("{g:.2e}")
            } else {
                format!("{g:.2}")
            }
        };
        ensure!(
            self.total() <= limit as f64,
            "the run needs an estimated {} GiB (parameters and optimiser state {}, \
             activations {}, data in memory {}), more than this machine's {} GiB",
            gib(self.total()),
            gib(self.parameters),
            gib(self.activations),
            gib(self.data),
            gib(limit as f64)
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::tests::config;

    fn shape(channels: i64, pools: usize) -> UNetShape {
        UNetShape { channels, pools }
    }

    #[test]
    fn the_closed_form_counts_fastmris_unet_and_overflows_to_none() {
        // fastmri.models.Unet(1, 1, chans=4, num_pool_layers=2): 7305 (counted layer by layer
        // in experiments/src/unet.rs).
        assert_eq!(unet_parameters(shape(4, 2), 1), Some(7305));
        // Colour adds 9 C (K - 1) to the first conv and C (K - 1) + (K - 1) to the last.
        assert_eq!(
            unet_parameters(shape(4, 2), 3),
            Some(7305 + 2 * (10 * 4 + 1))
        );
        // MRI's complex input with a mask channel: 3 in, 1 out, only the first conv grows.
        assert_eq!(
            unet_parameters_io(shape(4, 2), 3, 1),
            Some(7305 + 9 * 4 * 2)
        );
        assert_eq!(unet_parameters(shape(i64::MAX, 8), 1), None);
        assert_eq!(unet_parameters(shape(-1, 2), 1), None);
    }

    #[test]
    fn the_f64_count_matches_the_exact_one_and_stays_finite_beyond_u64() {
        for (c, p, k) in [(4, 2, 1), (4, 2, 3), (32, 4, 1), (160, 8, 3)] {
            let exact = unet_parameters(shape(c, p), k).unwrap();
            assert_eq!(unet_parameters_f64(shape(c, p), k), exact as f64);
        }
        // `--channels 4294967296`: beyond u64, an estimate still (9 C^2 per 3x3 block alone).
        let wide = shape(1 << 32, 2);
        assert_eq!(unet_parameters(wide, 1), None);
        let f = unet_parameters_f64(wide, 1);
        assert!(f.is_finite() && f > 9.0 * 2f64.powi(64), "{f}");
        let mut c = config();
        c.channels = Some(1 << 32);
        let e = MemoryEstimate::of(&c)
            .check(24 << 30)
            .unwrap_err()
            .to_string();
        assert!(!e.contains("inf") && e.contains("e"), "{e}");
    }

    #[test]
    fn each_term_grows_with_what_it_names() {
        let base = config();
        let est = MemoryEstimate::of(&base);
        let mut more_data = base.clone();
        more_data.train_size *= 10;
        let d = MemoryEstimate::of(&more_data);
        assert_eq!(
            (d.parameters, d.activations),
            (est.parameters, est.activations)
        );
        // 64 -> 640 training images of 32 x 32 synthetic pixels at 24 bytes.
        assert_eq!(d.data - est.data, 576.0 * 1024.0 * 24.0);
        let mut wide = base.clone();
        wide.channels = Some(160);
        let w = MemoryEstimate::of(&wide);
        assert!(w.parameters > 90.0 * est.parameters && w.activations > 9.0 * est.activations);
        let mut rms = base.clone();
        rms.curve.optimiser.optimiser = OptimiserKind::Rmsprop;
        // Weights, gradients and one moment instead of two.
        assert_eq!(
            MemoryEstimate::of(&rms).parameters * 4.0,
            est.parameters * 3.0
        );
    }

    #[test]
    fn absurd_sizes_are_refused_in_one_line_and_never_overflow() {
        let limit = 24usize << 30;
        assert!(MemoryEstimate::of(&config()).check(limit).is_ok());
        let mut huge_n = config();
        huge_n.train_size = 1_000_000_000_000;
        let mut wide = config();
        wide.channels = Some(100_000_000);
        let mut deep = config();
        deep.channels = Some(i64::MAX);
        deep.curve.architecture = Architecture::Unet { pools: 8 };
        for c in [huge_n, wide, deep] {
            let e = MemoryEstimate::of(&c).check(limit).unwrap_err().to_string();
            assert!(
                e.contains("needs an estimated") && e.contains("24.00 GiB"),
                "{e}"
            );
            assert!(!e.contains('\n'), "{e}");
        }
    }
}
