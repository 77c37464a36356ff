//! The Slurm backend: one job array, one task per unfinished cell, each task running
//! `plateau sweep <copy of the config> --results DIR --cell $SLURM_ARRAY_TASK_ID` into the same
//! results store. Slurm does the scheduling; this module only writes the script, submits it and
//! asks `squeue` what is still queued.
//!
//! Files under `DIR/slurm/`: `config-<hash>.toml` (the config as submitted, so that editing the
//! original cannot shift the indices of a queued array), `array.sh` (the last script
//! submitted), `jobs` (one submitted job id per line), `logs/<job>_<task>.out`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use super::config::SweepConfig;
use crate::output::write_atomic;

/// `DIR/slurm`.
pub fn slurm_dir(results: &Path) -> PathBuf {
    results.join("slurm")
}

/// Compresses sorted indices into Slurm's array syntax: `0-3,5,7-9`.
pub fn array_spec(indices: &[usize]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < indices.len() {
        let start = indices[i];
        let mut end = start;
        while i + 1 < indices.len() && indices[i + 1] == end + 1 {
            i += 1;
            end = indices[i];
        }
        if !out.is_empty() {
            out.push(',');
        }
        if end == start {
            let _ = write!(out, "{start}");
        } else {
            let _ = write!(out, "{start}-{end}");
        }
        i += 1;
    }
    out
}

/// Quotes `s` for a POSIX shell.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The array script. `exe`, `config` and `results` must be absolute: the task runs wherever
/// Slurm starts it.
pub fn script(
    cfg: &SweepConfig,
    indices: &[usize],
    exe: &Path,
    config: &Path,
    results: &Path,
) -> String {
    let logs = slurm_dir(results).join("logs");
    let mut s = String::from("#!/bin/bash\n");
    let _ = writeln!(s, "#SBATCH --job-name=plateau-{}", cfg.name);
    let _ = writeln!(s, "#SBATCH --array={}", array_spec(indices));
    let _ = writeln!(s, "#SBATCH --output={}/%A_%a.out", logs.display());
    // Cells on cuda need a GPU each (a cell's process uses one device).
    if indices
        .iter()
        .any(|&i| cfg.cells.get(i).is_some_and(|c| c.on_cuda()))
    {
        let _ = writeln!(s, "#SBATCH --gres=gpu:1");
    }
    for o in &cfg.slurm.options {
        let _ = writeln!(s, "#SBATCH {o}");
    }
    let _ = writeln!(
        s,
        "# Written by `plateau sweep --backend slurm`: one task per cell of the sweep '{}'.\n\
         # LibTorch uses as many threads as the task has CPUs (1 unless --cpus-per-task).\n\
         export OMP_NUM_THREADS=\"${{SLURM_CPUS_PER_TASK:-1}}\"\n\
         exec {} sweep {} --results {} --cell \"$SLURM_ARRAY_TASK_ID\"",
        cfg.name,
        shell_quote(&exe.display().to_string()),
        shell_quote(&config.display().to_string()),
        shell_quote(&results.display().to_string()),
    );
    s
}

/// Writes the config copy and `array.sh` for `indices` and submits it with `sbatch --parsable`;
/// returns the job id, which is also appended to `DIR/slurm/jobs`.
///
/// # Errors
/// A path cannot be made absolute, a file cannot be written, `sbatch` is missing or refuses.
pub fn submit(cfg: &SweepConfig, indices: &[usize], exe: &Path, results: &Path) -> Result<String> {
    let results = std::path::absolute(results)
        .with_context(|| format!("cannot resolve {}", results.display()))?;
    let exe = std::path::absolute(exe).context("cannot resolve the plateau binary's path")?;
    let dir = slurm_dir(&results);
    std::fs::create_dir_all(dir.join("logs"))
        .with_context(|| format!("cannot create {}", dir.display()))?;
    let config = dir.join(format!("config-{}.toml", cfg.text_hash()));
    write_atomic(&config, cfg.text.as_bytes())?;
    let script_path = dir.join("array.sh");
    write_atomic(
        &script_path,
        script(cfg, indices, &exe, &config, &results).as_bytes(),
    )?;
    let out = Command::new("sbatch")
        .arg("--parsable")
        .arg(&script_path)
        .output()
        .context("cannot run sbatch (is Slurm installed and on PATH?)")?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        bail!(
            "sbatch failed ({}): {}",
            out.status,
            err.trim().replace('\n', " | ")
        );
    }
    // --parsable prints `jobid` or `jobid;cluster`.
    let stdout = String::from_utf8_lossy(&out.stdout);
    let job = stdout
        .trim()
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_string();
    if job.is_empty() || !job.chars().all(|c| c.is_ascii_digit()) {
        bail!("sbatch printed no job id: '{}'", stdout.trim());
    }
    let jobs = dir.join("jobs");
    let mut all = std::fs::read_to_string(&jobs).unwrap_or_default();
    all.push_str(&job);
    all.push('\n');
    write_atomic(&jobs, all.as_bytes())?;
    Ok(job)
}

/// The job ids submitted for this results folder, oldest first.
pub fn job_ids(results: &Path) -> Vec<String> {
    std::fs::read_to_string(slurm_dir(results).join("jobs"))
        .unwrap_or_default()
        .lines()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

/// Array tasks of `jobs` still known to `squeue`, as `task index -> state` (`PENDING`,
/// `RUNNING`, ...). `None` when `squeue` is missing or fails (controller down): the caller then
/// says nothing about the queue rather than reporting it empty.
pub fn queued_tasks(jobs: &[String]) -> Option<BTreeMap<usize, String>> {
    if jobs.is_empty() {
        return Some(BTreeMap::new());
    }
    let out = Command::new("squeue")
        .args(["-h", "-r", "-o", "%i %T", "-j", &jobs.join(",")])
        .output()
        .ok()?;
    if !out.status.success() {
        // squeue exits non-zero for job ids it has already forgotten; ask one by one then.
        if jobs.len() > 1 {
            let mut all = BTreeMap::new();
            for j in jobs {
                all.extend(queued_tasks(std::slice::from_ref(j))?);
            }
            return Some(all);
        }
        let err = String::from_utf8_lossy(&out.stderr);
        return err.contains("Invalid job id").then(BTreeMap::new);
    }
    let mut tasks = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        // `%i` with -r prints `<job>_<task>` per array task.
        let mut it = line.split_whitespace();
        let (Some(id), Some(state)) = (it.next(), it.next()) else {
            continue;
        };
        if let Some(task) = id.split_once('_').and_then(|(_, t)| t.parse().ok()) {
            tasks.insert(task, state.to_string());
        }
    }
    Some(tasks)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The config of sweep `name` (denoising the Gaussian field at `N = 4, 8`, `fixed` among
    /// its fixed flags, `more` after its grid) and its script for cells 0 and 1 with the paths
    /// `[exe, config, results]`.
    fn two_cell_script(
        name: &str,
        fixed: &str,
        more: &str,
        [exe, config, results]: [&str; 3],
    ) -> (SweepConfig, String) {
        let toml = format!(
            "[sweep]\nname = \"{name}\"\n[fixed]\ntask = \"denoise\"\ndata = \"gaussian-field\"\n\
             {fixed}\n[grid]\ntrain-size = [4, 8]\n{more}"
        );
        let cfg = SweepConfig::parse(&toml).unwrap();
        let paths = [exe, config, results].map(Path::new);
        let s = script(&cfg, &[0, 1], paths[0], paths[1], paths[2]);
        (cfg, s)
    }

    #[test]
    fn array_specs() {
        assert_eq!(array_spec(&[0, 1, 2, 3]), "0-3");
        assert_eq!(array_spec(&[0, 2, 3, 4, 7]), "0,2-4,7");
        assert_eq!(array_spec(&[5]), "5");
    }

    #[test]
    fn script_runs_one_cell_per_task_with_absolute_quoted_paths() {
        let (_, s) = two_cell_script(
            "s",
            "model = \"unet\"",
            "[slurm]\noptions = [\"--time=00:05:00\"]\n",
            ["/opt/p lateau", "/r/slurm/c.toml", "/r"],
        );
        assert!(s.contains("#SBATCH --array=0-1\n"), "{s}");
        assert!(s.contains("#SBATCH --time=00:05:00\n"), "{s}");
        assert!(
            s.contains("#SBATCH --output=/r/slurm/logs/%A_%a.out\n"),
            "{s}"
        );
        assert!(
            s.contains("exec '/opt/p lateau' sweep '/r/slurm/c.toml' --results '/r' --cell \"$SLURM_ARRAY_TASK_ID\""),
            "{s}"
        );
        assert!(!s.contains("--gres"), "CPU cells ask for no GPU: {s}");
    }

    #[test]
    fn cuda_cells_ask_for_one_gpu_per_task() {
        let (cfg, s) = two_cell_script("g", "device = \"cuda\"", "", ["/p", "/c", "/r"]);
        assert!(cfg.cells.iter().all(|c| c.on_cuda()));
        assert_eq!(s.matches("#SBATCH --gres=gpu:1\n").count(), 1, "{s}");
    }
}
