//! Centred orthonormal 2-D Fourier transforms with the fastMRI conventions.
//!
//! k-space is `fftshift(fft2(ifftshift(x), norm = "ortho"))` of the last two dimensions: DC at
//! row `H / 2`, column `W / 2`, and Parseval holds exactly (unitary). Tensors are complex64
//! (real inputs are promoted); each transform costs `O(H W log(H W))` per image.

use tch::{Kind, Tensor};

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

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    #[test]
    fn fft2c_is_unitary_and_centred() {
        let x = crate::testing::randn(1, [2, 1, 8, 8]);
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
}
