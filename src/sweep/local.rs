//! Running cells on this machine: each cell is a child process
//! `plateau train <flags> --out DIR/cells/<id> [--resume]`, so a crash of one run cannot take
//! the sweep down, and the sweep needs to know nothing of `plateau train` beyond its flags.
//!
//! Crash safety: a cell holds an exclusive lock on `DIR/cells/<id>/lock` while it runs (the
//! child inherits it), so two sweeps on the same store never run the same cell at once; the
//! child is killed by the kernel when the sweep dies (`PR_SET_PDEATHSIG`), so a killed sweep
//! leaves no orphan writing to the cell folder; a rerun resumes a cell from its checkpoint
//! (`state.json`) and records without rerunning a cell whose `metrics.json` was written before the
//! kill.

use std::collections::VecDeque;
use std::fmt;
use std::io::{IsTerminal, Read, Seek, SeekFrom, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};

use super::config::{Cell, SweepConfig};
use plateau_run::record::RunRecord;

use super::store::{host_name, Appended, FileLock, Loaded, Record, Store, FAILED};
use crate::output::progress;

/// Bytes of the run's log kept in a failed line.
const ERROR_TAIL: u64 = 2000;

/// What became of one cell.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// Already finished in the store: skipped.
    Done,
    /// Another process holds the cell's lock.
    Busy,
    /// Ran (or was recovered from its folder) and was recorded with this status.
    Recorded(String),
}

/// Counts of a local sweep.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Cells in the config.
    pub cells: usize,
    /// Finished before this sweep started.
    pub skipped: usize,
    /// Recorded with status `ok` by this sweep.
    pub ok: usize,
    /// Recorded with another training status (`diverged`).
    pub other: usize,
    /// Recorded as failed by this sweep.
    pub failed: usize,
}

/// The cell's folder: `DIR/cells/<id>`.
pub fn cell_dir(results: &Path, cell: &Cell) -> PathBuf {
    results.join("cells").join(&cell.id)
}

/// How many cells run at once on this machine, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Slots {
    /// `n >= 1` cells at once (`--jobs`), each child with `OMP_NUM_THREADS=1` unless the
    /// variable is set.
    Jobs(usize),
    /// One cell per listed GPU (`--gpus`): a child sees only its GPU
    /// (`CUDA_VISIBLE_DEVICES=K`) and trains with `--device cuda`.
    Gpus(Vec<u32>),
}

impl Slots {
    /// Checks the slots against the cells of `cfg`.
    ///
    /// # Errors
    /// One line: `--jobs 0`, no or a repeated GPU, or (`--gpus`) a cell that is not on cuda.
    pub fn validate(&self, cfg: &SweepConfig) -> Result<()> {
        match self {
            Slots::Jobs(n) => anyhow::ensure!(*n >= 1, "--jobs must be at least 1"),
            Slots::Gpus(ids) => {
                anyhow::ensure!(!ids.is_empty(), "--gpus needs at least one GPU index");
                let mut sorted = ids.clone();
                sorted.sort_unstable();
                sorted.dedup();
                anyhow::ensure!(sorted.len() == ids.len(), "--gpus lists a GPU twice");
                if let Some(c) = cfg.cells.iter().find(|c| !c.on_cuda()) {
                    anyhow::bail!(
                        "--gpus runs cells on cuda, but cell {} ({}) is not (set device = \"cuda\" \
                         in the config, or use --jobs)",
                        c.index,
                        c.label()
                    );
                }
            }
        }
        Ok(())
    }

    /// Cells at once.
    fn count(&self) -> usize {
        match self {
            Slots::Jobs(n) => *n,
            Slots::Gpus(ids) => ids.len(),
        }
    }

    /// The GPU of slot `i`, if the slots are GPUs.
    fn gpu(&self, i: usize) -> Option<u32> {
        match self {
            Slots::Jobs(_) => None,
            Slots::Gpus(ids) => Some(ids[i]),
        }
    }
}

/// What the workers of [`run_all`] share.
struct Shared<'a> {
    summary: Summary,
    busy: Vec<&'a Cell>,
    error: Option<anyhow::Error>,
}

/// The cells of `cfg` not finished in the store, in index order.
pub fn unfinished<'a>(cfg: &'a SweepConfig, loaded: &Loaded) -> Vec<&'a Cell> {
    cfg.cells
        .iter()
        .filter(|c| !loaded.records.get(&c.id).is_some_and(Record::finished))
        .collect()
}

/// Runs every unfinished cell of `cfg`, `Slots::count` at a time (cells are handed out in
/// index order, each to the next free slot), with a progress bar. Cells another process is
/// running are waited for at the end (and then usually found finished). Concurrent cells record
/// through the store's lock as concurrent sweeps do.
///
/// # Errors
/// The results folder cannot be written (a failing cell is not an error: it is recorded); the
/// other slots finish their cells, no new cell starts.
pub fn run_all(cfg: &SweepConfig, store: &Store, exe: &Path, slots: &Slots) -> Result<Summary> {
    slots.validate(cfg)?;
    let loaded = store.load()?;
    report_bad_lines(store, &loaded.bad_lines);
    let todo = unfinished(cfg, &loaded);
    let summary = Summary {
        cells: cfg.cells.len(),
        skipped: cfg.cells.len() - todo.len(),
        ..Summary::default()
    };
    let skipped = summary.skipped;
    let sweep = LocalSweep {
        cfg,
        store,
        exe,
        slots,
        progress: Lines::new(cfg.cells.len(), skipped),
        shared: Mutex::new(Shared {
            summary,
            busy: Vec::new(),
            error: None,
        }),
    };
    if skipped > 0 {
        sweep.progress.say(format!(
            "plateau: {} of {} cells already in {}",
            skipped,
            cfg.cells.len(),
            store.path().display()
        ));
    }
    sweep.pass(todo, false);
    let busy = std::mem::take(&mut lock(&sweep.shared).busy);
    sweep.pass(busy, true);
    sweep.progress.bar.finish_and_clear();
    let shared = sweep
        .shared
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner);
    match shared.error {
        Some(e) => Err(e),
        None => Ok(shared.summary),
    }
}

/// The progress bar of a local sweep, and its message lines (above the bar on a terminal).
struct Lines {
    bar: indicatif::ProgressBar,
    tty: bool,
}

impl Lines {
    /// A bar over `cells` cells, `done` of them already finished.
    fn new(cells: usize, done: usize) -> Lines {
        let bar = progress(cells as u64, "cells");
        bar.set_position(done as u64);
        Lines {
            bar,
            tty: std::io::stderr().is_terminal(),
        }
    }

    /// Prints `line` on stderr.
    fn say(&self, line: String) {
        if self.tty {
            self.bar.println(line);
        } else {
            eprintln!("{line}");
        }
    }
}

/// A local sweep in progress: what its slots share.
struct LocalSweep<'a> {
    cfg: &'a SweepConfig,
    store: &'a Store,
    exe: &'a Path,
    slots: &'a Slots,
    progress: Lines,
    shared: Mutex<Shared<'a>>,
}

impl<'a> LocalSweep<'a> {
    /// Runs `cells` on every slot at once; with `wait`, waits for cells locked elsewhere.
    fn pass(&self, cells: Vec<&'a Cell>, wait: bool) {
        let queue = Mutex::new(VecDeque::from(cells));
        std::thread::scope(|scope| {
            for slot in 0..self.slots.count() {
                let queue = &queue;
                scope.spawn(move || self.work(queue, slot, wait));
            }
        });
    }

    /// One slot: takes cells from `queue` until it is empty or a slot hit an error.
    fn work(&self, queue: &Mutex<VecDeque<&'a Cell>>, slot: usize, wait: bool) {
        loop {
            if lock(&self.shared).error.is_some() {
                break;
            }
            let Some(cell) = lock(queue).pop_front() else {
                break;
            };
            self.progress
                .bar
                .set_message(format!("cell {}", cell.index));
            let started = Instant::now();
            let gpu = self.slots.gpu(slot);
            match run_cell(self.cfg, cell, self.store, self.exe, wait, gpu) {
                Ok(outcome) => self.tally(cell, &outcome, started),
                Err(e) => {
                    lock(&self.shared).error.get_or_insert(e);
                    break;
                }
            }
        }
    }

    /// Counts `outcome` of `cell` (started at `started`) and reports it.
    fn tally(&self, cell: &'a Cell, outcome: &Outcome, started: Instant) {
        let mut sh = lock(&self.shared);
        match outcome {
            Outcome::Busy => {
                self.progress.say(format!(
                    "plateau: cell {} ({}) is running in another process; will wait for it",
                    cell.index,
                    cell.label()
                ));
                sh.busy.push(cell);
                return;
            }
            Outcome::Done => sh.summary.skipped += 1,
            Outcome::Recorded(s) if s == "ok" => sh.summary.ok += 1,
            Outcome::Recorded(s) if s == FAILED => sh.summary.failed += 1,
            Outcome::Recorded(_) => sh.summary.other += 1,
        }
        drop(sh);
        if let Outcome::Recorded(status) = outcome {
            self.progress.say(format!(
                // 0-based like every other message and `--cell`.
                "plateau: cell {} of {} {status} ({}) {:.1} s",
                cell.index,
                self.cfg.cells.len(),
                cell.label(),
                started.elapsed().as_secs_f64()
            ));
        }
        self.progress.bar.inc(1);
    }
}

/// Locks `m`, also after a panic in another worker (the counts stay usable).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn report_bad_lines(store: &Store, bad: &[usize]) {
    if !bad.is_empty() {
        eprintln!(
            "plateau: warning: {} line(s) of {} do not parse and are ignored (line {:?}; a write \
             cut short by a crash); the next recorded cell rewrites the file without them",
            bad.len(),
            store.path().display(),
            bad
        );
    }
}

/// Runs one cell unless it is finished or running elsewhere (with `wait`, waits for the other
/// process instead), and records the result; with `gpu = Some(K)` the run sees only GPU `K`
/// and trains on it (`CUDA_VISIBLE_DEVICES=K`, `--device cuda`).
///
/// # Errors
/// The cell folder or the store cannot be written, or the child cannot be started.
pub fn run_cell(
    cfg: &SweepConfig,
    cell: &Cell,
    store: &Store,
    exe: &Path,
    wait: bool,
    gpu: Option<u32>,
) -> Result<Outcome> {
    let dir = cell_dir(store.dir(), cell);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let Some(lock) = FileLock::acquire(&dir.join("lock"), wait)? else {
        return Ok(Outcome::Busy);
    };
    // Checked under the cell's lock: whoever held it may have just finished the cell.
    if store
        .load()?
        .records
        .get(&cell.id)
        .is_some_and(Record::finished)
    {
        return Ok(Outcome::Done);
    }
    let started = Instant::now();
    let metrics_path = dir.join("metrics.json");
    let (metrics, failure) = match read_metrics(&metrics_path) {
        // Finished before the sweep was killed, not yet recorded: record it as it is.
        Some(m) => (Some(m), None),
        None => {
            let exit = spawn(cell, &dir, exe, &lock, gpu)?;
            match (Failure::of(exit), read_metrics(&metrics_path)) {
                (None, Some(m)) => (Some(m), None),
                (None, None) => (None, Some(Failure::NoMetrics)),
                (Some(why), _) => (None, Some(why)),
            }
        }
    };
    let rec = record(
        cfg,
        cell,
        metrics,
        failure.map(|f| f.explained(&dir)),
        started,
    );
    let status = rec.status.clone();
    match store.append(&rec)? {
        Appended::AlreadyFinished => Ok(Outcome::Done),
        Appended::Appended | Appended::Rewritten => Ok(Outcome::Recorded(status)),
    }
}

/// Why a cell's run is recorded as failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Failure {
    /// The trainer exited with this non-zero status.
    Status(i32),
    /// The trainer was killed by a signal.
    Killed(ExitStatus),
    /// The trainer exited with status 0 but wrote no `metrics.json` that parses.
    NoMetrics,
}

impl Failure {
    /// Why the trainer that ended with `exit` failed; `None` for status 0.
    fn of(exit: ExitStatus) -> Option<Failure> {
        if exit.success() {
            return None;
        }
        Some(match exit.code() {
            Some(c) => Failure::Status(c),
            None => Failure::Killed(exit),
        })
    }

    /// The `error` of the cell's line: the reason and the tail of the log in `dir`.
    fn explained(self, dir: &Path) -> String {
        let tail = log_tail(&dir.join("log.txt"));
        if tail.is_empty() {
            self.to_string()
        } else {
            format!("{self}; output tail: {tail}")
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Status(c) => write!(f, "plateau train exited with status {c}"),
            Failure::Killed(status) => write!(f, "plateau train was killed ({status})"),
            Failure::NoMetrics => f.write_str("the run exited without metrics.json"),
        }
    }
}

/// The results line of `cell`: its run record (`None`: failed, with `error`), run since
/// `started`.
fn record(
    cfg: &SweepConfig,
    cell: &Cell,
    metrics: Option<RunRecord>,
    error: Option<String>,
    started: Instant,
) -> Record {
    let status = match &metrics {
        Some(m) => m.results.status.name().to_string(),
        None => FAILED.to_string(),
    };
    Record {
        id: cell.id.clone(),
        index: cell.index,
        sweep: cfg.name.clone(),
        status,
        params: cell.params_json(),
        metrics,
        error,
        seconds: started.elapsed().as_secs_f64(),
        host: host_name(),
        finished_unix: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
    }
}

/// The run record a cell wrote, `None` when there is none or it does not parse (the cell is
/// then recorded as failed and retried).
fn read_metrics(path: &Path) -> Option<RunRecord> {
    let text = std::fs::read_to_string(path).ok()?;
    serde_json::from_str(&text).ok()
}

/// Runs the trainer `exe` (`plateau-train`) with the cell's flags and `--out dir`, output
/// appended to `dir/log.txt`, on GPU `gpu` if given, and returns how it exited.
///
/// # Errors
/// The log cannot be opened or written, or the trainer cannot be started.
fn spawn(
    cell: &Cell,
    dir: &Path,
    exe: &Path,
    lock: &FileLock,
    gpu: Option<u32>,
) -> Result<ExitStatus> {
    let log_path = dir.join("log.txt");
    let mut log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .with_context(|| format!("cannot open {}", log_path.display()))?;
    let args = train_argv(cell, dir, gpu);
    writeln!(log, "=== plateau train {}", args.join(" ")).context("cannot write the cell log")?;
    let mut cmd = Command::new(exe);
    // On a shared 2-core machine, 2 spinning OpenMP threads ran an epoch 5x slower than 1
    // thread (README, Sweeps).
    one_torch_thread(&mut cmd);
    if let Some(k) = gpu {
        cmd.env("CUDA_VISIBLE_DEVICES", k.to_string());
    }
    cmd.args(&args)
        .stdin(Stdio::null())
        .stdout(log.try_clone().context("cannot share the cell log")?)
        .stderr(log);
    die_with_sweep(&mut cmd, lock);
    cmd.status()
        .with_context(|| format!("cannot run {}", exe.display()))
}

/// The trainer's arguments for `cell` in `dir`: its flags (`--device cuda` on a GPU slot),
/// `--out dir`, and `--resume` when the folder has a checkpoint.
fn train_argv(cell: &Cell, dir: &Path, gpu: Option<u32>) -> Vec<String> {
    let resume = dir.join("state.json").exists();
    let mut args = cell.train_args();
    if gpu.is_some() {
        // The one visible GPU is `cuda` (= `cuda:0`) whatever index the config named.
        if let Some(i) = args.iter().position(|a| a == "--device") {
            args[i + 1] = "cuda".into();
        }
    }
    args.push("--out".into());
    args.push(dir.display().to_string());
    if resume {
        args.push("--resume".into());
    }
    args
}

/// Makes the child of `cmd` die with the sweep and inherit the cell's `lock`.
fn die_with_sweep(cmd: &mut Command, lock: &FileLock) {
    let lock_fd = lock.raw_fd();
    // SAFETY: the closure only makes async-signal-safe system calls (getpid-family, prctl,
    // fcntl) between fork and exec.
    let parent = std::process::id() as libc::pid_t;
    unsafe {
        cmd.pre_exec(move || {
            // Die with the sweep: without this a killed sweep leaves the run going, and a rerun
            // would resume the same folder while the orphan still writes to it.
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            if libc::getppid() != parent {
                // The sweep died before prctl took effect.
                libc::_exit(137);
            }
            // Keep the cell lock across exec (it is opened close-on-exec): it stays held until
            // both processes are gone.
            let flags = libc::fcntl(lock_fd, libc::F_GETFD);
            if flags < 0 || libc::fcntl(lock_fd, libc::F_SETFD, flags & !libc::FD_CLOEXEC) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// The last [`ERROR_TAIL`] bytes of the log's last attempt, lines joined by ` | `.
fn log_tail(path: &Path) -> String {
    let Ok(mut f) = std::fs::File::open(path) else {
        return String::new();
    };
    let len = f.metadata().map_or(0, |m| m.len());
    let _ = f.seek(SeekFrom::Start(len.saturating_sub(ERROR_TAIL)));
    let mut buf = Vec::new();
    let _ = f.read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf);
    let last = text.rsplit("=== plateau ").next().unwrap_or(&text);
    // The first line is the command line.
    crate::text::join_lines(last.lines().skip(1), " | ")
}

/// Sets `OMP_NUM_THREADS=1` for `command`'s process unless the environment sets it: one
/// LibTorch thread for a child that shares the cores with others (a sweep's `--jobs` cells, the
/// integration tests' `plateau train` runs), whose spinning OpenMP workers would otherwise
/// compete.
pub fn one_torch_thread(command: &mut Command) -> &mut Command {
    if std::env::var_os("OMP_NUM_THREADS").is_none() {
        command.env("OMP_NUM_THREADS", "1");
    }
    command
}

#[cfg(test)]
mod tests {
    use std::os::unix::process::ExitStatusExt;

    use super::*;

    /// The `error` of a failed cell's line names how the trainer ended, then its last attempt's
    /// output.
    #[test]
    fn failures_say_how_the_run_ended() {
        assert_eq!(Failure::of(ExitStatus::from_raw(0)), None);
        let status = Failure::of(ExitStatus::from_raw(3 << 8)).unwrap();
        assert_eq!(status, Failure::Status(3));
        assert_eq!(status.to_string(), "plateau train exited with status 3");
        let killed = Failure::of(ExitStatus::from_raw(libc::SIGKILL)).unwrap();
        assert!(matches!(killed, Failure::Killed(_)), "{killed:?}");
        assert!(
            killed
                .to_string()
                .starts_with("plateau train was killed (signal: 9"),
            "{killed}"
        );
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            Failure::NoMetrics.explained(dir.path()),
            "the run exited without metrics.json"
        );
        std::fs::write(
            dir.path().join("log.txt"),
            "=== plateau train --seed 0\nold\n=== plateau train --seed 0 --resume\n a \n\nb\n",
        )
        .unwrap();
        assert_eq!(
            status.explained(dir.path()),
            "plateau train exited with status 3; output tail: a | b"
        );
    }
}
