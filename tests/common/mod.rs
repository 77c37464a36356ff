//! What the integration tests share: running the `plateau` binary.
#![allow(dead_code)] // each test file uses a part

use std::process::{Command, Output};

pub use plateau::sweep::local::one_torch_thread;

pub mod svg;

/// A `plateau` command (the binary cargo built for these tests), its LibTorch children on one
/// thread.
pub fn command() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_plateau"));
    // libtest runs one test per core, and each `plateau train` child would otherwise start one
    // OpenMP thread per core, spinning against the other test's: this binary took 49 to 140 s
    // on the project's 2-core machine (233 s of CPU in the slow run) and 31 to 33 s with one
    // thread a child.
    one_torch_thread(&mut command);
    command
}

/// Runs `plateau args...` to completion and returns its output.
pub fn plateau(args: &[&str]) -> Output {
    command()
        .args(args)
        .output()
        .expect("the plateau binary runs")
}

/// Checks the error contract: exit status 2 and either one line of ours (`plateau: error:
/// ...`) or, for a flag error, clap's whole message (`error: ...` followed by its hint or
/// usage). `want` must appear in the message.
pub fn assert_bad_input(out: &Output, want: &str, what: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{what}: {err}");
    assert!(err.contains(want), "{what}: '{err}' lacks '{want}'");
    if err.starts_with("plateau: ") {
        assert_eq!(err.trim_end().lines().count(), 1, "{what}: {err}");
    } else {
        assert!(
            err.starts_with("error: ")
                && (err.contains("Usage:") || err.contains("For more information")),
            "{what}: neither one line of ours nor clap's message: {err}"
        );
    }
}

/// Checks clap's refusal of a typed flag's value: [`assert_bad_input`] with `want`, and a
/// message that lists the valid values `choices` (`[possible values: ...]`).
pub fn assert_bad_choice(out: &Output, want: &str, choices: &str, what: &str) {
    assert_bad_input(out, want, what);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(choices), "{what}: '{err}' lacks '{choices}'");
}

/// `"theory --d 2 --n 8"` as `["theory", "--d", "2", "--n", "8"]`: argument lists on one line.
pub fn words(s: &str) -> Vec<&str> {
    s.split_whitespace().collect()
}

/// Checks that `out` exited with success; on failure shows `what`, the status and its stderr.
pub fn assert_ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what}: status {:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs `plateau args...`, checks that it succeeded (see [`assert_ok`]) and returns its output.
pub fn plateau_ok(args: &[&str]) -> Output {
    let out = plateau(args);
    assert_ok(&out, &format!("{args:?}"));
    out
}

/// Checks a refusal of ours: exit status 2, one stderr line `plateau: error: ...` containing
/// `want`, and nothing on stdout.
pub fn assert_refused(out: &Output, want: &str, what: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{what}: {err}");
    assert_eq!(err.lines().count(), 1, "{what}: {err}");
    assert!(err.starts_with("plateau: error:"), "{what}: {err}");
    assert!(err.contains(want), "{what}: '{err}' lacks '{want}'");
    assert!(out.stdout.is_empty(), "{what}: something on stdout");
}

/// A results-store line (`results.jsonl`) of a finished `gaussian-field` denoising run at size
/// `n`, width 16: test MSE `test` with standard error `se`, exact floor `floor`.
pub fn field_store_line(id: &str, n: u64, test: f64, se: f64, floor: f64) -> serde_json::Value {
    serde_json::json!({
        "id": id, "index": 0, "sweep": "synthetic", "status": "ok",
        "params": {"train_size": n, "channels": 16},
        "metrics": {
            "task": "denoise", "data": "gaussian-field", "model": "unet", "pools": 2,
            "image_size": 32, "noise_std": 0.1, "field_exponent": 2.0, "field_cutoff": 0.05,
            "field_std": 0.25, "batch_size": 16, "lr": 1e-3, "epochs": 30, "early_stop": 6,
            "val_size": 128, "test_size": 512,
            "train_size": n, "channels": 16, "seed": 0, "best_val_psnr": 25.0,
            "test_mse": test, "test_mse_stderr": se, "floor_mse": floor, "status": "ok"
        },
        "error": null, "seconds": 1.0, "host": "h", "finished_unix": 0
    })
}
