//! `folder:PATH`: PNG and JPEG files anywhere below a folder (an ImageNet-like layout works as
//! is), split by file ([`super::files`]), each fitted to one `s x s` image ([`Planes::fit`]).
//!
//! Files smaller than `s` are always skipped; undecodable files fail the load with their name,
//! or are skipped with `skip_bad`. Every skip is listed with its reason, and a split with too
//! few usable files says how many were skipped for which reason.

use std::path::Path;

use anyhow::Result;

use super::files::split_files;
use super::load::{Collector, Images, LoadOptions, SkipReason};
use super::planes::{decode, Planes};
use crate::streams::Split;

/// Extensions (lower case) read from a folder.
pub const IMAGE_EXTENSIONS: &[&str] = &["png", "jpg", "jpeg"];

/// The first `count` images of `split` under `root`, `count * C * s * s` values (`C` channels
/// of [`LoadOptions::color`]), in the split's hash order, and the files skipped. Decodes files
/// until `count` are usable.
///
/// # Errors
/// A missing folder, an undecodable file (without `skip_bad`), or fewer than `count` usable
/// files; one line each.
pub fn load(root: &Path, split: Split, count: usize, opt: &LoadOptions) -> Result<Images> {
    let s = opt.side;
    let files = split_files(root, IMAGE_EXTENSIONS, split)?;
    let mut images = Collector::new(count, opt.color.planes() * s * s);
    for (rel, path) in &files {
        if images.is_full() {
            break;
        }
        match decode(path, opt.color).map(|p: Planes| p.fit(s)) {
            Ok(Some(v)) => images.push(v),
            Ok(None) => images.skip(rel, SkipReason::TooSmall { side: s }),
            Err(e) if opt.skip_bad => images.skip(rel, SkipReason::Undecodable(e.to_string())),
            Err(e) => return Err(e),
        }
    }
    images.finish(|got, skips| {
        format!(
            "{}: the {} split has {got} usable images, {count} requested ({} files in it, {skips})",
            root.display(),
            split.name(),
            files.len(),
        )
    })
}
