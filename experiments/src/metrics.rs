//! Image quality metrics, per image, on `[B, C, H, W]` tensors (`x` the clean target; `C = 3`
//! for colour photographs).
//!
//! - MSE: `mean((x_hat - x)^2)` over the pixels and channels of the image.
//! - PSNR (dB): `10 log10(R^2 / MSE)` with the data range `R = max(x) - min(x)` of the clean
//!   image for the synthetic (signed) images (fastMRI uses `max(x)` for its non-negative
//!   magnitude images), or a fixed range (`R = 1` for real images in `[0, 1]`, the usual
//!   convention for photographs; a flat patch would otherwise have `R = 0`): the `*_range`
//!   functions with `Some(R)`.
//! - SSIM, the fastMRI definition (`fastmri.evaluate.ssim`, i.e. scikit-image with
//!   `win_size = 7`, uniform window, sample covariance): local means, variances and covariance
//!   over 7x7 windows (valid positions only), `C1 = (0.01 R)^2`, `C2 = (0.03 R)^2`,
//!   `S = (2 mx my + C1)(2 vxy + C2) / ((mx^2 + my^2 + C1)(vx + vy + C2))`, averaged over the
//!   window positions; variances scaled by `49 / 48`. A colour image's SSIM is the mean of its
//!   channels' (scikit-image's `channel_axis`); the data range is that of the whole image.

use tch::{Kind, Tensor};

/// SSIM window side.
pub const SSIM_WINDOW: i64 = 7;
/// SSIM constant `k1`.
pub const SSIM_K1: f64 = 0.01;
/// SSIM constant `k2`.
pub const SSIM_K2: f64 = 0.03;

fn per_image(t: &Tensor) -> Vec<f64> {
    Vec::<f64>::try_from(t.to_kind(Kind::Double).flatten(0, -1)).expect("1-D tensor")
}

/// MSE per image.
pub fn mse(output: &Tensor, target: &Tensor) -> Vec<f64> {
    per_image(
        &(output - target)
            .square()
            .mean_dim([1i64, 2, 3].as_slice(), false, Kind::Double),
    )
}

/// Data range `max - min` of each image, shape `[B, 1, 1, 1]`.
fn data_range(target: &Tensor) -> Tensor {
    let b = target.size()[0];
    let flat = target.reshape([b, -1]);
    (flat.amax([1i64].as_slice(), false) - flat.amin([1i64].as_slice(), false)).view([b, 1, 1, 1])
}

/// `[B, 1, 1, 1]` ranges: each image's `max - min`, or the fixed `range`.
fn ranges(target: &Tensor, range: Option<f64>) -> Tensor {
    match range {
        None => data_range(target),
        Some(r) => Tensor::full(
            [target.size()[0], 1, 1, 1],
            r,
            (target.kind(), target.device()),
        ),
    }
}

/// PSNR per image in dB (range `max - min` of each clean image).
pub fn psnr(output: &Tensor, target: &Tensor) -> Vec<f64> {
    psnr_range(output, target, None)
}

/// PSNR per image in dB with a fixed data range, or each image's `max - min` for `None`.
pub fn psnr_range(output: &Tensor, target: &Tensor, range: Option<f64>) -> Vec<f64> {
    let range = per_image(&ranges(target, range));
    mse(output, target)
        .iter()
        .zip(range)
        .map(|(m, r)| 10.0 * (r * r / m).log10())
        .collect()
}

/// SSIM per image (fastMRI definition). Images must be at least 7x7.
pub fn ssim(output: &Tensor, target: &Tensor) -> Vec<f64> {
    ssim_range(output, target, None)
}

/// SSIM per image with a fixed data range (`None`: each image's `max - min`); the mean over
/// channels for `C > 1`.
pub fn ssim_range(output: &Tensor, target: &Tensor, range: Option<f64>) -> Vec<f64> {
    let size = target.size();
    let (b, c) = (size[0], size[1]);
    // Every channel as its own single-channel image, with its image's range.
    let planes = |t: &Tensor| {
        t.to_kind(Kind::Double)
            .reshape([b * c, 1, size[2], size[3]])
    };
    let (x, y) = (planes(target), planes(output));
    let range = ranges(target, range)
        .to_kind(Kind::Double)
        .repeat_interleave_self_int(c, Some(0), None);
    let np = (SSIM_WINDOW * SSIM_WINDOW) as f64;
    let w = Tensor::ones([1, 1, SSIM_WINDOW, SSIM_WINDOW], (Kind::Double, x.device())) / np;
    let filt = |t: &Tensor| t.conv2d::<Tensor>(&w, None, [1, 1], [0, 0], [1, 1], 1);
    let (ux, uy) = (filt(&x), filt(&y));
    let (uxx, uyy, uxy) = (filt(&(&x * &x)), filt(&(&y * &y)), filt(&(&x * &y)));
    let cov_norm = np / (np - 1.0);
    let vx = (uxx - &ux * &ux) * cov_norm;
    let vy = (uyy - &uy * &uy) * cov_norm;
    let vxy = (uxy - &ux * &uy) * cov_norm;
    let c1 = (&range * SSIM_K1).square();
    let c2 = (&range * SSIM_K2).square();
    let num = (&ux * &uy * 2.0 + &c1) * (vxy * 2.0 + &c2);
    let den = (ux.square() + uy.square() + c1) * (vx + vy + c2);
    per_image(
        &(num / den)
            .view([b, -1])
            .mean_dim([1i64].as_slice(), false, Kind::Double),
    )
}

/// Mean and standard error of the mean (NaN below two values, where no spread is measured).
pub fn mean_stderr(v: &[f64]) -> (f64, f64) {
    let (mean, se) = plateau_theory::montecarlo::mean_stderr(v);
    (mean, se.unwrap_or(f64::NAN))
}

/// MSE, PSNR and SSIM averaged over images, plus the standard error of the MSE.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Summary {
    /// Mean per-pixel MSE.
    pub mse: f64,
    /// Standard error of `mse` over images.
    pub mse_stderr: f64,
    /// Mean PSNR (dB).
    pub psnr: f64,
    /// Mean SSIM.
    pub ssim: f64,
}

/// Averages of the three metrics over the batch (per-image ranges).
pub fn summarize(output: &Tensor, target: &Tensor) -> Summary {
    summarize_range(output, target, None)
}

/// Averages of the three metrics over the batch, PSNR and SSIM with the data range `range`
/// (`None`: each image's `max - min`).
pub fn summarize_range(output: &Tensor, target: &Tensor, range: Option<f64>) -> Summary {
    let mut all = PerImage::default();
    all.extend(output, target, range);
    all.summary()
}

/// MSE, PSNR and SSIM of each image, gathered batch by batch (a split evaluated in chunks).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PerImage {
    /// MSE per image.
    pub mse: Vec<f64>,
    /// PSNR per image (dB).
    pub psnr: Vec<f64>,
    /// SSIM per image.
    pub ssim: Vec<f64>,
}

impl PerImage {
    /// Appends the metrics of a batch, PSNR and SSIM with the data range `range`.
    pub fn extend(&mut self, output: &Tensor, target: &Tensor, range: Option<f64>) {
        self.mse.extend(mse(output, target));
        self.psnr.extend(psnr_range(output, target, range));
        self.ssim.extend(ssim_range(output, target, range));
    }

    /// Their averages over the images, and the standard error of the MSE.
    pub fn summary(&self) -> Summary {
        let (m, se) = mean_stderr(&self.mse);
        let avg = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        Summary {
            mse: m,
            mse_stderr: se,
            psnr: avg(&self.psnr),
            ssim: avg(&self.ssim),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    #[test]
    fn identical_images_have_ssim_one_and_psnr_from_mse() {
        let x = crate::testing::randn(0, [2, 1, 12, 12]);
        for s in ssim(&x, &x) {
            assert!((s - 1.0).abs() < 1e-12);
        }
        let y = &x + 0.1;
        let range = per_image(&data_range(&x));
        for (p, r) in psnr(&y, &x).iter().zip(range) {
            let want = 10.0 * (r * r / 0.01).log10();
            assert!((p - want).abs() < 1e-4, "{p} vs {want}");
        }
    }

    #[test]
    fn ssim_matches_a_direct_computation() {
        // One 7x7 image pair: a single window, computed by hand.
        let xs: Vec<f64> = (0..49).map(|i| ((i * 7) % 11) as f64 / 10.0).collect();
        let ys: Vec<f64> = (0..49).map(|i| ((i * 5) % 13) as f64 / 12.0).collect();
        let n = 49.0;
        let (mx, my) = (xs.iter().sum::<f64>() / n, ys.iter().sum::<f64>() / n);
        let vx = xs.iter().map(|a| (a - mx).powi(2)).sum::<f64>() / (n - 1.0);
        let vy = ys.iter().map(|a| (a - my).powi(2)).sum::<f64>() / (n - 1.0);
        let vxy = xs
            .iter()
            .zip(&ys)
            .map(|(a, b)| (a - mx) * (b - my))
            .sum::<f64>()
            / (n - 1.0);
        let r = xs.iter().cloned().fold(f64::MIN, f64::max)
            - xs.iter().cloned().fold(f64::MAX, f64::min);
        let (c1, c2) = ((0.01 * r).powi(2), (0.03 * r).powi(2));
        let want =
            (2.0 * mx * my + c1) * (2.0 * vxy + c2) / ((mx * mx + my * my + c1) * (vx + vy + c2));
        let t = |v: &[f64]| Tensor::from_slice(v).view([1, 1, 7, 7]);
        let got = ssim(&t(&ys), &t(&xs))[0];
        assert!((got - want).abs() < 1e-12, "{got} vs {want}");
    }

    #[test]
    fn a_colour_image_averages_its_channels_with_the_image_range() {
        let x = crate::testing::rand(1, [2, 3, 12, 12]);
        let y = &x + Tensor::randn([2, 3, 12, 12], (Kind::Float, Device::Cpu)) * 0.1;
        let ranges = per_image(&data_range(&x));
        for range in [None, Some(1.0)] {
            let got = ssim_range(&y, &x, range);
            for (i, g) in got.iter().enumerate() {
                let r = range.unwrap_or(ranges[i]);
                let channel = |t: &Tensor, c: i64| t.narrow(0, i as i64, 1).narrow(1, c, 1);
                let want = (0..3)
                    .map(|c| ssim_range(&channel(&y, c), &channel(&x, c), Some(r))[0])
                    .sum::<f64>()
                    / 3.0;
                assert!((g - want).abs() < 1e-12, "{g} vs {want}");
            }
        }
        // MSE over all 3 x 12 x 12 values of an image.
        let m = mse(&y, &x);
        let direct = (&y - &x).square().narrow(0, 1, 1).mean(Kind::Double);
        assert!((m[1] - direct.double_value(&[])).abs() < 1e-12);
    }
}
