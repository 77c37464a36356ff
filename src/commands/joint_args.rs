//! The flags of the joint law in `N` and `P` that `plateau fit --model joint` and
//! `plateau plan --input --p` share: the column of `P`, the family and the loss.

use std::path::Path;

use anyhow::{bail, Result};

use crate::commands::curve_args::CsvColumns;
use crate::fit::joint::loss::HUBER_DELTA;
use crate::fit::joint::table::{read_table, TableColumns, TableGroup};
use crate::fit::joint::table_fit::{FamilyAsk, TableFitOptions};
use crate::fit::joint::{Family, Loss};
use crate::fit::BootstrapOptions;

/// `--family`: a family of joint laws, or `auto`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum FamilyArg {
    /// `E + A N^-alpha + B P^-beta`.
    Additive,
    /// `E + ((A N^-alpha)^(1/q) + (B P^-beta)^(1/q))^q`.
    PowerMean,
    /// The family that best predicts the held-out large-N, large-P corner.
    Auto,
}

impl From<FamilyArg> for FamilyAsk {
    fn from(arg: FamilyArg) -> FamilyAsk {
        match arg {
            FamilyArg::Additive => FamilyAsk::Given(Family::Additive),
            FamilyArg::PowerMean => FamilyAsk::Given(Family::PowerMean),
            FamilyArg::Auto => FamilyAsk::Auto,
        }
    }
}

/// `--loss`: the loss on the log residuals of the joint fit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, strum::IntoStaticStr)]
#[value(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum LossArg {
    /// Least squares.
    Squares,
    /// Huber's loss (robust to outliers; threshold --huber-delta).
    Huber,
}

/// The joint law's flags.
#[derive(Debug, clap::Args)]
pub struct JointArgs {
    /// Column of the parameter count P: fit the joint law E + A N^-alpha + B P^-beta (alpha on
    /// --x, beta on --p; docs/capacity.md).
    #[arg(long, value_name = "COLUMN")]
    pub p: Option<String>,
    /// Joint law family: additive, power_mean, or auto (the one that best predicts the
    /// held-out large-N, large-P corner).
    #[arg(long, value_enum, default_value = "auto", value_name = "FAMILY")]
    pub family: FamilyArg,
    /// Loss on the log residuals of the joint fit: squares or huber (robust to outliers).
    #[arg(long, value_enum, default_value = "squares", value_name = "LOSS")]
    pub loss: LossArg,
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
        let changed = self.family != FamilyArg::Auto
            || self.loss != LossArg::Squares
            || self.huber_delta.is_some();
        if self.p.is_none() && changed {
            bail!("--family, --loss and --huber-delta are for the joint law: {what}");
        }
        Ok(())
    }

    /// The fit's settings, with the bootstrap `bootstrap`.
    ///
    /// # Errors
    /// A bad `--huber-delta`, or one given without `--loss huber` (it would be ignored; one
    /// line).
    pub fn options(&self, bootstrap: BootstrapOptions) -> Result<TableFitOptions> {
        if self.huber_delta.is_some() && self.loss != LossArg::Huber {
            bail!("--huber-delta is Huber's threshold: use it with --loss huber");
        }
        Ok(TableFitOptions {
            family: self.family.into(),
            loss: Loss::parse(self.loss.into(), self.huber_delta.unwrap_or(HUBER_DELTA))?,
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
