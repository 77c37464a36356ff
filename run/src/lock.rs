//! One run per output folder: `plateau train --out DIR` holds an exclusive lock on
//! `DIR/.train.lock` from the moment it creates the folder until it exits, so a second run on
//! the same folder is refused (one line naming the holder, exit 2) instead of overwriting the
//! first one's files.
//!
//! The lock is `flock(2)` (std's file locks on Unix), held by the open file description: the
//! kernel releases it when the process ends however it ends, so a killed run leaves no stale
//! lock, and `--resume` after a crash just takes it again. The file also names its holder
//! (process id, host, start time) for the message. It is a different file from the sweep's
//! `DIR/lock` of a cell (which the sweep holds while its trainer runs in the folder), and it is
//! never removed: removing a lock file lets two processes lock two different files.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};

/// The lock file's name inside the output folder.
pub const LOCK_FILE: &str = ".train.lock";

/// The exclusive lock on an output folder; released when dropped (or when the process ends).
#[derive(Debug)]
pub struct OutLock {
    _file: File,
    path: PathBuf,
}

impl OutLock {
    /// Creates `dir` if needed and locks it without waiting.
    ///
    /// # Errors
    /// Another process holds the lock (one line: the folder and who holds it), or the folder
    /// or its lock file cannot be created.
    pub fn acquire(dir: &Path) -> Result<OutLock> {
        crate::files::create_folder(dir)?;
        let path = dir.join(LOCK_FILE);
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .with_context(|| format!("cannot open lock file {}", path.display()))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Err(held(dir, &mut file)),
            Err(TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("cannot lock {}", path.display()))
            }
        }
        let since = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let who = format!(
            "plateau train, process {} on {}, started at unix time {since}\n",
            std::process::id(),
            host_name()
        );
        file.set_len(0)
            .and_then(|()| file.seek(SeekFrom::Start(0)))
            .and_then(|_| file.write_all(who.as_bytes()))
            .with_context(|| format!("cannot write lock file {}", path.display()))?;
        Ok(OutLock { _file: file, path })
    }

    /// Refuses, creating nothing, when another process holds `dir`'s lock: the early check
    /// before a run loads its data ([`OutLock::acquire`] decides when the folder is created).
    ///
    /// # Errors
    /// The lock is held (one line: the folder and who holds it), or cannot be tested.
    pub fn check_free(dir: &Path) -> Result<()> {
        let path = dir.join(LOCK_FILE);
        let Ok(mut file) = File::open(&path) else {
            return Ok(());
        };
        match file.try_lock_shared() {
            Ok(()) => Ok(()),
            Err(TryLockError::WouldBlock) => Err(held(dir, &mut file)),
            Err(TryLockError::Error(e)) => {
                Err(e).with_context(|| format!("cannot lock {}", path.display()))
            }
        }
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The refusal for a held lock, naming the holder that `file` records.
fn held(dir: &Path, file: &mut File) -> anyhow::Error {
    let mut holder = String::new();
    let _ = file.read_to_string(&mut holder);
    let holder = match holder.trim() {
        "" => "another process",
        h => h,
    };
    anyhow::anyhow!(
        "--out {} is in use by another run ({holder}); wait for it to end or choose another \
         folder",
        dir.display()
    )
}

/// This machine's name (`/proc/sys/kernel/hostname`), or `?`.
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "?".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// flock locks belong to open file descriptions, so a second open in the same process
    /// conflicts exactly as a second process would.
    #[test]
    fn a_second_lock_on_the_same_folder_is_refused_naming_the_holder() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("run");
        let first = OutLock::acquire(&dir).unwrap();
        let err = OutLock::acquire(&dir).unwrap_err().to_string();
        assert!(err.contains("is in use by another run"), "{err}");
        assert!(
            err.contains(&format!("process {}", std::process::id())),
            "{err}"
        );
        let early = OutLock::check_free(&dir).unwrap_err().to_string();
        assert!(early.contains("is in use by another run"), "{early}");
        drop(first);
        OutLock::check_free(&dir).unwrap();
        let again = OutLock::acquire(&dir).unwrap();
        assert_eq!(again.path(), dir.join(LOCK_FILE));
    }
}
