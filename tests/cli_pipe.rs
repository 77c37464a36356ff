//! `plateau ... | head -1`: a reader that goes away ends every command quietly (exit 0, nothing
//! on stderr), never a panic or an error.
#![cfg(unix)]

use crate::common;

use std::process::{Output, Stdio};

use common::{command, words};

/// Runs `plateau args...` with its stdout a pipe whose reading end is already closed (as after
/// `| head -1` has read its line).
fn into_closed_pipe(args: &[&str]) -> Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    command()
        .args(args)
        .stdout(Stdio::from(writer))
        .stderr(Stdio::piped())
        .output()
        .unwrap()
}

#[test]
fn a_closed_standard_output_ends_every_command_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("curve.csv");
    let mut text = String::from("N,mean\n");
    for n in [1u32, 2, 4, 8, 16, 32, 64, 128, 256, 512] {
        let _ = std::fmt::Write::write_fmt(
            &mut text,
            format_args!("{n},{}\n", 0.01 + (f64::from(n)).powf(-0.7)),
        );
    }
    std::fs::write(&csv, text).unwrap();
    let smoke = format!("{}/experiments/smoke.toml", env!("CARGO_MANIFEST_DIR"));
    let csv = csv.to_str().unwrap();
    let commands = [
        words("theory --d 2 --n 8 --sigma 0.1 --train-sizes 4 --runs 2"),
        words("path --d 2 --n 8 --sigma 0.1 --train-size 4 --iters 50"),
        vec!["fit", "--input", csv, "--reps", "20"],
        vec!["sweep", smoke.as_str(), "--dry-run"],
        words("theory --help"),
    ];
    for args in commands {
        let out = into_closed_pipe(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && !err.contains("panicked"),
            "{args:?}: status {:?}, stderr {err}",
            out.status
        );
        assert!(!err.contains("error"), "{args:?}: {err}");
    }
}
