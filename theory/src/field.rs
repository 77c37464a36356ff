//! Stationary Gaussian random fields on a periodic `s x s` pixel grid, and their exact
//! minimum-mean-squared-error (Wiener) denoising floor. Derivations: `theory/field.md`.
//!
//! A stationary field on the torus has a circulant covariance `C = F^{-1} diag(lambda) F`
//! (`F` the unnormalised 2-D DFT, `n = s^2` pixels), so the DFT diagonalises it. With the power
//! law
//!
//! ```text
//! p(k) = (f0^2 + |f(k)|^2)^(-exponent / 2),   f(k) = (wrap(kx), wrap(ky)) / s  [cycles/pixel],
//! lambda_k = n * variance * p(k) / sum_k' p(k'),
//! ```
//!
//! (`wrap(k) = min(k, s - k)`), every pixel has variance `variance` (`diag C = sum lambda / n`),
//! and `exponent = 2` is the `1/f^2` power spectrum of natural images. For `y = x + z`,
//! `z ~ N(0, sigma^2 I_n)`, the MMSE estimator is the Wiener filter with DFT gains
//! `g_k = lambda_k / (lambda_k + sigma^2)`, and its mean squared error per pixel is
//!
//! ```text
//! floor = (1/n) sum_k lambda_k sigma^2 / (lambda_k + sigma^2).
//! ```
//!
//! Since `x` and `y` are jointly Gaussian, no estimator (linear or not) does better.
//! Samples are drawn as `x = F^{-1} diag(sqrt(lambda)) F w` with `w ~ N(0, I_n)`, which has
//! covariance exactly `C`; the transforms are separable DFTs with tabulated twiddles
//! (`O(s^3)` per image, cheap for the sizes used here).

use rand::Rng;
use rand_distr::StandardNormal;

use crate::{Setup, TheoryError};

/// The spectrum of a stationary, isotropic, periodic Gaussian field on an `s x s` grid.
#[derive(Clone, Debug)]
pub struct FieldSpectrum {
    side: usize,
    exponent: f64,
    cutoff: f64,
    variance: f64,
    /// Covariance eigenvalues `lambda_k`, row-major `k = ky * s + kx`; `sum = n * variance`.
    lambda: Vec<f64>,
    dft: Dft,
}

impl FieldSpectrum {
    /// Builds the spectrum `lambda_k ~ (cutoff^2 + |f|^2)^(-exponent/2)`, scaled so that each
    /// pixel has variance `variance`.
    ///
    /// # Errors
    /// [`TheoryError::InvalidArgument`] when `side < 2`, `exponent` is negative or not finite,
    /// `cutoff` is not finite and positive, or `variance` is not finite and positive.
    pub fn new(
        side: usize,
        exponent: f64,
        cutoff: f64,
        variance: f64,
    ) -> Result<Self, TheoryError> {
        if side < 2 {
            return Err(TheoryError::InvalidArgument(format!(
                "field side must be at least 2, got {side}"
            )));
        }
        if !exponent.is_finite() || exponent < 0.0 {
            return Err(TheoryError::InvalidArgument(format!(
                "field exponent must be finite and non-negative, got {exponent}"
            )));
        }
        if !cutoff.is_finite() || cutoff <= 0.0 {
            return Err(TheoryError::InvalidArgument(format!(
                "field cutoff frequency must be finite and positive, got {cutoff}"
            )));
        }
        if !variance.is_finite() || variance <= 0.0 {
            return Err(TheoryError::InvalidArgument(format!(
                "field variance must be finite and positive, got {variance}"
            )));
        }
        let s = side;
        let wrap = |k: usize| k.min(s - k) as f64 / s as f64;
        let mut p = Vec::with_capacity(s * s);
        for ky in 0..s {
            for kx in 0..s {
                let f2 = wrap(kx).powi(2) + wrap(ky).powi(2);
                p.push((cutoff * cutoff + f2).powf(-exponent / 2.0));
            }
        }
        let total: f64 = p.iter().sum();
        let n = (s * s) as f64;
        let lambda = p.iter().map(|&pk| n * variance * pk / total).collect();
        Ok(Self {
            side,
            exponent,
            cutoff,
            variance,
            lambda,
            dft: Dft::new(s),
        })
    }

    /// Side `s` of the grid (pixels).
    pub fn side(&self) -> usize {
        self.side
    }

    /// Number of pixels `n = s^2`.
    pub fn pixels(&self) -> usize {
        self.side * self.side
    }

    /// Power-law exponent (2 for `1/f^2`).
    pub fn exponent(&self) -> f64 {
        self.exponent
    }

    /// Low-frequency cutoff `f0` in cycles per pixel.
    pub fn cutoff(&self) -> f64 {
        self.cutoff
    }

    /// Per-pixel variance of the field.
    pub fn variance(&self) -> f64 {
        self.variance
    }

    /// Covariance eigenvalues `lambda_k` (row-major `ky * s + kx`).
    pub fn eigenvalues(&self) -> &[f64] {
        &self.lambda
    }

    /// Wiener gains `g_k = lambda_k / (lambda_k + sigma^2)`.
    pub fn wiener_gains(&self, sigma: f64) -> Vec<f64> {
        let s2 = sigma * sigma;
        self.lambda.iter().map(|&l| l / (l + s2)).collect()
    }

    /// Mean squared error per pixel of the linear shift-invariant filter with DFT gains `gains`:
    /// `(1/n) sum_k [(1 - g_k)^2 lambda_k + g_k^2 sigma^2]`.
    pub fn filter_mse(&self, gains: &[f64], sigma: f64) -> f64 {
        assert_eq!(gains.len(), self.lambda.len());
        let s2 = sigma * sigma;
        let total: f64 = self
            .lambda
            .iter()
            .zip(gains)
            .map(|(&l, &g)| (1.0 - g).powi(2) * l + g * g * s2)
            .sum();
        total / self.lambda.len() as f64
    }

    /// The exact MMSE per pixel (the Bayes error floor) for noise standard deviation `sigma`:
    /// `(1/n) sum_k lambda_k sigma^2 / (lambda_k + sigma^2)`.
    pub fn mmse_floor(&self, sigma: f64) -> f64 {
        let s2 = sigma * sigma;
        let total: f64 = self.lambda.iter().map(|&l| l * s2 / (l + s2)).sum();
        total / self.lambda.len() as f64
    }

    /// Draws one field, row-major `s x s` (`x[y * s + x]`), as `F^{-1} diag(sqrt(lambda)) F w`.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> Vec<f64> {
        let w: Vec<f64> = (0..self.pixels())
            .map(|_| rng.sample(StandardNormal))
            .collect();
        let amplitude: Vec<f64> = self.lambda.iter().map(|l| l.sqrt()).collect();
        self.dft.filter(&w, &amplitude)
    }

    /// The Wiener (MMSE) estimate of the clean field from `noisy` (row-major `s x s`).
    pub fn wiener_denoise(&self, noisy: &[f64], sigma: f64) -> Vec<f64> {
        assert_eq!(noisy.len(), self.pixels());
        self.dft.filter(noisy, &self.wiener_gains(sigma))
    }
}

/// The paper's subspace model drawn as `s x s` pictures has the per-pixel MSE floor
/// `(d / n) * sigma^2 / (1 + sigma^2)`: the paper normalises the risk by `E ||x||^2 = d`, a pixel
/// MSE divides the squared error by `n` instead (`theory/field.md`).
pub fn subspace_pixel_floor(setup: &Setup) -> f64 {
    setup.d() as f64 / setup.n() as f64 * setup.floor()
}

/// Separable 2-D DFT on an `s x s` grid with tabulated twiddles `e^{-2 pi i j / s}`.
#[derive(Clone, Debug)]
struct Dft {
    s: usize,
    cos: Vec<f64>,
    sin: Vec<f64>,
}

impl Dft {
    fn new(s: usize) -> Self {
        let angle = |j: usize| 2.0 * std::f64::consts::PI * j as f64 / s as f64;
        Self {
            s,
            cos: (0..s).map(|j| angle(j).cos()).collect(),
            sin: (0..s).map(|j| angle(j).sin()).collect(),
        }
    }

    /// 1-D DFT along rows (`axis = 0`: index `i * s + j` transformed over `j`) or columns, in
    /// place, with sign `-1` (forward) or `+1` (inverse, unnormalised).
    fn transform(&self, re: &mut [f64], im: &mut [f64], rows: bool, sign: f64) {
        let s = self.s;
        let (mut br, mut bi) = (vec![0.0; s], vec![0.0; s]);
        for line in 0..s {
            let idx = |t: usize| if rows { line * s + t } else { t * s + line };
            for (k, (or, oi)) in br.iter_mut().zip(bi.iter_mut()).enumerate() {
                let (mut ar, mut ai) = (0.0, 0.0);
                for t in 0..s {
                    let m = (k * t) % s;
                    let (c, sn) = (self.cos[m], sign * self.sin[m]);
                    let (xr, xi) = (re[idx(t)], im[idx(t)]);
                    ar += xr * c - xi * sn;
                    ai += xr * sn + xi * c;
                }
                *or = ar;
                *oi = ai;
            }
            for t in 0..s {
                re[idx(t)] = br[t];
                im[idx(t)] = bi[t];
            }
        }
    }

    /// `Re(F^{-1} diag(gains) F x)` for a real image `x` and real, symmetric gains.
    fn filter(&self, x: &[f64], gains: &[f64]) -> Vec<f64> {
        let n = self.s * self.s;
        let mut re = x.to_vec();
        let mut im = vec![0.0; n];
        self.transform(&mut re, &mut im, true, -1.0);
        self.transform(&mut re, &mut im, false, -1.0);
        for ((r, i), g) in re.iter_mut().zip(im.iter_mut()).zip(gains) {
            *r *= g;
            *i *= g;
        }
        self.transform(&mut re, &mut im, true, 1.0);
        self.transform(&mut re, &mut im, false, 1.0);
        re.iter().map(|r| r / n as f64).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn rejects_bad_parameters() {
        assert!(FieldSpectrum::new(1, 2.0, 0.05, 1.0).is_err());
        assert!(FieldSpectrum::new(8, -1.0, 0.05, 1.0).is_err());
        assert!(FieldSpectrum::new(8, 2.0, 0.0, 1.0).is_err());
        assert!(FieldSpectrum::new(8, 2.0, 0.05, f64::NAN).is_err());
    }

    #[test]
    fn dft_filter_with_unit_gains_is_identity() {
        let f = FieldSpectrum::new(6, 2.0, 0.1, 1.0).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let x: Vec<f64> = (0..36).map(|_| rng.sample(StandardNormal)).collect();
        let y = f.dft.filter(&x, &[1.0; 36]);
        for (a, b) in x.iter().zip(&y) {
            assert!((a - b).abs() < 1e-12, "{a} vs {b}");
        }
    }

    #[test]
    fn eigenvalues_are_normalised_and_symmetric() {
        let f = FieldSpectrum::new(8, 2.0, 0.05, 2.5).unwrap();
        let mean: f64 = f.eigenvalues().iter().sum::<f64>() / 64.0;
        assert!((mean - 2.5).abs() < 1e-12);
        let l = f.eigenvalues();
        for ky in 0..8 {
            for kx in 0..8 {
                assert_eq!(l[ky * 8 + kx], l[((8 - ky) % 8) * 8 + (8 - kx) % 8]);
            }
        }
    }

    #[test]
    fn wiener_gains_minimise_the_filter_mse() {
        let f = FieldSpectrum::new(8, 2.0, 0.05, 1.0).unwrap();
        let sigma = 0.3;
        let g = f.wiener_gains(sigma);
        let floor = f.mmse_floor(sigma);
        assert!((f.filter_mse(&g, sigma) - floor).abs() < 1e-14);
        for scale in [0.9, 1.1] {
            let other: Vec<f64> = g.iter().map(|x| x * scale).collect();
            assert!(f.filter_mse(&other, sigma) > floor);
        }
        assert!(floor < sigma * sigma && floor > 0.0);
    }

    /// Simulation: per-pixel variance, and the Wiener MSE on drawn noisy fields, agree with the
    /// formulas within 5 standard errors (standard errors estimated from the same draws).
    #[test]
    fn simulated_variance_and_wiener_mse_match_the_floor() {
        let (s, sigma, draws) = (16, 0.2, 400);
        let f = FieldSpectrum::new(s, 2.0, 0.05, 1.0).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let (mut var_per_image, mut mse_per_image) = (Vec::new(), Vec::new());
        for _ in 0..draws {
            let x = f.sample(&mut rng);
            let y: Vec<f64> = x
                .iter()
                .map(|v| v + sigma * rng.sample::<f64, _>(StandardNormal))
                .collect();
            let xhat = f.wiener_denoise(&y, sigma);
            var_per_image.push(x.iter().map(|v| v * v).sum::<f64>() / (s * s) as f64);
            mse_per_image.push(
                x.iter()
                    .zip(&xhat)
                    .map(|(a, b)| (a - b).powi(2))
                    .sum::<f64>()
                    / (s * s) as f64,
            );
        }
        let mean_se = |v: &[f64]| {
            let m = v.iter().sum::<f64>() / v.len() as f64;
            let var = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64;
            (m, (var / v.len() as f64).sqrt())
        };
        let (var, var_se) = mean_se(&var_per_image);
        assert!(
            (var - 1.0).abs() < 5.0 * var_se,
            "pixel variance {var} +- {var_se}, expected 1"
        );
        let (mse, mse_se) = mean_se(&mse_per_image);
        let floor = f.mmse_floor(sigma);
        assert!(
            (mse - floor).abs() < 5.0 * mse_se,
            "Wiener MSE {mse} +- {mse_se}, floor {floor}"
        );
        // The test is sharp: the standard error is a small fraction of the floor.
        assert!(
            mse_se < 0.02 * floor,
            "standard error {mse_se} too large for floor {floor}"
        );
    }
}
