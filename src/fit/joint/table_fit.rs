//! The joint law fitted to one group of a table (`plateau fit --model joint`): the family
//! (given, or chosen on the held-out large-`N`, large-`P` corner), the fit under the loss
//! asked for, from the grid of starts of [`super::fit`], and its bootstrap (under `auto`, the
//! cells resampled with replacement, each with its seeds). Cost: one fit and `reps` refits,
//! plus for `--family auto` two fits and at most `2 CORNER_REPS` refits of the corner's
//! training cells.

use anyhow::Result;

use super::report::{param_verdicts, AxesRange, FamilyChoice, JointReport, JointValues};
use super::table::TableGroup;
use super::{
    bootstrap_joint, corner_backtest_loss, fit_joint_loss, Family, JointData, JointLaw,
    JointSamples, Loss,
};
use crate::fit::report::{BootstrapInfo, Verdict};
use crate::fit::{BootstrapOptions, Method};

/// Most bootstrap replicates of the corner hold-out under `--family auto`: its intervals
/// only report the held-out coverage (the family is chosen on the held-out error), so they
/// need not cost as much as the final fit's.
pub const CORNER_REPS: usize = 500;

/// Which family `--family` asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FamilyAsk {
    /// This one.
    Given(Family),
    /// The one that best predicts the held-out corner ([`super::corner`]).
    Auto,
}

/// Settings of [`fit_table`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TableFitOptions {
    /// The family.
    pub family: FamilyAsk,
    /// The loss on the log residuals.
    pub loss: Loss,
    /// The bootstrap (`auto` resamples the cells).
    pub bootstrap: BootstrapOptions,
}

/// A group's fit: the report, and the law with its replicates (for `plateau plan`).
#[derive(Clone, Debug)]
pub struct TableFit {
    /// What the JSON gets.
    pub report: JointReport,
    /// The law fitted to every cell.
    pub law: JointLaw,
    /// Its bootstrap replicates.
    pub samples: JointSamples,
    /// The cells.
    pub data: JointData,
}

/// The family `ask` names, or the one the held-out corner chooses, and why.
fn choose_family(
    data: &JointData,
    ask: FamilyAsk,
    loss: Loss,
    opts: &BootstrapOptions,
) -> (Family, FamilyChoice) {
    let family = match ask {
        FamilyAsk::Given(f) => {
            let reason = format!("given by --family {f}");
            let asked = f.name().to_string();
            return (
                f,
                FamilyChoice {
                    asked,
                    reason,
                    selection: None,
                },
            );
        }
        FamilyAsk::Auto => Family::Additive,
    };
    let corner_opts = BootstrapOptions {
        reps: opts.reps.min(CORNER_REPS),
        ..*opts
    };
    let (family, reason, selection) = match corner_backtest_loss(data, None, loss, &corner_opts) {
        Ok(sel) => {
            let best = sel.best.unwrap_or(family);
            let reason = format!(
                "{best} predicts the held-out cells N >= {}, P >= {} best (rms error in ln R: \
                 {}; ties go to additive)",
                sel.n_from,
                sel.p_from,
                sel.rms_errors_text()
            );
            (best, reason, Some(sel))
        }
        Err(e) => (family, format!("{e:#}; the additive law is used"), None),
    };
    let asked = "auto".to_string();
    (
        family,
        FamilyChoice {
            asked,
            reason,
            selection,
        },
    )
}

/// Fits the joint law to `group` as `opts` asks and bootstraps its intervals.
///
/// # Errors
/// Too few cells for the family, a fit that fails, or a bootstrap method that does not suit
/// the table (draws without seeds in every cell, parametric).
pub fn fit_table(group: &TableGroup, opts: &TableFitOptions) -> Result<TableFit> {
    let data = &group.data;
    let boot = BootstrapOptions {
        method: match opts.bootstrap.method {
            Method::Auto => Method::Cells,
            m => m,
        },
        ..opts.bootstrap
    };
    let (family, family_choice) = choose_family(data, opts.family, opts.loss, &boot);
    let fit = fit_joint_loss(data, family, None, opts.loss)?;
    let samples = bootstrap_joint(data, &fit, &boot)?;
    let law = fit.law;
    let ci = JointValues::of(&law, |f| samples.interval(f));
    let ymax = data.cells().iter().map(|c| c.mean).fold(0.0, f64::max);
    let (sizes, counts) = (data.sizes(), data.param_counts());
    let report = JointReport {
        group: group.name.clone(),
        model: "joint",
        family,
        formula: family.formula(),
        family_choice,
        loss: opts.loss,
        params: JointValues::of(&law, |f| f(&law)),
        ci95: ci,
        identified: param_verdicts(&law, &ci, true, ymax).map(Verdict::from),
        range: AxesRange {
            n: [sizes[0], sizes[sizes.len() - 1]],
            p: [counts[0], counts[counts.len() - 1]],
        },
        n_rows: group.rows,
        n_cells: data.len(),
        n_sizes: sizes.len(),
        n_param_counts: counts.len(),
        rmse_log: (fit.rss_log / data.len() as f64).sqrt(),
        rss_log: fit.rss_log,
        objective: fit.objective,
        bootstrap: BootstrapInfo {
            method: samples.method,
            reps: samples.reps,
            failed: samples.failed,
            seed: boot.seed,
            chi2_dof: samples.chi2_dof,
        },
    };
    Ok(TableFit {
        report,
        law,
        samples,
        data: data.clone(),
    })
}
