//! Progress when standard error is not a terminal (a log file, a Slurm job, CI): plain lines, one
//! per training epoch and at least the last of long theory work; `--quiet` silences them.

use crate::common;

use common::{plateau_ok, words};

fn stderr_of(args: &[&str]) -> String {
    String::from_utf8(plateau_ok(args).stderr).unwrap()
}

#[test]
fn train_prints_one_line_per_epoch_into_a_log() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let mut args = words(
        "train --task denoise --data gaussian-field --train-size 8 --val-size 4 --test-size 8 \
         --epochs 2 --early-stop 5 --channels 4 --image-size 16 --out",
    );
    args.push(out.to_str().unwrap());
    let err = stderr_of(&args);
    let epochs: Vec<&str> = err.lines().filter(|l| l.contains("epoch ")).collect();
    assert_eq!(epochs.len(), 2, "{err}");
    for (i, line) in epochs.iter().enumerate() {
        assert!(
            line.starts_with(&format!("plateau: epoch {}/2: train loss ", i + 1))
                && line.contains("val PSNR")
                && line.contains(", lr ")
                && line.ends_with(" s"),
            "{line}"
        );
    }
    let other = dir.path().join("quiet");
    let mut quiet = args.to_vec();
    *quiet.last_mut().unwrap() = other.to_str().unwrap();
    quiet.push("--quiet");
    let err = stderr_of(&quiet);
    assert!(!err.contains("epoch"), "{err}");
}

#[test]
fn theory_reports_its_draws_into_a_log_unless_quiet() {
    let args = words("theory --d 2 --n 8 --sigma 0.1 --train-sizes 4,8 --runs 2 --iters 50");
    let err = stderr_of(&args);
    assert!(
        err.lines().any(|l| l.starts_with("plateau: draws 4/4, ")),
        "{err}"
    );
    // The engine's estimate of the work comes first, before any draw.
    assert!(
        err.lines().next().is_some_and(
            |l| l.starts_with("plateau: 4 draws, an estimated ") && l.contains(" of CPU time")
        ),
        "{err}"
    );
    let mut quiet = args.to_vec();
    quiet.push("--quiet");
    assert_eq!(stderr_of(&quiet), "");
}
