//! Training the linear model of a run (full-batch gradient descent on subspace pictures) and
//! checking its risk path against the exact engine.

use std::path::Path;

use anyhow::Result;
use plateau_run::files::{write_atomic, Progress};
use plateau_run::recipe::TrainRecipe;
use plateau_run::record::{Results, Status};
use tch::{Device, Tensor};

use super::baseline::set_test;
use super::splits::Loaded;
use crate::data::Pairs;
use crate::linear::{max_relative_error, train_linear};
use crate::metrics;

/// Trains the linear model of `recipe` and fills the results; writes `risk_path.csv`.
///
/// # Errors
/// A training set that does not fit the subspace model, or an I/O failure.
pub fn train(
    recipe: &TrainRecipe,
    data: &Loaded,
    device: Device,
    results: &mut Results,
) -> Result<()> {
    let syn = data
        .synthetic
        .as_ref()
        .expect("planned: the linear model runs on subspace data");
    let (setup, basis) = syn.spec.subspace().expect("planned: subspace data");
    let iters = recipe.config.curve.stopping.epochs;
    let bar = Progress::new(iters as u64, "gradient-descent steps", recipe.quiet);
    let run = train_linear(
        setup,
        basis,
        &syn.train,
        &syn.val,
        iters,
        recipe.config.curve.optimiser.lr,
        device,
        || bar.inc(1),
    );
    bar.finish();
    let run = run?;
    let (w, best_k, _) = &run.best;
    let n = syn.spec.pixels() as i64;
    let summary = test_and_save(w, n, &syn.test, device, &recipe.out)?;
    let exact = run.exact.as_deref().unwrap_or(&[]);
    write_risk_path(&recipe.out, &run.torch, exact)?;

    let diverged = run.diverged_at.is_some() || !summary.mse.is_finite();
    set_test(results, (!diverged).then_some(&summary));
    results.params = Some(n * n);
    results.eta = Some(run.eta);
    results.best_epoch = *best_k;
    results.epochs_run = run.torch.len() - 1;
    results.status = if diverged {
        Status::Diverged
    } else {
        Status::Ok
    };
    results.message = run.diverged_at.map(|k| {
        format!(
            "gradient descent diverged: non-finite loss or risk at step {k} (eta {:e})",
            run.eta
        )
    });
    results.linear_risk_best = Some(run.torch[*best_k]);
    results.linear_path_max_rel_err =
        (!exact.is_empty()).then(|| max_relative_error(&run.torch, exact));
    results.checkpoint = Some("best.safetensors".into());
    Ok(())
}

/// The test metrics of the best iterate `w` (`n x n`), saved as `DIR/best.safetensors`.
fn test_and_save(
    w: &Tensor,
    n: i64,
    test: &Pairs,
    device: Device,
    out: &Path,
) -> Result<metrics::Summary> {
    let (test_clean, test_noisy) = test.tensors(device);
    let estimate = tch::no_grad(|| {
        w.mm(&test_noisy.view([-1, n]).tr())
            .tr()
            .view([-1, 1, n.isqrt(), n.isqrt()])
    });
    let summary = metrics::summarize(&estimate, &test_clean);
    let vs = tch::nn::VarStore::new(device);
    let _ = vs.root().var_copy("w", w);
    crate::checkpoint::save_weights(&vs, &crate::checkpoint::best_path(out))?;
    Ok(summary)
}

/// `DIR/risk_path.csv` (`k,risk_torch,risk_exact`; an empty exact risk past its path).
fn write_risk_path(out: &Path, torch: &[f64], exact: &[f64]) -> Result<()> {
    let mut csv = csv::Writer::from_writer(Vec::new());
    csv.write_record(["k", "risk_torch", "risk_exact"])?;
    for (k, r) in torch.iter().enumerate() {
        let e = exact.get(k).map_or(String::new(), |e| format!("{e:.9e}"));
        csv.write_record([k.to_string(), format!("{r:.9e}"), e])?;
    }
    write_atomic(&out.join("risk_path.csv"), &csv.into_inner()?)
}
