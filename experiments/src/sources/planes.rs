//! Decoded images as `f32` planes in `[0, 1]`, and the two ways a plane becomes `s x s`
//! training images: fitting a whole file ([`Planes::fit`]) or cutting a patch
//! ([`Planes::patch`]).
//!
//! 8-bit and 16-bit files are scaled by their full range. Gray is luma with Rec. 709 weights
//! (the `image` crate's conversion).

use std::path::Path;

use super::load::{one_line, Color};

/// A decoded image: `channels x h x w` planes, values in `[0, 1]`.
#[derive(Clone, Debug)]
pub struct Planes {
    /// Channels (1 or 3).
    pub channels: usize,
    /// Height.
    pub h: usize,
    /// Width.
    pub w: usize,
    /// Channel-major values, `c * h * w + row * w + col`.
    pub data: Vec<f32>,
}

/// Decodes a PNG or JPEG file.
///
/// # Errors
/// One line naming the file when it cannot be opened or decoded (the decoder's own message,
/// which may span lines, is joined into that line).
pub fn decode(path: &Path, color: Color) -> anyhow::Result<Planes> {
    let img = image::open(path).map_err(|e| {
        anyhow::anyhow!(
            "cannot decode {}: {}",
            path.display(),
            one_line(&e.to_string())
        )
    })?;
    let (w, h) = (img.width() as usize, img.height() as usize);
    let mut planes = match color {
        Color::Gray => Planes {
            channels: 1,
            h,
            w,
            data: img.to_luma32f().into_raw(),
        },
        Color::Rgb | Color::RgbSplit => {
            let rgb = img.to_rgb32f().into_raw();
            let mut data = vec![0.0; 3 * h * w];
            for (p, px) in rgb.chunks_exact(3).enumerate() {
                for c in 0..3 {
                    data[c * h * w + p] = px[c];
                }
            }
            Planes {
                channels: 3,
                h,
                w,
                data,
            }
        }
    };
    // The f32 luma weights can round a white pixel to 1 + 1 ulp: keep the documented range.
    for v in &mut planes.data {
        *v = v.clamp(0.0, 1.0);
    }
    Ok(planes)
}

impl Planes {
    /// The centred `q s x q s` square reduced by `q x q` block means (`q = min(h, w) / s`):
    /// area downsampling by an integer factor, so no interpolation; `None` when the image is
    /// smaller than `s`. Cost `O(C q^2 s^2)`.
    pub fn fit(&self, s: usize) -> Option<Vec<f32>> {
        let q = self.h.min(self.w) / s;
        if q == 0 {
            return None;
        }
        let (r0, c0) = ((self.h - q * s) / 2, (self.w - q * s) / 2);
        let mut out = Vec::with_capacity(self.channels * s * s);
        for c in 0..self.channels {
            let plane = &self.data[c * self.h * self.w..(c + 1) * self.h * self.w];
            for i in 0..s {
                for j in 0..s {
                    let mut acc = 0.0f64;
                    for a in 0..q {
                        let row = r0 + i * q + a;
                        for b in 0..q {
                            acc += plane[row * self.w + c0 + j * q + b] as f64;
                        }
                    }
                    out.push((acc / (q * q) as f64) as f32);
                }
            }
        }
        Some(out)
    }

    /// The `s x s` patch at `(row, col)` of every channel.
    pub fn patch(&self, s: usize, row: usize, col: usize) -> Vec<f32> {
        let mut out = Vec::with_capacity(self.channels * s * s);
        for c in 0..self.channels {
            let plane = &self.data[c * self.h * self.w..(c + 1) * self.h * self.w];
            for i in 0..s {
                out.extend_from_slice(
                    &plane[(row + i) * self.w + col..(row + i) * self.w + col + s],
                );
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_takes_the_centre_and_bins() {
        // 5 x 7 image, s = 2: q = 2, crop rows 0..4, cols 1..5.
        let data: Vec<f32> = (0..35).map(|v| v as f32).collect();
        let p = Planes {
            channels: 1,
            h: 5,
            w: 7,
            data,
        };
        let f = p.fit(2).unwrap();
        let want = |r: usize, c: usize| {
            [(r, c), (r, c + 1), (r + 1, c), (r + 1, c + 1)]
                .iter()
                .map(|&(a, b)| (a * 7 + b) as f32)
                .sum::<f32>()
                / 4.0
        };
        assert_eq!(f, vec![want(0, 1), want(0, 3), want(2, 1), want(2, 3)]);
        assert!(p.fit(6).is_none());
    }
}
