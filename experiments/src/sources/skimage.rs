//! `skimage`: random `s x s` patches of the scikit-image sample photographs at their native
//! resolution, split by photograph ([`super::files`]).
//!
//! Patches are uniform over all patch positions of the split's photographs, drawn from the
//! split's ChaCha8 stream ([`crate::streams::split_rng`]); flat patches (pixel std below
//! [`MIN_PATCH_STD`]) are redrawn. The drawings of `skimage/data`
//! ([`SKIMAGE_NOT_PHOTOGRAPHS`]) are left out. The index ([`SkimageExamples`]) keeps the
//! split's photographs decoded (a fixed set, independent of the number of patches) and each
//! patch's position.

use std::path::{Path, PathBuf};

use rand::Rng;

use super::files::split_files;
use super::folder::IMAGE_EXTENSIONS;
use super::load::{plane_of, Collector, Examples, Indexed, Layout, LoadOptions, Skipped};
use super::planes::{decode, Planes};
use crate::streams::{split_rng, Split};

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

/// The patches of a split: the split's photographs, decoded once, and each patch's position;
/// example `i` is patch `i` (with `--color rgb-split`, plane `i % 3` of patch `i / 3`).
#[derive(Clone, Debug)]
pub struct SkimageExamples {
    photos: Vec<Planes>,
    /// `(photograph, row, column)` of each patch.
    patches: Vec<(usize, usize, usize)>,
    layout: Layout,
}

impl Examples for SkimageExamples {
    fn layout(&self) -> Layout {
        self.layout
    }

    fn example(&self, index: usize) -> anyhow::Result<Vec<f32>> {
        let Layout { color, side, .. } = self.layout;
        let (p, row, col) = self.patches[self.layout.item(index)];
        Ok(plane_of(
            self.photos[p].patch(side, row, col),
            color,
            side,
            index,
        ))
    }

    fn group(&self, index: usize) -> usize {
        self.patches[self.layout.item(index)].0
    }
}

/// The index of `count` patches of `split`, and the photographs skipped: those smaller than `s`
/// (and, with `skip_bad`, undecodable ones). Draws and checks every patch once (`O(count s^2)`),
/// keeping its position.
///
/// # Errors
/// A missing photograph folder, an undecodable file (without `skip_bad`), no photograph of at
/// least `s x s` in the split, or no patch above [`MIN_PATCH_STD`] in 10 000 draws.
pub fn index(split: Split, count: usize, opt: &LoadOptions) -> anyhow::Result<Indexed> {
    let s = opt.side;
    let root = skimage_dir();
    anyhow::ensure!(
        root.is_dir(),
        "the scikit-image sample photographs are missing ({}): run `make bootstrap` \
         (scripts/bootstrap-skimage.sh) or set PLATEAU_SKIMAGE_DATA",
        root.display()
    );
    let (photos, skipped) = photographs(&root, split, opt)?;
    let mut rng = split_rng(opt.seed, split);
    let patches = (0..count)
        .map(|_| {
            draw_patch(&photos, s, &mut rng).ok_or_else(|| {
                anyhow::anyhow!(
                    "{}: no {s}x{s} patch with pixel std >= {MIN_PATCH_STD} in the {} split",
                    root.display(),
                    split.name()
                )
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let layout = Layout {
        items: count,
        color: opt.color,
        side: s,
    };
    let examples = SkimageExamples {
        photos,
        patches,
        layout,
    };
    Ok(Indexed {
        examples: Box::new(examples),
        skipped,
    })
}

/// The split's photographs of at least `s x s` (all of them: patches are drawn from every
/// one), and those skipped.
fn photographs(
    root: &Path,
    split: Split,
    opt: &LoadOptions,
) -> anyhow::Result<(Vec<Planes>, Vec<Skipped>)> {
    let s = opt.side;
    // One photograph is enough.
    let mut photos = Collector::new(1);
    for (rel, path) in split_files(root, IMAGE_EXTENSIONS, split)? {
        if SKIMAGE_NOT_PHOTOGRAPHS.contains(&rel.as_str()) {
            continue;
        }
        let photo = decode(&path, opt.color).map(|p| (p.h >= s && p.w >= s).then_some(p));
        photos.take(&rel, photo, s, opt.skip_bad)?;
    }
    photos.finish(|_, _| {
        format!(
            "{}: no photograph of at least {s}x{s} in the {} split",
            root.display(),
            split.name()
        )
    })
}

/// The `(photograph, row, column)` of one `s x s` patch, uniform over all patch positions of
/// `photos` (a photograph is chosen with probability proportional to its number of positions)
/// and redrawn while flat; `None` after 10 000 flat draws.
fn draw_patch(photos: &[Planes], s: usize, rng: &mut impl Rng) -> Option<(usize, usize, usize)> {
    let positions: Vec<usize> = photos
        .iter()
        .map(|p| (p.h - s + 1) * (p.w - s + 1))
        .collect();
    let total: usize = positions.iter().sum();
    for _ in 0..10_000 {
        let mut r = rng.random_range(0..total);
        let mut i = 0;
        while r >= positions[i] {
            r -= positions[i];
            i += 1;
        }
        let p = &photos[i];
        let (row, col) = (r / (p.w - s + 1), r % (p.w - s + 1));
        if pixel_std(&p.patch(s, row, col)) >= MIN_PATCH_STD {
            return Some((i, row, col));
        }
    }
    None
}
