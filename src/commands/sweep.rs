//! `plateau sweep`: run a grid of `plateau train` cells from a TOML config (see
//! `docs/sweeps.md`), on this machine or as a Slurm job array, into `DIR/results.jsonl`.
//!
//! The whole config is validated before anything is written. Rerunning the same command skips
//! finished cells, resumes interrupted ones from their checkpoints and retries failed ones.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::output::write_stdout;
use crate::sweep::local::{self, Outcome};
use crate::sweep::store::FAILED;
use crate::sweep::{slurm, status, Store, SweepConfig};

/// Where cells run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Backend {
    /// One cell after the other on this machine, each a child process.
    Local,
    /// A Slurm job array (`sbatch --array`), one task per unfinished cell.
    Slurm,
}

/// Arguments of `plateau sweep`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Sweep config (TOML; see docs/sweeps.md).
    #[arg(value_name = "CONFIG.toml")]
    pub config: PathBuf,
    /// Results folder [default: results/sweeps/NAME, NAME the sweep's name].
    #[arg(long, value_name = "DIR")]
    pub results: Option<PathBuf>,
    /// Where the cells run.
    #[arg(long, value_enum, default_value = "local")]
    pub backend: Backend,
    /// Run only cell I (0-based index in the config; what each Slurm array task runs).
    #[arg(long, value_name = "I", conflicts_with_all = ["status", "dry_run"])]
    pub cell: Option<usize>,
    /// Summarise done / failed / running / queued / pending cells and exit.
    #[arg(long, conflicts_with = "dry_run")]
    pub status: bool,
    /// Validate the config and list its cells (index, id, parameters); write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Local backend: run K cells at once (each with OMP_NUM_THREADS=1 unless set).
    #[arg(long, value_name = "K", default_value_t = 1, conflicts_with = "gpus")]
    pub jobs: usize,
    /// Local backend: run one cell per listed GPU at once (e.g. 0,1,2,3); each cell sees only
    /// its GPU (CUDA_VISIBLE_DEVICES) and trains with --device cuda. The config's cells must be
    /// on cuda.
    #[arg(long, value_name = "K,K,...", value_delimiter = ',')]
    pub gpus: Option<Vec<u32>>,
}

impl Args {
    /// The local backend's slots from `--jobs` / `--gpus`.
    fn slots(&self) -> local::Slots {
        match &self.gpus {
            Some(ids) => local::Slots::Gpus(ids.clone()),
            None => local::Slots::Jobs(self.jobs),
        }
    }
}

/// The results folder of `cfg` when `--results` is not given: `results/sweeps/<name>`.
pub fn default_results(cfg: &SweepConfig) -> PathBuf {
    Path::new("results").join("sweeps").join(&cfg.name)
}

/// Runs every unfinished cell of the config at `config` on this machine into `results`, `jobs`
/// cells at once (what `plateau reproduce` calls).
///
/// # Errors
/// An invalid config or an unwritable results folder (failed cells are recorded, not errors).
pub fn run_local(config: &Path, results: &Path, jobs: usize) -> Result<local::Summary> {
    let cfg = SweepConfig::load(config)?;
    local::run_all(
        &cfg,
        &Store::new(results),
        &exe()?,
        &local::Slots::Jobs(jobs),
    )
}

/// The trainer each cell runs (`plateau-train`, found as `plateau train` finds it).
fn exe() -> Result<PathBuf> {
    super::external::locate("plateau-train")
}

/// Runs `plateau sweep`.
///
/// # Errors
/// Bad config or arguments (nothing written), an unwritable results folder, `sbatch` failing,
/// or, after every cell was tried, cells that failed.
pub fn run(args: &Args) -> Result<()> {
    let cfg = SweepConfig::load(&args.config)?;
    let results = args
        .results
        .clone()
        .unwrap_or_else(|| default_results(&cfg));
    if args.dry_run {
        return list_cells(&cfg);
    }
    if args.status {
        return print_status(&cfg, &results);
    }
    let store = Store::new(&results);
    if let Some(i) = args.cell {
        return run_one(&cfg, &store, i);
    }
    match args.backend {
        Backend::Local => run_here(&cfg, &store, &args.slots()),
        Backend::Slurm => {
            anyhow::ensure!(
                args.jobs == 1 && args.gpus.is_none(),
                "--jobs and --gpus are for --backend local (a Slurm task runs one cell; cells on \
                 cuda ask for one GPU each)"
            );
            submit(&cfg, &args.config, &store)
        }
    }
}

/// `--dry-run`: the cells on stdout (index, id, parameters), their count on stderr.
fn list_cells(cfg: &SweepConfig) -> Result<()> {
    let mut list = String::new();
    for c in &cfg.cells {
        let _ = writeln!(list, "{}\t{}\t{}", c.index, c.id, c.canonical());
    }
    write_stdout(list.as_bytes())?;
    eprintln!("plateau: {} cells", cfg.cells.len());
    Ok(())
}

/// `--cell I`: runs cell `i` alone (what a Slurm array task does); a failed cell is an error.
fn run_one(cfg: &SweepConfig, store: &Store, i: usize) -> Result<()> {
    let Some(cell) = cfg.cells.get(i) else {
        bail!(
            "--cell {i}: the sweep has {} cells (0..{})",
            cfg.cells.len(),
            cfg.cells.len()
        );
    };
    match local::run_cell(cfg, cell, store, &exe()?, false, None)? {
        Outcome::Done => eprintln!("plateau: cell {i} already finished"),
        Outcome::Busy => {
            eprintln!("plateau: cell {i} is running in another process; left to it");
        }
        Outcome::Recorded(s) if s == FAILED => {
            bail!(
                "cell {i} ({}) failed; recorded in {}",
                cell.label(),
                store.path().display()
            )
        }
        Outcome::Recorded(s) => eprintln!("plateau: cell {i} ({}) {s}", cell.label()),
    }
    Ok(())
}

/// `--backend local`: every unfinished cell on `slots`, then the counts; failed cells are an
/// error.
fn run_here(cfg: &SweepConfig, store: &Store, slots: &local::Slots) -> Result<()> {
    let s = local::run_all(cfg, store, &exe()?, slots)?;
    eprintln!(
        "plateau: sweep {}: {} cells, {} already done, {} ok, {} other status, {} failed; \
         results in {}",
        cfg.name,
        s.cells,
        s.skipped,
        s.ok,
        s.other,
        s.failed,
        store.path().display()
    );
    if s.failed > 0 {
        bail!(
            "{} of {} cells failed (see their 'error' in {}; rerunning retries them)",
            s.failed,
            s.cells,
            store.path().display()
        );
    }
    Ok(())
}

fn submit(cfg: &SweepConfig, config: &Path, store: &Store) -> Result<()> {
    let loaded = store.load()?;
    let todo: Vec<usize> = local::unfinished(cfg, &loaded)
        .iter()
        .map(|c| c.index)
        .collect();
    if todo.is_empty() {
        eprintln!(
            "plateau: all {} cells are finished in {}; nothing submitted",
            cfg.cells.len(),
            store.path().display()
        );
        return Ok(());
    }
    // The array tasks run this `plateau` (`sweep --cell I`), which then finds the trainer.
    let plateau = std::env::current_exe().context("cannot find the plateau binary's own path")?;
    let job = slurm::submit(cfg, &todo, &plateau, store.dir())?;
    // stdout: the job id alone, for scripts.
    write_stdout(format!("{job}\n").as_bytes())?;
    eprintln!(
        "plateau: submitted Slurm job {job}: {} array tasks (script {}); follow with \
         plateau sweep {} --results {} --status",
        todo.len(),
        slurm::slurm_dir(store.dir()).join("array.sh").display(),
        config.display(),
        store.dir().display()
    );
    Ok(())
}

fn print_status(cfg: &SweepConfig, results: &Path) -> Result<()> {
    let st = status(cfg, results)?;
    let mut out = String::new();
    let _ = writeln!(out, "{}: {}", cfg.name, st.line());
    if st.partial > 0 {
        let _ = writeln!(
            out,
            "  {} pending cells have a checkpoint (resumed by the next run)",
            st.partial
        );
    }
    if !st.jobs.is_empty() {
        let _ = writeln!(
            out,
            "  slurm jobs {}{}",
            st.jobs.join(","),
            if st.queue_known {
                ""
            } else {
                " (squeue did not answer: queue state unknown)"
            }
        );
    }
    if !st.bad_lines.is_empty() {
        let _ = writeln!(
            out,
            "  {} unparseable line(s) in results.jsonl (ignored): {:?}",
            st.bad_lines.len(),
            st.bad_lines
        );
    }
    for (cell, err) in &st.failed {
        let err: String = err.chars().take(300).collect();
        let _ = writeln!(
            out,
            "  failed: cell {} ({}) {}: {err}",
            cell.index,
            cell.id,
            cell.label()
        );
    }
    write_stdout(out.as_bytes())
}
