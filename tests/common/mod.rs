//! What the integration tests share: running the `plateau` binary.
#![allow(dead_code)] // each test file uses a part

use std::process::{Command, Output};

/// A `plateau` command (the binary cargo built for these tests).
pub fn command() -> Command {
    Command::new(env!("CARGO_BIN_EXE_plateau"))
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
