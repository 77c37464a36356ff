//! Clean images from real data: image folders, the scikit-image sample photographs, random
//! ellipse phantoms and fastMRI volumes.
//!
//! All images are `f32` in `[0, 1]` (8-bit and 16-bit files are scaled by their full range;
//! fastMRI slices by their own maximum), returned as `[count * C, 1, s, s]` tensors: with
//! `--color rgb` the three channels of an image are consecutive single-channel images (the
//! network reconstructs each channel separately; the split is unaffected since it is by file).
//! Gray is luma with Rec. 709 weights (the `image` crate's conversion).
//!
//! **Split by file, never by patch.** A file's split is a stable function of its path relative
//! to the data root: `u = fnv1a64(path) / 2^64`, test if `u < 0.15`, validation if `u < 0.25`,
//! training otherwise. Within a split, files are ordered by that hash, so the training set of
//! size `N` is a prefix of that of size `4N` (nested sets), and adding files elsewhere in the
//! folder never moves a file to another split.
//!
//! **Resizing ("fit").** A file becomes one `s x s` image (folders, fastMRI slices): the
//! centred square of side `q s`, `q = floor(min(H, W) / s)`, is cut out and reduced by `q x q`
//! block means (area downsampling by an integer factor, so no interpolation). Files smaller than
//! `s` are skipped and counted. The sample photographs instead give random `s x s` patches at
//! their native resolution, uniform over all patch positions of the split's photographs (drawn
//! from the split's ChaCha8 stream), redrawing flat patches (pixel std below [`MIN_PATCH_STD`]).
//! Of `skimage/data`, the drawings ([`SKIMAGE_NOT_PHOTOGRAPHS`]) are left out.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tch::{Device, Tensor};

use crate::data::Split;
use plateau_run::hash::fnv1a64;

pub use plateau_run::problem::{Color, Source};

/// A loaded split.
pub struct Loaded {
    /// `[count * C, 1, s, s]` `f32` images in `[0, 1]`.
    pub images: Tensor,
    /// Files skipped as unreadable (only with `skip_bad`) or too small.
    pub skipped: Vec<String>,
}

/// The split of a file from its path relative to the data root (see the module docs).
pub fn split_of(relative: &str) -> Split {
    let u = fnv1a64(relative.as_bytes()) as f64 / 2f64.powi(64);
    if u < 0.15 {
        Split::Test
    } else if u < 0.25 {
        Split::Validation
    } else {
        Split::Train
    }
}

/// Files under `root` whose extension (lower case) is in `exts`, as `(relative path, path)`,
/// those of `split` only, ordered by hash (then path).
///
/// # Errors
/// When `root` is not a readable folder.
pub fn split_files(
    root: &Path,
    exts: &[&str],
    split: Split,
) -> anyhow::Result<Vec<(String, PathBuf)>> {
    anyhow::ensure!(root.is_dir(), "{} is not a folder", root.display());
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(root).follow_links(true) {
        let entry = entry.with_context(|| format!("cannot list {}", root.display()))?;
        if !entry.file_type().is_file() {
            continue;
        }
        let ext = entry
            .path()
            .extension()
            .and_then(|e| e.to_str())
            .map(|e| e.to_ascii_lowercase());
        if !ext.is_some_and(|e| exts.contains(&e.as_str())) {
            continue;
        }
        let rel = entry
            .path()
            .strip_prefix(root)
            .unwrap_or(entry.path())
            .to_string_lossy()
            .replace('\\', "/");
        if split_of(&rel) == split {
            files.push((rel, entry.path().to_path_buf()));
        }
    }
    files.sort_by(|a, b| (fnv1a64(a.0.as_bytes()), &a.0).cmp(&(fnv1a64(b.0.as_bytes()), &b.0)));
    Ok(files)
}

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
/// One line naming the file when it cannot be opened or decoded.
pub fn decode(path: &Path, color: Color) -> anyhow::Result<Planes> {
    let img =
        image::open(path).map_err(|e| anyhow::anyhow!("cannot decode {}: {e}", path.display()))?;
    let (w, h) = (img.width() as usize, img.height() as usize);
    let mut planes = match color {
        Color::Gray => Planes {
            channels: 1,
            h,
            w,
            data: img.to_luma32f().into_raw(),
        },
        Color::Rgb => {
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
    /// The centred `q s x q s` square reduced by `q x q` block means (`q = min(h, w) / s`);
    /// `None` when the image is smaller than `s`.
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

/// Folder holding the scikit-image sample photographs: `$PLATEAU_SKIMAGE_DATA` (set to
/// `.deps/skimage-data` by `.cargo/config.toml`), else `.deps/skimage-data` next to this crate's
/// workspace.
pub fn skimage_dir() -> PathBuf {
    std::env::var_os("PLATEAU_SKIMAGE_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../.deps/skimage-data"))
}

/// The files of `skimage/data` that are drawings rather than photographs (chessboards, colour
/// wheel, silhouette, logo, Shepp-Logan phantom): left out of `--data skimage`, whose purpose is
/// natural-image statistics.
pub const SKIMAGE_NOT_PHOTOGRAPHS: &[&str] = &[
    "chessboard_GRAY.png",
    "chessboard_RGB.png",
    "color.png",
    "horse.png",
    "logo.png",
    "phantom.png",
];

/// Patches of the sample photographs whose pixel standard deviation is below this (in `[0, 1]`
/// units, about 5 grey levels) are redrawn: on flat background (sky, paper, the black around the
/// moon) every method is nearly exact, and their huge per-patch PSNRs would dominate the mean
/// PSNR used for model selection and reporting.
pub const MIN_PATCH_STD: f32 = 0.02;

fn pixel_std(v: &[f32]) -> f32 {
    let n = v.len() as f32;
    let m = v.iter().sum::<f32>() / n;
    (v.iter().map(|x| (x - m) * (x - m)).sum::<f32>() / n).sqrt()
}

/// Options of a real-data load.
#[derive(Clone, Copy, Debug)]
pub struct LoadOptions {
    /// Image side `s`.
    pub side: usize,
    /// Gray or RGB (ignored by phantoms and fastMRI, which are gray).
    pub color: Color,
    /// Skip unreadable files with a count instead of failing.
    pub skip_bad: bool,
    /// Data seed (patch positions, phantoms).
    pub seed: u64,
}

/// Reading a [`Source`]'s images (the source itself is plain data in `plateau_run`).
pub trait Load {
    /// The first `count` examples of `split`.
    ///
    /// # Errors
    /// One line naming the file for an unreadable file (unless `skip_bad`), a missing folder,
    /// or a split with fewer usable files than `count` (folders, fastMRI).
    fn load(&self, split: Split, count: usize, opt: &LoadOptions) -> anyhow::Result<Loaded>;
}

impl Load for Source {
    fn load(&self, split: Split, count: usize, opt: &LoadOptions) -> anyhow::Result<Loaded> {
        let s = opt.side;
        let mut skipped = Vec::new();
        let mut data: Vec<f32> = Vec::new();
        let channels = self.channels(opt.color);
        match self {
            Source::Phantoms => {
                let mut rng = ChaCha8Rng::seed_from_u64(opt.seed);
                rng.set_stream(split as u64);
                for _ in 0..count {
                    data.extend(phantom(s, &mut rng).iter().map(|&v| v as f32));
                }
            }
            Source::Folder(root) => {
                let files = split_files(root, &["png", "jpg", "jpeg"], split)?;
                for (rel, path) in &files {
                    if data.len() == count * channels * s * s {
                        break;
                    }
                    match decode(path, opt.color) {
                        Ok(p) => match p.fit(s) {
                            Some(v) => data.extend(v),
                            None => skipped.push(format!("{rel} (smaller than {s}x{s})")),
                        },
                        Err(e) if opt.skip_bad => skipped.push(format!("{rel} ({e})")),
                        Err(e) => return Err(e),
                    }
                }
                let got = data.len() / (channels * s * s);
                if got < count {
                    bail!(
                        "{}: the {} split has {got} usable images, {count} requested ({} files in it, {} skipped)",
                        root.display(),
                        split_name(split),
                        files.len(),
                        skipped.len()
                    );
                }
            }
            Source::Skimage => {
                let root = skimage_dir();
                anyhow::ensure!(
                    root.is_dir(),
                    "the scikit-image sample photographs are missing ({}): run `make bootstrap` \
                     (scripts/bootstrap-skimage.sh) or set PLATEAU_SKIMAGE_DATA",
                    root.display()
                );
                let mut photos = Vec::new();
                for (rel, path) in split_files(&root, &["png", "jpg", "jpeg"], split)? {
                    if SKIMAGE_NOT_PHOTOGRAPHS.contains(&rel.as_str()) {
                        continue;
                    }
                    match decode(&path, opt.color) {
                        Ok(p) if p.h >= s && p.w >= s => photos.push(p),
                        Ok(_) => skipped.push(format!("{rel} (smaller than {s}x{s})")),
                        Err(e) if opt.skip_bad => skipped.push(format!("{rel} ({e})")),
                        Err(e) => return Err(e),
                    }
                }
                anyhow::ensure!(
                    !photos.is_empty(),
                    "{}: no photograph of at least {s}x{s} in the {} split",
                    root.display(),
                    split_name(split)
                );
                let mut rng = ChaCha8Rng::seed_from_u64(opt.seed);
                rng.set_stream(split as u64);
                // Uniform over all patch positions of the split: a photograph is chosen with
                // probability proportional to its number of positions.
                let positions: Vec<usize> = photos
                    .iter()
                    .map(|p| (p.h - s + 1) * (p.w - s + 1))
                    .collect();
                let total: usize = positions.iter().sum();
                for _ in 0..count {
                    let mut tries = 0;
                    let patch = loop {
                        let mut r = rng.random_range(0..total);
                        let mut i = 0;
                        while r >= positions[i] {
                            r -= positions[i];
                            i += 1;
                        }
                        let p = &photos[i];
                        let (row, col) = (r / (p.w - s + 1), r % (p.w - s + 1));
                        let patch = p.patch(s, row, col);
                        if pixel_std(&patch) >= MIN_PATCH_STD {
                            break patch;
                        }
                        tries += 1;
                        anyhow::ensure!(
                            tries < 10_000,
                            "{}: no {s}x{s} patch with pixel std >= {MIN_PATCH_STD} in the {} split",
                            root.display(),
                            split_name(split)
                        );
                    };
                    data.extend(patch);
                }
            }
            Source::FastMri(root) => {
                #[cfg(feature = "fastmri")]
                {
                    data = crate::fastmri::load_slices(
                        root,
                        split,
                        count,
                        s,
                        opt.skip_bad,
                        &mut skipped,
                    )?;
                }
                #[cfg(not(feature = "fastmri"))]
                bail!(
                    "fastmri:{}: this build has no HDF5 support (feature `fastmri` of plateau-experiments)",
                    root.display()
                );
            }
        }
        let n = (data.len() / (s * s)) as i64;
        Ok(Loaded {
            images: Tensor::from_slice(&data)
                .view([n, 1, s as i64, s as i64])
                .to_device(Device::Cpu),
            skipped,
        })
    }
}

/// `train`, `validation` or `test`.
pub fn split_name(split: Split) -> &'static str {
    match split {
        Split::Train => "train",
        Split::Validation => "validation",
        Split::Test => "test",
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

    #[test]
    fn split_is_stable_and_roughly_proportional() {
        let names: Vec<String> = (0..4000)
            .map(|i| format!("n{:05}/img_{i}.JPEG", i % 97))
            .collect();
        let test = names.iter().filter(|n| split_of(n) == Split::Test).count();
        let val = names
            .iter()
            .filter(|n| split_of(n) == Split::Validation)
            .count();
        // Binomial(4000, 0.15) and (4000, 0.10): s.e. 22.6 and 19.
        assert!((test as f64 - 600.0).abs() < 100.0, "{test}");
        assert!((val as f64 - 400.0).abs() < 80.0, "{val}");
    }

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
