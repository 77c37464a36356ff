//! What every source loads: the [`Load`] interface, its options and its result (an index of
//! [`Examples`], or every example as one tensor), and why a file was skipped.

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
    /// fastMRI: draw the examples from the first this many usable volumes of the split
    /// (`--train-volumes`; [`super::fastmri`]); `None`: the first examples in volume order.
    pub volumes: Option<usize>,
}

/// The examples of a split, addressable by index: example `i` is a fixed function of the
/// source, the seed, the split and `i`, however often and in whatever order it is read. An
/// index holds where each example comes from (a file, a slice, a patch position), a few bytes
/// per example, never the images.
pub trait Examples: Send + Sync {
    /// How many examples there are and their shape.
    fn layout(&self) -> Layout;

    /// Number of examples.
    fn len(&self) -> usize {
        self.layout().len()
    }

    /// Whether there are none.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Shape `[C, s, s]` of an example.
    fn shape(&self) -> [usize; 3] {
        self.layout().shape()
    }

    /// Example `index` (`< len`): `C s^2` values, channel-major, in `[0, 1]`. Cost: one decode
    /// (and fit or patch) of its file, slice or phantom.
    ///
    /// # Errors
    /// A file that can no longer be read (it was readable when the index was built), one line.
    fn example(&self, index: usize) -> anyhow::Result<Vec<f32>>;

    /// The file (photograph) example `index` comes from, `< len`: examples of one file are
    /// dependent (patches of one photograph, planes of one colour image), so the bootstrap of
    /// `plateau spectrum` resamples whole files. Default: its item.
    fn group(&self, index: usize) -> usize {
        self.layout().item(index)
    }
}

/// Example `index`'s values out of its photograph's `[P, s, s]` values `image`: all of them when
/// an example is a whole photograph, plane `index % 3` with `--color rgb-split` (whose
/// photograph `j` gives examples `3 j`, `3 j + 1`, `3 j + 2`).
pub(crate) fn plane_of(mut image: Vec<f32>, color: Color, side: usize, index: usize) -> Vec<f32> {
    let per = color.examples_per_image();
    if per > 1 {
        let plane = side * side;
        image.drain(..(index % per) * plane);
        image.truncate(plane);
    }
    image
}

/// The examples of an index: `items` files, patches or slices of `color` (gray for phantoms and
/// fastMRI), fitted to `side x side`; with `--color rgb-split` an item gives three examples.
#[derive(Clone, Copy, Debug)]
pub struct Layout {
    /// Files, patches or slices.
    pub items: usize,
    /// Their colour.
    pub color: Color,
    /// Image side `s`.
    pub side: usize,
}

impl Layout {
    /// Number of examples.
    pub fn len(&self) -> usize {
        self.items * self.color.examples_per_image()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.items == 0
    }

    /// Shape `[C, s, s]` of an example.
    pub fn shape(&self) -> [usize; 3] {
        [self.color.image_channels(), self.side, self.side]
    }

    /// The item of example `index` (the photograph of a colour plane).
    pub fn item(&self, index: usize) -> usize {
        index / self.color.examples_per_image()
    }
}

/// The index of a split and the files left out while building it.
pub struct Indexed {
    /// The examples.
    pub examples: Box<dyn Examples>,
    /// Files (or slices) skipped as too small, or as unreadable (only with `skip_bad`).
    pub skipped: Vec<Skipped>,
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
    /// The index of the examples of the first `count` files, slices or patches of `split` (with
    /// `--color rgb-split`, `3 count` examples). Building it reads the files until `count` are
    /// usable (to skip and report the others), keeping none of them.
    ///
    /// # Errors
    /// One line naming the file for an unreadable file (unless `skip_bad`), a missing folder,
    /// or a split with fewer usable files than `count` (folders, fastMRI).
    fn examples(&self, split: Split, count: usize, opt: &LoadOptions) -> anyhow::Result<Indexed>;

    /// Every example of [`Load::examples`] in memory, `[examples, C, s, s]`.
    ///
    /// # Errors
    /// As [`Load::examples`].
    fn load(&self, split: Split, count: usize, opt: &LoadOptions) -> anyhow::Result<Loaded> {
        let Indexed { examples, skipped } = self.examples(split, count, opt)?;
        let [c, h, w] = examples.shape().map(|d| d as i64);
        let mut data = Vec::with_capacity(examples.len() * (c * h * w) as usize);
        for i in 0..examples.len() {
            data.extend(examples.example(i)?);
        }
        Ok(Loaded {
            images: Tensor::from_slice(&data).view([examples.len() as i64, c, h, w]),
            skipped,
        })
    }
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

/// Gathers the usable items (files, slices) of a split while its index is built, file after
/// file, with the files skipped and why. `got` counts the examples the items hold (one per file
/// for folders, the usable slices of a volume for fastMRI); the split is complete at `count`.
pub struct Collector<T> {
    count: usize,
    got: usize,
    usable: Vec<T>,
    skipped: Vec<Skipped>,
}

impl<T> Collector<T> {
    /// An empty collection that wants `count` examples.
    pub fn new(count: usize) -> Self {
        Collector {
            count,
            got: 0,
            usable: Vec::new(),
            skipped: Vec::new(),
        }
    }

    /// Whether `count` examples are in.
    pub fn is_full(&self) -> bool {
        self.got >= self.count
    }

    /// Examples collected so far.
    pub fn got(&self) -> usize {
        self.got
    }

    /// The usable items so far, in the order they came.
    pub fn usable(&self) -> &[T] {
        &self.usable
    }

    /// Adds a usable item holding `examples` examples.
    pub fn push(&mut self, item: T, examples: usize) {
        self.usable.push(item);
        self.got += examples;
    }

    /// Records `file` as skipped for `reason`.
    pub fn skip(&mut self, file: &str, reason: SkipReason) {
        self.skipped.push(Skipped::new(file, reason));
    }

    /// Takes one decoded file `file` (one example): `Some` item is usable, `None` is smaller
    /// than `side`, an error is skipped with `skip_bad` and returned otherwise.
    ///
    /// # Errors
    /// The decoding error, without `skip_bad`.
    pub fn take(
        &mut self,
        file: &str,
        decoded: anyhow::Result<Option<T>>,
        side: usize,
        skip_bad: bool,
    ) -> anyhow::Result<()> {
        match decoded {
            Ok(Some(item)) => self.push(item, 1),
            Ok(None) => self.skip(file, SkipReason::TooSmall { side }),
            Err(e) if skip_bad => self.skip(file, SkipReason::Undecodable(e.to_string())),
            Err(e) => return Err(e),
        }
        Ok(())
    }

    /// [`skip_summary`] of the skips so far.
    pub fn skip_summary(&self) -> String {
        skip_summary(&self.skipped)
    }

    /// The usable items and the skips, once `count` examples are in.
    ///
    /// # Errors
    /// Fewer examples: `short(got, summary)` (with [`skip_summary`] of the skips) is the
    /// message.
    pub fn finish(
        self,
        short: impl FnOnce(usize, String) -> String,
    ) -> anyhow::Result<(Vec<T>, Vec<Skipped>)> {
        anyhow::ensure!(self.is_full(), short(self.got, self.skip_summary()));
        Ok((self.usable, self.skipped))
    }
}

/// `message` on one line: line breaks (and the blanks around them) become `"; "`, so a library's
/// multi-line error stays one line of our output.
pub fn one_line(message: &str) -> String {
    plateau::text::join_lines(message.lines(), "; ")
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
