//! The three splits of a run as `(clean, network input)` examples, set up before anything is
//! written, so that bad data leaves no output behind: synthetic images generated into memory,
//! real images indexed (every file checked) and then streamed by [`crate::loader`].

use std::sync::Arc;

use anyhow::Result;
use plateau_run::problem::{Color, Data, Source, Synthetic as SyntheticKind, Task};
use plateau_run::recipe::TrainRecipe;
use tch::Device;

use crate::data::{DataSpec, Pairs};
use crate::loader::{Measurement, Prefetch, SplitData, Stream};
use crate::sources::{Load, LoadOptions, Skipped};
use crate::streams::Split;
use crate::task::Measure;
use crate::train::Splits;

/// Noise of the synthetic generator when the task is not denoising: `DataSpec` draws a noisy copy
/// alongside each clean image (same stream), which MRI and SR ignore; a fixed value keeps the
/// clean images identical across tasks for a seed.
const UNUSED_NOISE: f64 = 0.1;

/// The loaded data of a run.
pub struct Loaded {
    /// `(clean, input)` of train, validation and test, `[C, s, s]` `f32` examples.
    pub splits: Splits,
    /// Synthetic data: the spec (with its floors) and the `f64` pairs of each split.
    pub synthetic: Option<Synthetic>,
    /// Files or slices skipped (real data), with the reason.
    pub skipped: Vec<Skipped>,
}

/// Synthetic data beside the tensors.
pub struct Synthetic {
    /// The validated spec.
    pub spec: DataSpec,
    /// Training pairs.
    pub train: Pairs,
    /// Validation pairs.
    pub val: Pairs,
    /// Test pairs.
    pub test: Pairs,
}

/// Loads (or generates) every split of `recipe` on `device`.
///
/// # Errors
/// Real data that cannot be read (one line naming the file).
pub fn load(recipe: &TrainRecipe, device: Device) -> Result<Loaded> {
    match recipe.config.curve.problem.data() {
        Data::Synthetic(kind) => synthetic(recipe, *kind, device),
        Data::Real { source, color } => real(recipe, source, *color),
    }
}

/// The three splits generated from the run's seed into memory, with the task's input of each
/// clean image.
fn synthetic(recipe: &TrainRecipe, kind: SyntheticKind, device: Device) -> Result<Loaded> {
    let c = &recipe.config;
    let problem = &c.curve.problem;
    let task = problem.task();
    let noise = match task {
        Task::Denoise { sigma } => sigma,
        _ => UNUSED_NOISE,
    };
    let spec = DataSpec::new(kind, problem.image_size(), noise)?;
    let gen = |split, count| spec.generate(split, count, c.seed);
    let (train, val, test) = (
        gen(Split::Train, c.train_size),
        gen(Split::Validation, c.curve.evaluation.val_size),
        gen(Split::Test, c.curve.evaluation.test_size),
    );
    let pair = |p: &Pairs, split| {
        let (clean, noisy) = p.tensors(device);
        let input = match task {
            // The original denoising pipeline: noise from the data stream.
            Task::Denoise { .. } => noisy,
            _ => task.measure(&clean, split, c.seed, 0),
        };
        SplitData::from((clean, input))
    };
    let splits = Splits {
        train: pair(&train, Split::Train),
        val: pair(&val, Split::Validation),
        test: pair(&test, Split::Test),
    };
    Ok(Loaded {
        splits,
        synthetic: Some(Synthetic {
            spec,
            train,
            val,
            test,
        }),
        skipped: Vec::new(),
    })
}

/// The three splits of a real source, indexed (every file checked) and then streamed with
/// the task's measurement applied per example.
fn real(recipe: &TrainRecipe, source: &Source, color: Color) -> Result<Loaded> {
    let c = &recipe.config;
    let problem = &c.curve.problem;
    let prefetch = Prefetch::per_core()?;
    let mut skipped = Vec::new();
    let mut one = |split, count, volumes| -> Result<SplitData> {
        let opt = LoadOptions {
            side: problem.image_size(),
            color,
            skip_bad: recipe.skip_bad_files,
            seed: c.seed,
            volumes,
        };
        let indexed = source.examples(split, count, &opt)?;
        skipped.extend(indexed.skipped);
        let measurement = Measurement {
            task: problem.task(),
            split,
            seed: c.seed,
        };
        Ok(SplitData::Streamed(Stream::new(
            Arc::from(indexed.examples),
            measurement,
            prefetch.clone(),
        )))
    };
    let splits = Splits {
        train: one(Split::Train, c.train_size, c.curve.train_volumes)?,
        val: one(Split::Validation, c.curve.evaluation.val_size, None)?,
        test: one(Split::Test, c.curve.evaluation.test_size, None)?,
    };
    Ok(Loaded {
        splits,
        synthetic: None,
        skipped,
    })
}
