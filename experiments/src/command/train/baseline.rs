//! What a run is measured against: the baseline (the network's input, e.g. the noisy image),
//! the exact floor of synthetic data and the Bayes estimator on the same test images.

use anyhow::Result;
use plateau_run::problem::Data;
use plateau_run::recipe::TrainRecipe;
use plateau_run::record::Results;
use tch::Device;

use super::splits::Loaded;
use crate::metrics;
use crate::streams::Split;
use crate::task::{baseline_image, MaskKind, Measure, Task};

/// The baseline's test metrics and the floors, as the first part of the results.
///
/// # Errors
/// When the floor of the task cannot be computed for the data, or a test example cannot be
/// read.
pub fn measure(recipe: &TrainRecipe, data: &Loaded) -> Result<Results> {
    let problem = &recipe.config.curve.problem;
    let task = problem.task();
    let range = problem.data().psnr_range();
    let mut per_image = metrics::PerImage::default();
    for chunk in data.splits.test.chunks(Device::Cpu) {
        let (clean, input) = chunk?;
        per_image.extend(&baseline_image(&input, clean.size()[1]), &clean, range);
    }
    let base = per_image.summary();
    let mut r = Results {
        baseline: Some(task.baseline_name().into()),
        psnr_data_range: range,
        input_mse: Some(base.mse),
        input_mse_stderr: Some(base.mse_stderr),
        input_psnr: Some(base.psnr),
        input_ssim: Some(base.ssim),
        ..Results::default()
    };
    if let Some(syn) = &data.synthetic {
        let (floor, se) = syn.spec.task_floor(&task, recipe.config.seed)?;
        r.floor_mse = Some(floor);
        r.floor_mse_stderr = se;
        let (information, has) = task.floor_information();
        r.floor_information = Some(information.into());
        r.input_has_floor_information = Some(has);
        r.floor_label = Some(task.floor_label().into());
        r.oracle_test_mse = syn
            .spec
            .task_oracle_per_image(&task, &syn.test, recipe.config.seed)
            .map(|v| v.iter().sum::<f64>() / v.len() as f64);
    }
    if let Task::Mri {
        mask: MaskKind::Fixed,
        ..
    } = task
    {
        let mask = task
            .mask_for(problem.image_size(), Split::Train, recipe.config.seed, 0)
            .expect("an MRI task has masks");
        r.mask_columns = Some((0..mask.len()).filter(|&c| mask[c]).collect());
    }
    if let Data::Real { source, color } = problem.data() {
        r.channels_per_image = Some(source.channels(*color));
        r.skipped_files = Some(data.skipped.len());
    }
    Ok(r)
}

/// Fills the ratios of the test MSE to the floor and to the baseline.
pub fn relate(r: &mut Results) {
    if let (Some(mse), Some(floor)) = (r.test_mse, r.floor_mse) {
        if floor > 0.0 {
            r.test_mse_over_floor = Some(mse / floor);
        }
    }
    if let (Some(mse), Some(base)) = (r.test_mse, r.input_mse) {
        r.psnr_gain_db = Some(10.0 * (base / mse).log10());
    }
}

/// Copies a test summary into the results (`None`: no finished epoch, nulls).
pub fn set_test(r: &mut Results, test: Option<&metrics::Summary>) {
    r.test_mse = test.map(|s| s.mse);
    r.test_mse_stderr = test.map(|s| s.mse_stderr);
    r.test_psnr = test.map(|s| s.psnr);
    r.test_ssim = test.map(|s| s.ssim);
}
