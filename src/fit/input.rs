//! Reading curves from CSV.
//!
//! The default layout is the one `plateau theory` writes,
//! `d,n,sigma,N,estimator,mean,std,runs,k_opt_mean`: one row per `(N, estimator)`, `mean` over
//! `runs` draws, `std` their sample standard deviation. Any CSV with a header works: `x` and `y`
//! name the columns fitted, `group` the column(s) that split the file into curves.
//!
//! Rules:
//! - a row whose `x` or `y` is empty is skipped; a `NaN` or infinite `x` or `y`, or text that is
//!   not a number, is an error naming the line (a curve is never fitted on fewer points than the
//!   file holds without saying so);
//! - several rows with the same `x` in a group are draws at that `x` (the fit uses their mean,
//!   the bootstrap resamples them);
//! - with one row per `x`, columns named `std` and `runs` (when present, finite, `runs >= 2`)
//!   give the standard error of each mean for the parametric bootstrap;
//! - groups keep the order of their first row.

use std::path::Path;

use anyhow::{bail, Context, Result};

use super::Curve;

/// How rows are split into curves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GroupBy {
    /// By `estimator` when the file has that column, else one group named `all`.
    Default,
    /// By the values of these columns (one name: the group is the value; several:
    /// `col1=v1,col2=v2`). A missing column is an error.
    Columns(Vec<String>),
}

/// Which columns to read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsvOptions {
    /// Column of `x` (default `N`).
    pub x: String,
    /// Column of `y` (default `mean`).
    pub y: String,
    /// Grouping.
    pub group: GroupBy,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions {
            x: "N".into(),
            y: "mean".into(),
            group: GroupBy::Default,
        }
    }
}

/// One curve of the file.
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    /// Group name (see [`GroupBy`]).
    pub name: String,
    /// Its points.
    pub curve: Curve,
}

/// What [`read_curves`] found.
#[derive(Clone, Debug, PartialEq)]
pub struct Curves {
    /// The groups, in order of first appearance; groups without a usable row are left out.
    pub groups: Vec<Group>,
    /// Warnings for the user (e.g. a missing group column).
    pub warnings: Vec<String>,
}

fn parse_cell(s: &str, line: u64, col: &str) -> Result<Option<f64>> {
    let t = s.trim();
    if t.is_empty() {
        return Ok(None);
    }
    let v: f64 = t
        .parse()
        .map_err(|_| anyhow::anyhow!("line {line}: column '{col}' has '{t}', not a number"))?;
    if !v.is_finite() {
        bail!(
            "line {line}: column '{col}' is {t}: a fit needs finite values (remove the row, or \
             leave the cell empty to skip it; `theory --analytic` writes inf for least squares \
             at N in {{n-1, n, n+1}})"
        );
    }
    Ok(Some(v))
}

/// Reads the curves of the CSV file at `path`.
///
/// # Errors
/// The file cannot be read or parsed, a named column is missing, a cell of `x` or `y` is not a
/// finite number, or no row has usable `x` and `y`.
pub fn read_curves(path: &Path, opts: &CsvOptions) -> Result<Curves> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let headers = reader
        .headers()
        .with_context(|| format!("cannot read the header of {}", path.display()))?
        .clone();
    let find = |name: &str| headers.iter().position(|h| h == name);
    let columns = || headers.iter().collect::<Vec<_>>().join(", ");
    let ix = find(&opts.x).with_context(|| {
        format!(
            "{} has no column '{}' (columns: {})",
            path.display(),
            opts.x,
            columns()
        )
    })?;
    let iy = find(&opts.y).with_context(|| {
        format!(
            "{} has no column '{}' (columns: {})",
            path.display(),
            opts.y,
            columns()
        )
    })?;
    let warnings = Vec::new();
    let group_cols: Vec<(String, usize)> = match &opts.group {
        GroupBy::Default => find("estimator")
            .map(|i| vec![("estimator".to_string(), i)])
            .unwrap_or_default(),
        GroupBy::Columns(cols) => {
            let mut found = Vec::with_capacity(cols.len());
            for c in cols {
                let i = find(c).with_context(|| {
                    format!(
                        "{} has no column '{c}' to group by (columns: {})",
                        path.display(),
                        columns()
                    )
                })?;
                found.push((c.clone(), i));
            }
            found
        }
    };
    let istd = find("std");
    let iruns = find("runs");
    // Per group: x, y, std, runs.
    type Rows = (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>);
    let mut names: Vec<String> = Vec::new();
    let mut rows: Vec<Rows> = Vec::new();
    for record in reader.records() {
        let record = record.with_context(|| format!("cannot parse {}", path.display()))?;
        let line = record.position().map_or(0, |p| p.line());
        let cell = |i: usize| record.get(i).unwrap_or("");
        let (Some(x), Some(y)) = (
            parse_cell(cell(ix), line, &opts.x)?,
            parse_cell(cell(iy), line, &opts.y)?,
        ) else {
            continue;
        };
        let name = match group_cols.len() {
            0 => "all".to_string(),
            1 => cell(group_cols[0].1).to_string(),
            _ => group_cols
                .iter()
                .map(|(c, i)| format!("{c}={}", cell(*i)))
                .collect::<Vec<_>>()
                .join(","),
        };
        let opt = |i: Option<usize>| {
            i.and_then(|i| cell(i).trim().parse::<f64>().ok())
                .unwrap_or(f64::NAN)
        };
        let g = match names.iter().position(|n| *n == name) {
            Some(g) => g,
            None => {
                names.push(name);
                rows.push(Default::default());
                names.len() - 1
            }
        };
        rows[g].0.push(x);
        rows[g].1.push(y);
        rows[g].2.push(opt(istd));
        rows[g].3.push(opt(iruns));
    }
    if names.is_empty() {
        bail!(
            "{} has no row with numeric '{}' and '{}'",
            path.display(),
            opts.x,
            opts.y
        );
    }
    let mut groups = Vec::new();
    for (name, (xs, ys, std, runs)) in names.into_iter().zip(rows) {
        let mut curve = Curve::new(&xs, &ys).with_context(|| format!("group '{name}'"))?;
        if curve.len() == xs.len() {
            // One row per x: order std and runs like the sorted curve.
            let mut order: Vec<usize> = (0..xs.len()).collect();
            order.sort_by(|&i, &j| xs[i].total_cmp(&xs[j]));
            let s: Vec<f64> = order.iter().map(|&i| std[i]).collect();
            let r: Vec<f64> = order.iter().map(|&i| runs[i]).collect();
            curve = curve.with_std_runs(&s, &r);
        }
        groups.push(Group { name, curve });
    }
    Ok(Curves { groups, warnings })
}
