//! The one-screen text of a measured plan ([`summary_text`]): one line per answer, each
//! starting with two spaces, under the group's name.

use std::fmt::Write as _;

use crate::analysis::capacity::doubling_text;
use crate::analysis::estimate::{fmt_n, Estimate};
use crate::analysis::plan::{MeasuredPlan, Reach};
use crate::analysis::spectrum_theory::standing_text;
use crate::fit::backtest::Backtest;

/// An MSE for people: `1.2345e-3`, `?` when not finite.
fn mse(v: f64) -> String {
    if v.is_finite() {
        format!("{v:.4e}")
    } else {
        "?".into()
    }
}

fn ci(e: &Estimate, f: &dyn Fn(f64) -> String) -> String {
    e.text(f)
}

/// The one-screen summary of a plan.
pub fn summary_text(p: &MeasuredPlan) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{}", p.group);
    measured_lines(&mut s, p);
    let _ = writeln!(
        s,
        "  doubling N from {} gains {}",
        fmt_n(p.largest_n),
        ci(&p.db_per_doubling, &|v| format!("{v:.3} dB"))
    );
    answer_lines(&mut s, p);
    if let Some(l) = &p.linear_theory {
        s.push_str(&standing_text(l));
    }
    if let Some(fb) = &p.floor_backtest {
        let _ = writeln!(
            s,
            "  floor backtest (fit N <= {}): rms error {:.2}% constrained, {:.2}% free",
            fmt_n(fb.train_max_n),
            100.0 * fb.constrained_rms_log_error,
            100.0 * fb.free_rms_log_error
        );
    }
    if let Some(d) = &p.doubling_gain_db {
        let _ = writeln!(s, "  {}", doubling_text(d));
    }
    if let Some(bt) = &p.backtest {
        backtest_lines(&mut s, bt);
    }
    s
}

/// The measured error and the fitted floor (against the exact one), and what the free fit and
/// a flat curve say about the floor.
fn measured_lines(s: &mut String, p: &MeasuredPlan) {
    // A floor the network lacks the information for is named by its label (a lower bound).
    let exact = p.exact.as_ref().map_or(String::new(), |e| {
        let name = e.exact_floor_label.as_deref().unwrap_or("exact floor");
        let (f, b) = (e.exact_floor, e.floor_bound);
        format!(", {name} {f:.4e} (the fit's floor constrained to >= {b:.4e})")
    });
    let _ = writeln!(
        s,
        "  measured: {} at N = {}; fitted floor {}{exact}",
        mse(p.measured_at_largest_n),
        fmt_n(p.largest_n),
        ci(&p.floor, &mse),
    );
    if let Some(e) = &p.exact {
        let (free, f) = (&e.free_fit, e.exact_floor);
        if free.below_floor {
            let c = free.params.get("c").copied().unwrap_or(f64::NAN);
            // A floor at its bound 0 (to rounding) reads as 0.
            let c = if c <= 1e-9 * f {
                "0".into()
            } else {
                format!("{c:.3e}")
            };
            let _ = writeln!(
                s,
                "  the free fit's floor {c} is below the exact floor {f:.3e}: it is not used"
            );
        }
    }
    if p.saturated {
        let _ = writeln!(
            s,
            "  the curve is flat (b at its bound 0): it has saturated at about {}",
            mse(p.floor.value)
        );
    }
}

/// One line per target, then one per requested `N`.
fn answer_lines(s: &mut String, p: &MeasuredPlan) {
    for t in &p.targets {
        let what = match t.reachable {
            Reach::NotReachable => "not reachable (below the fitted floor's interval)".into(),
            Reach::AlreadyMet => format!(
                "already met at every measured N (target MSE {})",
                mse(t.mse.value)
            ),
            _ => format!("N = {}", ci(&t.n, &fmt_n)),
        };
        let _ = writeln!(s, "  {}: {what}", t.target);
    }
    for q in &p.predictions {
        let _ = writeln!(
            s,
            "  at N = {}: MSE {}, PSNR {}",
            fmt_n(q.n),
            ci(&q.mse, &mse),
            ci(&q.psnr_db, &|v| format!("{v:.2} dB"))
        );
    }
}

/// The backtest: a heading, then each candidate law's error on the held-out sizes.
fn backtest_lines(s: &mut String, bt: &Backtest) {
    let _ = writeln!(
        s,
        "  backtest (fit N <= {}, predict {:?}):",
        fmt_n(bt.train_range[1]),
        bt.held_out_x
    );
    for c in &bt.candidates {
        match (&c.note, c.rms_log_error) {
            (None, Some(e)) => {
                let covered = c
                    .held_out
                    .iter()
                    .filter(|h| h.covered == Some(true))
                    .count();
                let _ = writeln!(
                    s,
                    "    {}: rms error {:.2}%, covered {covered}/{}",
                    c.model,
                    100.0 * e,
                    c.held_out.len()
                );
            }
            (note, _) => {
                let _ = writeln!(s, "    {}: {}", c.model, note.as_deref().unwrap_or("-"));
            }
        }
    }
}
