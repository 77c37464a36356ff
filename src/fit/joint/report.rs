//! The JSON object `plateau fit --model joint` prints for one group of a table: the layout of
//! [`crate::fit::FitReport`] (`params`, `ci95`, `identified`, `bootstrap`) with the joint
//! law's parameters `E, A, alpha, B, beta` (`q` for the power mean), and what only a joint fit
//! has (the family chosen and why, the loss, the axes' ranges).

use serde::{Deserialize, Serialize};

use super::corner::CornerBacktest;
use super::{Family, JointLaw, Loss};
use crate::fit::identified::{at_bound, wide, Unidentified};
use crate::fit::report::{BootstrapInfo, Verdict};

/// One value per parameter of a joint law, in report order; `q` only for the power mean.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct JointValues<T> {
    /// The floor.
    #[serde(rename = "E")]
    pub e: T,
    /// Scale of the data term.
    #[serde(rename = "A")]
    pub a: T,
    /// Exponent of the data term (on `--x`).
    pub alpha: T,
    /// Scale of the width term.
    #[serde(rename = "B")]
    pub b: T,
    /// Exponent of the width term (on `--p`).
    pub beta: T,
    /// Power-mean index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<T>,
}

impl<T> JointValues<T> {
    /// `f` of each parameter of `law` (`q` when the law is a power mean).
    pub fn of(law: &JointLaw, f: impl Fn(&dyn Fn(&JointLaw) -> f64) -> T) -> JointValues<T> {
        JointValues {
            e: f(&|l| l.e),
            a: f(&|l| l.a),
            alpha: f(&|l| l.alpha),
            b: f(&|l| l.b),
            beta: f(&|l| l.beta),
            q: (law.family == Family::PowerMean).then(|| f(&|l| l.q)),
        }
    }

    /// `f` of each value.
    pub fn map<U>(self, f: impl Fn(T) -> U) -> JointValues<U> {
        JointValues {
            e: f(self.e),
            a: f(self.a),
            alpha: f(self.alpha),
            b: f(self.b),
            beta: f(self.beta),
            q: self.q.map(f),
        }
    }
}

/// Whether the data identify each parameter of `law` ([`crate::fit::identified`]), given
/// their 95% intervals `ci`: at a bound of the fit (exponents in `[0, 10]`, `q` in
/// `[0.1, 10]`, `ln A`, `ln B` in `[-500, 500]`, a fitted `E` in `[0, ymax]`) or, for the
/// positive scales and a fitted floor, an interval over two decades. A fixed floor is
/// identified (it is given).
pub fn param_verdicts(
    law: &JointLaw,
    ci: &JointValues<[f64; 2]>,
    fitted_e: bool,
    ymax: f64,
) -> JointValues<Option<Unidentified>> {
    JointValues {
        e: fitted_e
            .then(|| at_bound("E", law.e, [0.0, ymax]).or_else(|| wide(ci.e)))
            .flatten(),
        a: at_bound("ln A", law.a.ln(), [-500.0, 500.0]).or_else(|| wide(ci.a)),
        alpha: at_bound("alpha", law.alpha, [0.0, 10.0]),
        b: at_bound("ln B", law.b.ln(), [-500.0, 500.0]).or_else(|| wide(ci.b)),
        beta: at_bound("beta", law.beta, [0.0, 10.0]),
        q: (law.family == Family::PowerMean).then(|| at_bound("q", law.q, [0.1, 10.0])),
    }
}

/// How the family was chosen.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FamilyChoice {
    /// What `--family` asked: `additive`, `power_mean` or `auto`.
    pub asked: String,
    /// Why this family, in one sentence.
    pub reason: String,
    /// Under `auto`: the held-out corner that chose it (`null` when the table has no corner
    /// to hold out, or under a given family).
    pub selection: Option<CornerBacktest>,
}

/// The smallest and largest value of each axis of the table.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct AxesRange {
    /// `[smallest, largest]` training-set size.
    #[serde(rename = "N")]
    pub n: [f64; 2],
    /// `[smallest, largest]` parameter count.
    #[serde(rename = "P")]
    pub p: [f64; 2],
}

/// The JSON object of one group (see the module docs).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct JointReport {
    /// Group name.
    pub group: String,
    /// Always `joint`.
    pub model: &'static str,
    /// The family fitted.
    pub family: Family,
    /// Its formula (`N` is `--x`, `P` is `--p`).
    pub formula: &'static str,
    /// How the family was chosen.
    pub family_choice: FamilyChoice,
    /// The loss minimised on the log residuals of the cells.
    pub loss: Loss,
    /// Parameter values.
    pub params: JointValues<f64>,
    /// 95% bootstrap percentile interval of each (`[null, null]` without bootstrap).
    pub ci95: JointValues<[f64; 2]>,
    /// Whether the data identify each, with the reason when they do not.
    pub identified: JointValues<Verdict>,
    /// The table's range of `N` and `P`.
    pub range: AxesRange,
    /// Rows (runs) read.
    pub n_rows: usize,
    /// Cells `(N, P)` fitted (the mean over a cell's seeds is fitted).
    pub n_cells: usize,
    /// Distinct `N`.
    pub n_sizes: usize,
    /// Distinct `P`.
    pub n_param_counts: usize,
    /// `sqrt(RSS / cells)` of `ln R` (a typical relative error).
    pub rmse_log: f64,
    /// Residual sum of squares of `ln R` over the cells.
    pub rss_log: f64,
    /// The loss at the fit (`rss_log` for least squares; `2 sum rho` for Huber).
    pub objective: f64,
    /// How the intervals were obtained (`cells`: the cells resampled with replacement).
    pub bootstrap: BootstrapInfo,
}
