//! The results of `plateau spectrum` and their files: `spectrum.csv` (`rank,eigenvalue,lo,hi`),
//! `predictions.csv` (`N,estimator,mse,mse_lo,mse_hi`), `summary.json` ([`Summary`]), the figure
//! `spectrum.png` / `.svg`, and `measured.csv` with `--measure-linear`.

use anyhow::{ensure, Context, Result};
use plateau::figures::chart::{Chart, Draw, Series};
use plateau_run::files::write_atomic;
use plotters::style::RGBColor;
use serde::Serialize;

use super::measure::Measured;
use super::SpectrumArgs;
use crate::spectrum::moments::{quantile, Moments};
use crate::spectrum::predict::{model, predictions, within, Estimator, PowerLaw, Prediction};

/// Within this fraction of the floor is "at the floor" (the stdout line).
pub const WITHIN: f64 = 0.1;

/// What `summary.json` holds.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// `--data`.
    pub data: String,
    /// Image side `s`.
    pub image_size: usize,
    /// `gray`, `rgb` or `rgb-split`.
    pub color: String,
    /// Example dimension `n = C s^2`.
    pub dim: usize,
    /// Noise standard deviation (pixel units).
    pub noise_std: f64,
    /// Images in the pool (training split).
    pub pool: usize,
    /// Bootstrap blocks (files, or groups of files).
    pub blocks: usize,
    /// Bootstrap resamples of spectrum.csv and of predictions.csv.
    pub resamples: (usize, usize),
    /// The LMMSE floor (per-pixel MSE) and its 95% bootstrap band.
    pub linear_floor: (f64, f64, f64),
    /// Smallest `N` at which tuned ridge is within [`WITHIN`] of the floor (`null`: not by
    /// `2^40`).
    pub n_within_10_percent: Option<usize>,
    /// Power law fitted to the spectrum.
    pub power_law: Option<PowerLaw>,
}

/// Everything `plateau spectrum` computed.
pub struct Computed {
    /// Eigenvalues of the pooled second moment, largest first.
    pub spectrum: Vec<f64>,
    /// Their 95% bootstrap band per rank.
    pub band: Vec<(f64, f64)>,
    /// The rows of predictions.csv.
    pub predictions: Vec<Prediction>,
    /// The summary.
    pub summary: Summary,
}

/// Spectrum, bootstrap, predictions and fit of the pool `moments`.
///
/// # Errors
/// Constant images (a second moment of rank at most 1), or an invalid spectrum (one line).
pub fn compute(args: &SpectrumArgs, moments: &Moments) -> Result<Computed> {
    let spectrum = moments.eigenvalues();
    let (l1, l2) = (spectrum[0], spectrum.get(1).copied().unwrap_or(0.0));
    ensure!(
        l1 > 0.0 && l2 > 1e-12 * l1,
        "the {} pool images are constant (every image flat, or all alike): their second moment \
         has rank {} (eigenvalues {l1:.3e}, {l2:.3e}, ...), so there is no spectrum to learn from",
        moments.count(),
        usize::from(l1 > 0.0)
    );
    let boot = moments.bootstrap(args.bootstrap, args.seed);
    let band = (0..spectrum.len())
        .map(|r| {
            let v: Vec<f64> = boot.iter().map(|s| s[r]).collect();
            (quantile(&v, 0.025), quantile(&v, 0.975))
        })
        .collect();
    let sigma = args.noise_std;
    let preds = predictions(
        &spectrum,
        &boot[..args.prediction_resamples],
        sigma,
        &args.train_sizes,
    )?;
    let floor = preds
        .iter()
        .find(|p| p.estimator == Estimator::LinearFloor)
        .expect("one floor row per N");
    let summary = Summary {
        data: args.data_name(),
        image_size: args.image_size,
        color: args.color.name().into(),
        dim: moments.dim(),
        noise_std: sigma,
        pool: moments.count(),
        blocks: moments.blocks(),
        resamples: (args.bootstrap, args.prediction_resamples),
        linear_floor: (floor.mse, floor.mse_lo, floor.mse_hi),
        n_within_10_percent: within(&model(&spectrum, sigma)?, WITHIN)?,
        power_law: PowerLaw::fit(&spectrum),
    };
    Ok(Computed {
        spectrum,
        band,
        predictions: preds,
        summary,
    })
}

impl SpectrumArgs {
    /// `--data` as written.
    pub fn data_name(&self) -> String {
        match &self.data {
            plateau_run::problem::DataArg::Subspace => "subspace".into(),
            plateau_run::problem::DataArg::GaussianField => "gaussian-field".into(),
            plateau_run::problem::DataArg::Real(s) => s.to_string(),
        }
    }
}

impl Computed {
    /// The one line on standard output: the floor (MSE, PSNR at range 1, band) and where tuned
    /// ridge comes within 10% of it.
    pub fn line(&self) -> String {
        let s = &self.summary;
        let (f, lo, hi) = s.linear_floor;
        let at = s
            .n_within_10_percent
            .map_or("beyond N = 2^40".into(), |n| format!("at N = {n}"));
        format!(
            "linear floor {f:.4e} MSE ({:.2} dB PSNR; 95% {lo:.4e} to {hi:.4e}); the learned \
             linear map (tuned ridge) comes within 10% of it {at} ({} {}x{} {}, sigma {}, {} images)",
            -10.0 * f.log10(),
            s.data,
            s.image_size,
            s.image_size,
            s.color,
            s.noise_std,
            s.pool
        )
    }
}

fn csv_bytes<T: Serialize>(rows: &[T]) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.serialize(r)?;
    }
    Ok(w.into_inner()?)
}

/// Writes every file into `--out` (created if needed), each atomically.
///
/// # Errors
/// A folder or file that cannot be written (one line).
pub fn write(args: &SpectrumArgs, c: &Computed, measured: Option<&[Measured]>) -> Result<()> {
    let out = &args.out;
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let mut spec = csv::Writer::from_writer(Vec::new());
    spec.write_record(["rank", "eigenvalue", "lo", "hi"])?;
    for (r, (l, (lo, hi))) in c.spectrum.iter().zip(&c.band).enumerate() {
        spec.write_record([
            (r + 1).to_string(),
            format!("{l:.9e}"),
            format!("{lo:.9e}"),
            format!("{hi:.9e}"),
        ])?;
    }
    write_atomic(&out.join("spectrum.csv"), &spec.into_inner()?)?;
    write_atomic(&out.join("predictions.csv"), &csv_bytes(&c.predictions)?)?;
    if let Some(m) = measured {
        write_atomic(&out.join("measured.csv"), &csv_bytes(m)?)?;
    }
    let json = serde_json::to_string_pretty(&c.summary)? + "\n";
    write_atomic(&out.join("summary.json"), json.as_bytes())?;
    figure(c).render(&out.join("spectrum"))
}

/// Eigenvalue against rank (log-log) with its bootstrap band, the fitted power law and the noise
/// variance.
fn figure(c: &Computed) -> Chart {
    let s = &c.summary;
    let ranks = |v: &[f64]| -> Vec<(f64, f64)> {
        v.iter()
            .enumerate()
            .map(|(r, &l)| ((r + 1) as f64, l))
            .collect()
    };
    let blue = RGBColor(31, 119, 180);
    let mut series = vec![
        Series {
            label: format!("95% bootstrap band ({} blocks of files)", s.blocks),
            points: ranks(&c.spectrum),
            errors: Some(c.band.clone()),
            color: blue,
            draw: Draw::Band,
        },
        Series {
            label: "eigenvalues of E[x x^T]".into(),
            points: ranks(&c.spectrum),
            errors: None,
            color: blue,
            draw: Draw::Line,
        },
    ];
    if let Some(p) = &s.power_law {
        series.push(Series {
            label: format!(
                "power law r^-{:.2} (fitted, ranks {}-{})",
                p.exponent, p.first, p.last
            ),
            points: (1..=c.spectrum.len())
                .map(|r| (r as f64, p.at(r as f64)))
                .collect(),
            errors: None,
            color: RGBColor(214, 39, 40),
            draw: Draw::Dashed,
        });
    }
    Chart {
        title: format!(
            "Second-moment spectrum: {} {}x{} {} ({} images)",
            s.data, s.image_size, s.image_size, s.color, s.pool
        ),
        x_label: "rank r".into(),
        y_label: "eigenvalue (pixel units^2)".into(),
        x_log: true,
        y_log: true,
        series,
        hlines: vec![(
            format!("noise variance sigma^2 = {:.3e}", s.noise_std * s.noise_std),
            s.noise_std * s.noise_std,
            RGBColor(90, 90, 90),
        )],
    }
}
