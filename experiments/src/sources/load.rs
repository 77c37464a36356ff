//! What every source loads: the [`Load`] interface, its options and its result, and why a file
//! was skipped.

use std::fmt;

use tch::Tensor;

use crate::streams::Split;

pub use plateau_run::problem::Color;

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

/// A loaded split.
pub struct Loaded {
    /// `[examples, C, s, s]` `f32` images in `[0, 1]` (`C` = [`Color::image_channels`] for
    /// photographs, else 1).
    pub images: Tensor,
    /// Files (or slices) skipped as too small, or as unreadable (only with `skip_bad`).
    pub skipped: Vec<Skipped>,
}

/// Reading a source's images (the source itself is plain data in `plateau_run`).
pub trait Load {
    /// The first `count` examples of `split`.
    ///
    /// # Errors
    /// One line naming the file for an unreadable file (unless `skip_bad`), a missing folder,
    /// or a split with fewer usable files than `count` (folders, fastMRI).
    fn load(&self, split: Split, count: usize, opt: &LoadOptions) -> anyhow::Result<Loaded>;
}

/// Why a file or slice was left out.
#[derive(Clone, Debug, PartialEq)]
pub enum SkipReason {
    /// Smaller than `side x side` pixels (always skipped).
    TooSmall {
        /// The requested image side.
        side: usize,
    },
    /// Cannot be opened or decoded (skipped only with `skip_bad`); the error, on one line.
    Undecodable(String),
    /// A fastMRI slice whose maximum is not finite and positive (cannot be normalised).
    Blank {
        /// The slice's maximum.
        max: f32,
    },
}

impl SkipReason {
    /// A short name of the reason: `too small`, `undecodable` or `blank`.
    pub fn label(&self) -> &'static str {
        match self {
            SkipReason::TooSmall { .. } => "too small",
            SkipReason::Undecodable(_) => "undecodable",
            SkipReason::Blank { .. } => "blank",
        }
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::TooSmall { side } => write!(f, "too small: under {side}x{side}"),
            SkipReason::Undecodable(e) => write!(f, "undecodable: {e}"),
            SkipReason::Blank { max } => write!(f, "blank: a slice with maximum {max}"),
        }
    }
}

/// A skipped file (path relative to the data root) and why.
#[derive(Clone, Debug, PartialEq)]
pub struct Skipped {
    /// Path relative to the data root.
    pub file: String,
    /// Why it was skipped.
    pub reason: SkipReason,
}

impl Skipped {
    /// `file` skipped for `reason`.
    pub fn new(file: &str, reason: SkipReason) -> Self {
        Self {
            file: file.to_string(),
            reason,
        }
    }
}

impl fmt::Display for Skipped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.file, self.reason)
    }
}

/// The skipped files counted by reason, in a fixed order: `1 too small, 1 undecodable` (empty
/// when none).
pub fn skip_reasons(skipped: &[Skipped]) -> String {
    ["too small", "undecodable", "blank"]
        .into_iter()
        .filter_map(|label| {
            let n = skipped.iter().filter(|s| s.reason.label() == label).count();
            (n > 0).then(|| format!("{n} {label}"))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `0 skipped`, or the count and [`skip_reasons`]: `2 skipped: 1 too small, 1 undecodable`.
pub fn skip_summary(skipped: &[Skipped]) -> String {
    if skipped.is_empty() {
        "0 skipped".into()
    } else {
        format!("{} skipped: {}", skipped.len(), skip_reasons(skipped))
    }
}

/// What a real-data source loaded: the images and the files it skipped.
pub struct Images {
    /// The images one after the other, each `C * s * s` values in `[0, 1]`.
    pub data: Vec<f32>,
    /// Files (or slices) left out, and why.
    pub skipped: Vec<Skipped>,
}

/// Gathers the first `count` usable images of a split, file after file, with the files skipped
/// and why.
pub struct Collector {
    count: usize,
    got: usize,
    images: Images,
}

impl Collector {
    /// Room for `count` images of `values` values each.
    pub fn new(count: usize, values: usize) -> Self {
        Collector {
            count,
            got: 0,
            images: Images {
                data: Vec::with_capacity(count * values),
                skipped: Vec::new(),
            },
        }
    }

    /// Whether all `count` images are in.
    pub fn is_full(&self) -> bool {
        self.got == self.count
    }

    /// Adds one usable image.
    pub fn push(&mut self, image: Vec<f32>) {
        self.images.data.extend(image);
        self.got += 1;
    }

    /// Records `file` as skipped for `reason`.
    pub fn skip(&mut self, file: &str, reason: SkipReason) {
        self.images.skipped.push(Skipped::new(file, reason));
    }

    /// The images, once all `count` are in.
    ///
    /// # Errors
    /// Fewer usable images: `short(got, summary)` (with [`skip_summary`] of the skips) is the
    /// message.
    pub fn finish(self, short: impl FnOnce(usize, String) -> String) -> anyhow::Result<Images> {
        anyhow::ensure!(
            self.is_full(),
            short(self.got, skip_summary(&self.images.skipped))
        );
        Ok(self.images)
    }
}

/// `message` on one line: line breaks (and the blanks around them) become `"; "`, so a library's
/// multi-line error stays one line of our output.
pub fn one_line(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_are_counted_by_reason_on_one_line() {
        let skipped = [
            Skipped::new("a.png", SkipReason::TooSmall { side: 8 }),
            Skipped::new("b.jpg", SkipReason::Undecodable(one_line("bad\n  file\n"))),
            Skipped::new("c.png", SkipReason::TooSmall { side: 8 }),
        ];
        assert_eq!(
            skip_summary(&skipped),
            "3 skipped: 2 too small, 1 undecodable"
        );
        assert_eq!(skip_summary(&[]), "0 skipped");
        assert_eq!(skipped[1].to_string(), "b.jpg (undecodable: bad; file)");
        assert_eq!(skipped[0].to_string(), "a.png (too small: under 8x8)");
    }
}
