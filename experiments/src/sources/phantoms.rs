//! `phantoms`: random ellipse phantoms of the Shepp-Logan family, generated on the fly from the
//! split's ChaCha8 stream ([`crate::streams::split_rng`]), gray, in `[0, 1]`.

use rand::Rng;

use super::load::LoadOptions;
use crate::streams::{split_rng, Split};

/// The first `count` phantoms of `split`, `count * s * s` values. Cost `O(count s^2)` (a few
/// ellipses, 9 sub-samples per pixel).
pub fn load(split: Split, count: usize, opt: &LoadOptions) -> Vec<f32> {
    let mut rng = split_rng(opt.seed, split);
    let mut data = Vec::with_capacity(count * opt.side * opt.side);
    for _ in 0..count {
        data.extend(phantom(opt.side, &mut rng).iter().map(|&v| v as f32));
    }
    data
}

/// A random phantom of the Shepp-Logan family on an `s x s` grid, values in `[0, 1]`, row-major.
///
/// An outer ellipse ("skull", intensity 1) around an inner one (brain, 0.2 after the -0.8
/// offset of Shepp-Logan's second ellipse), with random centre, axes and tilt, then 3-8 interior
/// ellipses of intensity `+-U(0.1, 0.3)` added (intensities add where ellipses overlap, as in
/// Shepp-Logan); values are clipped to `[0, 1]`. Each pixel is the mean of a 3x3 grid of
/// sub-samples, so edges are anti-aliased as a physical object would be by a finite pixel.
pub fn phantom<R: Rng + ?Sized>(s: usize, rng: &mut R) -> Vec<f64> {
    // (centre x, centre y, semi-axis a, semi-axis b, angle, intensity), coordinates in [-1, 1].
    let mut ellipses: Vec<[f64; 6]> = Vec::new();
    let (a0, b0) = (rng.random_range(0.7..0.92), rng.random_range(0.8..0.95));
    let t0 = rng.random_range(-0.3..0.3);
    let (cx0, cy0) = (rng.random_range(-0.05..0.05), rng.random_range(-0.05..0.05));
    ellipses.push([cx0, cy0, a0, b0, t0, 1.0]);
    let th = rng.random_range(0.04..0.08);
    ellipses.push([cx0, cy0, a0 - th, b0 - th, t0, -0.8]);
    let inner = rng.random_range(3..=8);
    for _ in 0..inner {
        let r = rng.random_range(0.0..0.55);
        let phi = rng.random_range(0.0..std::f64::consts::TAU);
        let sign = if rng.random::<bool>() { 1.0 } else { -1.0 };
        ellipses.push([
            cx0 + r * phi.cos() * a0,
            cy0 + r * phi.sin() * b0,
            rng.random_range(0.04..0.3),
            rng.random_range(0.04..0.3),
            rng.random_range(0.0..std::f64::consts::PI),
            sign * rng.random_range(0.1..0.3),
        ]);
    }
    let sub = 3;
    let mut out = vec![0.0; s * s];
    for i in 0..s {
        for j in 0..s {
            let mut acc = 0.0;
            for si in 0..sub {
                for sj in 0..sub {
                    let y = 1.0 - 2.0 * (i as f64 + (si as f64 + 0.5) / sub as f64) / s as f64;
                    let x = -1.0 + 2.0 * (j as f64 + (sj as f64 + 0.5) / sub as f64) / s as f64;
                    let mut v = 0.0;
                    for e in &ellipses {
                        let (dx, dy) = (x - e[0], y - e[1]);
                        let (c, sn) = (e[4].cos(), e[4].sin());
                        let (u, w) = (dx * c + dy * sn, -dx * sn + dy * c);
                        if (u / e[2]).powi(2) + (w / e[3]).powi(2) <= 1.0 {
                            v += e[5];
                        }
                    }
                    acc += f64::clamp(v, 0.0, 1.0);
                }
            }
            out[i * s + j] = acc / (sub * sub) as f64;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn phantoms_are_in_range_and_seeded() {
        let mut a = ChaCha8Rng::seed_from_u64(1);
        let mut b = ChaCha8Rng::seed_from_u64(1);
        let (x, y) = (phantom(32, &mut a), phantom(32, &mut b));
        assert_eq!(x, y);
        assert!(x.iter().all(|v| (0.0..=1.0).contains(v)));
        // The skull ring reaches intensity 1, the background is 0.
        assert!(x.iter().cloned().fold(0.0, f64::max) > 0.99);
        assert_eq!(x[0], 0.0);
        let z = phantom(32, &mut a);
        assert_ne!(x, z);
    }
}
