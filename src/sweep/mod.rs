//! Batch sweeps: a TOML grid of `plateau train` runs ([`config`]), run one cell per child
//! process on this machine ([`local`]) or as a Slurm job array ([`slurm`]), recorded in an
//! append-only, lock-protected JSON-lines store ([`store`]). The analysis of a store lives in
//! [`crate::analysis`]. User documentation: `docs/sweeps.md`.

pub mod config;
pub mod local;
pub mod slurm;
pub mod store;

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Result;

pub use config::{Cell, Param, SweepConfig};
pub use store::{Record, Store};

/// Where each cell of a sweep stands.
#[derive(Clone, Debug, Default)]
pub struct Status {
    /// Cells in the config.
    pub cells: usize,
    /// Finished with status `ok`.
    pub ok: usize,
    /// Finished with another training status (`diverged`).
    pub other: usize,
    /// Running here (its lock is held) or, per `squeue`, on the cluster.
    pub running: usize,
    /// Waiting in the Slurm queue.
    pub queued: usize,
    /// Last attempt failed and nothing runs it now: `(cell, error)`; a rerun retries them.
    pub failed: Vec<(Cell, String)>,
    /// Not started, or interrupted (a checkpoint exists) and nothing runs it now.
    pub pending: usize,
    /// Unfinished cells with a checkpoint (resumed by the next run).
    pub partial: usize,
    /// Lines of `results.jsonl` that do not parse.
    pub bad_lines: Vec<usize>,
    /// Slurm job ids submitted for this folder, and whether `squeue` answered.
    pub jobs: Vec<String>,
    /// `squeue` answered (false: missing or controller down; queue counts are then unknown).
    pub queue_known: bool,
}

impl Status {
    /// Cells finished for good (`ok` or another training status).
    pub fn done(&self) -> usize {
        self.ok + self.other
    }

    /// One-line summary: `4 cells: 3 done (3 ok), 1 failed, 0 running, 0 queued, 0 pending`.
    pub fn line(&self) -> String {
        format!(
            "{} cells: {} done ({} ok), {} failed, {} running, {} queued, {} pending",
            self.cells,
            self.done(),
            self.ok,
            self.failed.len(),
            self.running,
            self.queued,
            self.pending
        )
    }
}

/// Summarises a results folder against its config: the store, cell locks held on this machine
/// and, when jobs were submitted, `squeue`.
///
/// # Errors
/// The store cannot be read.
pub fn status(cfg: &SweepConfig, results: &Path) -> Result<Status> {
    let store = Store::new(results);
    let loaded = store.load()?;
    let jobs = slurm::job_ids(results);
    let queue = slurm::queued_tasks(&jobs);
    let mut st = Status {
        cells: cfg.cells.len(),
        bad_lines: loaded.bad_lines.clone(),
        queue_known: queue.is_some(),
        jobs,
        ..Status::default()
    };
    let queue: BTreeMap<usize, String> = queue.unwrap_or_default();
    for cell in &cfg.cells {
        let rec = loaded.records.get(&cell.id);
        if let Some(r) = rec.filter(|r| r.finished()) {
            if r.status == "ok" {
                st.ok += 1;
            } else {
                st.other += 1;
            }
            continue;
        }
        let dir = local::cell_dir(results, cell);
        let locked = dir.is_dir() && store::FileLock::acquire(&dir.join("lock"), false)?.is_none();
        match queue.get(&cell.index).map(String::as_str) {
            _ if locked => st.running += 1,
            Some("RUNNING" | "COMPLETING" | "CONFIGURING") => st.running += 1,
            Some(_) => st.queued += 1,
            None => match rec {
                Some(r) => st
                    .failed
                    .push((cell.clone(), r.error.clone().unwrap_or_default())),
                None => {
                    st.pending += 1;
                    if dir.join("state.json").exists() {
                        st.partial += 1;
                    }
                }
            },
        }
    }
    Ok(st)
}
