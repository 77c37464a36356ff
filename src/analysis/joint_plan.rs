//! `plateau plan --input FILE.csv --p P`: what the joint law fitted to a table
//! ([`crate::fit::joint::table_fit`]) answers, each with a 95% bootstrap interval over the
//! law's replicates.
//!
//! - **Doubling** at a cell `(N, P)` (`--at-cell`, default the largest `P` measured at the
//!   largest `N`): the dB gained by doubling `N` and by doubling `P`, and which is larger
//!   ([`crate::analysis::capacity::doubling_gain`]).
//! - **Optimal P per N**: the smallest `P` in the table's range whose predicted error is within
//!   0.1 dB of the best in that range ([`crate::analysis::capacity::optimal_width`] with `P`
//!   as its own width).
//! - **Budget allocation** on the product `C = N P` (training compute up to a constant): the
//!   `(N, P)` minimising the law on `N P = C`. For both families in closed form
//!   ([`allocation`]): `P* = (beta/alpha)^(q/(alpha+beta)) (B/A)^(1/(alpha+beta))
//!   C^(alpha/(alpha+beta))`, `N* = C / P*` (`q = 1`: the additive law), so the exponent of
//!   optimal `P` against budget is `alpha / (alpha + beta)` (and of `N*`,
//!   `beta / (alpha + beta)`); derivation in `docs/capacity.md`, checked against a direct
//!   minimisation by `tests/plan_joint_table.rs`. A budget more than [`MAX_DECADES_OUT`]
//!   decades outside the table's range of `N P` is refused; one outside the range, or whose
//!   allocation leaves the table's `N` or `P` range, is labelled an extrapolation.

use anyhow::{bail, Result};
use serde::Serialize;

use crate::analysis::capacity::{doubling_gain, optimal_width, DoublingGain, WidthMap};
use crate::analysis::estimate::Estimate;
use crate::fit::joint::report::JointReport;
use crate::fit::joint::table_fit::TableFit;
use crate::fit::joint::JointLaw;

/// Farthest a budget may lie outside the table's range of `N P`, in decades.
pub const MAX_DECADES_OUT: f64 = 2.0;

/// The optimal `P` at one measured `N`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OptimalParams {
    /// Training-set size.
    pub n: f64,
    /// Smallest `P` within 0.1 dB of the best in the table's `P` range.
    pub params: Estimate,
}

/// The allocation of one budget.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Allocation {
    /// The budget `C = N P`.
    pub budget: f64,
    /// Optimal training-set size `N* = C / P*`.
    pub n: Estimate,
    /// Optimal parameter count `P*`.
    pub params: Estimate,
    /// Predicted error at `(N*, P*)`.
    pub error: Estimate,
    /// Why the allocation is an extrapolation (absent inside the table's ranges).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extrapolation: Option<String>,
}

/// The budget allocation.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BudgetPlan {
    /// `a` in `P* ∝ C^a`: `alpha / (alpha + beta)`.
    pub params_exponent: Estimate,
    /// `b` in `N* ∝ C^b`: `beta / (alpha + beta)`.
    pub n_exponent: Estimate,
    /// `[smallest, largest]` `N P` of the table's cells.
    pub table_budget_range: [f64; 2],
    /// The allocation of each `--budget`.
    pub allocations: Vec<Allocation>,
}

/// The JSON object of one group.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct JointPlan {
    /// Group name.
    pub group: String,
    /// The fit (as `plateau fit --model joint` prints it).
    pub fit: JointReport,
    /// Doubling gains at the cell.
    pub doubling_gain_db: DoublingGain,
    /// Optimal `P` at each measured `N`.
    pub optimal_params: Vec<OptimalParams>,
    /// Budget allocation.
    pub budget: BudgetPlan,
}

/// The `(N*, P*)` minimising `law` on `N P = budget` (closed form, see the module docs);
/// `NaN` or infinite when an exponent is 0 (the law then has no interior minimum).
pub fn allocation(law: &JointLaw, budget: f64) -> (f64, f64) {
    let (a, b) = (law.alpha, law.beta);
    let s = a + b;
    let p = (b / a).powf(law.q / s) * (law.b / law.a).powf(1.0 / s) * budget.powf(a / s);
    (budget / p, p)
}

/// Refuses a budget that is not positive or lies more than [`MAX_DECADES_OUT`] decades outside
/// `[lo, hi]`.
///
/// # Errors
/// One line naming the budget and the table's range.
pub fn check_budget(budget: f64, [lo, hi]: [f64; 2]) -> Result<()> {
    if !(budget.is_finite() && budget > 0.0) {
        bail!("--budget {budget} must be positive and finite");
    }
    let out = (lo / budget).log10().max((budget / hi).log10());
    if out > MAX_DECADES_OUT {
        bail!(
            "--budget {budget:e} lies {out:.1} decades outside the table's range of N x P \
             ({lo:e} to {hi:e}); the law is not extrapolated past {MAX_DECADES_OUT} decades"
        );
    }
    Ok(())
}

/// The plan of one fitted group: doubling gains at `cell` (`None`: the largest `P` at the
/// largest `N`), optimal `P` per `N`, and the allocation of each of `budgets` (already checked
/// with [`check_budget`]).
pub fn joint_plan(fit: &TableFit, cell: Option<(f64, f64)>, budgets: &[f64]) -> JointPlan {
    let law = &fit.law;
    let est = |f: &dyn Fn(&JointLaw) -> f64| Estimate::new(f(law), fit.samples.interval(f));
    let (sizes, counts) = (fit.data.sizes(), fit.data.param_counts());
    let n_max = sizes[sizes.len() - 1];
    let cell = cell.unwrap_or_else(|| {
        let p = fit
            .data
            .cells()
            .iter()
            .filter(|c| c.n == n_max)
            .map(|c| c.p);
        (n_max, p.fold(0.0, f64::max))
    });
    let [p_lo, p_hi] = [counts[0], counts[counts.len() - 1]];
    let map = WidthMap::new(&[(p_lo, p_lo), (p_hi, p_hi)]).expect("two distinct positive P");
    let optimal_params = sizes
        .iter()
        .map(|&n| OptimalParams {
            n,
            params: est(&|l| optimal_width(l, n, &map)),
        })
        .collect();
    JointPlan {
        group: fit.report.group.clone(),
        fit: fit.report.clone(),
        doubling_gain_db: doubling_gain(law, &fit.samples, cell, None),
        optimal_params,
        budget: budget_plan(fit, budgets),
    }
}

fn budget_plan(fit: &TableFit, budgets: &[f64]) -> BudgetPlan {
    let law = &fit.law;
    let est = |f: &dyn Fn(&JointLaw) -> f64| Estimate::new(f(law), fit.samples.interval(f));
    let range = table_budget_range(fit);
    let r = &fit.report.range;
    let allocations = budgets
        .iter()
        .map(|&c| {
            let (n, p) = allocation(law, c);
            let outside = |v: f64, [lo, hi]: [f64; 2]| v < lo || v > hi;
            let extrapolation = if outside(c, range) {
                Some("the budget is outside the table's range of N x P".to_string())
            } else if outside(n, r.n) || outside(p, r.p) {
                Some("the allocation lies outside the table's range of N or P".to_string())
            } else {
                None
            };
            Allocation {
                budget: c,
                n: est(&|l| allocation(l, c).0).as_size(),
                params: est(&|l| allocation(l, c).1).as_size(),
                error: est(&|l| {
                    let (n, p) = allocation(l, c);
                    l.predict(n, p)
                }),
                extrapolation,
            }
        })
        .collect();
    BudgetPlan {
        params_exponent: est(&|l| l.alpha / (l.alpha + l.beta)),
        n_exponent: est(&|l| l.beta / (l.alpha + l.beta)),
        table_budget_range: range,
        allocations,
    }
}

/// `[smallest, largest]` `N P` over the cells of `fit`.
pub fn table_budget_range(fit: &TableFit) -> [f64; 2] {
    let c = fit.data.cells().iter().map(|c| c.n * c.p);
    c.fold([f64::INFINITY, 0.0], |[lo, hi], v| [lo.min(v), hi.max(v)])
}
