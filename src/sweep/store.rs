//! The results store: `DIR/results.jsonl`, one JSON line per finished cell.
//!
//! Writers (a local sweep, Slurm array tasks, possibly on several nodes of a shared file system)
//! serialise on an exclusive `flock` of `DIR/.results.lock`. Under the lock a writer re-reads the
//! file, so a cell already recorded as finished is never written twice, then appends its line
//! with a single `write` followed by `fsync`. A file whose last line is torn (a crash during a
//! write) or that still holds a failed line of a cell being recorded again is rewritten instead,
//! through a temporary file and a rename, so the file always holds each cell at most once.
//! Readers take no lock: they see either a complete line or a torn one, which they skip and
//! report.
//!
//! Line schema (see `docs/sweeps.md`): `id`, `index`, `sweep`, `status` (`ok`, or the training
//! status such as `diverged`, or `failed` when the run did not produce metrics), `params` (every
//! `plateau train` flag of the cell), `metrics` (the cell's `metrics.json`, or null), `error`
//! (the last lines of the run's output when failed, else null), `seconds` (wall time of this
//! attempt), `host`, `finished_unix` (seconds since 1970).

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use plateau_run::record::RunRecord;
use serde::{Deserialize, Serialize};

use crate::output::write_atomic;

/// Status of a line whose run produced no metrics (crash, bad flags, killed by Slurm). Such
/// cells are retried by the next sweep.
pub const FAILED: &str = "failed";

/// One line of `results.jsonl`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Cell id (16 hex digits, see [`super::config::Cell::id`]).
    pub id: String,
    /// Index of the cell in its config when it ran.
    pub index: usize,
    /// Sweep name.
    pub sweep: String,
    /// `ok`, a training status other than ok (`diverged`), or [`FAILED`].
    pub status: String,
    /// Every `plateau train` flag of the cell.
    pub params: serde_json::Map<String, serde_json::Value>,
    /// The cell's run record (`metrics.json`).
    pub metrics: Option<RunRecord>,
    /// Tail of the run's output when it failed.
    pub error: Option<String>,
    /// Wall time of the attempt, seconds.
    pub seconds: f64,
    /// Host name of the machine that ran it.
    pub host: String,
    /// When the line was written, seconds since the Unix epoch.
    pub finished_unix: u64,
}

impl Record {
    /// Finished for good: a later sweep does not run it again (`ok` or a training status such
    /// as `diverged`, which a rerun would reproduce).
    pub fn finished(&self) -> bool {
        self.status != FAILED
    }
}

/// What [`Store::load`] found.
#[derive(Clone, Debug, Default)]
pub struct Loaded {
    /// One record per cell id: its finished line when there is one, else its latest failed line.
    pub records: BTreeMap<String, Record>,
    /// 1-based numbers of lines that did not parse (a torn last line after a crash).
    pub bad_lines: Vec<usize>,
    /// Lines in the file (parsed or not).
    pub lines: usize,
}

/// A results folder.
#[derive(Clone, Debug)]
pub struct Store {
    dir: PathBuf,
}

/// What [`Store::append`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Appended {
    /// The line was appended.
    Appended,
    /// The file was rewritten with the line (it replaced a failed line or a torn one).
    Rewritten,
    /// The cell was already finished in the file; nothing written.
    AlreadyFinished,
}

/// An exclusive lock on a file (`flock(2)`), released on drop (when the file is closed).
pub struct FileLock {
    file: File,
}

impl FileLock {
    /// Takes the lock on `path` (created if missing); with `wait` false, returns `None` when
    /// another process holds it.
    ///
    /// # Errors
    /// The file cannot be opened or locked.
    pub fn acquire(path: &Path, wait: bool) -> Result<Option<FileLock>> {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .with_context(|| format!("cannot open lock file {}", path.display()))?;
        // std's file locks are `flock(2)` on Unix: held by the open file description, so a
        // child that inherits the descriptor keeps the lock (see `raw_fd`).
        if wait {
            file.lock()
                .with_context(|| format!("cannot lock {}", path.display()))?;
            return Ok(Some(FileLock { file }));
        }
        match file.try_lock() {
            Ok(()) => Ok(Some(FileLock { file })),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(e)) => {
                Err(e).with_context(|| format!("cannot lock {}", path.display()))
            }
        }
    }

    /// The descriptor holding the lock (a child process that inherits it keeps the lock held
    /// until it exits too).
    pub fn raw_fd(&self) -> i32 {
        self.file.as_raw_fd()
    }
}

impl Store {
    /// The store in `dir` (nothing is created until the first write).
    pub fn new(dir: &Path) -> Store {
        Store {
            dir: dir.to_path_buf(),
        }
    }

    /// The results folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `DIR/results.jsonl`.
    pub fn path(&self) -> PathBuf {
        self.dir.join("results.jsonl")
    }

    fn lock_path(&self) -> PathBuf {
        self.dir.join(".results.lock")
    }

    /// Reads the store (missing file: empty). Lines that do not parse are skipped and listed.
    ///
    /// # Errors
    /// The file exists but cannot be read.
    pub fn load(&self) -> Result<Loaded> {
        let text = match std::fs::read(self.path()) {
            Ok(b) => String::from_utf8_lossy(&b).into_owned(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => {
                return Err(e).with_context(|| format!("cannot read {}", self.path().display()))
            }
        };
        Ok(parse(&text))
    }

    /// Records `rec` (see the module documentation for the protocol).
    ///
    /// # Errors
    /// The folder, lock or file cannot be written.
    pub fn append(&self, rec: &Record) -> Result<Appended> {
        std::fs::create_dir_all(&self.dir)
            .with_context(|| format!("cannot create {}", self.dir.display()))?;
        let _lock = FileLock::acquire(&self.lock_path(), true)?.expect("blocking lock");
        let text = match std::fs::read(self.path()) {
            Ok(b) => String::from_utf8_lossy(&b).into_owned(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => {
                return Err(e).with_context(|| format!("cannot read {}", self.path().display()))
            }
        };
        let loaded = parse(&text);
        if loaded.records.get(&rec.id).is_some_and(Record::finished) {
            return Ok(Appended::AlreadyFinished);
        }
        let line = serde_json::to_string(rec).context("cannot serialise a results line")? + "\n";
        let replaces_failed = loaded.records.contains_key(&rec.id);
        let torn = !loaded.bad_lines.is_empty() || !(text.is_empty() || text.ends_with('\n'));
        if replaces_failed || torn {
            // Keep every complete line except this cell's earlier ones, also a line this version
            // cannot read as a `Record` (written by another version: never lose results); drop
            // only torn ones. The rename makes the change all-or-nothing for readers and for a
            // crash.
            let mut out = String::with_capacity(text.len() + line.len());
            for l in text.lines() {
                match serde_json::from_str::<LineId>(l) {
                    Ok(r) if r.id != rec.id => {
                        out.push_str(l);
                        out.push('\n');
                    }
                    _ => {}
                }
            }
            out.push_str(&line);
            write_atomic(&self.path(), out.as_bytes())?;
            return Ok(Appended::Rewritten);
        }
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.path())
            .with_context(|| format!("cannot open {}", self.path().display()))?;
        // One write of the whole line: with O_APPEND it lands after every earlier line.
        file.write_all(line.as_bytes())
            .and_then(|()| file.sync_all())
            .with_context(|| format!("cannot write {}", self.path().display()))?;
        Ok(Appended::Appended)
    }
}

/// The one field every complete line has, whatever version wrote it.
#[derive(Deserialize)]
struct LineId {
    id: String,
}

fn parse(text: &str) -> Loaded {
    let mut loaded = Loaded::default();
    for (i, l) in text.lines().enumerate() {
        loaded.lines += 1;
        if l.trim().is_empty() {
            continue;
        }
        let Ok(rec) = serde_json::from_str::<Record>(l) else {
            loaded.bad_lines.push(i + 1);
            continue;
        };
        match loaded.records.get(&rec.id) {
            // A finished line wins over any failed one; the first finished line wins.
            Some(old) if old.finished() => {}
            _ => {
                loaded.records.insert(rec.id.clone(), rec);
            }
        }
    }
    loaded
}

/// This machine's host name (`$HOSTNAME`, `/etc/hostname`, or `unknown`).
pub fn host_name() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|s| s.trim().to_string())
                .filter(|h| !h.is_empty())
        })
        .unwrap_or_else(|| "unknown".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(id: &str, status: &str) -> Record {
        Record {
            id: id.into(),
            index: 0,
            sweep: "t".into(),
            status: status.into(),
            params: serde_json::Map::new(),
            metrics: None,
            error: None,
            seconds: 1.0,
            host: "h".into(),
            finished_unix: 0,
        }
    }

    #[test]
    fn each_cell_once_failed_replaced_torn_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        assert_eq!(store.append(&rec("a", "ok")).unwrap(), Appended::Appended);
        assert_eq!(
            store.append(&rec("a", "ok")).unwrap(),
            Appended::AlreadyFinished
        );
        assert_eq!(store.append(&rec("b", FAILED)).unwrap(), Appended::Appended);
        assert_eq!(store.append(&rec("b", "ok")).unwrap(), Appended::Rewritten);
        // A torn last line, as a crash in the middle of a write would leave.
        let mut f = OpenOptions::new().append(true).open(store.path()).unwrap();
        f.write_all(b"{\"id\":\"c\",\"ind").unwrap();
        let before = store.load().unwrap();
        assert_eq!(before.bad_lines, vec![3]);
        assert_eq!(store.append(&rec("c", "ok")).unwrap(), Appended::Rewritten);
        let text = std::fs::read_to_string(store.path()).unwrap();
        let ids: Vec<String> = text
            .lines()
            .map(|l| serde_json::from_str::<Record>(l).unwrap().id)
            .collect();
        assert_eq!(ids, ["a", "b", "c"]);
        let after = store.load().unwrap();
        assert!(after.bad_lines.is_empty());
        assert!(after.records.values().all(Record::finished));
    }

    #[test]
    fn a_held_lock_is_reported_busy() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("l");
        let held = FileLock::acquire(&p, false).unwrap();
        assert!(held.is_some());
        // flock locks belong to the open file description: a second open conflicts even in the
        // same process.
        assert!(FileLock::acquire(&p, false).unwrap().is_none());
        drop(held);
        assert!(FileLock::acquire(&p, false).unwrap().is_some());
    }

    /// A rewrite (after a torn line) keeps the file's mode, as an overwritten output does.
    #[cfg(unix)]
    #[test]
    fn results_jsonl_keeps_its_mode_after_a_torn_line_rewrite() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        // A line cut short by a crash: the next append rewrites the file without it.
        std::fs::write(store.path(), "{\"id\":\"00000000000000").unwrap();
        std::fs::set_permissions(store.path(), std::fs::Permissions::from_mode(0o664)).unwrap();
        let rec = rec("0123456789abcdef", "ok");
        assert!(matches!(store.append(&rec).unwrap(), Appended::Rewritten));
        let mode = std::fs::metadata(store.path())
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o664);
        assert_eq!(
            std::fs::read_to_string(store.path())
                .unwrap()
                .lines()
                .count(),
            1
        );
    }
}
