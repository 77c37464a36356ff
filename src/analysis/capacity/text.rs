//! The capacity analysis as text: a few lines per curve ([`capacity_text`]) and the doubling
//! question's one line ([`doubling_text`]).

use std::fmt::Write as _;

use super::schema::{Better, Capacity, DoublingGain, FloorSource, JointFitReport, WidthGrowth};
use super::{SATURATION_FRACTION, WIDTH_TOLERANCE_DB};
use crate::analysis::estimate::{fmt_n, Estimate};

/// `value (lo to hi)` with `f` formatting each number, or `not identified (reason)`.
fn with_ci(e: &Estimate, f: impl Fn(f64) -> String) -> String {
    match &e.unidentified {
        Some(why) => format!("not identified ({why})"),
        None => format!("{} ({} to {})", f(e.value), f(e.ci95[0]), f(e.ci95[1])),
    }
}

/// The human summary of a curve's capacity analysis (a few lines, each starting with two
/// spaces).
pub fn capacity_text(c: &Capacity) -> String {
    let mut s = String::new();
    let Some(fit) = &c.joint_fit else {
        let _ = writeln!(
            s,
            "  no joint fit in (N, P): {}",
            c.joint_fit_note.as_deref().unwrap_or("-")
        );
        return s;
    };
    law_lines(&mut s, fit);
    width_lines(&mut s, c);
    if let Some(d) = &c.doubling_gain_db {
        let _ = writeln!(s, "  {}", doubling_text(d));
    }
    if let Some(gr) = &c.optimal_width_growth {
        growth_line(&mut s, gr);
    }
    s
}

/// The fitted law with its exponents, and how its family was chosen.
fn law_lines(s: &mut String, fit: &JointFitReport) {
    let g3 = |v: f64| format!("{v:.3}");
    let p = &fit.params;
    let _ = write!(
        s,
        "  joint law {} ({} floor E = {:.4e}): alpha = {}, beta = {}",
        fit.formula,
        match fit.floor {
            FloorSource::Exact => "exact",
            FloorSource::Fitted => "fitted",
        },
        p.e.value,
        with_ci(&p.alpha, g3),
        with_ci(&p.beta, g3)
    );
    if let Some(q) = &p.q {
        let _ = write!(s, ", q = {}", with_ci(q, g3));
    }
    let _ = writeln!(s);
    match &fit.selection {
        Some(sel) => {
            let _ = writeln!(
                s,
                "  family chosen on the held-out corner N >= {}, P >= {:.0} (rms error {}): {}",
                fmt_n(sel.n_from),
                sel.p_from,
                sel.rms_errors_text(),
                fit.family
            );
        }
        None => {
            let _ = writeln!(s, "  {}", fit.selection_note.as_deref().unwrap_or(""));
        }
    }
}

/// The optimal width at each measured `N`, then the saturation size of each width.
fn width_lines(s: &mut String, c: &Capacity) {
    let w1 = |v: f64| format!("{v:.1}");
    let widths: Vec<String> = c
        .optimal_width
        .iter()
        .map(|o| format!("N = {}: {}", fmt_n(o.n), with_ci(&o.width, w1)))
        .collect();
    let _ = writeln!(
        s,
        "  optimal width (smallest within {WIDTH_TOLERANCE_DB} dB of the best in the swept range): {}",
        widths.join("; ")
    );
    let sat: Vec<String> = c
        .width_saturation
        .iter()
        .map(|w| format!("width {:.0}: N = {}", w.width, with_ci(&w.n, fmt_n)))
        .collect();
    let _ = writeln!(
        s,
        "  widths saturate (more data lowers the excess by < {:.0}%) at {}",
        100.0 * SATURATION_FRACTION,
        sat.join("; ")
    );
}

/// Whether the optimal width grows with `N`, in the fit, its replicates and the measurements.
fn growth_line(s: &mut String, gr: &WidthGrowth) {
    let _ = writeln!(
        s,
        "  the optimal width {} with N: {:.1} at the smallest N, {:.1} at the largest{}{}",
        if gr.grows { "grows" } else { "does not grow" },
        gr.from,
        gr.to,
        gr.replicates_growing.map_or(String::new(), |f| format!(
            " (grows in {:.0}% of bootstrap replicates)",
            100.0 * f
        )),
        gr.measured_grows.map_or(String::new(), |m| format!(
            "; widths chosen on validation {}",
            if m { "grow" } else { "do not grow" }
        ))
    );
}

/// One line: the doubling gains at a cell and which buys more.
pub fn doubling_text(d: &DoublingGain) -> String {
    let db = |v: f64| format!("{v:.3} dB");
    format!(
        "at N = {}, {}: doubling N gains {}, doubling P gains {}: {}",
        fmt_n(d.at_n),
        d.at_width
            .map_or(format!("P = {:.0}", d.at_params), |w| format!(
                "width {w} (P = {:.0})",
                d.at_params
            )),
        with_ci(&d.data, db),
        with_ci(&d.params, db),
        match d.better {
            Better::Data => "more data buys more",
            Better::Params => "a bigger network buys more",
            Better::Uncertain => "the difference is within its interval",
        }
    )
}
