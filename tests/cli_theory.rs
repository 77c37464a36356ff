//! `plateau theory` and `plateau path` as other tools call them: the CSV contract and bad input.

use crate::common;

use common::{plateau, plateau_ok, words};

#[test]
fn theory_writes_the_documented_csv() {
    let out = plateau_ok(&words(
        "theory --d 3 --n 20 --sigma 0.2 --train-sizes 2,8,40 --runs 3 --iters 200",
    ));
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("d,n,sigma,N,estimator,mean,std,runs,k_opt_mean")
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 3 * 4);
    for row in &rows {
        assert_eq!(row.len(), 9);
        assert_eq!(&row[..3], &["3", "20", "0.2"]);
        assert_eq!(row[7], "3");
        let mean: f64 = row[5].parse().unwrap();
        assert!(
            mean >= 0.2f64.powi(2) / 1.04 - 1e-12,
            "risk below the floor: {row:?}"
        );
        // k_opt_mean only for gradient descent.
        assert_eq!(row[8].is_empty(), row[4] != "gd_early_stopped", "{row:?}");
    }
    let estimators: Vec<&str> = rows.iter().take(4).map(|r| r[4]).collect();
    assert_eq!(
        estimators,
        ["optimal", "pca", "least_squares", "gd_early_stopped"]
    );
}

#[test]
fn theory_is_reproducible_and_writes_out_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sub/out.csv");
    let args = words(
        "theory --d 2 --n 10 --sigma 0.1 --train-sizes 5,30 --runs 4 --seed 9 \
         --estimators pca,gd_early_stopped --iters 100",
    );
    let first = plateau_ok(&args);
    let mut with_out = args.to_vec();
    with_out.extend(["--out", file.to_str().unwrap()]);
    plateau_ok(&with_out);
    assert_eq!(std::fs::read(&file).unwrap(), first.stdout);
}

/// `--noise-averaged` says so on stderr (even with --quiet), keeps the least-squares mean of
/// the same draws within the combined standard errors and shrinks its spread (at `N = 4n`
/// the label noise is most of it: `theory/exact.md` measures 10 times less variance at
/// `(4, 40, 0.3)`, `N = 80`; 2 times less spread is asserted).
#[test]
fn theory_noise_averaged_least_squares_keeps_the_mean_and_cuts_the_spread() {
    let base = "theory --d 2 --n 10 --sigma 0.3 --train-sizes 40 --runs 300 --seed 3 \
                --estimators least_squares --quiet";
    let row = |extra: &str| {
        let mut args = words(base);
        args.extend(words(extra));
        let out = plateau_ok(&args);
        let text = String::from_utf8(out.stdout).unwrap();
        let cells: Vec<f64> = text.lines().nth(1).unwrap().split(',').collect::<Vec<_>>()[5..7]
            .iter()
            .map(|c| c.parse().unwrap())
            .collect();
        (cells[0], cells[1], String::from_utf8(out.stderr).unwrap())
    };
    let (plain_mean, plain_std, plain_err) = row("");
    let (avg_mean, avg_std, avg_err) = row("--noise-averaged");
    assert!(plain_err.is_empty(), "{plain_err}");
    assert!(avg_err.contains("noise-averaged"), "{avg_err}");
    let se = (plain_std.powi(2) + avg_std.powi(2)).sqrt() / 300f64.sqrt();
    assert!(
        (plain_mean - avg_mean).abs() <= 4.0 * se,
        "plain {plain_mean} averaged {avg_mean} (se {se})"
    );
    assert!(
        avg_std < plain_std / 2.0,
        "std {avg_std} vs plain {plain_std}"
    );
}

#[test]
fn path_methods_agree() {
    let common = words("path --d 2 --n 12 --sigma 0.3 --train-size 9 --seed 3 --iters 150");
    let read = |method: &str| -> Vec<(usize, f64)> {
        let mut args = common.to_vec();
        args.extend(["--method", method]);
        let text = String::from_utf8(plateau_ok(&args).stdout).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("k,risk"));
        lines
            .map(|l| {
                let (k, r) = l.split_once(',').unwrap();
                (k.parse().unwrap(), r.parse().unwrap())
            })
            .collect()
    };
    let (spectral, iterate) = (read("explicit"), read("iterate"));
    assert_eq!(spectral.len(), 151);
    assert_eq!(spectral[0], (0, 1.0));
    assert_eq!(iterate.len(), spectral.len());
    for (a, b) in spectral.iter().zip(&iterate) {
        assert_eq!(a.0, b.0);
        assert!((a.1 - b.1).abs() <= 1e-9 * a.1, "{a:?} vs {b:?}");
    }
}

/// `path --method spectral` with the structured and the dense engine: the same draw, the same
/// path to 1e-9 relative.
#[test]
fn path_engines_agree() {
    let read = |engine: &str| -> Vec<f64> {
        let mut args = words("path --d 3 --n 40 --sigma 0.2 --train-size 60 --iters 200 --engine");
        args.push(engine);
        let out = plateau_ok(&args);
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .skip(1)
            .map(|l| l.split_once(',').unwrap().1.parse().unwrap())
            .collect()
    };
    let (s, t) = (read("structured"), read("dense"));
    assert_eq!(s.len(), 201);
    assert_eq!(t.len(), s.len());
    for (a, b) in s.iter().zip(&t) {
        assert!((a - b).abs() <= 1e-9 * a, "{a} vs {b}");
    }
}

/// Each bad input: exit code 2, exactly one line on stderr naming the problem, nothing on
/// stdout, and no output file.
#[test]
fn bad_input_is_one_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("never.csv");
    let out = out_file.to_str().unwrap();
    // Theory with a base that sets the rest, and the given model flags.
    let theory_cases = [
        ("--d 0 --n 10 --sigma 0.1", "d must be at least 1"),
        ("--d 11 --n 10 --sigma 0.1", "must not exceed n"),
        ("--d 2 --n 10 --sigma -0.1", "sigma"),
        ("--d 2 --n 10 --sigma NaN", "sigma"),
        ("--d 2 --n 10 --sigma inf", "sigma"),
        ("--d 2 --n 10 --sigma 0.1 --train-sizes 0", "at least 1"),
        ("--d 2 --n 10 --sigma 0.1 --runs 0", "runs"),
        (
            "--d 2 --n 10 --sigma 0.1 --estimators ridge",
            "unknown estimator",
        ),
        ("--d 2 --n 10 --sigma 0.1 --train-sizes 1,,4", "train-sizes"),
        ("--d 2 --n 10 --sigma 0.1 --train-sizes 4,x", "train-sizes"),
        ("--d 2 --n 10 --sigma 0.1 --step -1", "step"),
        ("--d 2 --n 10 --sigma 0.1 --engine fast", "engine"),
        (
            "--d 2 --n 10 --sigma 0.1 --noise-averaged --estimators pca",
            "applies to least_squares only",
        ),
        (
            "--d 2 --n 10 --sigma 0.1 --noise-averaged --analytic",
            "does not apply with --analytic",
        ),
    ];
    // Whole command lines.
    let whole_cases = [
        ("path --d 2 --n 10 --sigma 0.1 --train-size 0", "train-size"),
        // A dense 200000 x 200000 eigendecomposition: refused before any allocation.
        (
            "theory --d 10 --n 200000 --sigma 0.1 --train-sizes 200000 --engine dense",
            "GiB",
        ),
        (
            "path --d 10 --n 65536 --sigma 0.1 --train-size 100000 --method explicit",
            "GiB",
        ),
    ];
    let theory = theory_cases.map(|(model, needle)| {
        let mut v = vec!["theory", "--train-sizes", "4", "--runs", "1", "--out", out];
        v.extend(words(model));
        (v, needle)
    });
    let whole = whole_cases.map(|(line, needle)| {
        let mut v = words(line);
        v.extend(["--out", out]);
        (v, needle)
    });
    for (args, needle) in theory.into_iter().chain(whole) {
        let o = plateau(&args);
        common::assert_bad_input(&o, needle, &format!("{args:?}"));
        assert!(
            !String::from_utf8_lossy(&o.stderr).contains("panicked"),
            "{args:?}"
        );
        assert!(o.stdout.is_empty(), "{args:?}");
        assert!(!out_file.exists(), "{args:?} left a file");
    }
}
