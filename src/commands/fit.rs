//! `plateau fit`: fit scaling laws to the curves of a CSV file and print a JSON array, one
//! object per group (see [`crate::fit::FitReport`] and `docs/fits.md`).

use std::path::PathBuf;

use anyhow::{bail, Context, Result};

use crate::commands::curve_args::{BootstrapArgs, CsvColumns};
use crate::commands::joint_args::JointArgs;
use crate::fit::backtest::{fit_curve_backtested, SelectBy};
use crate::fit::joint::table_fit::fit_table;
use crate::fit::{FitOptions, ModelChoice};
use crate::output::write_stdout;

/// Arguments of `plateau fit`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// CSV file with a header (default layout: the output of `plateau theory`).
    #[arg(long, value_name = "FILE.csv")]
    pub input: PathBuf,
    /// The columns of N, the risk and the groups.
    #[command(flatten)]
    pub columns: CsvColumns,
    /// The joint law in N and P (with --model joint).
    #[command(flatten)]
    pub joint: JointArgs,
    /// Model: power (R = beta N^alpha), saturating (R = a N^-b + c), broken (smoothly broken
    /// power law), auto (detect the steep segment, choose by AICc), or joint (the law in N and
    /// the parameter count P of --p).
    #[arg(long, default_value = "auto", value_name = "MODEL")]
    pub model: String,
    /// Fit only the points with LO <= x <= HI (one end may be left empty).
    #[arg(long, value_name = "LO:HI", allow_hyphen_values = true)]
    pub range: Option<String>,
    /// The bootstrap of the intervals.
    #[command(flatten)]
    pub bootstrap: BootstrapArgs,
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
    crate::output::check_stdout()?;
    if args.model == "joint" {
        return run_joint(args);
    }
    if args.joint.p.is_some() {
        bail!("--p is the parameter count of the joint law: use it with --model joint");
    }
    args.joint
        .refuse_unused("use them with --model joint and --p COLUMN")?;
    let model: ModelChoice = args.model.parse()?;
    let bootstrap = args.bootstrap.options()?;
    let range = args.range.as_deref().map(parse_range).transpose()?;
    let at = parse_at(&args.at)?;
    let curves = args.columns.read(&args.input)?;
    let opts = FitOptions {
        model,
        range,
        bootstrap,
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

/// `plateau fit --model joint`: the joint law fitted to each group of the table.
fn run_joint(args: &Args) -> Result<()> {
    let unused = [
        (args.range.is_some(), "--range"),
        (args.backtest, "--backtest"),
        (args.at != "1e5,1e6,1e7", "--at"),
    ];
    if let Some((_, flag)) = unused.iter().find(|(given, _)| *given) {
        bail!("{flag} is for one-axis models; --model joint fits every row (plateau plan --p answers at given cells)");
    }
    let opts = args.joint.options(args.bootstrap.options()?)?;
    let groups = args.joint.read(&args.columns, &args.input)?;
    let reports = groups
        .iter()
        .map(|g| {
            fit_table(g, &opts)
                .map(|f| f.report)
                .with_context(|| format!("group '{}'", crate::text::quote(&g.name)))
        })
        .collect::<Result<Vec<_>>>()?;
    let json = serde_json::to_string_pretty(&reports).context("cannot serialise the report")?;
    write_stdout(format!("{json}\n").as_bytes())
}
