//! `phantoms`: random ellipse phantoms of the Shepp-Logan family, generated on the fly from the
//! split's ChaCha8 stream ([`crate::streams::split_rng`]), gray, in `[0, 1]`.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::load::{Color, Examples, Layout, LoadOptions};
use crate::streams::{split_rng, Split};

/// The phantoms of a split: example `i` is the phantom drawn from the split's stream at the
/// position where phantom `i` of a sequential draw starts (16 bytes per example; a read
/// rasterises it again, `O(s^2)`).
#[derive(Clone, Debug)]
pub struct PhantomExamples {
    /// Word position of the split's stream at the start of each phantom.
    starts: Vec<u128>,
    seed: u64,
    split: Split,
    layout: Layout,
}

impl Examples for PhantomExamples {
    fn layout(&self) -> Layout {
        self.layout
    }

    fn example(&self, index: usize) -> anyhow::Result<Vec<f32>> {
        let mut rng = split_rng(self.seed, self.split);
        rng.set_word_pos(self.starts[index]);
        let image = rasterize(self.layout.side, &ellipses(&mut rng));
        Ok(image.iter().map(|&v| v as f32).collect())
    }
}

/// The index of the first `count` phantoms of `split`: draws their ellipses (not their pixels)
/// once, `O(count)`.
pub fn index(split: Split, count: usize, opt: &LoadOptions) -> PhantomExamples {
    let mut rng: ChaCha8Rng = split_rng(opt.seed, split);
    let starts = (0..count)
        .map(|_| {
            let at = rng.get_word_pos();
            ellipses(&mut rng);
            at
        })
        .collect();
    PhantomExamples {
        starts,
        seed: opt.seed,
        split,
        layout: Layout {
            items: count,
            color: Color::Gray,
            side: opt.side,
        },
    }
}

/// A random phantom of the Shepp-Logan family on an `s x s` grid, values in `[0, 1]`, row-major.
///
/// An outer ellipse ("skull", intensity 1) around an inner one (brain, 0.2 after the -0.8
/// offset of Shepp-Logan's second ellipse), with random centre, axes and tilt, then 3-8 interior
/// ellipses of intensity `+-U(0.1, 0.3)` added (intensities add where ellipses overlap, as in
/// Shepp-Logan); values are clipped to `[0, 1]`. Each pixel is the mean of a 3x3 grid of
/// sub-samples, so edges are anti-aliased as a physical object would be by a finite pixel.
pub fn phantom<R: Rng + ?Sized>(s: usize, rng: &mut R) -> Vec<f64> {
    rasterize(s, &ellipses(rng))
}

/// `(centre x, centre y, semi-axis a, semi-axis b, angle, intensity)` of a phantom's ellipses,
/// coordinates in `[-1, 1]`: every random number of [`phantom`].
fn ellipses<R: Rng + ?Sized>(rng: &mut R) -> Vec<[f64; 6]> {
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
    ellipses
}

/// The phantom of `ellipses` on an `s x s` grid (3 x 3 sub-samples per pixel), row-major.
fn rasterize(s: usize, ellipses: &[[f64; 6]]) -> Vec<f64> {
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
                    for e in ellipses {
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

    #[test]
    fn indexed_phantoms_are_the_sequential_draws_in_any_order() {
        let opt = LoadOptions {
            side: 16,
            color: Color::Gray,
            skip_bad: false,
            seed: 7,
            volumes: None,
        };
        let examples = index(Split::Validation, 6, &opt);
        let mut rng = split_rng(7, Split::Validation);
        let sequential: Vec<Vec<f32>> = (0..6)
            .map(|_| phantom(16, &mut rng).iter().map(|&v| v as f32).collect())
            .collect();
        for i in [5, 0, 3, 1, 4, 2] {
            assert_eq!(examples.example(i).unwrap(), sequential[i], "phantom {i}");
        }
    }
}
