//! Super-resolution operators: downsampling by an integer `scale` ([`Downsample`]) and bicubic
//! upsampling back, in LibTorch (`f32`, on the images' device).
//!
//! Shapes are `[B, C, H, W] -> [B, C, H / scale, W / scale]` and back; `H` and `W` are
//! multiples of `scale` (`Task::validate`). Each operator costs `O(B C H W)`.

use tch::Tensor;

use plateau_run::problem::Downsample;

/// Area downsampling by `scale` (block means), `[B, C, H, W] -> [B, C, H/scale, W/scale]`.
pub fn area_downsample(x: &Tensor, scale: i64) -> Tensor {
    x.avg_pool2d([scale, scale], [scale, scale], [0, 0], false, true, None)
}

/// Bicubic upsampling of `[B, C, h, w]` by `scale` (PyTorch `upsample_bicubic2d`,
/// `align_corners = false`, `a = -0.75`).
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

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

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
}
