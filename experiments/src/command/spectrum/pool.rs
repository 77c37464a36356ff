//! The images of `plateau spectrum`, exactly as `plateau train` sees them: the same sources,
//! splits, patching or fitting, colour handling and `[0, 1]` scaling (`crate::sources`), or the
//! same synthetic generator (`crate::data`), as `f64` vectors of `n = C s^2` values
//! (channel-major).

use std::sync::Arc;

use anyhow::{ensure, Result};
use plateau_run::problem::{DataArg, Source};
use rayon::prelude::*;

use super::SpectrumArgs;
use crate::data::DataSpec;
use crate::sources::files::split_files;
use crate::sources::folder::IMAGE_EXTENSIONS;
use crate::sources::{skip_reasons, Examples, Load, LoadOptions};
use crate::spectrum::moments::{Moments, MAX_BLOCKS};
use crate::streams::Split;

/// Examples read per parallel batch (and per rank-m update).
const CHUNK: usize = 256;

/// Where the images come from.
pub enum PoolSource {
    /// A real source (files, photographs, phantoms, fastMRI).
    Real {
        /// The source.
        source: Source,
        /// Load options of the pool (side, colour, seed).
        opt: LoadOptions,
    },
    /// A synthetic generator.
    Synthetic(DataSpec),
}

/// Which images: the pool of the second moment (training split) or the test split's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    /// The first `--max-images` of the training split.
    Pool,
    /// The first `--max-images` of the test split (for `--measure-linear`).
    Test,
}

/// `count` examples of one split: example `i` as `f64` values and the file it comes from.
pub struct Images {
    /// Number of examples.
    pub len: usize,
    get: Box<dyn Fn(usize) -> Result<Vec<f64>> + Send + Sync>,
    group: Box<dyn Fn(usize) -> usize + Send + Sync>,
}

impl Images {
    /// Example `i` (`n` values in `[0, 1]` for real images).
    ///
    /// # Errors
    /// A file that can no longer be read.
    pub fn get(&self, i: usize) -> Result<Vec<f64>> {
        (self.get)(i)
    }

    /// The file of example `i`.
    pub fn group(&self, i: usize) -> usize {
        (self.group)(i)
    }
}

impl PoolSource {
    /// The source of `args`, with a real folder checked to exist and a synthetic model built.
    ///
    /// # Errors
    /// A missing folder or invalid synthetic parameters (one line).
    pub fn new(args: &SpectrumArgs) -> Result<Self> {
        let side = args.image_size;
        Ok(match &args.data {
            DataArg::Real(source) => {
                if let Source::Folder(p) | Source::FastMri(p) = source {
                    ensure!(
                        p.is_dir(),
                        "--data {source}: {} is not a folder",
                        p.display()
                    );
                }
                let opt = LoadOptions {
                    side,
                    color: args.color,
                    skip_bad: args.skip_bad_files,
                    seed: args.seed,
                    volumes: None,
                };
                PoolSource::Real {
                    source: source.clone(),
                    opt,
                }
            }
            DataArg::Subspace => PoolSource::Synthetic(DataSpec::new(
                args.synthetic.subspace(),
                side,
                args.noise_std,
            )?),
            DataArg::GaussianField => PoolSource::Synthetic(DataSpec::new(
                args.synthetic.gaussian_field(),
                side,
                args.noise_std,
            )?),
        })
    }

    /// The first `count` examples of `split` for data seed `seed` (a folder: at most as many as
    /// its split has files). Training sets of `plateau train --seed seed` are these.
    ///
    /// # Errors
    /// Unreadable data (one line naming the file), too few usable files.
    pub fn images(&self, split: Split, count: usize, seed: u64) -> Result<Images> {
        match self {
            PoolSource::Real { source, opt } => {
                let count = match source {
                    Source::Folder(root) => {
                        count.min(split_files(root, IMAGE_EXTENSIONS, split)?.len())
                    }
                    _ => count,
                };
                let opt = LoadOptions { seed, ..*opt };
                let indexed = source.examples(split, count, &opt)?;
                if let Some(first) = indexed.skipped.first() {
                    eprintln!(
                        "plateau: warning: skipped {} file(s) or slice(s) ({}), first: {first}",
                        indexed.skipped.len(),
                        skip_reasons(&indexed.skipped)
                    );
                }
                let ex: Arc<dyn Examples> = Arc::from(indexed.examples);
                let (e1, e2) = (ex.clone(), ex.clone());
                Ok(Images {
                    len: ex.len(),
                    get: Box::new(move |i| Ok(e1.example(i)?.into_iter().map(f64::from).collect())),
                    group: Box::new(move |i| e2.group(i)),
                })
            }
            PoolSource::Synthetic(spec) => {
                let pairs = spec.generate(split, count, seed);
                let n = spec.pixels();
                Ok(Images {
                    len: count,
                    get: Box::new(move |i| Ok(pairs.clean[i * n..(i + 1) * n].to_vec())),
                    group: Box::new(|i| i),
                })
            }
        }
    }

    /// `--data` as given.
    pub fn name(&self) -> String {
        match self {
            PoolSource::Real { source, .. } => source.to_string(),
            PoolSource::Synthetic(spec) => spec.name().to_string(),
        }
    }
}

/// The second moments of the pool (`Which::Pool`: training split) or of the test split, by
/// bootstrap block. Reads every example once, `CHUNK` at a time in parallel;
/// `O(K n^2)` flops.
///
/// # Errors
/// Unreadable data; a pool smaller than `n` (one line stating the minimum).
pub fn moments(source: &PoolSource, args: &SpectrumArgs, which: Which) -> Result<Moments> {
    let split = match which {
        Which::Pool => Split::Train,
        Which::Test => Split::Test,
    };
    let images = source.images(split, args.max_images, args.seed)?;
    let n = args.dim();
    ensure!(
        images.len >= n,
        "--data {}: the {} split gives {} images, and the second moment of {s}x{s} {c} images \
         needs at least n = {n} (fewer leave it rank-deficient)",
        source.name(),
        split.name(),
        images.len,
        s = args.image_size,
        c = args.color.name(),
    );
    let mut m = Moments::new(n, MAX_BLOCKS);
    for start in (0..images.len).step_by(CHUNK) {
        let idx: Vec<usize> = (start..(start + CHUNK).min(images.len)).collect();
        let cols: Vec<Vec<f64>> = idx
            .par_iter()
            .map(|&i| images.get(i))
            .collect::<Result<_>>()?;
        let groups: Vec<usize> = idx.iter().map(|&i| images.group(i)).collect();
        m.add(&groups, &cols);
    }
    Ok(m.compact())
}
