//! Clean images from real data: image folders, the scikit-image sample photographs, random
//! ellipse phantoms and fastMRI volumes; one module per source, dispatched by [`Load`].
//!
//! All images are `f32` in `[0, 1]` (8-bit and 16-bit files are scaled by their full range;
//! fastMRI slices by their own maximum), returned as `[examples, C, s, s]` tensors: `C = 3`
//! with `--color rgb` (one example per photograph, the paper's colour denoiser), else `C = 1`;
//! with `--color rgb-split` the three planes of a photograph are three consecutive
//! single-channel examples (the network reconstructs each channel separately; the split is
//! unaffected since it is by file).
//!
//! - **Split by file, never by patch** ([`files`]): a file's split is a stable function of its
//!   path relative to the data root, and within a split files are in a fixed order, so training
//!   sets are nested.
//! - **Resizing ("fit")** ([`planes`]): a file becomes one `s x s` image (folders, fastMRI
//!   slices): the centred square of side `q s`, `q = floor(min(H, W) / s)`, reduced by `q x q`
//!   block means. Files smaller than `s` are skipped and listed with the reason
//!   ([`load::Skipped`]). The sample photographs instead give random `s x s` patches at their
//!   native resolution ([`skimage`]).
//!
//! A split is first indexed ([`Load::examples`]: which file, slice or patch each example is, a few
//! bytes per example), then read example by example ([`Examples::example`]), so that training
//! can stream it (`crate::loader`); [`Load::load`] reads a whole split into one tensor.
//!
//! Modules: [`load`] (the interface), [`files`] and [`planes`] (shared helpers), and one per
//! source: [`folder`], [`skimage`], [`phantoms`], [`fastmri`] (feature `fastmri`).

#[cfg(feature = "fastmri")]
pub mod fastmri;
pub mod files;
pub mod folder;
pub mod load;
pub mod phantoms;
pub mod planes;
pub mod skimage;

use crate::streams::Split;

pub use files::split_of;
pub use load::{
    skip_reasons, skip_summary, Color, Examples, Indexed, Layout, Load, LoadOptions, Loaded,
    SkipReason, Skipped,
};
pub use plateau_run::problem::Source;
pub use skimage::skimage_dir;

impl Load for Source {
    fn examples(&self, split: Split, count: usize, opt: &LoadOptions) -> anyhow::Result<Indexed> {
        match self {
            Source::Phantoms => Ok(Indexed {
                examples: Box::new(phantoms::index(split, count, opt)),
                skipped: Vec::new(),
            }),
            Source::Folder(root) => folder::index(root, split, count, opt),
            Source::Skimage => skimage::index(split, count, opt),
            #[cfg(feature = "fastmri")]
            Source::FastMri(root) => fastmri::index(root, split, count, opt),
            #[cfg(not(feature = "fastmri"))]
            Source::FastMri(root) => anyhow::bail!(
                "fastmri:{}: this build has no HDF5 support (feature `fastmri` of plateau-experiments)",
                root.display()
            ),
        }
    }
}
