//! `plateau scaling`: the empirical scaling curve of a sweep's results against the predicted
//! floor (see [`crate::analysis::scaling`]).
//!
//! For each group of runs (one learning problem) writes, into `--out`:
//! `scaling_<tag>.{png,svg}` (the figure; for denoising of synthetic Gaussian data it also shows
//! the predicted risk of learned linear estimators on the same data,
//! [`crate::analysis::linear_theory`]), `scaling_<tag>.csv` (every run:
//! `N,width,seed,test_mse,val_metric,oracle_test_mse,best,id`) and `scaling_<tag>.json` (the
//! group summary: best width per `N`, the fit with 95% bootstrap intervals, the fitted floor over
//! `floor_mse`, extrapolation to `N = 1e6`); prints a JSON array of the summaries on stdout.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::analysis::scaling::{analyse, points_csv, GroupSummary, EXTRAPOLATE_TO};
use crate::analysis::{linear_theory, PredictedCurve};
use crate::figures::scaling::scaling_chart;
use crate::output::{write_atomic, write_stdout};
use crate::sweep::Store;

/// Arguments of `plateau scaling`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Results folder of a sweep (holding results.jsonl).
    #[arg(long, value_name = "DIR")]
    pub results: PathBuf,
    /// Folder for the figures, CSV and JSON.
    #[arg(long, value_name = "FIGDIR", default_value = "figures")]
    pub out: PathBuf,
}

/// Runs `plateau scaling`.
///
/// # Errors
/// No `results.jsonl`, no finished `ok` run in it, or an unwritable output folder.
pub fn run(args: &Args) -> Result<()> {
    let groups = scaling(&args.results, &args.out)?;
    let json = serde_json::to_string_pretty(&groups).context("cannot serialise the summary")?;
    write_stdout(format!("{json}\n").as_bytes())
}

/// Analyses the store in `results` and writes each group's figure, CSV and JSON into `out`;
/// returns the summaries.
///
/// # Errors
/// As [`run`].
pub fn scaling(results: &Path, out: &Path) -> Result<Vec<GroupSummary>> {
    let store = Store::new(results);
    if !store.path().exists() {
        bail!("no {} (run plateau sweep first)", store.path().display());
    }
    let loaded = store.load()?;
    if !loaded.bad_lines.is_empty() {
        eprintln!(
            "plateau: warning: ignoring unparseable line(s) {:?} of {}",
            loaded.bad_lines,
            store.path().display()
        );
    }
    let records: Vec<_> = loaded.records.into_values().collect();
    let groups = analyse(&records)?;
    if groups.is_empty() {
        bail!(
            "no finished run with status ok and a test_mse in {}",
            store.path().display()
        );
    }
    for g in &groups {
        // The learned linear estimator on the same data, where theory has its risk.
        let extra: Vec<PredictedCurve> = match linear_theory::model_of(&g.key.problem)? {
            Some(model) => {
                let lo = g.points.iter().map(|p| p.n).fold(f64::INFINITY, f64::min);
                linear_theory::curves(&model, lo, EXTRAPOLATE_TO)?
            }
            None => Vec::new(),
        };
        let stem = out.join(format!("scaling_{}", g.tag));
        scaling_chart(g, &extra).render(&stem)?;
        write_atomic(&with_ext(&stem, "csv"), points_csv(g).as_bytes())?;
        let json = serde_json::to_string_pretty(g).context("cannot serialise the summary")?;
        write_atomic(&with_ext(&stem, "json"), (json + "\n").as_bytes())?;
        report(g, &stem);
    }
    Ok(groups)
}

/// Appends `.ext` to a stem that may contain dots (`sigma0.1`).
fn with_ext(stem: &Path, ext: &str) -> PathBuf {
    let mut s = stem.as_os_str().to_owned();
    s.push(".");
    s.push(ext);
    PathBuf::from(s)
}

/// One-paragraph summary on stderr, with a warning when a run lies below the floor.
fn report(g: &GroupSummary, stem: &Path) {
    let last = g.best.last();
    eprintln!(
        "plateau: {}: {} runs, {} sizes; at N = {}: test MSE {:.4e} ({} x floor); figure {}.png",
        g.label,
        g.points.len(),
        g.best.len(),
        last.map_or(f64::NAN, |b| b.n),
        last.map_or(f64::NAN, |b| b.test_mse),
        last.and_then(|b| b.over_floor)
            .map_or("?".into(), |r| format!("{r:.4}")),
        stem.display()
    );
    if let Some(fit) = &g.fit {
        eprintln!(
            "plateau:   {} fit: {}; at N = 1e6: {:.4e}; fitted floor / floor_mse = {}",
            fit.model,
            fit.params
                .0
                .iter()
                .map(|(k, v)| format!("{k} = {v:.4e}"))
                .collect::<Vec<_>>()
                .join(", "),
            fit.extrapolation.get("1e6").copied().unwrap_or(f64::NAN),
            g.fitted_floor_over_floor
                .map_or("-".into(), |r| format!("{r:.4}"))
        );
    } else if let Some(note) = &g.fit_note {
        eprintln!("plateau:   no fit: {note}");
    }
    if g.below_floor > 0 {
        eprintln!(
            "plateau: warning: {} run(s) below floor_mse ({} below the Bayes denoiser on the \
             same test images): test-set noise, or a wrong floor",
            g.below_floor, g.below_oracle
        );
    }
}
