//! Fitting a joint law to the cells of a sweep: least squares on `ln R` of the cell means,
//! refined by the bounded Levenberg-Marquardt of [`crate::fit`].
//!
//! Starts by variable projection: for each pair of exponents `(alpha, beta)` of a 10 x 10 grid
//! the additive law is linear in `(A, B[, E])`, solved by least squares weighted by `1 / R`
//! (relative errors, as the log fit); the best starts (a coefficient that comes out negative is
//! set to a negligible positive value) are refined by Levenberg-Marquardt, the power mean from
//! each also with `q = 0.5` and `q = 2`. Cost: 100 small least-squares solves and at most 9
//! optimiser runs, each `O(m k^2)` per iteration for `m` cells and `k <= 6` parameters.

use anyhow::{bail, Result};

use super::law::{JointLaw, Layout};
use super::loss::Loss;
use super::{Family, JointData};
use crate::fit::linalg::lstsq;
use crate::fit::lm::{minimize_to, Tolerance};

/// Exponents of the grid of starts.
const EXPONENT_GRID: [f64; 10] = [0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0];

/// A fitted joint law.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct JointFit {
    /// The law.
    pub law: JointLaw,
    /// Whether `E` was fixed (the exact floor) rather than fitted.
    pub floor_fixed: bool,
    /// Residual sum of squares of `ln R` over the cells.
    pub rss_log: f64,
    /// Cells fitted.
    pub n_cells: usize,
    /// The loss minimised (the bootstrap refits with it).
    pub loss: Loss,
    /// Its value at the fit (`rss_log` for least squares).
    pub objective: f64,
}

impl JointFit {
    /// Parameters fitted.
    pub fn n_params(&self) -> usize {
        self.law.family.n_params(self.floor_fixed)
    }
}

/// Fits `family` to the cell means of `data`; `floor` fixes `E` (the exact Bayes error),
/// `None` fits it in `[0, max R]`.
///
/// # Errors
/// A floor that is not positive and finite, fewer cells than parameters plus one, or no start
/// that the optimiser could evaluate.
pub fn fit_joint(data: &JointData, family: Family, floor: Option<f64>) -> Result<JointFit> {
    fit_joint_loss(data, family, floor, Loss::Squares)
}

/// As [`fit_joint`], minimising `loss` on the log residuals (the starts are ranked by it too).
///
/// # Errors
/// As [`fit_joint`].
pub fn fit_joint_loss(
    data: &JointData,
    family: Family,
    floor: Option<f64>,
    loss: Loss,
) -> Result<JointFit> {
    if let Some(f) = floor {
        if !(f.is_finite() && f > 0.0) {
            bail!("the floor {f} is not positive and finite");
        }
    }
    let layout = Layout { family, floor };
    let k = layout.len();
    if data.len() <= k {
        bail!(
            "{} cells, but the {family} law with a {} floor has {k} parameters and needs at \
             least {} cells",
            data.len(),
            if floor.is_some() { "fixed" } else { "fitted" },
            k + 1
        );
    }
    fit_layout(data, layout, loss, (None, 3), Tolerance::TIGHT)
        .ok_or_else(|| anyhow::anyhow!("the {family} fit failed"))
}

/// The fit of `layout` under `loss` from the `keep` best grid starts and `warm` (the bootstrap
/// passes the fit to the original data, and [`Tolerance::REPLICATE`]); `None` when no start can
/// be evaluated.
pub(crate) fn fit_layout(
    data: &JointData,
    layout: Layout,
    loss: Loss,
    (warm, keep): (Option<&JointLaw>, usize),
    tol: Tolerance,
) -> Option<JointFit> {
    let cells = data.cells();
    let m = cells.len();
    let lys = data.log_means();
    let ln_n: Vec<f64> = cells.iter().map(|c| c.n.ln()).collect();
    let ln_p: Vec<f64> = cells.iter().map(|c| c.p.ln()).collect();
    let ymax = cells.iter().map(|c| c.mean).fold(0.0, f64::max);
    let (lower, upper) = layout.bounds(ymax);
    let k = layout.len();
    let model = |theta: &[f64], r: &mut [f64], jac: &mut [f64]| -> bool {
        for i in 0..m {
            let row = &mut jac[i * k..(i + 1) * k];
            let f = layout.eval(theta, ln_n[i], ln_p[i], row);
            if !f.is_finite() {
                return false;
            }
            let (pseudo, slope) = loss.pseudo(f - lys[i]);
            r[i] = pseudo;
            if slope != 1.0 {
                row.iter_mut().for_each(|g| *g *= slope);
            }
        }
        true
    };
    let starts = starts(data, layout, loss, warm, keep);
    let best = starts
        .iter()
        .filter_map(|t| minimize_to(&model, m, t, (&lower, &upper), tol))
        .min_by(|a, b| a.rss.total_cmp(&b.rss))?;
    let law = layout.law(&best.theta);
    let rss_log = match loss {
        Loss::Squares => best.rss,
        Loss::Huber { .. } => (0..m)
            .map(|i| (law.predict(cells[i].n, cells[i].p).ln() - lys[i]).powi(2))
            .sum(),
    };
    Some(JointFit {
        law,
        floor_fixed: layout.floor.is_some(),
        rss_log,
        n_cells: m,
        loss,
        objective: best.rss,
    })
}

/// The parameter vectors the fit starts from: the `keep` best grid laws (the power mean from
/// each also with `q = 0.5` and `q = 2`), then `warm`. `keep = 0`: the warm start alone (a
/// case-bootstrap replicate, near the original fit).
fn starts(
    data: &JointData,
    layout: Layout,
    loss: Loss,
    warm: Option<&JointLaw>,
    keep: usize,
) -> Vec<Vec<f64>> {
    let grid = if keep == 0 {
        vec![]
    } else {
        grid_starts(data, layout, loss, keep)
    };
    let qs: &[f64] = match layout.family {
        Family::Additive => &[1.0],
        Family::PowerMean => &[1.0, 0.5, 2.0],
    };
    let mut starts: Vec<Vec<f64>> = grid
        .into_iter()
        .flat_map(|law| {
            qs.iter()
                .map(move |&q| layout.theta(&JointLaw { q, ..law }))
        })
        .collect();
    if let Some(w) = warm {
        starts.push(layout.theta(w));
    }
    starts
}

/// The `keep` additive laws of smallest `loss` of the log residuals over the exponent grid
/// (see the module docs).
fn grid_starts(data: &JointData, layout: Layout, loss: Loss, keep: usize) -> Vec<JointLaw> {
    let cells = data.cells();
    let m = cells.len();
    let ymin = cells.iter().map(|c| c.mean).fold(f64::INFINITY, f64::min);
    let ymax = cells.iter().map(|c| c.mean).fold(0.0, f64::max);
    let free_e = layout.floor.is_none();
    let cols = 2 + usize::from(free_e);
    let e0 = layout.floor.unwrap_or(0.0);
    let p_min = data.param_counts()[0];
    let mut laws: Vec<(JointLaw, f64)> = Vec::new();
    for alpha in EXPONENT_GRID {
        for beta in EXPONENT_GRID {
            let mut design = Vec::with_capacity(m * cols);
            let mut target = Vec::with_capacity(m);
            for c in cells {
                let w = 1.0 / c.mean;
                design.push(w * c.n.powf(-alpha));
                design.push(w * c.p.powf(-beta));
                if free_e {
                    design.push(w);
                }
                target.push(w * (c.mean - e0));
            }
            let Some((coef, _)) = lstsq(&design, m, cols, &target) else {
                continue;
            };
            // A negative scale means the term is not seen: start it at 0.1% of the smallest R.
            let tiny = |x: f64, rate: f64| 1e-3 * ymin * x.powf(rate);
            let law = JointLaw {
                family: layout.family,
                e: if free_e { coef[2].clamp(0.0, ymax) } else { e0 },
                a: coef[0].max(tiny(cells[0].n, alpha)),
                alpha,
                b: coef[1].max(tiny(p_min, beta)),
                beta,
                q: 1.0,
            };
            let rss = loss.objective(
                cells
                    .iter()
                    .map(|c| law.predict(c.n, c.p).ln() - c.mean.ln()),
            );
            if rss.is_finite() {
                laws.push((law, rss));
            }
        }
    }
    laws.sort_by(|a, b| a.1.total_cmp(&b.1));
    laws.into_iter().take(keep).map(|(l, _)| l).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fit::joint::JointPoint;

    #[test]
    fn exact_tables_are_fitted_exactly() {
        let truth = JointLaw {
            family: Family::PowerMean,
            e: 0.02,
            a: 3.0,
            alpha: 0.7,
            b: 40.0,
            beta: 0.6,
            q: 0.6,
        };
        let mut points = Vec::new();
        for i in 0..5 {
            for j in 0..5 {
                let (n, p) = (16.0 * 4f64.powi(i), 500.0 * 4f64.powi(j));
                points.push(JointPoint {
                    n,
                    p,
                    y: truth.predict(n, p),
                });
            }
        }
        let data = JointData::new(&points).unwrap();
        let fit = fit_joint(&data, Family::PowerMean, None).unwrap();
        let l = fit.law;
        for (got, want) in [
            (l.e, truth.e),
            (l.alpha, truth.alpha),
            (l.beta, truth.beta),
            (l.q, truth.q),
            (l.a, truth.a),
            (l.b, truth.b),
        ] {
            assert!((got / want - 1.0).abs() < 1e-5, "{l:?}");
        }
        assert!(fit.rss_log < 1e-15);
        let e = fit_joint(
            &data.subset(|c| c.n < 30.0 || c.p < 600.0),
            Family::PowerMean,
            None,
        );
        assert!(e.is_ok(), "9 cells suffice for 6 parameters");
        let few = data.subset(|c| c.n < 30.0 && c.p < 10000.0);
        let e = fit_joint(&few, Family::Additive, None).unwrap_err();
        assert!(e.to_string().contains("needs at least 6 cells"), "{e}");
    }
}
