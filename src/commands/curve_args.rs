//! The flags `plateau fit` and `plateau plan --input` share: which columns of a CSV hold the
//! curves, and how their intervals are bootstrapped.

use std::path::Path;

use anyhow::{bail, Result};

use crate::fit::input::GroupBy;
use crate::fit::{read_curves, BootstrapOptions, CsvOptions, Curves, Method};

/// The CSV layout: the columns of `N`, of the error and of the groups.
#[derive(Debug, clap::Args)]
pub struct CsvColumns {
    /// Column of the training-set size N.
    #[arg(long, default_value = "N", value_name = "COLUMN")]
    pub x: String,
    /// Column of the risk (error) fitted.
    #[arg(long, default_value = "mean", value_name = "COLUMN")]
    pub y: String,
    /// Column(s), comma-separated, that split the file into curves [default: estimator when
    /// present, else the whole file is one group "all"].
    #[arg(long, value_name = "COLUMN[,COLUMN...]")]
    pub group: Option<String>,
}

impl CsvColumns {
    /// The grouping of `--group`.
    ///
    /// # Errors
    /// An empty name in `--group` (one line).
    pub fn group_by(&self) -> Result<GroupBy> {
        Ok(match &self.group {
            None => GroupBy::Default,
            Some(g) => {
                let cols: Vec<String> = g.split(',').map(|c| c.trim().to_string()).collect();
                if cols.iter().any(|c| c.is_empty()) {
                    bail!("invalid --group '{g}': expected column names separated by commas");
                }
                GroupBy::Columns(cols)
            }
        })
    }

    /// The curves of the CSV file `input`; its warnings (skipped rows) go to stderr.
    ///
    /// # Errors
    /// An empty name in `--group`, or what [`read_curves`] refuses (one line).
    pub fn read(&self, input: &Path) -> Result<Curves> {
        let group = self.group_by()?;
        let csv = CsvOptions {
            x: self.x.clone(),
            y: self.y.clone(),
            group,
        };
        let curves = read_curves(input, &csv)?;
        for w in &curves.warnings {
            eprintln!("plateau: warning: {w}");
        }
        Ok(curves)
    }
}

/// Most bootstrap replicates `--reps` accepts: 100 times the default.
pub const MAX_REPS: usize = 100_000;

/// The bootstrap of the intervals.
#[derive(Debug, clap::Args)]
pub struct BootstrapArgs {
    /// How the intervals are bootstrapped (cells: the joint law's, with --p).
    #[arg(long, value_enum, default_value = "auto", value_name = "METHOD")]
    pub bootstrap: Method,
    /// Bootstrap replicates.
    #[arg(long, default_value_t = 1000, value_name = "B")]
    pub reps: usize,
    /// Seed of the bootstrap generator.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

impl BootstrapArgs {
    /// The validated options.
    ///
    /// # Errors
    /// `--reps` above [`MAX_REPS`], or `--reps 0` with a bootstrap (one line).
    pub fn options(&self) -> Result<BootstrapOptions> {
        let method = self.bootstrap;
        // Every replicate is a refit held in memory until the intervals are read: refused
        // before any is allocated (2^64 - 1 aborted on a capacity overflow).
        anyhow::ensure!(
            self.reps <= MAX_REPS,
            "--reps {} is above the bound {MAX_REPS} (each replicate is a refit kept in \
             memory; the default is 1000)",
            self.reps
        );
        if self.reps == 0 && method != Method::None {
            // Zero replicates would give intervals of nothing ("? to ?", NaN dB).
            bail!("--reps 0: a bootstrap needs at least 1 replicate (--bootstrap none for no intervals)");
        }
        Ok(BootstrapOptions {
            method,
            reps: self.reps,
            seed: self.seed,
        })
    }
}
