//! Reading a table of runs for the joint law: any CSV with a header, one row per run, a column
//! of the training-set size `N` (`--x`), one of the parameter count `P` (`--p`) and one of the
//! error (`--y`); rows with the same `(N, P)` in a group are seeds of one cell.
//!
//! Rules (each refusal is one line naming the file, line, column or value):
//! - the three columns must exist and be distinct; the group columns as for curves
//!   ([`crate::fit::input`]);
//! - a row whose `N`, `P` or error cell is empty is skipped; text that is not a number, or a
//!   number that is not finite, is refused naming the line;
//! - a value that is not positive is refused naming the line and column (the law is fitted on
//!   logs);
//! - each group needs at least [`MIN_DISTINCT`] distinct values of `N` and of `P` (a law with
//!   an exponent on each axis and a floor is not identified by fewer).

use std::path::Path;

use anyhow::{bail, Context, Result};

use super::{JointData, JointPoint};
use crate::fit::input::{group_name, parse_cell, GroupBy, Header};
use crate::text::quote;

/// Fewest distinct values of `N` and of `P` a table's group needs.
pub const MIN_DISTINCT: usize = 3;

/// The columns of a table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableColumns {
    /// Column of the training-set size `N`.
    pub x: String,
    /// Column of the parameter count `P`.
    pub p: String,
    /// Column of the error.
    pub y: String,
    /// Grouping.
    pub group: GroupBy,
}

/// One group of a table: its runs grouped into cells.
#[derive(Clone, Debug, PartialEq)]
pub struct TableGroup {
    /// Group name (`all` without group columns).
    pub name: String,
    /// Rows read (runs).
    pub rows: usize,
    /// The cells.
    pub data: JointData,
}

/// The value of one cell of a row: `None` when empty.
///
/// # Errors
/// As [`parse_cell`], and a value that is not positive.
fn positive(s: &str, line: u64, col: &str) -> Result<Option<f64>> {
    let v = parse_cell(s, line, col)?;
    if let Some(v) = v.filter(|v| *v <= 0.0) {
        bail!(
            "line {line}: column '{}' has {v}: the joint law is fitted on logs and needs positive \
             values",
            quote(col)
        );
    }
    Ok(v)
}

/// Reads the groups of the table at `path`, in the order of their first row.
///
/// # Errors
/// See the module docs.
pub fn read_table(path: &Path, cols: &TableColumns) -> Result<Vec<TableGroup>> {
    let names = [&cols.x, &cols.p, &cols.y];
    if let Some(dup) = names
        .iter()
        .enumerate()
        .find(|(i, c)| names[..*i].contains(c))
    {
        bail!(
            "--x, --p and --y must name three different columns ('{}' is given twice)",
            quote(dup.1)
        );
    }
    let (mut reader, header) = Header::open(path)?;
    let idx = [
        header.index(&cols.x)?,
        header.index(&cols.p)?,
        header.index(&cols.y)?,
    ];
    let group_cols = header.group_columns(&cols.group)?;
    let mut groups: Vec<(String, Vec<JointPoint>)> = Vec::new();
    for record in reader.records() {
        let record = record.with_context(|| format!("cannot parse {}", path.display()))?;
        let line = record.position().map_or(0, |p| p.line());
        let mut v = [None; 3];
        for (k, &i) in idx.iter().enumerate() {
            v[k] = positive(record.get(i).unwrap_or(""), line, names[k])?;
        }
        let [Some(n), Some(p), Some(y)] = v else {
            continue;
        };
        let name = group_name(&group_cols, &record);
        let g = match groups.iter().position(|(g, _)| *g == name) {
            Some(g) => g,
            None => {
                groups.push((name, Vec::new()));
                groups.len() - 1
            }
        };
        groups[g].1.push(JointPoint { n, p, y });
    }
    if groups.is_empty() {
        bail!(
            "{} has no row with numbers in '{}', '{}' and '{}'",
            path.display(),
            quote(&cols.x),
            quote(&cols.p),
            quote(&cols.y)
        );
    }
    groups
        .into_iter()
        .map(|(name, points)| group(name, &points, cols))
        .collect()
}

/// Checks one group's axes and groups its runs into cells.
fn group(name: String, points: &[JointPoint], cols: &TableColumns) -> Result<TableGroup> {
    let data = JointData::new(points).with_context(|| format!("group '{}'", quote(&name)))?;
    for (col, distinct) in [
        (&cols.x, data.sizes().len()),
        (&cols.p, data.param_counts().len()),
    ] {
        if distinct < MIN_DISTINCT {
            bail!(
                "group '{}': column '{}' has {distinct} distinct value(s); the joint law needs at \
                 least {MIN_DISTINCT} of N and of P",
                quote(&name),
                quote(col)
            );
        }
    }
    Ok(TableGroup {
        name,
        rows: points.len(),
        data,
    })
}
