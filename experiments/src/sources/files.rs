//! Which files of a data folder belong to a split: a stable hash of the relative path, never a
//! patch or slice position, so no file contributes to two splits.
//!
//! `u = fnv1a64(path) / 2^64`: test if `u < 0.15`, validation if `u < 0.25`, training
//! otherwise. Within a split, files are ordered by that hash, so the training set of size `N` is
//! a prefix of that of size `4N` (nested sets), and adding files elsewhere in the folder never
//! moves a file to another split. Listing costs one directory walk, `O(F log F)` for `F` files.

use std::path::{Path, PathBuf};

use plateau_run::hash::fnv1a64;

use crate::streams::Split;

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
        let path = match entry {
            Ok(e) if e.file_type().is_file() => e.into_path(),
            Ok(_) => continue,
            // A link to nothing is listed as a file: loading it then fails naming it, or is
            // skipped with --skip-bad-files, instead of failing the whole listing.
            Err(e) => match dangling_link(&e) {
                Some(path) => path,
                // walkdir's message already holds the system's reason: not chained again.
                None => anyhow::bail!("cannot list {}: {e}", root.display()),
            },
        };
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(|e| e.to_ascii_lowercase());
        if !ext.is_some_and(|e| exts.contains(&e.as_str())) {
            continue;
        }
        let rel = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .to_string_lossy()
            .replace('\\', "/");
        if split_of(&rel) == split {
            files.push((rel, path));
        }
    }
    files.sort_by(|a, b| (fnv1a64(a.0.as_bytes()), &a.0).cmp(&(fnv1a64(b.0.as_bytes()), &b.0)));
    Ok(files)
}

/// The path of a walk error that is a symbolic link whose target does not exist.
fn dangling_link(e: &walkdir::Error) -> Option<PathBuf> {
    let path = e.path()?;
    let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    (is_link && std::fs::metadata(path).is_err()).then(|| path.to_path_buf())
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
}
