//! `plateau fit`: fit scaling laws to the curves of a CSV file and print a JSON array, one
//! object per group (see [`crate::fit::FitReport`] and `docs/fits.md`).

use std::path::PathBuf;

use anyhow::{bail, Context, Result};

use crate::fit::backtest::{fit_curve_backtested, SelectBy};
use crate::fit::input::GroupBy;
use crate::fit::{read_curves, BootstrapOptions, CsvOptions, FitOptions, Method, ModelChoice};
use crate::output::write_stdout;

/// Arguments of `plateau fit`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// CSV file with a header (default layout: the output of `plateau theory`).
    #[arg(long, value_name = "FILE.csv")]
    pub input: PathBuf,
    /// Column of the training-set size N.
    #[arg(long, default_value = "N", value_name = "COLUMN")]
    pub x: String,
    /// Column of the risk fitted.
    #[arg(long, default_value = "mean", value_name = "COLUMN")]
    pub y: String,
    /// Column(s), comma-separated, that split the file into curves [default: estimator when
    /// present, else the whole file is one group "all"].
    #[arg(long, value_name = "COLUMN[,COLUMN...]")]
    pub group: Option<String>,
    /// Model: power (R = beta N^alpha), saturating (R = a N^-b + c), broken (smoothly broken
    /// power law) or auto (detect the steep segment, choose by AICc).
    #[arg(long, default_value = "auto", value_name = "MODEL")]
    pub model: String,
    /// Fit only the points with LO <= x <= HI (one end may be left empty).
    #[arg(long, value_name = "LO:HI", allow_hyphen_values = true)]
    pub range: Option<String>,
    /// Bootstrap: auto, draws, parametric, residuals or none.
    #[arg(long, default_value = "auto", value_name = "METHOD")]
    pub bootstrap: String,
    /// Bootstrap replicates.
    #[arg(long, default_value_t = 1000, value_name = "B")]
    pub reps: usize,
    /// Seed of the bootstrap generator.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Extrapolation points, comma-separated (the JSON keys are written as given).
    #[arg(long, default_value = "1e5,1e6,1e7", value_name = "X[,X...]")]
    pub at: String,
    /// Also refit on the points with N <= max/4, predict the larger N held out, and report the
    /// errors and interval coverage per model ("backtest" in the JSON; docs/fits.md).
    #[arg(long)]
    pub backtest: bool,
    /// How --model auto chooses: aicc (in-sample) or backtest (held-out extrapolation error).
    #[arg(long, value_enum, default_value = "aicc")]
    pub select: SelectBy,
}

/// Parses `LO:HI` (one side may be empty for no limit) into an inclusive range.
///
/// # Errors
/// No colon, a side that is not a number, a non-positive bound, or `LO >= HI`.
pub fn parse_range(s: &str) -> Result<[f64; 2]> {
    let bad = || format!("invalid --range '{s}': expected LO:HI with 0 < LO < HI, e.g. 8:24");
    let Some((lo, hi)) = s.split_once(':') else {
        bail!(bad());
    };
    let side = |t: &str, default: f64| -> Result<f64> {
        let t = t.trim();
        if t.is_empty() {
            return Ok(default);
        }
        let v: f64 = t.parse().with_context(bad)?;
        if v.is_nan() || v <= 0.0 {
            bail!(bad());
        }
        Ok(v)
    };
    if lo.trim().is_empty() && hi.trim().is_empty() {
        bail!(bad());
    }
    let (lo, hi) = (side(lo, 0.0)?, side(hi, f64::INFINITY)?);
    if lo >= hi {
        bail!(bad());
    }
    Ok([lo, hi])
}

/// Parses the extrapolation points.
fn parse_at(s: &str) -> Result<Vec<(String, f64)>> {
    s.split(',')
        .map(|t| {
            let t = t.trim();
            match t.parse::<f64>() {
                Ok(v) if v.is_finite() && v > 0.0 => Ok((t.to_string(), v)),
                _ => bail!("invalid --at value '{t}': expected positive numbers such as 1e5,1e6"),
            }
        })
        .collect()
}

/// Runs `plateau fit`.
///
/// # Errors
/// Bad arguments or input (one line, printed by `main`).
pub fn run(args: &Args) -> Result<()> {
    let model: ModelChoice = args.model.parse()?;
    let method: Method = args.bootstrap.parse()?;
    let range = args.range.as_deref().map(parse_range).transpose()?;
    let at = parse_at(&args.at)?;
    let group = match &args.group {
        None => GroupBy::Default,
        Some(g) => {
            let cols: Vec<String> = g.split(',').map(|c| c.trim().to_string()).collect();
            if cols.iter().any(|c| c.is_empty()) {
                bail!("invalid --group '{g}': expected column names separated by commas");
            }
            GroupBy::Columns(cols)
        }
    };
    let csv = CsvOptions {
        x: args.x.clone(),
        y: args.y.clone(),
        group,
    };
    let curves = read_curves(&args.input, &csv)?;
    for w in &curves.warnings {
        eprintln!("plateau: warning: {w}");
    }
    let opts = FitOptions {
        model,
        range,
        bootstrap: BootstrapOptions {
            method,
            reps: args.reps,
            seed: args.seed,
        },
        at,
    };
    let reports = curves
        .groups
        .iter()
        .map(|g| fit_curve_backtested(&g.name, &g.curve, &opts, args.backtest, args.select))
        .collect::<Result<Vec<_>>>()?;
    let json = serde_json::to_string_pretty(&reports).context("cannot serialise the report")?;
    write_stdout(format!("{json}\n").as_bytes())
}
