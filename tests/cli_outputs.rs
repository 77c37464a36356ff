//! Output files as a shared cluster and a shell pipeline see them: `--out` never replaces a
//! symbolic link or a special file, `--out -` is standard output, new files get the umask's
//! mode and overwritten ones keep theirs (results.jsonl: `sweep::store`'s tests).
#![cfg(unix)]

use crate::common;

use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Output};

use common::{assert_ok, command, plateau, words};

/// A quick `plateau theory` (analytic, one size) writing to `out`.
fn theory_args(out: &str) -> Vec<&str> {
    let mut args = words("theory --d 2 --n 8 --sigma 0.1 --train-sizes 4,16 --analytic --out");
    args.push(out);
    args
}

/// Runs `plateau args...` through `sh` with the given umask.
fn with_umask(umask: &str, args: &[&str]) -> Output {
    let exe = env!("CARGO_BIN_EXE_plateau");
    Command::new("sh")
        .arg("-c")
        .arg(format!("umask {umask} && exec \"$0\" \"$@\""))
        .arg(exe)
        .args(args)
        .output()
        .expect("sh runs")
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

fn ok(out: &Output) {
    assert_ok(out, "plateau theory");
}

/// Checks that `text` is the theory CSV (its header).
fn assert_theory_csv(text: &str) {
    assert!(text.starts_with("d,n,sigma"), "{text}");
}

/// A new file gets the umask's mode; an overwritten one keeps its own, even under a stricter
/// umask.
#[test]
fn a_new_file_gets_the_umask_mode_an_overwritten_one_keeps_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("022", None, 0o644),
        ("002", None, 0o664),
        ("077", None, 0o600),
        ("077", Some(0o664), 0o664),
    ];
    for (umask, existing, want) in cases {
        let p = dir.path().join(format!("u{umask}-{existing:?}.csv"));
        if let Some(existing) = existing {
            std::fs::write(&p, "old\n").unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(existing)).unwrap();
        }
        ok(&with_umask(umask, &theory_args(p.to_str().unwrap())));
        assert_eq!(mode(&p), want, "umask {umask}, existing mode {existing:?}");
        assert_theory_csv(&std::fs::read_to_string(&p).unwrap());
    }
}

#[test]
fn a_symbolic_link_stays_a_link_and_its_target_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("real.csv");
    let link = dir.path().join("link.csv");
    std::fs::write(&target, "old\n").unwrap();
    std::os::unix::fs::symlink(&target, &link).unwrap();
    ok(&plateau(&theory_args(link.to_str().unwrap())));
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_theory_csv(&std::fs::read_to_string(&target).unwrap());
}

#[test]
fn a_fifo_is_written_through_not_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    ok(&plateau(&theory_args(fifo.to_str().unwrap())));
    assert_theory_csv(&reader.join().unwrap());
    assert!(std::fs::symlink_metadata(&fifo)
        .unwrap()
        .file_type()
        .is_fifo());
    // No temporary file left beside it.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn out_dash_is_standard_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = command()
        .current_dir(dir.path())
        .args(theory_args("-"))
        .output()
        .unwrap();
    ok(&out);
    assert_theory_csv(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn a_folder_as_out_is_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = plateau(&theory_args(dir.path().to_str().unwrap()));
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("is a folder"), "{err}");
}
