//! Bootstrap of a joint fit: replicates of the cell means, each refitted, and percentile
//! intervals of any function of the law over the replicates.
//!
//! The replicates are drawn as [`crate::fit::bootstrap()`] draws those of a curve, with the cell
//! in the role of the point:
//! - `draws` (every cell has two or more seeds): the seeds of each cell resampled with
//!   replacement, deviations inflated by `sqrt(k / (k - 1))` (so with two seeds a cell mean
//!   keeps its unbiased variance `s^2 / 2`);
//! - `residuals`: `ln R*_i = fitted_i + e*_i`, `e*` drawn from the centred cell residuals
//!   inflated by `sqrt(m / (m - k))`;
//! - `cells` (a case bootstrap): `m` cells drawn with replacement, each with its mean over its
//!   seeds; it assumes neither that the law is right nor that the noise is alike across cells,
//!   and with a robust loss it keeps outlying cells outlying (resampled residuals would spread
//!   an outlier's residual onto every cell). `plateau fit --model joint` uses it under `auto`.
//!
//! Every refit minimises the loss of the fit ([`super::loss::Loss`]); a `cells` replicate
//! is refitted from the original fit alone (no grid of starts).
//!
//! `auto` resamples the seeds only when the law fits within the seed-to-seed noise (reduced
//! chi-square of the log residuals against the standard errors of the cell means at most its
//! 99% quantile); otherwise the law misses the cells by more than that noise, and `auto`
//! resamples the residuals, whose spread includes the misfit. `parametric` has no meaning here
//! (the records give no `std` per cell) and is refused. Replicate `r` uses the ChaCha8 stream
//! `r` of the seed: the output depends on `(seed, reps)` only. Cost: `reps` refits (warm
//! started) over the rayon pool.

use anyhow::{bail, Result};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::fit::fit_layout;
use super::law::{JointLaw, Layout};
use super::{JointData, JointFit};
use crate::fit::bootstrap::{
    centred_residuals, chi2_dof_quantile, chi2_sum, resample_draws_log, resample_residuals,
    se_log_of_draws,
};
use crate::fit::lm::Tolerance;
use crate::fit::{percentile_interval, BootstrapOptions, Method};

/// The successful replicates of a joint fit.
#[derive(Clone, Debug, PartialEq)]
pub struct JointSamples {
    /// Method used (never `Auto`).
    pub method: Method,
    /// Reduced chi-square of the fit against the seed-to-seed standard errors of the cell
    /// means, when every cell has two seeds.
    pub chi2_dof: Option<f64>,
    /// Replicates asked for.
    pub reps: usize,
    /// Replicates that failed and are left out.
    pub failed: usize,
    /// The refitted law of every successful replicate.
    pub laws: Vec<JointLaw>,
}

impl JointSamples {
    /// The 95% percentile interval of `f` over the replicates (non-finite values left out);
    /// `[NaN, NaN]` without replicates.
    pub fn interval(&self, f: impl Fn(&JointLaw) -> f64) -> [f64; 2] {
        let v: Vec<f64> = self.laws.iter().map(f).collect();
        percentile_interval(&v, 0.95)
    }
}

/// The fitted log cell means of `law`.
pub(crate) fn fitted_log(data: &JointData, law: &JointLaw) -> Vec<f64> {
    data.cells()
        .iter()
        .map(|c| law.predict(c.n, c.p).ln())
        .collect()
}

/// Reduced chi-square of `fit` against the standard errors of the cell means; `None` without
/// two seeds in every cell or without residual degrees of freedom.
pub fn chi2_dof(data: &JointData, fit: &JointFit) -> Option<f64> {
    let k = fit.n_params();
    if !data.has_replicates() || data.len() <= k {
        return None;
    }
    let se = se_log_of_draws(&data.draws(), &data.means());
    let fitted = fitted_log(data, &fit.law);
    let resid: Vec<f64> = data
        .log_means()
        .iter()
        .zip(&fitted)
        .map(|(y, f)| y - f)
        .collect();
    Some(chi2_sum(&resid, &se) / (data.len() - k) as f64)
}

/// The method `asked` resolved for `data` (`auto`: seeds when the law fits `within_noise`,
/// else residuals).
///
/// # Errors
/// `draws` without two seeds in every cell, or `parametric`.
fn resolve(asked: Method, within_noise: bool, data: &JointData) -> Result<Method> {
    Ok(match asked {
        Method::Auto if within_noise => Method::Draws,
        Method::Auto => Method::Residuals,
        Method::Draws if !data.has_replicates() => {
            bail!("bootstrap over seeds needs at least two runs in every (N, P) cell")
        }
        Method::Parametric => bail!(
            "the joint fit resamples seeds (draws) or cell residuals; parametric is not available"
        ),
        m => m,
    })
}

/// Bootstraps `fit`, which was fitted to every cell of `data` (see the module docs).
///
/// # Errors
/// `draws` without two seeds in every cell, `parametric`, or a fit of another table.
pub fn bootstrap_joint(
    data: &JointData,
    fit: &JointFit,
    opts: &BootstrapOptions,
) -> Result<JointSamples> {
    if fit.n_cells != data.len() {
        bail!(
            "the fit has {} cells but the table {}; bootstrap the table the law was fitted to",
            fit.n_cells,
            data.len()
        );
    }
    let chi2 = chi2_dof(data, fit);
    let k = fit.n_params();
    let within_noise = chi2.is_some_and(|c| c <= chi2_dof_quantile(data.len() - k));
    let method = resolve(opts.method, within_noise, data)?;
    let mut out = JointSamples {
        method,
        chi2_dof: chi2,
        reps: opts.reps,
        failed: 0,
        laws: Vec::new(),
    };
    if method == Method::None || opts.reps == 0 {
        out.reps = 0;
        return Ok(out);
    }
    let layout = Layout {
        family: fit.law.family,
        floor: fit.floor_fixed.then_some(fit.law.e),
    };
    let fitted = fitted_log(data, &fit.law);
    let resid = centred_residuals(&data.log_means(), &fitted, k);
    let (draws, means) = (data.draws(), data.means());
    let replicate = |rep: usize| -> Option<JointLaw> {
        let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
        rng.set_stream(rep as u64);
        let star = match method {
            Method::Draws => data.with_log_means(&resample_draws_log(&draws, &means, &mut rng)?),
            Method::Cells => {
                let m = data.len();
                data.resample((0..m).map(|_| rng.random_range(0..m)))
            }
            _ => data.with_log_means(&resample_residuals(&fitted, &resid, &mut rng)),
        };
        // A case replicate keeps the original cells, so the original fit is a start close
        // to its optimum: the grid of starts is skipped (most of a refit's cost).
        let keep = usize::from(method != Method::Cells);
        fit_layout(
            &star,
            layout,
            fit.loss,
            (Some(&fit.law), keep),
            Tolerance::REPLICATE,
        )
        .map(|f| f.law)
    };
    let laws: Vec<Option<JointLaw>> = (0..opts.reps).into_par_iter().map(replicate).collect();
    for l in laws {
        match l {
            Some(l) => out.laws.push(l),
            None => out.failed += 1,
        }
    }
    Ok(out)
}
