//! Sweep configurations: a TOML file whose `[grid]` expands into cells, one `plateau train` run
//! each. The format is documented in `docs/sweeps.md`.
//!
//! ```toml
//! [sweep]
//! name = "smoke"                 # default results folder: results/sweeps/<name>
//!
//! [fixed]                        # flags of every cell (scalars)
//! task = "denoise"
//! data = "gaussian-field"
//! image-size = 16
//!
//! [grid]                         # arrays: the Cartesian product gives the cells
//! train-size = [8, 16]
//! channels = [4]
//!
//! [[include]]                    # optional extra cells: [fixed] plus these values
//! train-size = 32
//! channels = 8
//!
//! [slurm]                        # optional: extra `#SBATCH` options of the array job
//! options = ["--time=00:10:00"]
//! ```
//!
//! Keys are `plateau train` flags without the dashes (`train-size` or `train_size`). The set of
//! valid keys and their types come from `plateau train`'s own argument parser, so the sweep
//! follows that command as it gains flags; every cell's full argument list is checked by that
//! parser before anything runs.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};
use plateau_run::args::train_command;
use plateau_run::hash::fnv1a64;
use serde::Deserialize;

/// One flag value of a cell.
#[derive(Clone, Debug, PartialEq)]
pub enum Param {
    /// Text (also enum values such as `gaussian-field`).
    Str(String),
    /// Integer.
    Int(i64),
    /// Floating-point number.
    Float(f64),
    /// A switch: `true` passes the bare flag, `false` leaves it out.
    Bool(bool),
}

impl Param {
    fn from_toml(v: &toml::Value) -> Option<Param> {
        Some(match v {
            toml::Value::String(s) => Param::Str(s.clone()),
            toml::Value::Integer(i) => Param::Int(*i),
            toml::Value::Float(f) => Param::Float(*f),
            toml::Value::Boolean(b) => Param::Bool(*b),
            _ => return None,
        })
    }

    /// The value as `plateau train` receives it on its command line. Floats use Rust's shortest
    /// round-trip form, so `0.1` stays `0.1`.
    pub fn as_arg(&self) -> String {
        match self {
            Param::Str(s) => s.clone(),
            Param::Int(i) => i.to_string(),
            Param::Float(f) => format!("{f:?}"),
            Param::Bool(b) => b.to_string(),
        }
    }

    /// The value in a results line.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Param::Str(s) => serde_json::Value::from(s.as_str()),
            Param::Int(i) => serde_json::Value::from(*i),
            Param::Float(f) => serde_json::Value::from(*f),
            Param::Bool(b) => serde_json::Value::from(*b),
        }
    }
}

/// What `plateau train` accepts for one key.
#[derive(Clone, Debug)]
struct Flag {
    /// `--long` name without the dashes.
    long: String,
    /// A switch (no value).
    switch: bool,
}

/// Keys the sweep sets itself: each cell's output folder, and `--resume` when it has a
/// checkpoint.
const RESERVED: [&str; 2] = ["out", "resume"];

/// The flags of `plateau train`, keyed by canonical name (`train_size`), from its clap
/// definition.
fn train_flags() -> BTreeMap<String, Flag> {
    let cmd = train_command();
    cmd.get_arguments()
        .filter_map(|a| {
            let long = a.get_long()?.to_string();
            let id = a.get_id().as_str();
            if id == "help" || id == "version" {
                return None;
            }
            let switch = matches!(
                a.get_action(),
                clap::ArgAction::SetTrue | clap::ArgAction::SetFalse
            );
            Some((canonical_key(&long), Flag { long, switch }))
        })
        .collect()
}

/// `train-size` and `train_size` name the same flag; the canonical form uses underscores (as
/// `metrics.json` does).
fn canonical_key(key: &str) -> String {
    key.trim().replace('-', "_")
}

/// One cell: one `plateau train` run.
#[derive(Clone, Debug, PartialEq)]
pub struct Cell {
    /// Position in the expanded list (grid in key order, then includes); the Slurm array index.
    pub index: usize,
    /// Stable id: a hash of [`Cell::canonical`], so reordering keys or grid values never changes
    /// it (16 hex digits).
    pub id: String,
    /// Every flag of the run, by canonical key.
    pub params: BTreeMap<String, Param>,
    /// The keys that vary between cells (grid keys and include keys), for short labels.
    pub varying: Vec<String>,
}

impl Cell {
    /// `key=value` pairs sorted by key, joined by `,`: the identity of the run.
    pub fn canonical(&self) -> String {
        canonical(&self.params)
    }

    /// The varying parameters, e.g. `train_size=16 channels=4`.
    pub fn label(&self) -> String {
        let mut s = String::new();
        for k in &self.varying {
            if let Some(v) = self.params.get(k) {
                let _ = write!(
                    s,
                    "{}{k}={}",
                    if s.is_empty() { "" } else { " " },
                    v.as_arg()
                );
            }
        }
        s
    }

    /// The parameters as a JSON object (for results lines).
    pub fn params_json(&self) -> serde_json::Map<String, serde_json::Value> {
        self.params
            .iter()
            .map(|(k, v)| (k.clone(), v.to_json()))
            .collect()
    }

    /// Whether the cell trains on a GPU (`device = "cuda"` or `"cuda:N"`; the default is the
    /// CPU).
    pub fn on_cuda(&self) -> bool {
        self.params
            .get("device")
            .is_some_and(|d| d.as_arg().starts_with("cuda"))
    }

    /// The `plateau train` arguments of this cell, without `--out` and `--resume`.
    pub fn train_args(&self) -> Vec<String> {
        let flags = train_flags();
        let mut args = Vec::new();
        for (k, v) in &self.params {
            let long = flags
                .get(k)
                .map_or_else(|| k.replace('_', "-"), |f| f.long.clone());
            match v {
                Param::Bool(true) => args.push(format!("--{long}")),
                Param::Bool(false) => {}
                other => {
                    args.push(format!("--{long}"));
                    args.push(other.as_arg());
                }
            }
        }
        args
    }
}

fn canonical(params: &BTreeMap<String, Param>) -> String {
    params
        .iter()
        .map(|(k, v)| format!("{k}={}", v.as_arg()))
        .collect::<Vec<_>>()
        .join(",")
}

/// The id of a cell with these parameters.
pub fn cell_id(params: &BTreeMap<String, Param>) -> String {
    format!("{:016x}", fnv1a64(canonical(params).as_bytes()))
}

/// Options of the Slurm backend.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SlurmOptions {
    /// Extra `#SBATCH` options, each starting with `--` (e.g. `--time=01:00:00`).
    pub options: Vec<String>,
}

/// A validated sweep.
#[derive(Clone, Debug)]
pub struct SweepConfig {
    /// `[sweep] name`: letters, digits, `-`, `_`, `.`.
    pub name: String,
    /// `[sweep] description`.
    pub description: Option<String>,
    /// The cells, in index order, without duplicates.
    pub cells: Vec<Cell>,
    /// `[slurm]`.
    pub slurm: SlurmOptions,
    /// The file's text (copied next to the Slurm array so that later edits cannot shift its
    /// indices).
    pub text: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    sweep: RawSweep,
    #[serde(default)]
    fixed: toml::Table,
    #[serde(default)]
    grid: Option<toml::Table>,
    #[serde(default)]
    include: Vec<toml::Table>,
    #[serde(default)]
    slurm: Option<RawSlurm>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSweep {
    name: String,
    #[serde(default)]
    description: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSlurm {
    #[serde(default)]
    options: Vec<String>,
}

/// A clap error on one line: its text up to the usage section (a missing-flag error names the
/// flags on the lines after the first).
fn clap_line(e: &clap::Error) -> String {
    let rendered = e.render().to_string();
    let text = rendered
        .lines()
        .take_while(|l| !l.trim().is_empty() && !l.starts_with("Usage"))
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" ");
    text.strip_prefix("error: ").unwrap_or(&text).to_string()
}

/// 1-based line of byte offset `at` in `text`.
fn line_of(text: &str, at: usize) -> usize {
    text[..at.min(text.len())].matches('\n').count() + 1
}

impl SweepConfig {
    /// Reads and validates a sweep file (see [`SweepConfig::parse`]).
    ///
    /// # Errors
    /// The file cannot be read, or [`SweepConfig::parse`] fails; the message names the file.
    pub fn load(path: &Path) -> Result<SweepConfig> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read sweep config {}", path.display()))?;
        SweepConfig::parse(&text).with_context(|| format!("{}", path.display()))
    }

    /// Parses and validates a sweep: the TOML structure, every key against `plateau train`'s
    /// flags, value types (scalars in `[fixed]` and `[[include]]`, non-empty arrays of scalars
    /// in `[grid]`), and each cell's complete argument list through `plateau train`'s parser.
    ///
    /// # Errors
    /// One-line messages naming the offending key or cell.
    pub fn parse(text: &str) -> Result<SweepConfig> {
        let raw = parse_toml(text)?;
        let name = sweep_name(&raw.sweep.name)?;
        let keys = KeyCheck::new();
        let fixed = keys.fixed(&raw.fixed)?;
        let grid = keys.grid(raw.grid.as_ref(), &fixed)?;
        let mut varying: Vec<String> = grid.keys().cloned().collect();
        let mut param_sets = Vec::new();
        if raw.grid.is_some() || raw.include.is_empty() {
            param_sets = cartesian(&fixed, &grid);
        }
        param_sets.extend(keys.includes(&raw.include, &fixed, &mut varying)?);
        let slurm = slurm_options(raw.slurm)?;
        Ok(SweepConfig {
            name,
            description: raw.sweep.description,
            cells: checked_cells(param_sets, &varying)?,
            slurm,
            text: text.to_string(),
        })
    }

    /// A hash of the file's text (16 hex digits), naming the copy the Slurm array runs from.
    pub fn text_hash(&self) -> String {
        format!("{:016x}", fnv1a64(self.text.as_bytes()))
    }
}

/// The TOML structure of a sweep file; a syntax error names its line.
fn parse_toml(text: &str) -> Result<RawFile> {
    toml::from_str(text).map_err(|e| {
        let at = e.span().map_or(String::new(), |s| {
            format!("line {}: ", line_of(text, s.start))
        });
        anyhow!("{at}{}", e.message().trim().replace('\n', "; "))
    })
}

/// `[sweep] name`, trimmed: one path component.
fn sweep_name(raw: &str) -> Result<String> {
    let name = raw.trim().to_string();
    if name.is_empty()
        || name.chars().all(|c| c == '.')
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        bail!("[sweep] name '{name}' must be one path component: letters, digits, '-', '_' or '.' (not only dots)");
    }
    Ok(name)
}

/// Checks keys and values against the flags of `plateau train`.
struct KeyCheck {
    flags: BTreeMap<String, Flag>,
}

impl KeyCheck {
    fn new() -> KeyCheck {
        KeyCheck {
            flags: train_flags(),
        }
    }

    /// The canonical form of `key` of `[table]`, which must be a flag the sweep does not set.
    fn key(&self, table: &str, key: &str) -> Result<String> {
        let k = canonical_key(key);
        if RESERVED.contains(&k.as_str()) {
            bail!("[{table}] {key}: set by the sweep itself, remove it");
        }
        if !self.flags.contains_key(&k) {
            bail!("[{table}] unknown key '{key}': not a flag of plateau train");
        }
        Ok(k)
    }

    /// The value `v` of `key` (canonical `k`): a scalar, a boolean exactly for switches, and
    /// finite if a float.
    fn scalar(&self, table: &str, key: &str, k: &str, v: &toml::Value) -> Result<Param> {
        let p = Param::from_toml(v).ok_or_else(|| {
            anyhow!(
                "[{table}] {key}: expected a string, number or boolean, got {}",
                v.type_str()
            )
        })?;
        match (&p, self.flags[k].switch) {
            (Param::Bool(_), true) => {}
            (_, true) => bail!("[{table}] {key}: a switch, expected true or false"),
            (Param::Bool(_), false) => {
                bail!("[{table}] {key}: takes a value, not true/false")
            }
            _ => {}
        }
        if let Param::Float(f) = p {
            if !f.is_finite() {
                bail!("[{table}] {key}: {f} is not finite");
            }
        }
        Ok(p)
    }

    /// `[fixed]`, by canonical key.
    fn fixed(&self, table: &toml::Table) -> Result<BTreeMap<String, Param>> {
        let mut fixed = BTreeMap::new();
        for (key, v) in table {
            let k = self.key("fixed", key)?;
            if fixed
                .insert(k.clone(), self.scalar("fixed", key, &k, v)?)
                .is_some()
            {
                bail!("[fixed] {key} is given twice (with '-' and '_')");
            }
        }
        Ok(fixed)
    }

    /// `[grid]` (none: empty), by canonical key: non-empty lists of keys not in `[fixed]`.
    fn grid(
        &self,
        table: Option<&toml::Table>,
        fixed: &BTreeMap<String, Param>,
    ) -> Result<BTreeMap<String, Vec<Param>>> {
        let mut grid = BTreeMap::new();
        let Some(table) = table else {
            return Ok(grid);
        };
        if table.is_empty() {
            bail!("[grid] is empty: give at least one key with a list of values");
        }
        for (key, v) in table {
            let k = self.key("grid", key)?;
            if fixed.contains_key(&k) {
                bail!("[grid] {key} is also in [fixed]: keep one");
            }
            let toml::Value::Array(items) = v else {
                bail!(
                    "[grid] {key}: expected a list of values, got {}",
                    v.type_str()
                );
            };
            if items.is_empty() {
                bail!("[grid] {key}: empty list, the grid would have no cells");
            }
            let values = items
                .iter()
                .map(|x| self.scalar("grid", key, &k, x))
                .collect::<Result<Vec<_>>>()?;
            if grid.insert(k, values).is_some() {
                bail!("[grid] {key} is given twice (with '-' and '_')");
            }
        }
        Ok(grid)
    }

    /// The `[[include]]` cells: `[fixed]` plus each table's values; their keys join `varying`.
    fn includes(
        &self,
        tables: &[toml::Table],
        fixed: &BTreeMap<String, Param>,
        varying: &mut Vec<String>,
    ) -> Result<Vec<BTreeMap<String, Param>>> {
        let mut sets = Vec::with_capacity(tables.len());
        for (i, table) in tables.iter().enumerate() {
            let what = format!("include #{}", i + 1);
            if table.is_empty() {
                bail!("[[include]] #{} is empty", i + 1);
            }
            let mut set = fixed.clone();
            for (key, v) in table {
                let k = self.key(&what, key)?;
                if !varying.contains(&k) {
                    varying.push(k.clone());
                }
                set.insert(k.clone(), self.scalar(&what, key, &k, v)?);
            }
            sets.push(set);
        }
        Ok(sets)
    }
}

/// The Cartesian product of the grid on top of `fixed`, in key order (`BTreeMap`), last key
/// fastest.
fn cartesian(
    fixed: &BTreeMap<String, Param>,
    grid: &BTreeMap<String, Vec<Param>>,
) -> Vec<BTreeMap<String, Param>> {
    let mut sets = vec![fixed.clone()];
    for (k, values) in grid {
        sets = sets
            .into_iter()
            .flat_map(|s| {
                values.iter().map(move |v| {
                    let mut s = s.clone();
                    s.insert(k.clone(), v.clone());
                    s
                })
            })
            .collect();
    }
    sets
}

/// `[slurm]`: each option one `--option[=value]`, never `--array` (the sweep sets it).
fn slurm_options(raw: Option<RawSlurm>) -> Result<SlurmOptions> {
    let slurm = SlurmOptions {
        options: raw.map(|s| s.options).unwrap_or_default(),
    };
    for o in &slurm.options {
        if !o.starts_with("--") || o.contains('\n') || o.contains("--array") {
            bail!("[slurm] options: '{o}' must be one '--option[=value]' (not --array)");
        }
    }
    Ok(slurm)
}

/// The cells of `param_sets` in order, each run once, every argument list accepted by
/// `plateau train`'s parser.
fn checked_cells(
    param_sets: Vec<BTreeMap<String, Param>>,
    varying: &[String],
) -> Result<Vec<Cell>> {
    let cmd = train_command();
    let mut cells: Vec<Cell> = Vec::new();
    for params in param_sets {
        let id = cell_id(&params);
        if cells.iter().any(|c| c.id == id) {
            continue; // the same run listed twice (e.g. an include repeating a grid cell)
        }
        let cell = Cell {
            index: cells.len(),
            id,
            params,
            varying: varying.to_vec(),
        };
        let mut argv = cell.train_args();
        argv.extend(["--out".into(), "sweep-cell".into()]);
        if let Err(e) = cmd.clone().try_get_matches_from(&argv) {
            bail!("cell {} ({}): {}", cell.index, cell.label(), clap_line(&e));
        }
        cells.push(cell);
    }
    Ok(cells)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "[sweep]\nname = \"t\"\n[fixed]\ntask = \"denoise\"\ndata = \"gaussian-field\"\nmodel = \"unet\"\n";

    #[test]
    fn grid_expands_in_key_order_and_ids_ignore_order() {
        let a = SweepConfig::parse(&format!(
            "{BASE}[grid]\ntrain-size = [8, 16]\nseed = [0, 1]\n"
        ))
        .unwrap();
        let b = SweepConfig::parse(&format!(
            "{BASE}[grid]\nseed = [1, 0]\ntrain_size = [16, 8]\n"
        ))
        .unwrap();
        assert_eq!(a.cells.len(), 4);
        let mut ia: Vec<_> = a.cells.iter().map(|c| c.id.clone()).collect();
        let mut ib: Vec<_> = b.cells.iter().map(|c| c.id.clone()).collect();
        assert_ne!(ia, ib, "value order changes the index order");
        ia.sort();
        ib.sort();
        assert_eq!(ia, ib, "but not the set of ids");
        assert_eq!(
            a.cells[0].train_args(),
            [
                "--data",
                "gaussian-field",
                "--model",
                "unet",
                "--seed",
                "0",
                "--task",
                "denoise",
                "--train-size",
                "8"
            ]
        );
    }

    #[test]
    fn switches_and_floats() {
        let c = SweepConfig::parse(&format!(
            "{BASE}train-size = 4\nnoise-std = 0.1\n[grid]\nlr = [1e-3]\n"
        ))
        .unwrap();
        let args = c.cells[0].train_args();
        assert!(args.windows(2).any(|w| w == ["--noise-std", "0.1"]));
        assert!(args.windows(2).any(|w| w == ["--lr", "0.001"]));
    }

    #[test]
    fn bad_configs_are_one_line_errors() {
        let cases = [
            (format!("{BASE}[grid]\ntrain-size = []\n"), "empty list"),
            (
                format!("{BASE}[grid]\ntrain-size = [8]\nwidth = [3]\n"),
                "unknown key 'width'",
            ),
            (format!("{BASE}[grid]\ntrain-size = [\"many\"]\n"), "cell 0"),
            (
                format!("{BASE}out = \"x\"\n[grid]\ntrain-size = [8]\n"),
                "set by the sweep",
            ),
            (format!("{BASE}[grid]\ntrain-size = 8\n"), "expected a list"),
            (
                format!("{BASE}[grid]\nresume = [true]\n"),
                "set by the sweep",
            ),
            (
                format!("{BASE}[grid]\ntrain-size = [8]\n[other]\nx = 1\n"),
                "unknown field",
            ),
            (format!("{BASE}[grid]\n"), "[grid] is empty"),
            (format!("{BASE}[grid]\nchannels = [4]\n"), "train-size"),
            ("[sweep\nname=1".to_string(), "line 1"),
        ];
        for (text, want) in cases {
            let err = format!("{:#}", SweepConfig::parse(&text).unwrap_err());
            assert!(err.contains(want), "{text:?}: {err}");
            assert!(!err.contains('\n'), "multi-line: {err}");
        }
    }

    #[test]
    fn includes_add_cells_and_duplicates_collapse() {
        let c = SweepConfig::parse(&format!(
            "{BASE}[grid]\ntrain-size = [8, 16]\n[[include]]\ntrain-size = 8\n[[include]]\ntrain-size = 32\nchannels = 8\n"
        ))
        .unwrap();
        assert_eq!(c.cells.len(), 3);
        assert_eq!(c.cells[2].label(), "train_size=32 channels=8");
        assert!(c.cells.iter().enumerate().all(|(i, c)| c.index == i));
    }
}
