//! The theory-versus-empirical scaling figure: test MSE of every run (faint, one colour per
//! width), the best width per `N` (line), the fitted saturating law and the floor-anchored
//! power law extrapolated to `1e6` (dashed), the exact floor (dotted), and any number of extra
//! predicted curves such as the learned-linear-estimator risk on the same data. `N` is on a log
//! axis; the MSE axis is logarithmic when the data span more than a factor 5, else linear.

use plateau_theory::grid::log_spaced;
use plotters::style::RGBColor;

use super::chart::{Chart, Draw, Series};
use crate::sweep::scaling::{GroupSummary, EXTRAPOLATE_TO};

/// An extra curve on the figure: `points` are `(N, MSE)` pairs, drawn dashed with `label` in
/// the legend (e.g. the optimally tuned learned linear estimator's risk on the same data).
#[derive(Clone, Debug)]
pub struct NamedCurve {
    /// Legend text.
    pub label: String,
    /// `(N, MSE)` points, increasing `N`.
    pub points: Vec<(f64, f64)>,
}

/// Light tints for the individual runs of each width (in order of increasing width).
const RUN_TINTS: [RGBColor; 6] = [
    RGBColor(158, 202, 225),
    RGBColor(161, 217, 155),
    RGBColor(253, 174, 107),
    RGBColor(188, 189, 220),
    RGBColor(217, 217, 217),
    RGBColor(250, 159, 181),
];

/// Colours of the extra curves.
const EXTRA_COLORS: [RGBColor; 4] = [
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(23, 190, 207),
];

/// Below this ratio of largest to smallest MSE the MSE axis is linear.
const Y_LOG_MIN_RATIO: f64 = 5.0;

/// Points of the fitted curve drawn from the smallest `N` to [`EXTRAPOLATE_TO`].
const FIT_POINTS: usize = 80;

/// [`FIT_POINTS`] log-spaced sizes from `lo` to `hi`; none (no fitted curve is drawn) when the
/// data start beyond `hi`.
fn log_grid(lo: f64, hi: f64) -> Vec<f64> {
    log_spaced(lo, hi, FIT_POINTS).unwrap_or_default()
}

/// The figure of one group. `extra` curves are appended to the series list as they are.
pub fn scaling_chart(g: &GroupSummary, extra: &[NamedCurve]) -> Chart {
    let mut series = Vec::new();
    let mut widths: Vec<Option<i64>> = g.points.iter().map(|p| p.width).collect();
    widths.sort();
    widths.dedup();
    for (i, w) in widths.iter().enumerate() {
        let pts: Vec<(f64, f64)> = g
            .points
            .iter()
            .filter(|p| p.width == *w)
            .map(|p| (p.n, p.test_mse))
            .collect();
        series.push(Series {
            label: match w {
                Some(w) => format!("U-Net width {w}, every run"),
                None => "every run".into(),
            },
            points: pts,
            errors: None,
            color: RUN_TINTS[i % RUN_TINTS.len()],
            draw: Draw::Markers,
        });
    }
    let best_label = match &g.selection_metric {
        Some(m) => format!("best width per N (by {m})"),
        None => "test MSE".into(),
    };
    series.push(Series {
        label: best_label,
        points: g.best.iter().map(|b| (b.n, b.test_mse)).collect(),
        errors: None,
        color: RGBColor(31, 119, 180),
        draw: Draw::Line,
    });
    if let (Some(fit), Some(n0)) = (&g.fit, g.best.first().map(|b| b.n)) {
        let pts: Vec<(f64, f64)> = log_grid(n0, EXTRAPOLATE_TO)
            .into_iter()
            .filter_map(|n| g.predict(n).map(|y| (n, y)))
            .collect();
        let p = |k: &str| fit.params.get(k).copied().unwrap_or(f64::NAN);
        let label = match fit.model {
            crate::fit::ModelKind::Saturating => format!(
                "free fit a N^-b + c: b = {:.2}, c = {:.3e}{}",
                p("b"),
                p("c"),
                g.fitted_floor_over_floor
                    .map_or(String::new(), |r| format!(" ({r:.3} x floor)"))
            ),
            _ => format!("power-law fit: alpha = {:.2}", p("alpha")),
        };
        series.push(Series {
            label,
            points: pts,
            errors: None,
            color: RGBColor(214, 39, 40),
            draw: Draw::Dashed,
        });
    }
    if let (Some(a), Some(floor), Some(n0)) =
        (&g.anchored_fit, g.floor_mse, g.best.first().map(|b| b.n))
    {
        series.push(Series {
            label: format!(
                "floor-anchored fit floor + beta N^alpha: alpha = {:.2}",
                a.alpha
            ),
            points: log_grid(n0, EXTRAPOLATE_TO)
                .into_iter()
                .map(|n| (n, floor + a.beta * n.powf(a.alpha)))
                .collect(),
            errors: None,
            color: RGBColor(255, 127, 14),
            draw: Draw::Dashed,
        });
    }
    for (i, c) in extra.iter().enumerate() {
        series.push(Series {
            label: c.label.clone(),
            points: c.points.clone(),
            errors: None,
            color: EXTRA_COLORS[i % EXTRA_COLORS.len()],
            draw: Draw::Dashed,
        });
    }
    let mut hlines = Vec::new();
    if let Some(f) = g.floor_mse {
        hlines.push((
            format!("predicted floor (Bayes error) {f:.4e}"),
            f,
            RGBColor(40, 40, 40),
        ));
    }
    // A log axis over less than a factor of a few shows one tick label or none; near the floor
    // the curve spans a few percent, so the MSE axis is linear there.
    let ys: Vec<f64> = g
        .points
        .iter()
        .map(|p| p.test_mse)
        .chain(g.floor_mse)
        .chain(extra.iter().flat_map(|c| c.points.iter().map(|p| p.1)))
        .filter(|y| y.is_finite() && *y > 0.0)
        .collect();
    let lo = ys.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = ys.iter().copied().fold(0.0, f64::max);
    let y_log = hi / lo > Y_LOG_MIN_RATIO;
    Chart {
        title: format!("Scaling: {}", g.label),
        x_label: "training-set size N".into(),
        y_label: if y_log {
            "test MSE per pixel (log scale)".into()
        } else {
            "test MSE per pixel".into()
        },
        x_log: true,
        y_log,
        series,
        hlines,
    }
}
