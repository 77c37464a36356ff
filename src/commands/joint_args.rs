//! The flags of the joint law in `N` and `P` that `plateau fit --model joint` and
//! `plateau plan --input --p` share: the column of `P`, the family and the loss.

use std::path::Path;

use anyhow::{bail, Result};

use crate::commands::curve_args::CsvColumns;
use crate::fit::joint::loss::HUBER_DELTA;
use crate::fit::joint::table::{read_table, TableColumns, TableGroup};
use crate::fit::joint::table_fit::{FamilyAsk, TableFitOptions};
use crate::fit::joint::Loss;
use crate::fit::BootstrapOptions;

/// The joint law's flags.
#[derive(Debug, clap::Args)]
pub struct JointArgs {
    /// Column of the parameter count P: fit the joint law E + A N^-alpha + B P^-beta (alpha on
    /// --x, beta on --p; docs/capacity.md).
    #[arg(long, value_name = "COLUMN")]
    pub p: Option<String>,
    /// Joint law family: additive, power_mean, or auto (the one that best predicts the
    /// held-out large-N, large-P corner).
    #[arg(long, default_value = "auto", value_name = "FAMILY")]
    pub family: String,
    /// Loss on the log residuals of the joint fit: squares or huber (robust to outliers).
    #[arg(long, default_value = "squares", value_name = "LOSS")]
    pub loss: String,
    /// Where Huber's loss turns from quadratic to linear, in ln R (with --loss huber)
    /// [default: 1e-3].
    #[arg(long, value_name = "DELTA", allow_negative_numbers = true)]
    pub huber_delta: Option<f64>,
}

impl JointArgs {
    /// Refuses joint flags given without `--p` (they would be ignored).
    ///
    /// # Errors
    /// `--family`, `--loss` or `--huber-delta` changed from its default without `--p`.
    pub fn refuse_unused(&self, what: &str) -> Result<()> {
        let changed = self.family != "auto" || self.loss != "squares" || self.huber_delta.is_some();
        if self.p.is_none() && changed {
            bail!("--family, --loss and --huber-delta are for the joint law: {what}");
        }
        Ok(())
    }

    /// The fit's settings, with the bootstrap `bootstrap`.
    ///
    /// # Errors
    /// An unknown family or loss, a bad `--huber-delta`, or one given without `--loss huber`
    /// (it would be ignored; one line).
    pub fn options(&self, bootstrap: BootstrapOptions) -> Result<TableFitOptions> {
        if self.huber_delta.is_some() && self.loss != "huber" {
            bail!("--huber-delta is Huber's threshold: use it with --loss huber");
        }
        Ok(TableFitOptions {
            family: self.family.parse::<FamilyAsk>()?,
            loss: Loss::parse(&self.loss, self.huber_delta.unwrap_or(HUBER_DELTA))?,
            bootstrap,
        })
    }

    /// The groups of the table `input`, whose `N`, error and group columns are in `columns`.
    ///
    /// # Errors
    /// No `--p`, or what [`read_table`] refuses (one line).
    pub fn read(&self, columns: &CsvColumns, input: &Path) -> Result<Vec<TableGroup>> {
        let Some(p) = &self.p else {
            bail!("the joint law needs --p COLUMN (the parameter count of each run)");
        };
        let group = columns.group_by()?;
        let cols = TableColumns {
            x: columns.x.clone(),
            p: p.clone(),
            y: columns.y.clone(),
            group,
        };
        read_table(input, &cols)
    }
}
