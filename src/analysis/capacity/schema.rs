//! The JSON schema of the capacity analysis (flattened into each curve of the scaling JSON,
//! `doubling_gain_db` also in `plateau plan`'s): plain data, computed in
//! [`super`] and written as text in [`super::text`].

use serde::{Deserialize, Serialize};

use crate::analysis::estimate::{BootstrapSummary, Estimate};
use crate::fit::joint::{CornerBacktest, Family};

/// Where `E` comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FloorSource {
    /// The exact Bayes error the records carry (`floor_mse`), fixed.
    Exact,
    /// Fitted with the other parameters.
    Fitted,
}

/// The parameters of the joint law with their intervals.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JointParams {
    /// Floor `E` (its interval is the point when it is exact).
    #[serde(rename = "E")]
    pub e: Estimate,
    /// Scale `A` of the data term.
    #[serde(rename = "A")]
    pub a: Estimate,
    /// Exponent of the data term.
    pub alpha: Estimate,
    /// Scale `B` of the width term.
    #[serde(rename = "B")]
    pub b: Estimate,
    /// Exponent of the width term.
    pub beta: Estimate,
    /// Power-mean index (absent for the additive law).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<Estimate>,
}

/// The fitted joint law (`joint_fit` in the scaling JSON).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JointFitReport {
    /// The family chosen.
    pub family: Family,
    /// Its formula.
    pub formula: String,
    /// Where `E` comes from.
    pub floor: FloorSource,
    /// Parameters with 95% intervals.
    pub params: JointParams,
    /// Cells `(N, width)` fitted, distinct sizes and widths.
    pub cells: usize,
    /// Distinct training-set sizes.
    pub sizes: usize,
    /// Distinct widths.
    pub widths: usize,
    /// Residual sum of squares of `ln R` over the cells.
    pub rss_log: f64,
    /// Reduced chi-square against the seed-to-seed standard errors (`null` with one seed).
    pub chi2_dof: Option<f64>,
    /// How the intervals were obtained.
    pub bootstrap: BootstrapSummary,
    /// The corner hold-out that chose the family (`null` when the grid is too small for one).
    pub selection: Option<CornerBacktest>,
    /// Why there is no corner hold-out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selection_note: Option<String>,
}

/// The optimal width at one measured `N`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OptimalWidth {
    /// Training-set size.
    pub n: f64,
    /// Optimal width (continuous; see the module docs).
    pub width: Estimate,
    /// Its parameter count.
    pub params: Estimate,
    /// The width chosen on validation at this `N` (measured, for comparison).
    pub measured_best_width: Option<i64>,
}

/// The saturation size of one measured width.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WidthSaturation {
    /// Width.
    pub width: f64,
    /// Its parameter count.
    pub params: f64,
    /// `N` beyond which more data lowers the excess at this width by at most 10%.
    pub n: Estimate,
}

/// Which doubling buys more.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Better {
    /// Doubling `N` (the interval of the difference is above zero).
    Data,
    /// Doubling `P` (the interval of the difference is below zero).
    Params,
    /// The interval of the difference contains zero.
    Uncertain,
}

/// The gains of doubling `N` and of doubling `P` at one cell (`doubling_gain_db`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DoublingGain {
    /// `N` of the cell.
    pub at_n: f64,
    /// Width of the cell (`null` when given as a parameter count).
    pub at_width: Option<f64>,
    /// `P` of the cell.
    pub at_params: f64,
    /// dB gained by doubling `N`.
    pub data: Estimate,
    /// dB gained by doubling `P`.
    pub params: Estimate,
    /// `data - params`, dB.
    pub difference: Estimate,
    /// Which buys more.
    pub better: Better,
}

/// Whether the optimal width grows with `N`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WidthGrowth {
    /// The optimal width at the largest `N` exceeds that at the smallest by more than one
    /// grid step (1.2%).
    pub grows: bool,
    /// Optimal width at the smallest measured `N`.
    pub from: f64,
    /// Optimal width at the largest measured `N`.
    pub to: f64,
    /// Fraction of bootstrap replicates in which it grows.
    pub replicates_growing: Option<f64>,
    /// Whether the widths chosen on validation grow (largest `N`'s above smallest `N`'s).
    pub measured_grows: Option<bool>,
}

/// Everything the joint law adds to a curve's scaling report (flattened into its JSON).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Capacity {
    /// The joint law, `null` when it cannot be fitted (see `joint_fit_note`).
    pub joint_fit: Option<JointFitReport>,
    /// Why there is no joint fit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub joint_fit_note: Option<String>,
    /// The optimal width at each measured `N`.
    #[serde(default)]
    pub optimal_width: Vec<OptimalWidth>,
    /// The saturation size of each measured width.
    #[serde(default)]
    pub width_saturation: Vec<WidthSaturation>,
    /// Doubling gains at the largest measured cell.
    pub doubling_gain_db: Option<DoublingGain>,
    /// Whether the optimal width grows with `N`.
    pub optimal_width_growth: Option<WidthGrowth>,
}
