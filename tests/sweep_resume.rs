//! `plateau sweep` killed at any moment: SIGKILL while a cell trains, rerun, and the store holds
//! every cell exactly once, all lines parseable; the interrupted cell resumes from its checkpoint
//! and its training process died with the sweep.

use crate::common;

use std::collections::BTreeSet;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use plateau::sweep::store::{FileLock, Record};

use common::command as plateau;

/// Three cells of a few seconds each (enough epochs that the kill lands mid-training).
fn slow_config(dir: &Path) -> PathBuf {
    let path = dir.join("slow.toml");
    std::fs::write(
        &path,
        "[sweep]\nname = \"slow\"\n\
         [fixed]\ntask = \"denoise\"\ndata = \"gaussian-field\"\nmodel = \"unet\"\n\
         image-size = 16\npools = 1\nchannels = 4\nepochs = 20\nearly-stop = 1000\n\
         batch-size = 8\nval-size = 16\ntest-size = 32\n\
         [grid]\ntrain-size = [32, 48, 64]\n",
    )
    .unwrap();
    path
}

/// `plateau sweep CONFIG --results RESULTS`.
fn sweep(config: &Path, results: &Path) -> std::process::Command {
    let mut c = plateau();
    c.arg("sweep").arg(config).arg("--results").arg(results);
    c
}

fn ids_of(config: &Path) -> BTreeSet<String> {
    let out = plateau()
        .arg("sweep")
        .arg(config)
        .arg("--dry-run")
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| l.split('\t').nth(1).unwrap().to_string())
        .collect()
}

fn lines(results: &Path) -> Vec<Record> {
    std::fs::read_to_string(results.join("results.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad line {l:?}: {e}")))
        .collect()
}

/// A cell folder with a checkpoint but no metrics: a cell in flight.
fn in_flight(results: &Path) -> Option<PathBuf> {
    std::fs::read_dir(results.join("cells"))
        .ok()?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.join("state.json").exists() && !p.join("metrics.json").exists())
}

#[test]
fn sigkill_mid_cell_then_rerun_gives_each_cell_once() {
    let tmp = tempfile::tempdir().unwrap();
    let config = slow_config(tmp.path());
    let results = tmp.path().join("res");
    let mut child = sweep(&config, &results)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill once the first cell is recorded and the second has a checkpoint: that exercises
    // both skipping a finished cell and resuming an interrupted one.
    let start = Instant::now();
    let killed_cell = loop {
        assert!(
            start.elapsed() < Duration::from_secs(300),
            "no cell in flight after 300 s"
        );
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the sweep finished ({status}) before it could be killed: cells too fast");
        }
        if !lines(&results).is_empty() {
            if let Some(cell) = in_flight(&results) {
                break cell;
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    child.kill().unwrap(); // SIGKILL
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(libc::SIGKILL));

    // The cell's training process dies with the sweep (it inherited the cell lock: the lock is
    // free only once no process holds it).
    let start = Instant::now();
    loop {
        if FileLock::acquire(&killed_cell.join("lock"), false)
            .unwrap()
            .is_some()
        {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the interrupted cell's training process outlived the sweep"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let before = lines(&results);
    assert!(
        !before.is_empty() && before.len() < 3,
        "{} lines",
        before.len()
    );

    common::assert_ok(&sweep(&config, &results).output().unwrap(), "the rerun");
    let after = lines(&results);
    let ids: Vec<&str> = after.iter().map(|r| r.id.as_str()).collect();
    let unique: BTreeSet<String> = ids.iter().map(|s| s.to_string()).collect();
    assert_eq!(ids.len(), unique.len(), "duplicated cells: {ids:?}");
    assert_eq!(unique, ids_of(&config));
    assert!(after
        .iter()
        .all(|r| r.status == "ok" && r.metrics.is_some()));
    // Lines written before the kill are kept as they were.
    assert_eq!(&after[..before.len()], &before[..]);

    // The interrupted cell ran twice, the second time resuming its checkpoint.
    let log = std::fs::read_to_string(killed_cell.join("log.txt")).unwrap();
    let attempts: Vec<&str> = log
        .lines()
        .filter(|l| l.starts_with("=== plateau"))
        .collect();
    assert_eq!(attempts.len(), 2, "{log}");
    assert!(!attempts[0].ends_with("--resume") && attempts[1].ends_with("--resume"));

    // A third run has nothing to do and writes nothing.
    common::assert_ok(&sweep(&config, &results).output().unwrap(), "the third run");
    assert_eq!(lines(&results), after);
}
