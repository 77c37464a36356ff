//! The human summary of a [`JointPlan`] (`plateau plan --input --p`, stderr or
//! `--format text`).

use std::fmt::Write as _;

use crate::analysis::capacity::doubling_text;
use crate::analysis::estimate::{fmt_n, Estimate};
use crate::analysis::joint_plan::JointPlan;
use crate::fit::report::Verdict;

/// `value (95% interval lo to hi)` with 3 significant digits, or `not identified (reason)`.
fn g3(e: &Estimate) -> String {
    e.text(&|v| format!("{v:.3}"))
}

/// The summary of one group (a title line, then lines starting with two spaces).
pub fn joint_plan_text(p: &JointPlan) -> String {
    let mut s = String::new();
    let f = &p.fit;
    let param = |v: f64, c: [f64; 2], verdict: &Verdict| match &verdict.reason {
        Some(why) if !verdict.identified => format!("not identified ({why})"),
        _ => g3(&Estimate::new(v, c)),
    };
    let _ = writeln!(
        s,
        "{}: joint law {} ({}, {} loss, {} cells): alpha = {}, beta = {}",
        p.group,
        f.formula,
        f.family,
        f.loss.name(),
        f.n_cells,
        param(f.params.alpha, f.ci95.alpha, &f.identified.alpha),
        param(f.params.beta, f.ci95.beta, &f.identified.beta),
    );
    let _ = writeln!(s, "  family: {}", f.family_choice.reason);
    let _ = writeln!(s, "  {}", doubling_text(&p.doubling_gain_db));
    let optimal: Vec<String> = p
        .optimal_params
        .iter()
        .map(|o| format!("N = {}: {}", fmt_n(o.n), o.params.text(&fmt_n)))
        .collect();
    let _ = writeln!(
        s,
        "  optimal P (smallest within 0.1 dB of the best in the table's P range): {}",
        optimal.join("; ")
    );
    let b = &p.budget;
    let _ = writeln!(
        s,
        "  on a budget N x P = C: optimal P grows as C^a, a = {}; N as C^b, b = {}",
        g3(&b.params_exponent),
        g3(&b.n_exponent)
    );
    for a in &b.allocations {
        let _ = writeln!(
            s,
            "  C = {:.3e}: N = {}, P = {}, error {}{}",
            a.budget,
            a.n.text(&fmt_n),
            a.params.text(&fmt_n),
            a.error.text(&|v| format!("{v:.4e}")),
            a.extrapolation
                .as_ref()
                .map_or(String::new(), |w| format!(" [extrapolation: {w}]"))
        );
    }
    s
}
