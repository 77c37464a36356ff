//! A curve to fit: distinct `x` in increasing order, the mean `y` at each, and what is known of
//! the spread of that mean (the individual draws, or a standard error of `ln y`).

use anyhow::{bail, Result};

/// One curve. Invariants: `xs` strictly increasing; `ys[i]` is the mean of `draws[i]`; when
/// present, `se_log` has one finite, non-negative entry per `x`.
#[derive(Clone, Debug, PartialEq)]
pub struct Curve {
    /// Distinct `x` (training-set size `N`), increasing.
    pub xs: Vec<f64>,
    /// Mean `y` at each `x` (the value that is fitted).
    pub ys: Vec<f64>,
    /// The individual values at each `x` (one when the input had one row per `x`).
    pub draws: Vec<Vec<f64>>,
    /// Standard error of `ln ys[i]`, `std / (mean sqrt(runs))`, when the input gave `std` and
    /// `runs >= 2` for every point; used by the parametric bootstrap.
    pub se_log: Option<Vec<f64>>,
}

impl Curve {
    /// Builds a curve from points `(xs[i], ys[i])` in any order. Repeated `x` are draws at that
    /// `x`; `ys` at each `x` becomes their mean. Cost `O(n log n)`.
    ///
    /// # Errors
    /// Lengths differ, no point, or a value that is not finite.
    pub fn new(xs: &[f64], ys: &[f64]) -> Result<Curve> {
        if xs.len() != ys.len() {
            bail!(
                "x and y have different lengths ({} and {})",
                xs.len(),
                ys.len()
            );
        }
        if xs.is_empty() {
            bail!("no data points");
        }
        if let Some((x, y)) = xs
            .iter()
            .zip(ys)
            .find(|(x, y)| !x.is_finite() || !y.is_finite())
        {
            bail!("point ({x}, {y}) is not finite");
        }
        let mut order: Vec<usize> = (0..xs.len()).collect();
        order.sort_by(|&i, &j| xs[i].total_cmp(&xs[j]));
        let mut cx: Vec<f64> = Vec::new();
        let mut draws: Vec<Vec<f64>> = Vec::new();
        for i in order {
            if cx.last() == Some(&xs[i]) {
                draws.last_mut().expect("same length as cx").push(ys[i]);
            } else {
                cx.push(xs[i]);
                draws.push(vec![ys[i]]);
            }
        }
        let ys = draws
            .iter()
            .map(|d| d.iter().sum::<f64>() / d.len() as f64)
            .collect();
        Ok(Curve {
            xs: cx,
            ys,
            draws,
            se_log: None,
        })
    }

    /// Attaches the standard error of `ln y` from a per-point sample standard deviation `std`
    /// over `runs` draws: `se = std / (y sqrt(runs))` (delta method). Needs one row per `x`
    /// (`std` and `runs` in the order of `self.xs`), `std >= 0` finite and `runs >= 2`;
    /// otherwise the curve is returned unchanged.
    pub fn with_std_runs(mut self, std: &[f64], runs: &[f64]) -> Curve {
        let ok = std.len() == self.xs.len()
            && runs.len() == self.xs.len()
            && self.draws.iter().all(|d| d.len() == 1)
            && std.iter().all(|s| s.is_finite() && *s >= 0.0)
            && runs.iter().all(|r| r.is_finite() && *r >= 2.0);
        if ok {
            self.se_log = Some(
                self.ys
                    .iter()
                    .zip(std.iter().zip(runs))
                    .map(|(y, (s, r))| s / (y.abs() * r.sqrt()))
                    .collect(),
            );
        }
        self
    }

    /// Number of distinct `x`.
    pub fn len(&self) -> usize {
        self.xs.len()
    }

    /// No point.
    pub fn is_empty(&self) -> bool {
        self.xs.is_empty()
    }

    /// Whether every `x` has at least two draws (so draws can be resampled).
    pub fn has_replicates(&self) -> bool {
        !self.draws.is_empty() && self.draws.iter().all(|d| d.len() >= 2)
    }

    /// The points with `lo <= x <= hi`.
    pub fn restrict(&self, lo: f64, hi: f64) -> Curve {
        let keep: Vec<usize> = (0..self.len())
            .filter(|&i| self.xs[i] >= lo && self.xs[i] <= hi)
            .collect();
        Curve {
            xs: keep.iter().map(|&i| self.xs[i]).collect(),
            ys: keep.iter().map(|&i| self.ys[i]).collect(),
            draws: keep.iter().map(|&i| self.draws[i].clone()).collect(),
            se_log: self
                .se_log
                .as_ref()
                .map(|s| keep.iter().map(|&i| s[i]).collect()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_repeated_x_into_draws() {
        let c = Curve::new(&[4.0, 1.0, 4.0, 2.0, 1.0], &[3.0, 1.0, 5.0, 2.0, 3.0]).unwrap();
        assert_eq!(c.xs, vec![1.0, 2.0, 4.0]);
        assert_eq!(c.ys, vec![2.0, 2.0, 4.0]);
        assert_eq!(c.draws[2], vec![3.0, 5.0]);
        assert!(!c.has_replicates());
        let c = c.restrict(2.0, 10.0);
        assert_eq!(c.xs, vec![2.0, 4.0]);
    }

    #[test]
    fn std_runs_needs_runs_at_least_two() {
        let c = Curve::new(&[1.0, 2.0], &[2.0, 1.0]).unwrap();
        let s = c.clone().with_std_runs(&[0.4, 0.1], &[4.0, 4.0]);
        let se = s.se_log.unwrap();
        assert!((se[0] - 0.1).abs() < 1e-15 && (se[1] - 0.05).abs() < 1e-15);
        assert!(c.with_std_runs(&[0.4, 0.1], &[1.0, 4.0]).se_log.is_none());
    }
}
