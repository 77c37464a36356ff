//! The theory figures: Monte Carlo risk against `N` with analytic curves, the floor and fitted
//! power laws; and the risk of every gradient-descent iterate for a few `N`.

use plateau_theory::grid::log_spaced;
use plateau_theory::montecarlo::Summary;
use plateau_theory::{Estimator, Setup};
use plotters::style::RGBColor;

use super::chart::{Chart, Draw, Series};

/// Colour of an estimator, shared by its markers, analytic line and fit.
pub fn color(e: Estimator) -> RGBColor {
    match e {
        Estimator::Optimal => RGBColor(60, 60, 60),
        Estimator::Pca => RGBColor(31, 119, 180),
        Estimator::LeastSquares => RGBColor(214, 39, 40),
        Estimator::GdEarlyStopped => RGBColor(44, 160, 44),
    }
}

/// One estimator's predicted curve: `(N, risk)` points.
pub type AnalyticCurve = (Estimator, Vec<(f64, f64)>);

/// A fitted power law `R = beta N^alpha` drawn over `[lo, hi]`.
#[derive(Clone, Debug)]
pub struct PowerLawLine {
    /// Estimator the fit belongs to.
    pub estimator: Estimator,
    /// `beta`.
    pub beta: f64,
    /// `alpha` (negative for a decreasing risk).
    pub alpha: f64,
    /// Fitted range of `N`.
    pub range: [f64; 2],
}

/// `setup` in words, for titles: `d=10, n=1000, sigma=0.1`.
pub fn describe(setup: &Setup) -> String {
    format!("d={}, n={}, sigma={}", setup.d(), setup.n(), setup.sigma())
}

/// Risk against `N` on log-log axes: Monte Carlo means with standard-error bars, analytic
/// predictions (dashed) where given, the floor, and fitted power laws (solid, over their range).
pub fn risk_vs_n(
    setup: &Setup,
    mc: &[Summary],
    analytic: &[AnalyticCurve],
    fits: &[PowerLawLine],
) -> Chart {
    let mut series = Vec::new();
    let mut estimators: Vec<Estimator> = mc.iter().map(|r| r.estimator).collect();
    estimators.dedup();
    estimators.sort();
    estimators.dedup();
    for &e in &estimators {
        // The optimal estimator's risk is the floor, drawn as a reference line.
        if e == Estimator::Optimal {
            continue;
        }
        let rows: Vec<&Summary> = mc.iter().filter(|r| r.estimator == e).collect();
        let runs = rows.first().map_or(0, |r| r.runs);
        series.push(Series {
            label: format!("{e} (mean of {runs} draws, ±1 s.e.)"),
            points: rows.iter().map(|r| (r.n_train as f64, r.mean)).collect(),
            errors: Some(
                rows.iter()
                    .map(|r| {
                        let se = r.stderr.unwrap_or(0.0);
                        (r.mean - se, r.mean + se)
                    })
                    .collect(),
            ),
            color: color(e),
            draw: Draw::Markers,
        });
    }
    for (e, points) in analytic {
        series.push(Series {
            label: format!("{e} (analytic)"),
            points: points.clone(),
            errors: None,
            color: color(*e),
            draw: Draw::Dashed,
        });
    }
    for f in fits {
        let (lo, hi) = (f.range[0], f.range[1]);
        // 21 points over the fitted range; none for a degenerate range.
        let points = log_spaced(lo, hi, 21)
            .unwrap_or_default()
            .into_iter()
            .map(|x| (x, f.beta * x.powf(f.alpha)))
            .collect();
        series.push(Series {
            label: format!("fit {}: N^{:.2} on [{}, {}]", f.estimator, f.alpha, lo, hi),
            points,
            errors: None,
            color: color(f.estimator),
            draw: Draw::Line,
        });
    }
    Chart {
        title: format!("Risk vs training-set size ({})", describe(setup)),
        x_label: "training examples N".into(),
        y_label: "risk R (normalised MSE)".into(),
        x_log: true,
        y_log: true,
        series,
        hlines: vec![(
            format!("floor sigma²/(1+sigma²) = {:.4}", setup.floor()),
            setup.floor(),
            color(Estimator::Optimal),
        )],
    }
}

/// Palette for several curves of one kind.
const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

/// Risk of gradient-descent iterate `k` (log axis, `k >= 1`) for several `N`, with the
/// early-stopping point of each path marked.
pub fn risk_vs_iteration(setup: &Setup, paths: &[(usize, Vec<f64>)]) -> Chart {
    let mut series = Vec::new();
    for (i, (n_train, path)) in paths.iter().enumerate() {
        let c = PALETTE[i % PALETTE.len()];
        let (best, k_opt) = plateau_theory::spectrum::early_stopped(path);
        series.push(Series {
            label: format!("N = {n_train}"),
            points: path
                .iter()
                .enumerate()
                .skip(1)
                .map(|(k, &r)| (k as f64, r))
                .collect(),
            errors: None,
            color: c,
            draw: Draw::Line,
        });
        series.push(Series {
            label: format!("early stop N = {n_train}: k = {k_opt}, R = {best:.4}"),
            points: vec![(k_opt.max(1) as f64, best)],
            errors: None,
            color: c,
            draw: Draw::Markers,
        });
    }
    Chart {
        title: format!(
            "Gradient descent: risk of every iterate ({})",
            describe(setup)
        ),
        x_label: "iteration k".into(),
        y_label: "risk R(W_k)".into(),
        x_log: true,
        y_log: true,
        series,
        hlines: vec![(
            format!("floor = {:.4}", setup.floor()),
            setup.floor(),
            RGBColor(60, 60, 60),
        )],
    }
}
