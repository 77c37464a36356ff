//! `plateau scaling`: the empirical scaling curve of a sweep's results against the predicted
//! floor (see [`crate::analysis::scaling`]).
//!
//! For each group of runs (one learning problem) writes, into `--out`:
//! `scaling_<tag>.{png,svg}` (test error), `scaling_<tag>_excess.{png,svg}` (excess over the
//! floor, log-log) and `scaling_<tag>_psnr.{png,svg}` (PSNR), see [`crate::figures::scaling`];
//! for denoising of synthetic Gaussian data they also show the predicted risk of learned linear
//! estimators on the same data ([`crate::analysis::linear_theory`]; on `subspace` pictures
//! PCA and early-stopped gradient descent of the paper's model,
//! [`crate::analysis::subspace_theory`]); for denoising of real images they show the linear
//! Gaussian theory of the data's own spectrum, read from a `plateau spectrum` run
//! (`--linear-theory DIR`, by default `<results>/spectrum` when it exists;
//! [`crate::analysis::spectrum_theory`]): tuned ridge and early-stopped GD learned from `N`
//! examples and the best linear map (LMMSE), with a sentence on where the network stands
//! against it (stderr, and `linear_theory` in the JSON); `scaling_<tag>.csv` (every run:
//! `N,width,seed,test_mse,val_metric,oracle_test_mse,best,id`) and `scaling_<tag>.json` (the
//! group summary: best width per `N`, the fit with 95% bootstrap intervals, the fitted floor over
//! `floor_mse`, extrapolation to `N = 1e6`; with `--backtest` the backtest of the best-width
//! curve, [`crate::fit::backtest`]); prints a JSON array of the summaries on stdout.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use serde::Serialize;

use crate::analysis::band::fit_band_floored;
use crate::analysis::capacity::{analyse_capacity, capacity_text, Capacity, CapacityModel};
use crate::analysis::scaling::{
    analyse, check_group_floor, points_csv, GroupSummary, EXTRAPOLATE_TO,
};
use crate::analysis::spectrum_theory::{self, DataSpectrum, LinearStanding};
use crate::analysis::{linear_theory, subspace_theory, PredictedCurve, PredictedLevel};
use crate::figures::capacity::{width_chart, SurfaceFigure};
use crate::figures::chart::render_figure;
use crate::figures::scaling::{group_grid, scaling_views, Predicted};
use crate::fit::backtest::{backtest, Backtest};
use crate::fit::{BootstrapOptions, Curve};
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
    /// Also backtest each best-width curve: fit N <= max/4, predict the larger N
    /// ("backtest" in the JSON; docs/fits.md).
    #[arg(long)]
    pub backtest: bool,
    /// A `plateau spectrum --out DIR` folder of the same data (real-image denoising): draw its
    /// learned-linear curves and best linear map beside the network [default: RESULTS/spectrum
    /// when it holds a predictions.csv].
    #[arg(long, value_name = "DIR")]
    pub linear_theory: Option<PathBuf>,
}

/// A group's summary as written: [`GroupSummary`], the joint law in `(N, P)` and what follows
/// from it ([`Capacity`]: `joint_fit`, `optimal_width`, `doubling_gain_db`, ...) and, when
/// asked, its backtest.
#[derive(Serialize)]
pub struct ScalingReport {
    /// The curve.
    #[serde(flatten)]
    pub summary: GroupSummary,
    /// The joint law over sizes and widths.
    #[serde(flatten)]
    pub capacity: Capacity,
    /// The backtest of the best-width curve.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backtest: Option<Backtest>,
    /// Real-image denoising with a spectrum run: the measured curve against the best linear
    /// map and the learned linear maps at its largest `N`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub linear_theory: Option<LinearStanding>,
}

/// Bootstrap of the figures' bands (as the fit's).
const BAND_BOOTSTRAP: BootstrapOptions = BootstrapOptions {
    method: crate::fit::Method::Auto,
    reps: 500,
    seed: 0,
};

/// Runs `plateau scaling`.
///
/// # Errors
/// No `results.jsonl`, no finished `ok` run in it, or an unwritable output folder.
pub fn run(args: &Args) -> Result<()> {
    crate::output::check_folder(&args.out)?;
    crate::output::check_stdout()?;
    let groups = scaling_with(
        &args.results,
        &args.out,
        args.backtest,
        args.linear_theory.as_deref(),
    )?;
    let json = serde_json::to_string_pretty(&groups).context("cannot serialise the summary")?;
    write_stdout(format!("{json}\n").as_bytes())
}

/// Analyses the store in `results` and writes each group's figure, CSV and JSON into `out`;
/// returns the summaries.
///
/// # Errors
/// As [`run`].
pub fn scaling(results: &Path, out: &Path) -> Result<Vec<GroupSummary>> {
    Ok(scaling_with(results, out, false, None)?
        .into_iter()
        .map(|r| r.summary)
        .collect())
}

/// [`scaling`], with the backtest of each best-width curve when `with_backtest`, and the linear
/// theory of the spectrum run `linear` (by default `results/spectrum` when present,
/// [`spectrum_theory::find`]).
///
/// # Errors
/// As [`run`]; an unreadable spectrum run, or one named in `linear` that matches no curve.
pub fn scaling_with(
    results: &Path,
    out: &Path,
    with_backtest: bool,
    linear: Option<&Path>,
) -> Result<Vec<ScalingReport>> {
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
    // Measured points far below an exact floor: a bug upstream, before any file is written.
    for g in &groups {
        check_group_floor(g)?;
    }
    let spectrum = spectrum_theory::find(results, linear)?;
    if let (Some(s), Some(_)) = (&spectrum, linear) {
        spectrum_theory::check_used(s, &groups)?;
    }
    groups
        .into_iter()
        .map(|g| {
            let s = spectrum.as_ref().filter(|s| s.matches(&g.key.problem));
            group_report(g, s, out, with_backtest)
        })
        .collect()
}

/// One curve's figures, CSV and JSON in `out`, its summary on stderr, and its report; `spectrum`
/// is the spectrum run of its data, if any.
fn group_report(
    g: GroupSummary,
    spectrum: Option<&DataSpectrum>,
    out: &Path,
    with_backtest: bool,
) -> Result<ScalingReport> {
    let (curves, levels) = predictions(&g, spectrum)?;
    let curve = Curve::new(
        &g.best.iter().map(|b| b.n).collect::<Vec<_>>(),
        &g.best.iter().map(|b| b.test_mse).collect::<Vec<_>>(),
    )?;
    let stem = out.join(format!("scaling_{}", g.tag));
    let extra = Predicted {
        curves: &curves,
        levels: &levels,
    };
    scaling_figures(&g, extra, &curve, &stem)?;
    let bt = with_backtest
        .then(|| optional_backtest(&g, &curve))
        .flatten();
    let cap = analyse_capacity(&g, &BAND_BOOTSTRAP);
    if let Some(model) = &cap.model {
        capacity_figures(&g, model, &cap.report, out)?;
    }
    let r = ScalingReport {
        linear_theory: spectrum.and_then(|s| spectrum_theory::standing(&g, s)),
        summary: g,
        capacity: cap.report,
        backtest: bt,
    };
    write_atomic(&with_ext(&stem, "csv"), points_csv(&r.summary).as_bytes())?;
    let json = serde_json::to_string_pretty(&r).context("cannot serialise the summary")?;
    write_atomic(&with_ext(&stem, "json"), (json + "\n").as_bytes())?;
    report(&r.summary, &stem);
    if let Some(s) = &r.linear_theory {
        for line in spectrum_theory::standing_text(s).lines() {
            eprintln!("plateau: {}", line.trim_start());
        }
    }
    for line in capacity_text(&r.capacity).lines() {
        eprintln!("plateau: {line}");
    }
    Ok(r)
}

/// The predictions beside a curve: the learned linear estimators' curves and, with
/// `spectrum`, its curves and the best linear map's level.
fn predictions(
    g: &GroupSummary,
    spectrum: Option<&DataSpectrum>,
) -> Result<(Vec<PredictedCurve>, Vec<PredictedLevel>)> {
    let mut curves = predicted(g)?;
    let levels: Vec<PredictedLevel> = spectrum
        .map(|s| PredictedLevel {
            label: spectrum_theory::BEST_LINEAR_LABEL.into(),
            mse: s.best_linear_map.value,
            band: Some((s.best_linear_map.ci95[0], s.best_linear_map.ci95[1])),
        })
        .into_iter()
        .collect();
    curves.extend(spectrum.map(DataSpectrum::curves).unwrap_or_default());
    Ok((curves, levels))
}

/// The views of [`scaling_views`] as `stem<suffix>.{png,svg}`.
fn scaling_figures(
    g: &GroupSummary,
    extra: Predicted<'_>,
    curve: &Curve,
    stem: &Path,
) -> Result<()> {
    // The shaded interval of the fit; a fit whose bootstrap fails is drawn without it.
    let band = g.fit.as_ref().and_then(|f| {
        let c_min = g.floor.as_ref().map_or(0.0, |f| f.floor_bound);
        fit_band_floored(curve, f.model, &group_grid(g), &BAND_BOOTSTRAP, c_min).ok()
    });
    for (suffix, chart) in scaling_views(g, extra, band.as_ref()) {
        let mut name = stem.as_os_str().to_owned();
        name.push(suffix);
        chart.render(Path::new(&name))?;
    }
    Ok(())
}

/// The backtest of the best curve; `None` with a warning when it cannot be done.
fn optional_backtest(g: &GroupSummary, curve: &Curve) -> Option<Backtest> {
    backtest(curve, &BAND_BOOTSTRAP)
        .inspect_err(|e| eprintln!("plateau: warning: {}: no backtest: {e:#}", g.label))
        .ok()
}

/// The predicted curves of learned linear estimators on the group's data, where theory has
/// them: PCA and early-stopped GD of the paper's model on `subspace` pictures, tuned ridge and
/// early-stopped GD of the Gaussian model on `gaussian-field` images (denoising, and MRI with
/// one fixed mask and complex input).
fn predicted(g: &GroupSummary) -> Result<Vec<PredictedCurve>> {
    let lo = g.points.iter().map(|p| p.n).fold(f64::INFINITY, f64::min);
    if let Some(setup) = subspace_theory::setup_of(&g.key.problem)? {
        return subspace_theory::curves(&setup, lo, EXTRAPOLATE_TO);
    }
    let model = match &g.mask_columns {
        Some(columns) => linear_theory::mri_model_of(&g.key.problem, columns)?,
        None => linear_theory::model_of(&g.key.problem)?,
    };
    match model {
        Some(model) => linear_theory::curves(&model, lo, EXTRAPOLATE_TO),
        None => Ok(Vec::new()),
    }
}

/// `capacity_<tag>.{png,svg}` (error against N per width) and `capacity_<tag>_surface.{png,svg}`
/// (the fitted surface), see [`crate::figures::capacity`].
fn capacity_figures(
    g: &GroupSummary,
    model: &CapacityModel,
    cap: &Capacity,
    out: &Path,
) -> Result<()> {
    let stem = out.join(format!("capacity_{}", g.tag));
    width_chart(g, model).render(&stem)?;
    let corner = cap
        .joint_fit
        .as_ref()
        .and_then(|f| f.selection.as_ref())
        .map(|s| [s.n_from, s.p_from]);
    let surface = SurfaceFigure {
        title: format!("Joint law {}: {}", model.law.family, g.label),
        model,
        corner,
    };
    render_figure(
        &surface,
        (1200, 800),
        &out.join(format!("capacity_{}_surface", g.tag)),
    )
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
                .map(
                    |(k, v)| match fit.identified.get(k).and_then(|i| i.reason.as_ref()) {
                        Some(why) => format!("{k} not identified ({why})"),
                        None => format!("{k} = {v:.4e}"),
                    }
                )
                .collect::<Vec<_>>()
                .join(", "),
            fit.extrapolation.get("1e6").copied().unwrap_or(f64::NAN),
            g.floor
                .as_ref()
                .and_then(|f| f.fitted_floor_over_floor)
                .map_or("-".into(), |r| format!("{r:.4}"))
        );
        if let Some(f) = &g.floor {
            if let Some(c) = f.free_floor.filter(|&c| c < f.floor_bound) {
                let floor = f.floor_mse;
                let c = if c <= 1e-9 * floor {
                    "0".into()
                } else {
                    format!("{c:.3e}")
                };
                eprintln!(
                    "plateau:   the free fit's floor {c} is below the exact floor {floor:.3e}: \
                     it is not used"
                );
            }
        }
    } else if let Some(note) = &g.fit_note {
        eprintln!("plateau:   no fit: {note}");
    }
    let below_floor = g.floor.as_ref().map_or(0, |f| f.below_floor);
    if below_floor > 0 {
        eprintln!(
            "plateau: warning: {below_floor} run(s) below floor_mse ({} below the Bayes denoiser \
             on the same test images): test-set noise, or a wrong floor",
            g.below_oracle
        );
    }
}
