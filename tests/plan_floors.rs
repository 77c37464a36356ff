//! Floors that bind (issue #22) and targets already met (#23 items 9 and 10), end to end:
//! table-driven rows of `plateau plan` / `plateau scaling` with their exit status and the
//! first line that matters, and the committed figures' JSON checked against their floors.

use crate::common;

use std::path::Path;

use serde_json::Value;

use common::plateau;

/// A store of `0.2 N^-0.6 + 7.3e-3` at N = 16..16384, standard error 1e-5, with exact floor
/// `floor`.
fn write_store(dir: &Path, floor: f64) {
    let text: String = (0..11)
        .map(|i| {
            let n = 16u64 << i;
            let y = 0.2 * (n as f64).powf(-0.6) + 7.3e-3;
            common::field_store_line(&format!("c{i}"), n, y, 1e-5, floor).to_string() + "\n"
        })
        .collect();
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("results.jsonl"), text).unwrap();
}

/// Rows: arguments (`{flat}`, `{law}`, `{store}`, `{bad}` are replaced by paths), exit status,
/// and text the first line of stderr (failures) or stdout (successes, `--format text`) holds.
const ROWS: &[(&str, i32, &str)] = &[
    // #23 item 9: a flat curve has saturated at its level.
    ("plan --format text --input {flat}", 0, "all"),
    // #23 item 10: one rule for targets already met, bounds on the flags.
    (
        "plan --within-db 1e308 --input {law}",
        2,
        "--within-db 1e308 is above 10",
    ),
    (
        "plan --within-db 100 --input {law}",
        2,
        "--within-db 100 is above 10",
    ),
    (
        "plan --within 1e308 --input {law}",
        2,
        "--within 1e308 is above 9",
    ),
    (
        "plan --within 0 --input {law}",
        2,
        "--within 0 must be positive",
    ),
    (
        "plan --within 9 --input {law}",
        2,
        "is already met at every measured N",
    ),
    (
        "plan --target-mse 0.5 --input {law}",
        2,
        "is already met at every measured N",
    ),
    (
        "plan --within 0.1 --input {flat}",
        2,
        "is already met at every measured N",
    ),
    (
        "plan --within-db 10 --input {flat}",
        2,
        "is already met at every measured N",
    ),
    ("plan --within 0.1 --format text --input {law}", 0, "all"),
    // Constraint the data contradict: a result (exit 1), naming the points.
    (
        "plan --results {bad}",
        1,
        "below the exact floor 8.0000e-3 by more than 3",
    ),
    (
        "scaling --results {bad} --out {out}",
        1,
        "N = 16384 (MSE 7.8921e-3, se 1.0e-5)",
    ),
    (
        "plan --format text --results {store}",
        0,
        "denoise gaussian-field unet",
    ),
];

#[test]
fn plan_rows_exit_with_their_status_and_first_line() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let flat = dir.join("flat.csv");
    std::fs::write(&flat, "N,mean\n16,0.5\n32,0.5\n64,0.5\n128,0.5\n256,0.5\n").unwrap();
    let law = dir.join("law.csv");
    let rows: String = (0..8)
        .map(|i| {
            let n = 16.0 * 2f64.powi(i);
            format!("{n},{}\n", 0.2 * f64::powf(n, -0.6) + 7.3e-3)
        })
        .collect();
    std::fs::write(&law, format!("N,mean\n{rows}")).unwrap();
    // The floor 8e-3 is 11 standard errors above the point at N = 16384 (7.89e-3).
    write_store(&dir.join("bad"), 8e-3);
    write_store(&dir.join("store"), 7.3e-3);
    let path = |name: &str| dir.join(name).to_str().unwrap().to_string();
    for &(args, status, want) in ROWS {
        let args = args
            .replace("{flat}", &path("flat.csv"))
            .replace("{law}", &path("law.csv"))
            .replace("{bad}", &path("bad"))
            .replace("{store}", &path("store"))
            .replace("{out}", &path("figs"));
        let words: Vec<&str> = args.split_whitespace().collect();
        let out = plateau(&words);
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        assert_eq!(out.status.code(), Some(status), "{args}: {stderr}");
        let first = if status == 0 {
            stdout.lines().next().unwrap_or("")
        } else {
            assert_eq!(stderr.trim_end().lines().count(), 1, "{args}: {stderr}");
            assert!(stdout.is_empty(), "{args}: {stdout}");
            stderr.lines().next().unwrap_or("")
        };
        assert!(
            first.contains(want),
            "{args}: first line '{first}' lacks '{want}'"
        );
    }
}

#[test]
fn a_flat_curve_says_it_has_saturated_and_a_store_plan_respects_its_floor() {
    let tmp = tempfile::tempdir().unwrap();
    let flat = tmp.path().join("flat.csv");
    std::fs::write(&flat, "N,mean\n16,0.5\n32,0.5\n64,0.5\n128,0.5\n256,0.5\n").unwrap();
    let out = plateau(&[
        "plan",
        "--format",
        "text",
        "--input",
        flat.to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("it has saturated at about 5.0000e-1"),
        "{text}"
    );
    assert!(text.contains("already met at every measured N"), "{text}");
    assert!(!text.contains("no finite N"), "{text}");
    write_store(&tmp.path().join("s"), 7.3e-3);
    let s = tmp.path().join("s");
    let out = plateau(&["plan", "--reps", "200", "--results", s.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let plans: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let problems = below_floor(&plans[0]);
    assert!(problems.is_empty(), "{problems:?}");
}

/// Every number of a plan's JSON that is an MSE and lies below its `floor_bound` (the exact
/// floor minus one test-set standard error), as `path = value`; a plan with an exact floor
/// but no bound is one problem.
fn below_floor(plan: &Value) -> Vec<String> {
    let Some(floor) = plan["exact_floor"].as_f64() else {
        return vec![];
    };
    let Some(bound) = plan["floor_bound"].as_f64() else {
        return vec![format!(
            "exact floor {floor} but no floor_bound: an unconstrained fit"
        )];
    };
    let mut bad = Vec::new();
    if bound > floor {
        bad.push(format!("floor_bound {bound} above the floor {floor}"));
    }
    let mut check = |path: String, e: &Value| {
        let vals = [&e["value"], &e["ci95"][0], &e["ci95"][1]];
        for v in vals.into_iter().filter_map(Value::as_f64) {
            if v < bound * (1.0 - 1e-12) {
                bad.push(format!("{path} = {v} < {bound}"));
            }
        }
    };
    check("floor".into(), &plan["floor"]);
    check("params.c".into(), &plan["params"]["c"]);
    for (i, t) in plan["targets"].as_array().into_iter().flatten().enumerate() {
        check(format!("targets[{i}].mse"), &t["mse"]);
    }
    for (i, q) in plan["predictions"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        check(format!("predictions[{i}].mse"), &q["mse"]);
    }
    bad
}

/// The same for a scaling report: the fit's floor `c`, its extrapolations, and the anchored
/// fit's prediction.
fn scaling_below_floor(r: &Value) -> Vec<String> {
    let Some(floor) = r["floor_mse"].as_f64() else {
        return vec![];
    };
    let fit = &r["fit"];
    if fit.is_null() || fit["model"] != "saturating" {
        return vec![];
    }
    let Some(bound) = r["floor_bound"].as_f64() else {
        return vec![format!(
            "floor_mse {floor} but no floor_bound: an unconstrained fit"
        )];
    };
    let mut vals: Vec<(String, f64)> = vec![(
        "fit.params.c".into(),
        fit["params"]["c"].as_f64().unwrap_or(f64::NAN),
    )];
    for end in 0..2 {
        vals.push((
            format!("fit.ci95.c[{end}]"),
            fit["ci95"]["c"][end].as_f64().unwrap_or(f64::NAN),
        ));
    }
    for (k, v) in fit["extrapolation"].as_object().into_iter().flatten() {
        vals.push((
            format!("fit.extrapolation.{k}"),
            v.as_f64().unwrap_or(f64::NAN),
        ));
    }
    for (k, v) in fit["extrapolation_ci95"].as_object().into_iter().flatten() {
        for end in 0..2 {
            vals.push((
                format!("fit.extrapolation_ci95.{k}[{end}]"),
                v[end].as_f64().unwrap_or(f64::NAN),
            ));
        }
    }
    if let Some(v) = r["anchored_fit"]["at_1e6"].as_f64() {
        vals.push(("anchored_fit.at_1e6".into(), v));
    }
    vals.into_iter()
        .filter(|(_, v)| *v < bound * (1.0 - 1e-12))
        .map(|(k, v)| format!("{k} = {v} < {bound}"))
        .collect()
}

/// Every committed `figures/plan_*.json` and `figures/scaling_*.json`: no MSE below its known
/// floor (minus the test set's standard error). The figures are regenerated by
/// `make reproduce`; this test fails on figures made before fits respected the floor.
#[test]
fn committed_figures_print_nothing_below_a_known_floor() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("figures");
    let mut problems = Vec::new();
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if !name.ends_with(".json") {
            continue;
        }
        let value: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let found = if name.starts_with("plan_") {
            value
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(below_floor)
                .collect()
        } else if name.starts_with("scaling_") {
            scaling_below_floor(&value)
        } else {
            continue;
        };
        files += 1;
        problems.extend(found.into_iter().map(|p| format!("{name}: {p}")));
    }
    assert!(files > 0, "no plan or scaling JSON in {}", dir.display());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
