//! Choosing the family of a joint law by how well it predicts the cells it was not fitted to:
//! the large-`N`, large-`P` corner, where a scaling law is used in earnest.
//!
//! The corner is every cell whose `N` is one of the two largest sizes and whose `P` one of the
//! two largest parameter counts (so a 5 x 5 grid holds out 4 cells and fits 21); it needs at
//! least three sizes and three widths, so that the training part still has both a full row and
//! a full column. Each family is fitted to the rest and predicts the corner; the report gives
//! the error of each prediction in `ln R`, a 95% bootstrap **prediction** interval (the
//! replicate laws of [`super::bootstrap_joint`] on the training cells, times a new-observation
//! error drawn from the training residuals, as [`crate::fit::backtest`] does for one curve) and
//! whether it covered the measured cell mean. The family of smallest root-mean-square error
//! wins; ties (within `1e-9` in `ln R`) go to the additive law.
//!
//! Cost: per family one fit and `reps` bootstrap refits of the training cells.

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};

use super::bootstrap::fitted_log;
use super::{
    bootstrap_joint, fit_joint_loss, Family, JointCell, JointData, JointFit, JointSamples, Loss,
};
use crate::fit::backtest::{held_out_summary, observation_intervals};
use crate::fit::bootstrap::centred_residuals;
use crate::fit::nullable;
use crate::fit::BootstrapOptions;

/// One corner cell and its prediction.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CornerCell {
    /// Training-set size.
    pub n: f64,
    /// Parameter count.
    pub p: f64,
    /// Measured mean over the seeds.
    pub observed: f64,
    /// Predicted by the law fitted without the corner.
    pub predicted: f64,
    /// `ln(observed / predicted)`.
    pub log_error: f64,
    /// 95% bootstrap prediction interval (`[null, null]` without bootstrap).
    #[serde(deserialize_with = "nullable::pair")]
    pub ci95: [f64; 2],
    /// Whether `ci95` contains `observed` (`null` without an interval).
    pub covered: Option<bool>,
}

/// One family's predictions of the corner.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CornerCandidate {
    /// The family.
    pub family: Family,
    /// Why it was not evaluated (too few cells, a failed fit); absent when it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The corner cells.
    pub held_out: Vec<CornerCell>,
    /// `sqrt(mean log_error^2)` over the corner.
    pub rms_log_error: Option<f64>,
    /// Fraction of corner cells inside their interval.
    pub coverage: Option<f64>,
}

/// The corner hold-out of a table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CornerBacktest {
    /// Held out: cells with `N >= n_from` ...
    pub n_from: f64,
    /// ... and `P >= p_from`.
    pub p_from: f64,
    /// Cells fitted.
    pub train_cells: usize,
    /// Both families, additive first.
    pub candidates: Vec<CornerCandidate>,
    /// The family of smallest held-out error (`null` when neither could be evaluated).
    pub best: Option<Family>,
}

impl CornerBacktest {
    /// Each family's held-out rms error in `ln R`, as text: `additive 1.23%, multiplicative not
    /// evaluated`.
    pub fn rms_errors_text(&self) -> String {
        let rms: Vec<String> = self
            .candidates
            .iter()
            .map(|c| match c.rms_log_error {
                Some(e) => format!("{} {:.2}%", c.family, 100.0 * e),
                None => format!("{} not evaluated", c.family),
            })
            .collect();
        rms.join(", ")
    }
}

/// Splits `data` into the training cells and the corner (see the module docs); returns them
/// with `(n_from, p_from)`.
///
/// # Errors
/// Fewer than three sizes or three parameter counts, or no measured cell in the corner.
pub fn corner_split(data: &JointData) -> Result<(JointData, JointData, [f64; 2])> {
    let (sizes, counts) = (data.sizes(), data.param_counts());
    if sizes.len() < 3 || counts.len() < 3 {
        bail!(
            "holding out the large-N, large-P corner needs at least three sizes and three widths \
             ({} and {} here)",
            sizes.len(),
            counts.len()
        );
    }
    let from = [sizes[sizes.len() - 2], counts[counts.len() - 2]];
    let corner = |c: &super::JointCell| c.n >= from[0] && c.p >= from[1];
    let test = data.subset(corner);
    if test.is_empty() {
        bail!("no cell was measured in the large-N, large-P corner");
    }
    Ok((data.subset(|c| !corner(c)), test, from))
}

/// Holds out the corner of `data` and predicts it with each family (see the module docs).
///
/// # Errors
/// As [`corner_split`].
pub fn corner_backtest(
    data: &JointData,
    floor: Option<f64>,
    opts: &BootstrapOptions,
) -> Result<CornerBacktest> {
    corner_backtest_loss(data, floor, Loss::Squares, opts)
}

/// As [`corner_backtest`], each family fitted (and bootstrapped) under `loss`.
///
/// # Errors
/// As [`corner_split`].
pub fn corner_backtest_loss(
    data: &JointData,
    floor: Option<f64>,
    loss: Loss,
    opts: &BootstrapOptions,
) -> Result<CornerBacktest> {
    let (train, test, [n_from, p_from]) = corner_split(data)?;
    let candidates: Vec<CornerCandidate> = Family::ALL
        .iter()
        .map(|&f| candidate(f, &train, &test, (floor, loss), opts))
        .collect();
    let best = candidates
        .iter()
        .filter_map(|c| Some((c.family, c.rms_log_error?)))
        .fold(None::<(Family, f64)>, |acc, (f, e)| match acc {
            Some((_, b)) if e >= b - 1e-9 => acc,
            _ => Some((f, e)),
        })
        .map(|(f, _)| f);
    Ok(CornerBacktest {
        n_from,
        p_from,
        train_cells: train.len(),
        candidates,
        best,
    })
}

/// 95% intervals for new observations at the `test` cells from the replicates `boot` of `fit`
/// (fitted to `train`), with its residuals as the observation noise; NaN without replicates.
fn held_out_intervals(
    train: &JointData,
    test: &JointData,
    fit: &JointFit,
    boot: &JointSamples,
    seed: u64,
) -> Vec<[f64; 2]> {
    if boot.laws.is_empty() {
        return vec![[f64::NAN; 2]; test.len()];
    }
    let preds: Vec<Vec<f64>> = boot
        .laws
        .iter()
        .map(|l| test.cells().iter().map(|c| l.predict(c.n, c.p)).collect())
        .collect();
    let resid = centred_residuals(
        &train.log_means(),
        &fitted_log(train, &fit.law),
        fit.n_params(),
    );
    observation_intervals(&preds, &resid, seed)
}

/// A held-out cell `c` against the law's `predicted` value and the interval `ci95`.
fn held_out_cell(c: &JointCell, predicted: f64, ci95: [f64; 2]) -> CornerCell {
    CornerCell {
        n: c.n,
        p: c.p,
        observed: c.mean,
        predicted,
        log_error: (c.mean / predicted).ln(),
        ci95,
        covered: ci95[0]
            .is_finite()
            .then(|| ci95[0] <= c.mean && c.mean <= ci95[1]),
    }
}

fn candidate(
    family: Family,
    train: &JointData,
    test: &JointData,
    (floor, loss): (Option<f64>, Loss),
    opts: &BootstrapOptions,
) -> CornerCandidate {
    let skipped = |note: String| CornerCandidate {
        family,
        note: Some(note),
        held_out: vec![],
        rms_log_error: None,
        coverage: None,
    };
    let fit = match fit_joint_loss(train, family, floor, loss) {
        Ok(f) => f,
        Err(e) => return skipped(format!("{e:#}")),
    };
    let boot = match bootstrap_joint(train, &fit, opts) {
        Ok(b) => b,
        Err(e) => return skipped(format!("bootstrap failed: {e:#}")),
    };
    let intervals = held_out_intervals(train, test, &fit, &boot, opts.seed);
    let held_out: Vec<CornerCell> = test
        .cells()
        .iter()
        .zip(intervals)
        .map(|(c, ci95)| held_out_cell(c, fit.law.predict(c.n, c.p), ci95))
        .collect();
    let (rms_log_error, coverage) =
        held_out_summary(held_out.iter().map(|h| (h.log_error, h.covered)));
    CornerCandidate {
        family,
        note: None,
        held_out,
        rms_log_error,
        coverage,
    }
}
