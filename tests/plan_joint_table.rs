//! `plateau plan --input FILE.csv --p P`: what the joint law fitted to a table answers. The
//! budget allocation is checked against a direct minimisation of the law on `N P = C` (the
//! closed form `P* ∝ C^(alpha/(alpha+beta))` of docs/capacity.md).

use crate::common;
use crate::joint_table;

use common::{assert_refused, plateau_ok};
use joint_table::{csv, points, TRUTH};
use plateau::analysis::joint_plan::allocation;
use plateau::fit::joint::{Family, JointLaw};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// `ln P` minimising `law` on `N P = c`, by scanning a grid of step `h` over 12 decades
/// around `P = sqrt(c)` (the oracle: no formula, only the law).
fn argmin_ln_p(law: &JointLaw, c: f64, h: f64) -> f64 {
    let mid = 0.5 * c.ln();
    let steps = (12.0 * 10f64.ln() / h) as i64;
    (-steps..=steps)
        .map(|k| mid + k as f64 * h)
        .min_by(|&x, &y| {
            let r = |lp: f64| law.predict(c / lp.exp(), lp.exp());
            r(x).total_cmp(&r(y))
        })
        .unwrap()
}

#[test]
fn the_budget_allocation_minimises_the_law_and_scales_as_the_closed_form() {
    let power_mean = JointLaw {
        family: Family::PowerMean,
        q: 0.6,
        ..TRUTH
    };
    let h = 1e-4;
    for law in [TRUTH, power_mean] {
        let budgets = [1e5, 1e7, 1e9, 1e11];
        let mut ln_p = Vec::new();
        for c in budgets {
            let (n, p) = allocation(&law, c);
            assert!(
                (n * p / c - 1.0).abs() < 1e-12,
                "{law:?}: N P = {} at C = {c}",
                n * p
            );
            // The scan's minimiser is within one grid step of the allocation.
            let scan = argmin_ln_p(&law, c, h);
            assert!(
                (scan - p.ln()).abs() <= h,
                "{law:?}, C = {c}: {scan} vs {}",
                p.ln()
            );
            ln_p.push(p.ln());
        }
        // P* ∝ C^(alpha / (alpha + beta)): the slope of ln P* against ln C.
        let want = law.alpha / (law.alpha + law.beta);
        for w in ln_p.windows(2) {
            let slope = (w[1] - w[0]) / (100f64).ln();
            assert!(
                (slope - want).abs() < 1e-12,
                "{law:?}: slope {slope} vs {want}"
            );
        }
    }
}

fn table_file() -> (tempfile::TempDir, String) {
    let mut rng = ChaCha8Rng::seed_from_u64(21);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.csv");
    std::fs::write(&path, csv(&points(&TRUTH, 0, &mut rng))).unwrap();
    let p = path.to_str().unwrap().to_string();
    (dir, p)
}

#[test]
fn the_plan_answers_doubling_optimal_p_and_budget_from_the_fitted_law() {
    let (_d, p) = table_file();
    let args =
        "--x N --p P --y loss --family additive --reps 100 --at-cell 1024,64000 --budget 1e8,1e12";
    let out = plateau_ok(&[&["plan", "--input", &p][..], &common::words(args)].concat());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let g = &v[0];
    let (alpha, beta) = (
        g["fit"]["params"]["alpha"].as_f64().unwrap(),
        g["fit"]["params"]["beta"].as_f64().unwrap(),
    );
    let b = &g["budget"];
    let a = b["params_exponent"]["value"].as_f64().unwrap();
    assert!((a - alpha / (alpha + beta)).abs() < 1e-12, "{b}");
    let ci = &b["params_exponent"]["ci95"];
    assert!(
        ci[0].as_f64().unwrap() <= a && a <= ci[1].as_f64().unwrap(),
        "{b}"
    );
    let allocs = b["allocations"].as_array().unwrap();
    assert_eq!(allocs.len(), 2);
    for (al, c) in allocs.iter().zip([1e8, 1e12]) {
        let (n, pp) = (
            al["n"]["value"].as_f64().unwrap(),
            al["params"]["value"].as_f64().unwrap(),
        );
        assert!((n * pp / c - 1.0).abs() < 1e-9, "{al}");
    }
    // 1e8 lies inside the table's N x P (1.6e4 to 1.6e10), 1e12 beyond it.
    assert!(allocs[0].get("extrapolation").is_none(), "{}", allocs[0]);
    assert!(
        allocs[1]["extrapolation"]
            .as_str()
            .unwrap()
            .contains("outside the table"),
        "{}",
        allocs[1]
    );
    let d = &g["doubling_gain_db"];
    assert_eq!(
        (d["at_n"].as_f64(), d["at_params"].as_f64()),
        (Some(1024.0), Some(64000.0))
    );
    assert_eq!(g["optimal_params"].as_array().unwrap().len(), 6);
    let text = plateau_ok(
        &[
            &["plan", "--input", &p, "--format", "text"][..],
            &common::words(args),
        ]
        .concat(),
    );
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("optimal P grows as C^a"), "{text}");
    assert!(text.contains("doubling N gains"), "{text}");
}

#[test]
fn bad_budgets_and_cells_are_refused_in_one_line() {
    let (_d, p) = table_file();
    let base = format!("plan --input {p} --x N --p P --y loss --reps 10 --family additive");
    for (extra, want) in [
        (
            "--budget 1e13",
            "decades outside the table's range of N x P",
        ),
        ("--budget -1", "--budget -1 must be positive"),
        ("--at-cell 5", "--at-cell expects N,P"),
        ("--at-cell 5,-1", "--at-cell expects N,P"),
        ("--backtest", "--backtest is for the plan in N alone"),
    ] {
        let out = common::plateau(&common::words(&format!("{base} {extra}")));
        assert_refused(&out, want, extra);
    }
    let no_p = common::plateau(&common::words(&format!(
        "plan --input {p} --x N --y loss --budget 1e9"
    )));
    assert_refused(
        &no_p,
        "--at-cell and --budget ask the joint law",
        "--budget without --p",
    );
}
