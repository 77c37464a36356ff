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

use faer::{Mat, MatRef};
use rand::Rng;
use rand_distr::StandardNormal;

use crate::{linalg, Setup, TheoryError};

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
        Self::check(side, exponent, cutoff, variance)?;
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

    /// Checks the parameters of [`FieldSpectrum::new`] without building anything (`O(1)`: the
    /// spectrum itself holds `side^2` values, 80 GB at `side = 100000`).
    ///
    /// # Errors
    /// As [`FieldSpectrum::new`].
    pub fn check(
        side: usize,
        exponent: f64,
        cutoff: f64,
        variance: f64,
    ) -> Result<(), TheoryError> {
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
        Ok(())
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

    /// Exact MMSE per pixel of noise-free Cartesian MRI (columns of k-space sampled
    /// independently), `theory/field.md`, "Accelerated MRI":
    ///
    /// ```text
    /// floor = (1/n) sum_k lambda_k P(neither column kx nor column -kx is sampled)
    /// ```
    ///
    /// `column_probability[c]` is the probability that column `c` of *centred* k-space
    /// (frequency `c - s/2`, fastMRI's `fftshift` layout) is sampled, independently across
    /// columns; a fixed mask is the 0/1 case, and a random mask with independent columns (fastMRI's
    /// `RandomMaskFunc`) gives the exact expectation over masks. The side must be even.
    ///
    /// # Panics
    /// When `column_probability.len() != s` or `s` is odd.
    pub fn mri_floor(&self, column_probability: &[f64]) -> f64 {
        let s = self.side;
        assert_eq!(column_probability.len(), s, "one probability per column");
        assert!(s.is_multiple_of(2), "centred k-space needs an even side");
        let unknown: Vec<f64> = (0..s)
            .map(|kx| {
                let c = (kx + s / 2) % s;
                let neg = (s - c) % s;
                if neg == c {
                    1.0 - column_probability[c]
                } else {
                    (1.0 - column_probability[c]) * (1.0 - column_probability[neg])
                }
            })
            .collect();
        let total: f64 = self
            .lambda
            .iter()
            .enumerate()
            .map(|(k, l)| l * unknown[k % s])
            .sum();
        total / self.pixels() as f64
    }

    /// The Bayes estimate `E[x | sampled columns]` of noise-free Cartesian MRI: the Hermitian
    /// completion `F^{-1} 1_K F x`, `K` = the sampled frequencies and their negatives (the other
    /// DFT coefficients are independent of the data and have mean zero). `mask[c]` marks column
    /// `c` of centred k-space.
    pub fn mri_oracle(&self, clean: &[f64], mask: &[bool]) -> Vec<f64> {
        let s = self.side;
        assert_eq!(mask.len(), s);
        let gains: Vec<f64> = (0..s * s)
            .map(|k| {
                let c = (k % s + s / 2) % s;
                if mask[c] || mask[(s - c) % s] {
                    1.0
                } else {
                    0.0
                }
            })
            .collect();
        self.dft.filter(clean, &gains)
    }

    /// The operator gains of noise-free Cartesian MRI with one fixed mask and the two-channel
    /// input `[Re z, Im z]` of the zero-filled image `z`, in the diagonal model of
    /// `theory/gaussian.md` (`theory/field.md`, "A fixed mask and the learned-linear theory"):
    /// per DFT index `k` (row-major `ky * s + kx`, as [`Self::eigenvalues`]), `1` when column
    /// `kx` and its mirror `-kx` are both sampled (or `kx = -kx` is sampled), `1/sqrt(2)` when
    /// exactly one of them is, `0` otherwise; the noise is 0. `mask[c]` marks column `c` of
    /// centred k-space. `O(n)`.
    ///
    /// # Panics
    /// When `mask.len() != s` or `s` is odd.
    pub fn mri_two_channel_gains(&self, mask: &[bool]) -> Vec<f64> {
        let s = self.side;
        assert_eq!(mask.len(), s, "one flag per column");
        assert!(s.is_multiple_of(2), "centred k-space needs an even side");
        (0..s * s)
            .map(|k| {
                let c = (k % s + s / 2) % s;
                let mirror = (s - c) % s;
                match (mask[c], mask[mirror]) {
                    (true, true) => 1.0,
                    (false, false) => 0.0,
                    _ => std::f64::consts::FRAC_1_SQRT_2,
                }
            })
            .collect()
    }

    /// Exact MMSE per pixel of noise-free super-resolution by area downsampling (means over
    /// `scale x scale` blocks), `theory/field.md`, "Super-resolution": each low-resolution
    /// frequency observes one combination of the `scale^2` aliased frequencies with box-filter
    /// gains `H`,
    ///
    /// ```text
    /// floor = (1/n) sum_groups [ sum_a lambda_a - sum_a |H_a|^2 lambda_a^2 / sum_a |H_a|^2 lambda_a ].
    /// ```
    ///
    /// # Errors
    /// When `scale < 1` or does not divide the side.
    pub fn sr_floor(&self, scale: usize) -> Result<f64, TheoryError> {
        let s = self.side;
        if scale < 1 || !s.is_multiple_of(scale) {
            return Err(TheoryError::InvalidArgument(format!(
                "scale {scale} must divide the side {s}"
            )));
        }
        let m = s / scale;
        let h2 = box_gain_squared(s, scale);
        let mut total = 0.0;
        for qy in 0..m {
            for qx in 0..m {
                let (mut sum_l, mut num, mut den) = (0.0, 0.0, 0.0);
                for a in 0..scale {
                    for b in 0..scale {
                        let (ky, kx) = (qy + m * a, qx + m * b);
                        let l = self.lambda[ky * s + kx];
                        let g = h2[ky] * h2[kx];
                        sum_l += l;
                        num += g * l * l;
                        den += g * l;
                    }
                }
                total += if den > 0.0 { sum_l - num / den } else { sum_l };
            }
        }
        Ok(total / self.pixels() as f64)
    }
}

/// `|H1(k)|^2` of the 1-D box filter of length `scale` on `s` points, for `k = 0..s`:
/// `(sin(pi k scale / s) / (scale sin(pi k / s)))^2`, 1 at `k = 0`.
fn box_gain_squared(s: usize, scale: usize) -> Vec<f64> {
    (0..s)
        .map(|k| {
            if k == 0 {
                return 1.0;
            }
            let t = std::f64::consts::PI * k as f64 / s as f64;
            ((t * scale as f64).sin() / (scale as f64 * t.sin())).powi(2)
        })
        .collect()
}

/// The subspace model `x = U c`, `c ~ N(0, I_d)`, observed through a noise-free linear operator
/// `A`: the posterior of `c` has covariance `I - B^+ B` (`B = A U`), so the per-pixel MMSE is
/// `(d - rank(B)) / n` (`theory/field.md`, "Subspace data"). `rank(B) = rank(B^T B)`, from the
/// eigenvalues of the `d x d` Gram matrix.
fn subspace_floor_from_gram(gram: &Mat<f64>, rows: usize, n: usize) -> f64 {
    let d = gram.nrows();
    let (eig, _) = linalg::sym_eig_desc(gram.as_ref(), faer::Par::Seq);
    let rank = linalg::numerical_rank(&eig, rows.max(d), d);
    (d - rank) as f64 / n as f64
}

/// Per-pixel MMSE of noise-free area-downsampling super-resolution for the subspace model
/// with basis `basis` (`n x d`, orthonormal columns, pixel `row * s + col`): `(d - rank(A U)) / n`.
///
/// # Errors
/// When `scale` does not divide the side or the basis has not `s^2` rows.
pub fn subspace_sr_floor(
    basis: MatRef<'_, f64>,
    side: usize,
    scale: usize,
) -> Result<f64, TheoryError> {
    let n = side * side;
    if basis.nrows() != n || scale < 1 || !side.is_multiple_of(scale) {
        return Err(TheoryError::InvalidArgument(format!(
            "subspace SR needs an {n}-row basis and a scale dividing {side}, got {} rows and scale {scale}",
            basis.nrows()
        )));
    }
    let m = side / scale;
    let b = Mat::from_fn(m * m, basis.ncols(), |i, j| {
        let (r, c) = (i / m, i % m);
        let mut acc = 0.0;
        for a in 0..scale {
            for bb in 0..scale {
                acc += basis[((r * scale + a) * side + c * scale + bb, j)];
            }
        }
        acc / (scale * scale) as f64
    });
    let gram = linalg::gram_t(b.as_ref(), faer::Par::Seq);
    Ok(subspace_floor_from_gram(&gram, m * m, n))
}

/// The subspace model under noise-free Cartesian MRI: per-column Gram matrices
/// `G_c = Re((F_c U)^H F_c U)` (`F_c`: the rows of the orthonormal 2-D DFT in column `c` of
/// centred k-space), so that a mask `S` gives `B^T B = sum_{c in S} G_c` and the floor
/// `(d - rank) / n` costs one `d x d` eigendecomposition per mask.
#[derive(Clone, Debug)]
pub struct SubspaceMri {
    side: usize,
    grams: Vec<Mat<f64>>,
}

impl SubspaceMri {
    /// Precomputes the column Grams of `basis` (`s^2 x d`, pixel `row * s + col`).
    ///
    /// # Errors
    /// When the basis has not `s^2` rows or `s` is odd or below 2.
    pub fn new(basis: MatRef<'_, f64>, side: usize) -> Result<Self, TheoryError> {
        let n = side * side;
        if basis.nrows() != n || side < 2 || !side.is_multiple_of(2) {
            return Err(TheoryError::InvalidArgument(format!(
                "subspace MRI needs an even side and an {n}-row basis, got side {side}, {} rows",
                basis.nrows()
            )));
        }
        let d = basis.ncols();
        let dft = Dft::new(side);
        // Z[j] = unnormalised DFT of basis image j (re, im), row-major (ky, kx).
        let spectra: Vec<(Vec<f64>, Vec<f64>)> = (0..d)
            .map(|j| {
                let mut re: Vec<f64> = (0..n).map(|i| basis[(i, j)]).collect();
                let mut im = vec![0.0; n];
                dft.transform(&mut re, &mut im, true, -1.0);
                dft.transform(&mut re, &mut im, false, -1.0);
                (re, im)
            })
            .collect();
        let grams = (0..side)
            .map(|c| {
                let kx = (c + side / 2) % side;
                Mat::from_fn(d, d, |a, b| {
                    let mut acc = 0.0;
                    for ky in 0..side {
                        let k = ky * side + kx;
                        acc +=
                            spectra[a].0[k] * spectra[b].0[k] + spectra[a].1[k] * spectra[b].1[k];
                    }
                    acc / n as f64
                })
            })
            .collect();
        Ok(Self { side, grams })
    }

    /// The per-pixel MMSE `(d - rank) / n` for the columns `mask` (centred k-space).
    pub fn floor(&self, mask: &[bool]) -> f64 {
        assert_eq!(mask.len(), self.side);
        let d = self.grams[0].nrows();
        let mut g = Mat::<f64>::zeros(d, d);
        for (c, _) in mask.iter().enumerate().filter(|(_, &m)| m) {
            g += &self.grams[c];
        }
        let rows = 2 * self.side * mask.iter().filter(|&&m| m).count();
        subspace_floor_from_gram(&g, rows, self.side * self.side)
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
    use crate::montecarlo::mean_stderr;
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
        let floor = f.mmse_floor(sigma);
        let mse_se = mean_stderr(&mse_per_image).1.unwrap();
        for (what, per_image, want) in [
            ("pixel variance", &var_per_image, 1.0),
            ("Wiener MSE", &mse_per_image, floor),
        ] {
            let (mean, se) = mean_stderr(per_image);
            let se = se.unwrap();
            assert!(
                (mean - want).abs() < 5.0 * se,
                "{what} {mean} +- {se}, expected {want}"
            );
        }
        // The test is sharp: the standard error is a small fraction of the floor.
        assert!(
            mse_se < 0.02 * floor,
            "standard error {mse_se} too large for floor {floor}"
        );
    }
}
