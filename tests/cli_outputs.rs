//! Output files as a shared cluster and a shell pipeline see them: `--out` never replaces a
//! symbolic link or a special file, `--out -` is standard output, new files get the umask's
//! mode and overwritten ones keep theirs (results.jsonl included).
#![cfg(unix)]

mod common;

use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Output};

use common::{command, plateau};

/// A quick `plateau theory` (analytic, one size) writing to `out`.
fn theory_args(out: &str) -> Vec<String> {
    [
        "theory",
        "--d",
        "2",
        "--n",
        "8",
        "--sigma",
        "0.1",
        "--train-sizes",
        "4,16",
        "--analytic",
        "--out",
        out,
    ]
    .map(String::from)
    .to_vec()
}

/// Runs `plateau args...` through `sh` with the given umask.
fn with_umask(umask: &str, args: &[String]) -> Output {
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
    assert!(
        out.status.success(),
        "status {:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_new_file_gets_the_umask_mode() {
    let dir = tempfile::tempdir().unwrap();
    for (umask, want) in [("022", 0o644), ("002", 0o664), ("077", 0o600)] {
        let p = dir.path().join(format!("u{umask}.csv"));
        ok(&with_umask(umask, &theory_args(p.to_str().unwrap())));
        assert_eq!(mode(&p), want, "umask {umask}");
    }
}

#[test]
fn an_overwritten_file_keeps_its_mode() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("shared.csv");
    std::fs::write(&p, "old\n").unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o664)).unwrap();
    // A stricter umask than the file's mode: the file's mode wins.
    ok(&with_umask("077", &theory_args(p.to_str().unwrap())));
    assert_eq!(mode(&p), 0o664);
    assert!(std::fs::read_to_string(&p)
        .unwrap()
        .starts_with("d,n,sigma"));
}

#[test]
fn a_symbolic_link_stays_a_link_and_its_target_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("real.csv");
    let link = dir.path().join("link.csv");
    std::fs::write(&target, "old\n").unwrap();
    std::os::unix::fs::symlink(&target, &link).unwrap();
    ok(&plateau(
        &theory_args(link.to_str().unwrap())
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    ));
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(std::fs::read_to_string(&target)
        .unwrap()
        .starts_with("d,n,sigma"));
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
    ok(&plateau(
        &theory_args(fifo.to_str().unwrap())
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    ));
    assert!(reader.join().unwrap().starts_with("d,n,sigma"));
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
    assert!(String::from_utf8(out.stdout)
        .unwrap()
        .starts_with("d,n,sigma"));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn a_folder_as_out_is_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = plateau(
        &theory_args(dir.path().to_str().unwrap())
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("is a folder"), "{err}");
}

#[test]
fn results_jsonl_keeps_its_mode_after_a_torn_line_rewrite() {
    use plateau::sweep::store::{Appended, Record, Store};
    let dir = tempfile::tempdir().unwrap();
    let store = Store::new(dir.path());
    // A line cut short by a crash: the next append rewrites the file without it.
    std::fs::write(store.path(), "{\"id\":\"00000000000000").unwrap();
    std::fs::set_permissions(store.path(), std::fs::Permissions::from_mode(0o664)).unwrap();
    let rec = Record {
        id: "0123456789abcdef".into(),
        index: 0,
        sweep: "s".into(),
        status: "ok".into(),
        params: serde_json::Map::new(),
        metrics: None,
        error: None,
        seconds: 1.0,
        host: "h".into(),
        finished_unix: 0,
    };
    assert!(matches!(store.append(&rec).unwrap(), Appended::Rewritten));
    assert_eq!(mode(&store.path()), 0o664);
    assert_eq!(
        std::fs::read_to_string(store.path())
            .unwrap()
            .lines()
            .count(),
        1
    );
}
