//! `folder:PATH`: PNG and JPEG files anywhere below a folder (an ImageNet-like layout works as
//! is), split by file ([`super::files`]), each fitted to one `s x s` image ([`Planes::fit`]).
//!
//! Files smaller than `s` are always skipped; undecodable files fail the load with their name,
//! or are skipped with `skip_bad`. Every skip is listed with its reason, and a split with too
//! few usable files says how many were skipped for which reason.

use std::path::Path;

use anyhow::bail;

use super::files::split_files;
use super::load::{skip_summary, LoadOptions, SkipReason, Skipped};
use super::planes::{decode, Planes};
use crate::streams::Split;

/// Extensions (lower case) read from a folder.
pub const IMAGE_EXTENSIONS: &[&str] = &["png", "jpg", "jpeg"];

/// The first `count` images of `split` under `root`, `count * C * s * s` values (`C` channels
/// of [`LoadOptions::color`]), in the split's hash order; skips are appended to `skipped`.
/// Decodes files until `count` are usable.
///
/// # Errors
/// A missing folder, an undecodable file (without `skip_bad`), or fewer than `count` usable
/// files; one line each.
pub fn load(
    root: &Path,
    split: Split,
    count: usize,
    opt: &LoadOptions,
    skipped: &mut Vec<Skipped>,
) -> anyhow::Result<Vec<f32>> {
    let s = opt.side;
    let files = split_files(root, IMAGE_EXTENSIONS, split)?;
    let mut data: Vec<f32> = Vec::new();
    let mut got = 0;
    let mut skipped_here = Vec::new();
    for (rel, path) in &files {
        if got == count {
            break;
        }
        match decode(path, opt.color).map(|p: Planes| p.fit(s)) {
            Ok(Some(v)) => {
                data.extend(v);
                got += 1;
            }
            Ok(None) => skipped_here.push(Skipped::new(rel, SkipReason::TooSmall { side: s })),
            Err(e) if opt.skip_bad => {
                skipped_here.push(Skipped::new(rel, SkipReason::Undecodable(e.to_string())))
            }
            Err(e) => return Err(e),
        }
    }
    if got < count {
        bail!(
            "{}: the {} split has {got} usable images, {count} requested ({} files in it, {})",
            root.display(),
            split.name(),
            files.len(),
            skip_summary(&skipped_here)
        );
    }
    skipped.extend(skipped_here);
    Ok(data)
}
