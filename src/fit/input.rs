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
//!   give the standard error of each mean for the parametric bootstrap; a `std` that is not a
//!   finite number `>= 0`, a `runs` that is not a whole number `>= 0`, or a `std` over fewer
//!   than 2 runs is an error naming the line, and a group where only some rows give `std` is
//!   warned about (the parametric bootstrap is then off);
//! - a header naming a column twice is an error; quoted cells and names are cut at
//!   [`QUOTE_CHARS`](crate::text::QUOTE_CHARS) characters;
//! - groups keep the order of their first row.

use std::path::Path;

use anyhow::{bail, Context, Result};

use super::Curve;
use crate::text::quote;

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

/// The header of a CSV file being read: its column names, checked to be distinct.
pub(crate) struct Header {
    /// The file (for messages).
    path: std::path::PathBuf,
    /// Column names, in order.
    pub names: csv::StringRecord,
}

impl Header {
    /// Opens `path` (cells trimmed) and reads its header.
    ///
    /// # Errors
    /// The file cannot be read, or its header cannot be parsed or names a column twice.
    pub fn open(path: &Path) -> Result<(csv::Reader<std::fs::File>, Header)> {
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_path(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let names = reader
            .headers()
            .with_context(|| format!("cannot read the header of {}", path.display()))?
            .clone();
        if let Some((i, h)) = names
            .iter()
            .enumerate()
            .find(|(i, h)| names.iter().take(*i).any(|g| g == *h))
        {
            bail!(
                "{}: column {} of the header repeats the name '{}' (each column needs its own \
                 name)",
                path.display(),
                i + 1,
                quote(h)
            );
        }
        let path = path.to_path_buf();
        Ok((reader, Header { path, names }))
    }

    fn columns(&self) -> String {
        quote(&self.names.iter().collect::<Vec<_>>().join(", "))
    }

    /// The position of column `name`.
    ///
    /// # Errors
    /// No such column (naming the file and its columns).
    pub fn index(&self, name: &str) -> Result<usize> {
        self.names.iter().position(|h| h == name).with_context(|| {
            format!(
                "{} has no column '{}' (columns: {})",
                self.path.display(),
                quote(name),
                self.columns()
            )
        })
    }

    /// The `(name, position)` of the columns that split the file into groups.
    ///
    /// # Errors
    /// A group column that is missing.
    pub fn group_columns(&self, group: &GroupBy) -> Result<Vec<(String, usize)>> {
        let find = |name: &str| self.names.iter().position(|h| h == name);
        match group {
            GroupBy::Default => Ok(find("estimator")
                .map(|i| vec![("estimator".to_string(), i)])
                .unwrap_or_default()),
            GroupBy::Columns(cols) => cols
                .iter()
                .map(|c| {
                    let i = find(c).with_context(|| {
                        format!(
                            "{} has no column '{}' to group by (columns: {})",
                            self.path.display(),
                            quote(c),
                            self.columns()
                        )
                    })?;
                    Ok((c.clone(), i))
                })
                .collect(),
        }
    }
}

/// The group of `record` (see [`GroupBy`]): `all` without group columns, the value for one,
/// `col1=v1,col2=v2` for several.
pub(crate) fn group_name(cols: &[(String, usize)], record: &csv::StringRecord) -> String {
    let cell = |i: usize| record.get(i).unwrap_or("");
    match cols.len() {
        0 => "all".to_string(),
        1 => cell(cols[0].1).to_string(),
        _ => cols
            .iter()
            .map(|(c, i)| format!("{c}={}", cell(*i)))
            .collect::<Vec<_>>()
            .join(","),
    }
}

/// The number in a cell (`None` when empty).
///
/// # Errors
/// Text that is not a number, or a non-finite number (naming the line and column).
pub(crate) fn parse_cell(s: &str, line: u64, col: &str) -> Result<Option<f64>> {
    let t = s.trim();
    if t.is_empty() {
        return Ok(None);
    }
    let v: f64 = t.parse().map_err(|_| {
        anyhow::anyhow!(
            "line {line}: column '{}' has '{}', not a number",
            quote(col),
            quote(t)
        )
    })?;
    if !v.is_finite() {
        bail!(
            "line {line}: column '{}' is {}: a fit needs finite values (remove the row, or \
             leave the cell empty to skip it; `theory --analytic` writes inf for least squares \
             at N in {{n-1, n, n+1}})",
            quote(col),
            quote(t)
        );
    }
    Ok(Some(v))
}

/// The `std` and `runs` cells of one row (`NaN` where empty or the column is absent).
///
/// # Errors
/// A `std` that is not a finite non-negative number, a `runs` that is not a non-negative
/// whole number, or a `std` over fewer than 2 runs: naming the line (these would otherwise
/// silently turn the parametric bootstrap off).
fn parse_spread(std: Option<&str>, runs: Option<&str>, line: u64) -> Result<(f64, f64)> {
    fn cell(c: Option<&str>) -> Option<&str> {
        c.map(str::trim).filter(|t| !t.is_empty())
    }
    let std = match cell(std) {
        None => f64::NAN,
        Some(t) => match t.parse::<f64>() {
            Ok(v) if v.is_finite() && v >= 0.0 => v,
            _ => bail!(
                "line {line}: column 'std' has '{}': a standard deviation must be a finite \
                 number >= 0 (leave the cell empty where it is unknown)",
                quote(t)
            ),
        },
    };
    let runs = match cell(runs) {
        None => f64::NAN,
        Some(t) => match t.parse::<f64>() {
            Ok(v) if v.is_finite() && v >= 0.0 && v.fract() == 0.0 => v,
            _ => bail!(
                "line {line}: column 'runs' has '{}': a number of draws must be a whole \
                 number >= 0",
                quote(t)
            ),
        },
    };
    if !std.is_nan()
        && runs
            .partial_cmp(&2.0)
            .is_none_or(|o| o == std::cmp::Ordering::Less)
    {
        bail!(
            "line {line}: 'std' is {std} over runs = {}: a standard deviation needs at least 2 \
             draws (leave 'std' empty for fewer)",
            if runs.is_nan() {
                "(empty)".to_string()
            } else {
                runs.to_string()
            }
        );
    }
    Ok((std, runs))
}

/// A warning when some rows of a group give `std` and others do not: the parametric bootstrap
/// needs it on every row, so it is off (naming the first row without).
fn partial_spread(name: &str, std: &[f64], lines: &[u64]) -> Option<String> {
    let missing = std.iter().position(|s| s.is_nan())?;
    let given = std.iter().filter(|s| !s.is_nan()).count();
    (given > 0).then(|| {
        format!(
            "group '{}': line {} has no 'std' while {given} rows do: the parametric bootstrap \
             (which needs 'std' and 'runs' on every row) is off",
            quote(name),
            lines[missing]
        )
    })
}

/// Reads the curves of the CSV file at `path`.
///
/// # Errors
/// The file cannot be read or parsed, a named column is missing, a cell of `x` or `y` is not a
/// finite number, or no row has usable `x` and `y`.
pub fn read_curves(path: &Path, opts: &CsvOptions) -> Result<Curves> {
    let rows = read_group_rows(path, opts)?;
    if rows.is_empty() {
        bail!(
            "{} has no row with numeric '{}' and '{}'",
            path.display(),
            opts.x,
            opts.y
        );
    }
    let mut groups = Vec::new();
    let mut warnings = Vec::new();
    for (name, rows) in rows {
        if let Some(w) = partial_spread(&name, &rows.std, &rows.lines) {
            warnings.push(w);
        }
        let curve = rows
            .curve()
            .with_context(|| format!("group '{}'", quote(&name)))?;
        groups.push(Group { name, curve });
    }
    Ok(Curves { groups, warnings })
}

/// The usable rows of one group, in file order.
#[derive(Default)]
struct GroupRows {
    x: Vec<f64>,
    y: Vec<f64>,
    /// `NaN` where not given.
    std: Vec<f64>,
    /// `NaN` where not given.
    runs: Vec<f64>,
    /// 1-based line of each row (for messages).
    lines: Vec<u64>,
}

impl GroupRows {
    /// The curve of these rows, with `std` and `runs` when there is one row per `x`.
    fn curve(&self) -> Result<Curve> {
        let (xs, ys) = (&self.x, &self.y);
        let curve = Curve::new(xs, ys)?;
        if curve.len() != xs.len() {
            return Ok(curve);
        }
        // One row per x: order std and runs like the sorted curve.
        let mut order: Vec<usize> = (0..xs.len()).collect();
        order.sort_by(|&i, &j| xs[i].total_cmp(&xs[j]));
        let s: Vec<f64> = order.iter().map(|&i| self.std[i]).collect();
        let r: Vec<f64> = order.iter().map(|&i| self.runs[i]).collect();
        Ok(curve.with_std_runs(&s, &r))
    }
}

/// The rows of the CSV file at `path` with numeric `x` and `y`, by group in order of first
/// appearance.
fn read_group_rows(path: &Path, opts: &CsvOptions) -> Result<Vec<(String, GroupRows)>> {
    let (mut reader, header) = Header::open(path)?;
    let ix = header.index(&opts.x)?;
    let iy = header.index(&opts.y)?;
    let group_cols = header.group_columns(&opts.group)?;
    let find = |name: &str| header.names.iter().position(|h| h == name);
    let istd = find("std");
    let iruns = find("runs");
    let mut groups: Vec<(String, GroupRows)> = Vec::new();
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
        let name = group_name(&group_cols, &record);
        let (std, runs) = parse_spread(istd.map(cell), iruns.map(cell), line)?;
        let g = match groups.iter().position(|(n, _)| *n == name) {
            Some(g) => g,
            None => {
                groups.push((name, GroupRows::default()));
                groups.len() - 1
            }
        };
        let rows = &mut groups[g].1;
        rows.x.push(x);
        rows.y.push(y);
        rows.std.push(std);
        rows.runs.push(runs);
        rows.lines.push(line);
    }
    Ok(groups)
}
