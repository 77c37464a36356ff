//! Inputs the engine cannot honour are refused up front: one line naming the problem, exit 2,
//! nothing on stdout, no output file; never wrong statistics, NaN rows, a panic or an abort.

use crate::common;

use common::plateau;

/// `plateau args... --out DIR/never.csv` fails with one line containing `needle`, exit 2,
/// nothing on stdout and no file.
fn assert_refused(args: &[&str], needle: &str) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("never.csv");
    let mut argv = args.to_vec();
    argv.extend(["--out", file.to_str().unwrap()]);
    let o = plateau(&argv);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{args:?}: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
    assert!(stderr.starts_with("plateau: error:"), "{args:?}: {stderr}");
    assert!(
        stderr.contains(needle),
        "{args:?}: '{stderr}' lacks '{needle}'"
    );
    assert!(o.stdout.is_empty(), "{args:?}");
    assert!(!file.exists(), "{args:?} left a file");
}

const MODEL: [&str; 6] = ["--d", "2", "--n", "10", "--sigma", "0.1"];

fn with_model(rest: &[&'static str]) -> Vec<&'static str> {
    let mut v = vec![rest[0]];
    v.extend(MODEL);
    v.extend(&rest[1..]);
    v
}

/// A repeated training-set size would pool the same draws twice (`runs = 6` from 3 draws).
#[test]
fn repeated_training_set_sizes_are_refused() {
    for extra in [&[][..], &["--analytic"][..]] {
        let mut args = with_model(&["theory", "--train-sizes", "4,8,4", "--runs", "3"]);
        args.extend(extra);
        assert_refused(&args, "N = 4 is listed twice");
    }
}

/// A step with `eta * lambda_max >= 2` makes gradient descent diverge: refused, where the path
/// printed NaN rows with exit 0.
#[test]
fn a_diverging_step_is_refused() {
    for extra in [&[][..], &["--analytic"][..], &["--method", "iterate"][..]] {
        let mut args = with_model(&[
            "path",
            "--train-size",
            "20",
            "--step",
            "1e6",
            "--iters",
            "50",
        ]);
        args.extend(extra);
        assert_refused(&args, "gradient descent diverges");
    }
}

/// A noise level at which the signal is invisible and the arithmetic overflows: refused, where
/// the eigensolver panicked (1e154) and the analytic curve printed NaN (1e200).
#[test]
fn an_overflowing_noise_level_is_refused() {
    for sigma in ["1e154", "1e200", "2e6"] {
        for extra in [&[][..], &["--analytic"][..]] {
            let mut args = vec![
                "theory",
                "--d",
                "2",
                "--n",
                "10",
                "--sigma",
                sigma,
                "--train-sizes",
                "4",
            ];
            args.extend(extra);
            assert_refused(&args, "sigma");
        }
    }
}

/// Sizes this machine cannot hold, and iteration counts beyond the bound, are refused by an
/// up-front estimate before any folder is created or anything allocated: they aborted in the
/// allocator, panicked, hung, or grew to many GB. The sizes are terabytes, so every machine
/// refuses them.
#[test]
fn sizes_beyond_the_machine_are_refused_up_front() {
    let train = "train --task denoise --data subspace --model unet --train-size";
    let path = "path --d 2 --n 10 --sigma 0.1 --train-size";
    let cases = [
        (format!("{train} 1000000000000"), "data in memory"),
        (format!("{train} 8 --image-size 1000000"), "activations"),
        (
            format!("{train} 8 --channels 100000000"),
            "parameters and optimiser state",
        ),
        (
            format!("{path} 1000000000000 --method explicit"),
            "needs an estimated",
        ),
        (
            format!("{path} 20 --iters 18446744073709551614"),
            "above the bound",
        ),
        (
            format!("{path} 20 --iters 18446744073709551615"),
            "above the bound",
        ),
        (format!("{path} 20 --iters 100000000000"), "above the bound"),
        (
            "theory --d 1000000000 --n 1000000000 --sigma 0.1".into(),
            "needs an estimated",
        ),
        (
            "theory --d 2 --n 10 --sigma 0.1 --runs 1000000000".into(),
            "of results",
        ),
        (
            "theory --d 2 --n 10 --sigma 0.1 --iters 100000000000".into(),
            "above the bound",
        ),
    ];
    for (args, needle) in &cases {
        assert_refused(&common::words(args), needle);
    }
}

/// `plateau train` refuses before creating its output folder.
#[test]
fn a_refused_run_creates_no_folder() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let o = plateau(&[
        "train",
        "--task",
        "denoise",
        "--data",
        "subspace",
        "--train-size",
        "8",
        "--channels",
        "100000000",
        "--out",
        out.to_str().unwrap(),
    ]);
    common::assert_bad_input(&o, "needs an estimated", "huge width");
    assert!(!out.exists(), "a refused run created {}", out.display());
}
