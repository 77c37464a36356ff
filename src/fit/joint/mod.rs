//! The joint scaling law in the training-set size `N` and the parameter count `P` of the
//! network: how the error of a sweep over sizes *and* widths depends on both.
//!
//! Two families (`docs/capacity.md` gives the derivation of the rules built on them):
//!
//! ```text
//! additive    R = E + A N^-alpha + B P^-beta
//! power_mean  R = E + ((A N^-alpha)^(1/q) + (B P^-beta)^(1/q))^q
//! ```
//!
//! `E >= 0` is the floor (fixed at the exact Bayes error when the data have one), `A N^-alpha`
//! the data term, `B P^-beta` the width (capacity) term. `power_mean` is the power mean of the
//! two terms (Kaplan et al. 2020 combine data and model size this way); `q = 1` is the additive
//! law, `q < 1` pulls the excess towards the larger term (as `q -> 0` it becomes their maximum:
//! the scarcer resource alone sets the error), `q > 1` towards a product (`q -> infinity`:
//! `2^q sqrt(A N^-alpha B P^-beta)`). So `q` is the interaction: how much of the gain from more
//! data is hidden while capacity is short, and the other way round.
//!
//! Both are fitted by least squares on `ln R` per cell (`(N, P)`, the mean over seeds), with
//! the bounded Levenberg-Marquardt of [`crate::fit`] ([`fit::fit_joint`]); intervals come from
//! [`bootstrap::bootstrap_joint`] (seeds resampled within cells, or cell residuals), the
//! family from [`corner::corner_backtest`] (the large-`N`, large-`P` corner held out).

pub mod bootstrap;
pub mod corner;
pub mod fit;
pub mod law;
pub mod loss;
pub mod report;
pub mod table;
pub mod table_fit;

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};
use strum::{Display, IntoStaticStr};

pub use bootstrap::{bootstrap_joint, JointSamples};
pub use corner::{corner_backtest, corner_backtest_loss, CornerBacktest};
pub use fit::{fit_joint, fit_joint_loss, JointFit};
pub use law::JointLaw;
pub use loss::Loss;

/// A family of joint laws.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Display, IntoStaticStr,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Family {
    /// `R = E + A N^-alpha + B P^-beta`.
    Additive,
    /// `R = E + ((A N^-alpha)^(1/q) + (B P^-beta)^(1/q))^q`.
    PowerMean,
}

impl Family {
    /// Both families, simplest first.
    pub const ALL: [Family; 2] = [Family::Additive, Family::PowerMean];

    /// Name in the JSON.
    pub fn name(self) -> &'static str {
        self.into()
    }

    /// The formula, for people.
    pub fn formula(self) -> &'static str {
        match self {
            Family::Additive => "E + A N^-alpha + B P^-beta",
            Family::PowerMean => "E + ((A N^-alpha)^(1/q) + (B P^-beta)^(1/q))^q",
        }
    }

    /// Fitted parameters: `A, alpha, B, beta`, `q` for the power mean, `E` unless it is fixed.
    pub fn n_params(self, floor_fixed: bool) -> usize {
        4 + usize::from(self == Family::PowerMean) + usize::from(!floor_fixed)
    }
}

/// One run: its training-set size `N`, parameter count `P` and error `y` (test MSE).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct JointPoint {
    /// Training-set size.
    pub n: f64,
    /// Trainable parameters of the network.
    pub p: f64,
    /// Error (positive).
    pub y: f64,
}

/// The runs of one `(N, P)` cell.
#[derive(Clone, Debug, PartialEq)]
pub struct JointCell {
    /// Training-set size.
    pub n: f64,
    /// Parameter count.
    pub p: f64,
    /// The error of every run (seed) of the cell.
    pub draws: Vec<f64>,
    /// Their mean: the value that is fitted.
    pub mean: f64,
}

/// A sweep's runs grouped into cells, ordered by `(N, P)`. Invariants: every value positive and
/// finite, at least two distinct `N` and two distinct `P`.
#[derive(Clone, Debug, PartialEq)]
pub struct JointData {
    cells: Vec<JointCell>,
}

impl JointData {
    /// Groups `points` into cells (runs with the same `N` and `P` are seeds of one cell).
    /// Cost `O(n log n)`.
    ///
    /// # Errors
    /// A value that is not positive and finite, or fewer than two distinct sizes or parameter
    /// counts (one line, naming what is missing).
    pub fn new(points: &[JointPoint]) -> Result<JointData> {
        if let Some(q) = points
            .iter()
            .find(|q| ![q.n, q.p, q.y].iter().all(|v| v.is_finite() && *v > 0.0))
        {
            bail!(
                "run at N = {}, P = {} has error {}: the joint fit needs positive, finite N, P \
                 and error",
                q.n,
                q.p,
                q.y
            );
        }
        let mut sorted = points.to_vec();
        sorted.sort_by(|a, b| a.n.total_cmp(&b.n).then(a.p.total_cmp(&b.p)));
        let mut cells: Vec<JointCell> = Vec::new();
        for q in sorted {
            match cells.last_mut() {
                Some(c) if c.n == q.n && c.p == q.p => c.draws.push(q.y),
                _ => cells.push(JointCell {
                    n: q.n,
                    p: q.p,
                    draws: vec![q.y],
                    mean: 0.0,
                }),
            }
        }
        for c in &mut cells {
            c.mean = c.draws.iter().sum::<f64>() / c.draws.len() as f64;
        }
        let data = JointData { cells };
        let (sizes, counts) = (data.sizes().len(), data.param_counts().len());
        if sizes < 2 || counts < 2 {
            bail!(
                "the joint fit needs at least two widths and two sizes; these runs have {counts} \
                 width(s) (parameter counts) and {sizes} size(s)"
            );
        }
        Ok(data)
    }

    /// The cells, ordered by `(N, P)`.
    pub fn cells(&self) -> &[JointCell] {
        &self.cells
    }

    /// Number of cells.
    pub fn len(&self) -> usize {
        self.cells.len()
    }

    /// No cell (never true of a validated table; a subset may be empty).
    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }

    /// Distinct sizes `N`, increasing.
    pub fn sizes(&self) -> Vec<f64> {
        distinct(self.cells.iter().map(|c| c.n))
    }

    /// Distinct parameter counts `P`, increasing.
    pub fn param_counts(&self) -> Vec<f64> {
        distinct(self.cells.iter().map(|c| c.p))
    }

    /// Whether every cell has at least two runs (so seeds can be resampled).
    pub fn has_replicates(&self) -> bool {
        self.cells.iter().all(|c| c.draws.len() >= 2)
    }

    /// The cells for which `keep` holds (not re-validated: the corner split uses it).
    pub fn subset(&self, keep: impl Fn(&JointCell) -> bool) -> JointData {
        JointData {
            cells: self.cells.iter().filter(|c| keep(c)).cloned().collect(),
        }
    }

    /// `ln` of the cell means.
    pub(crate) fn log_means(&self) -> Vec<f64> {
        self.cells.iter().map(|c| c.mean.ln()).collect()
    }

    /// The cell means.
    pub(crate) fn means(&self) -> Vec<f64> {
        self.cells.iter().map(|c| c.mean).collect()
    }

    /// The runs of each cell.
    pub(crate) fn draws(&self) -> Vec<Vec<f64>> {
        self.cells.iter().map(|c| c.draws.clone()).collect()
    }

    /// The cells at `idx`, repeated as often as they appear (a case-bootstrap replicate; not
    /// re-validated).
    pub(crate) fn resample(&self, idx: impl Iterator<Item = usize>) -> JointData {
        JointData {
            cells: idx.map(|i| self.cells[i].clone()).collect(),
        }
    }

    /// The same cells with the means `exp(lys[i])` (a bootstrap replicate).
    pub(crate) fn with_log_means(&self, lys: &[f64]) -> JointData {
        let mut d = self.clone();
        for (c, ly) in d.cells.iter_mut().zip(lys) {
            c.mean = ly.exp();
        }
        d
    }
}

fn distinct(values: impl Iterator<Item = f64>) -> Vec<f64> {
    let mut v: Vec<f64> = values.collect();
    v.sort_by(f64::total_cmp);
    v.dedup();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pt(n: f64, p: f64, y: f64) -> JointPoint {
        JointPoint { n, p, y }
    }

    #[test]
    fn seeds_of_a_cell_are_grouped_and_one_width_is_refused() {
        let d = JointData::new(&[
            pt(10.0, 200.0, 1.0),
            pt(10.0, 100.0, 2.0),
            pt(10.0, 100.0, 4.0),
            pt(20.0, 100.0, 1.5),
        ])
        .unwrap();
        assert_eq!(d.len(), 3);
        assert_eq!(d.cells()[0].draws, vec![2.0, 4.0]);
        assert_eq!(d.cells()[0].mean, 3.0);
        assert_eq!(
            (d.sizes(), d.param_counts()),
            (vec![10.0, 20.0], vec![100.0, 200.0])
        );
        assert!(!d.has_replicates());
        let e = JointData::new(&[pt(10.0, 100.0, 1.0), pt(20.0, 100.0, 0.5)]).unwrap_err();
        assert!(e.to_string().contains("two widths and two sizes"), "{e}");
        assert!(JointData::new(&[pt(10.0, 100.0, 0.0), pt(20.0, 50.0, 0.5)]).is_err());
    }
}
