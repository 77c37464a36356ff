//! `folder:PATH`: PNG and JPEG files anywhere below a folder (an ImageNet-like layout works as
//! is), split by file ([`super::files`]), each fitted to one `s x s` image (`Planes::fit`).
//!
//! Files smaller than `s` are always skipped; undecodable files fail the load with their name,
//! or are skipped with `skip_bad`. Every skip is listed with its reason, and a split with too
//! few usable files says how many were skipped for which reason.
//!
//! The index ([`FolderExamples`]) is the list of usable files; each read decodes its file again.
//! Building it decodes the split's files in hash order, [`SCAN_CHUNK`] at a time in parallel
//! (rayon's pool), until `count` are usable: the same files, skips and first error as a
//! sequential scan.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use rayon::prelude::*;

use super::files::split_files;
use super::load::{plane_of, Collector, Examples, Indexed, Layout, LoadOptions};
use super::planes::decode;
use crate::streams::Split;

/// Extensions (lower case) read from a folder.
pub const IMAGE_EXTENSIONS: &[&str] = &["png", "jpg", "jpeg"];

/// Files decoded in parallel while the index is built (their decoded images are dropped at once).
pub const SCAN_CHUNK: usize = 64;

/// The usable files of a split, in its hash order: example `i` is file `i` fitted to `s x s`
/// (with `--color rgb-split`, plane `i % 3` of file `i / 3`).
#[derive(Clone, Debug)]
pub struct FolderExamples {
    files: Vec<PathBuf>,
    layout: Layout,
}

impl Examples for FolderExamples {
    fn layout(&self) -> Layout {
        self.layout
    }

    fn example(&self, index: usize) -> anyhow::Result<Vec<f32>> {
        let Layout { color, side: s, .. } = self.layout;
        let path = &self.files[self.layout.item(index)];
        let Some(fitted) = decode(path, color)?.fit(s) else {
            bail!("{} is now smaller than {s}x{s}", path.display())
        };
        Ok(plane_of(fitted, color, s, index))
    }
}

/// The index of the first `count` usable files of `split` under `root`, in the split's hash
/// order, and the files skipped.
///
/// # Errors
/// A missing folder, an undecodable file (without `skip_bad`), or fewer than `count` usable
/// files; one line each.
pub fn index(root: &Path, split: Split, count: usize, opt: &LoadOptions) -> Result<Indexed> {
    let s = opt.side;
    let files = split_files(root, IMAGE_EXTENSIONS, split)?;
    let mut usable = Collector::new(count);
    for group in files.chunks(SCAN_CHUNK) {
        if usable.is_full() {
            break;
        }
        let judged: Vec<anyhow::Result<bool>> = group
            .par_iter()
            .map(|(_, path)| decode(path, opt.color).map(|p| p.h.min(p.w) >= s))
            .collect();
        for ((rel, path), fits) in group.iter().zip(judged) {
            if usable.is_full() {
                break;
            }
            let file = fits.map(|fits| fits.then(|| path.clone()));
            usable.take(rel, file, s, opt.skip_bad)?;
        }
    }
    let (files_used, skipped) = usable.finish(|got, skips| {
        format!(
            "{}: the {} split has {got} usable images, {count} requested ({} files in it, {skips})",
            root.display(),
            split.name(),
            files.len(),
        )
    })?;
    let layout = Layout {
        items: files_used.len(),
        color: opt.color,
        side: s,
    };
    let examples = FolderExamples {
        files: files_used,
        layout,
    };
    Ok(Indexed {
        examples: Box::new(examples),
        skipped,
    })
}
