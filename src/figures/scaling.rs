//! The scaling figures of one curve of a sweep, three views of the same runs
//! ([`scaling_views`]):
//!
//! - **test error**: test MSE of every run (faint, one colour per width), the
//!   best width per `N` (line), the fitted saturating law extrapolated to `1e6` (dashed) with its
//!   95% bootstrap band (shaded), the floor-anchored power law, the exact floor (dotted) and any
//!   predicted curves (e.g. learned linear estimators on the same data) and levels (e.g. the
//!   best linear map of a real-data curve, a pink horizontal line). The MSE axis is set by the runs, the
//!   floor and the levels, not by the predicted curves (which are cut at its edges), so runs
//!   within a few percent of the floor stay readable; it is linear when they span less than a
//!   factor 5.
//! - **excess over the floor**: `MSE - floor` on log-log axes, where the
//!   approach to the floor is visible and a fitted exponent reads as a slope. The floor is the
//!   exact one when the data have it, else the fitted `c`. No band here: the band of the fitted
//!   curve minus a floor crosses zero and says nothing about the exponent.
//! - **PSNR**: `10 log10(1 / MSE)` in dB against `N` (peak 1), as the paper
//!   plots its curves, with the extrapolation and its band.

use plateau_theory::grid::log_spaced;
use plotters::style::RGBColor;

use super::chart::{Chart, Draw, Series};
use super::palette::{self, TINTS};
use crate::analysis::band::Band;
use crate::analysis::scaling::{GroupSummary, EXTRAPOLATE_TO};
use crate::analysis::{PredictedCurve, PredictedLevel};
use crate::fit::ModelKind;
use plateau_run::problem::LOWER_BOUND_LABEL;

/// Colours of the extra curves.
const EXTRA_COLORS: [RGBColor; 4] = [
    palette::GREEN,
    palette::PURPLE,
    palette::BROWN,
    palette::CYAN,
];

const BEST: RGBColor = palette::BLUE;
const FREE_FIT: RGBColor = palette::RED;
const ANCHORED_FIT: RGBColor = palette::ORANGE;
const FLOOR: RGBColor = RGBColor(40, 40, 40);
/// The levels (best linear map): a pink apart from the extra curves' and the floor's colours.
const LEVEL: RGBColor = palette::PINK;

/// `(x, y)` points.
type Points = Vec<(f64, f64)>;

/// Below this ratio of largest to smallest MSE the MSE axis is linear.
const Y_LOG_MIN_RATIO: f64 = 5.0;

/// Points of the fitted curves drawn from the smallest `N` to [`EXTRAPOLATE_TO`].
pub const FIT_POINTS: usize = 80;

/// [`FIT_POINTS`] log-spaced sizes from `lo` to `hi`; none (no fitted curve is drawn) when the
/// data start beyond `hi`.
pub fn fit_grid(lo: f64, hi: f64) -> Vec<f64> {
    log_spaced(lo, hi, FIT_POINTS).unwrap_or_default()
}

/// The figure's sizes: from the smallest measured `N` to [`EXTRAPOLATE_TO`].
pub fn group_grid(g: &GroupSummary) -> Vec<f64> {
    g.best
        .first()
        .map_or(vec![], |b| fit_grid(b.n, EXTRAPOLATE_TO))
}

/// How a view maps a test MSE to its y value (`None`: not drawn).
#[derive(Clone, Copy)]
enum View {
    Error,
    Excess(f64),
    Psnr,
}

impl View {
    fn y(self, mse: f64) -> Option<f64> {
        let v = match self {
            View::Error => mse,
            View::Excess(floor) => mse - floor,
            View::Psnr => -10.0 * mse.log10(),
        };
        (v.is_finite() && (matches!(self, View::Psnr) || v > 0.0)).then_some(v)
    }

    fn log(self, window: (f64, f64)) -> bool {
        match self {
            View::Error => window.1 / window.0 > Y_LOG_MIN_RATIO,
            View::Excess(_) => true,
            View::Psnr => false,
        }
    }
}

/// Cuts a polyline at `lo <= y <= hi`, adding the crossing points (interpolated in `ln x`),
/// so a predicted curve ends at the plot's edge instead of setting its scale.
fn clip(points: &[(f64, f64)], (lo, hi): (f64, f64)) -> Vec<(f64, f64)> {
    let inside = |y: f64| (lo..=hi).contains(&y);
    let mut out = Vec::new();
    for (i, &(x, y)) in points.iter().enumerate() {
        if i > 0 {
            let (x0, y0) = points[i - 1];
            for edge in [lo, hi] {
                let crosses = (y0 - edge) * (y - edge) < 0.0;
                if crosses {
                    let t = (edge - y0) / (y - y0);
                    out.push(((x0.ln() + t * (x.ln() - x0.ln())).exp(), edge));
                }
            }
        }
        if inside(y) {
            out.push((x, y));
        }
    }
    out
}

/// The y window of a view: the runs, the floor and the levels, padded.
fn window(g: &GroupSummary, levels: &[PredictedLevel], view: View) -> Option<(f64, f64)> {
    let ys: Vec<f64> = g
        .points
        .iter()
        .map(|p| p.test_mse)
        .chain(match view {
            View::Excess(_) => None,
            _ => g.floor_mse(),
        })
        .chain(levels.iter().map(|l| l.mse))
        .filter_map(|m| view.y(m))
        .collect();
    let (lo, hi) = crate::fit::min_max(&ys);
    if !lo.is_finite() {
        return None;
    }
    Some(match view {
        // The extrapolation runs two to three decades further down than the runs.
        View::Excess(_) => (lo / 1000.0, hi * 30.0),
        _ if view.log((lo, hi)) => (lo / 1.3, hi * 1.3),
        _ => {
            let pad = 0.15 * (hi - lo).max(1e-9 * hi.abs().max(1.0));
            (lo - pad, hi + pad)
        }
    })
}

/// The predictions beside the measured curve: learned estimators' curves and `N`-free levels.
#[derive(Clone, Copy, Debug, Default)]
pub struct Predicted<'a> {
    /// Curves against `N` (dashed).
    pub curves: &'a [PredictedCurve],
    /// Levels (horizontal lines, with their value in the legend).
    pub levels: &'a [PredictedLevel],
}

/// A level's horizontal line in `view`: its legend text (the value, with its 95% band where it
/// has one) and height; `None` where the view cannot show it (a level at or below the floor on
/// the excess view).
fn level_line(l: &PredictedLevel, view: View) -> Option<(String, f64, RGBColor)> {
    let y = view.y(l.mse)?;
    let psnr = |m: f64| -10.0 * m.log10();
    let value = match (view, l.band) {
        (View::Psnr, Some((lo, hi))) => {
            format!("{y:.2} dB (95% {:.2} to {:.2} dB)", psnr(hi), psnr(lo))
        }
        (View::Psnr, None) => format!("{y:.2} dB"),
        (_, Some((lo, hi))) => format!("{:.4e} (95% {lo:.2e} to {hi:.2e})", l.mse),
        (_, None) => format!("{:.4e}", l.mse),
    };
    let value = match view {
        View::Excess(c) => format!("{value}, drawn minus {c:.4e}"),
        _ => value,
    };
    Some((format!("{} {value}", l.label), y, LEVEL))
}

/// One view of one curve: what every series of [`chart`] is mapped and clipped through.
struct Frame<'a> {
    g: &'a GroupSummary,
    view: View,
    /// The y window (see [`window`]).
    win: (f64, f64),
}

impl Frame<'_> {
    /// A predicted curve's `(N, MSE)` points in the view, cut at the window's edges.
    fn map(&self, pts: &[(f64, f64)]) -> Points {
        let mapped: Points = pts
            .iter()
            .filter_map(|&(n, m)| self.view.y(m).map(|y| (n, y)))
            .collect();
        clip(&mapped, self.win)
    }
}

fn chart(g: &GroupSummary, extra: Predicted<'_>, band: Option<&Band>, view: View) -> Chart {
    let win = window(g, extra.levels, view).unwrap_or((f64::MIN_POSITIVE, f64::MAX));
    let frame = Frame { g, view, win };
    let grid = group_grid(g);
    let mut series = run_series(g, view);
    series.push(best_series(&frame));
    if let Some(fit) = &g.fit {
        series.extend(band.and_then(|b| band_series(&frame, b)));
        series.push(fit_series(&frame, fit, &grid));
    }
    series.extend(anchored_series(&frame, &grid));
    series.extend(extra_series(&frame, extra.curves));
    let mut hlines: Vec<_> = floor_line(g, view).into_iter().collect();
    hlines.extend(extra.levels.iter().filter_map(|l| level_line(l, view)));
    let y_log = view.log(win);
    let (title, y_label) = titles(g, view, y_log);
    Chart {
        title: format!("{title}: {}", g.label),
        x_label: "training-set size N".into(),
        y_label,
        x_log: true,
        y_log,
        series,
        hlines,
    }
}

/// Every run as a marker, one series (and tint) per width in increasing order.
fn run_series(g: &GroupSummary, view: View) -> Vec<Series> {
    let mut widths: Vec<Option<i64>> = g.points.iter().map(|p| p.width).collect();
    widths.sort();
    widths.dedup();
    widths
        .iter()
        .enumerate()
        .map(|(i, w)| Series {
            label: match w {
                Some(w) => format!("U-Net width {w}, every run"),
                None => "every run".into(),
            },
            points: g
                .points
                .iter()
                .filter(|p| p.width == *w)
                .filter_map(|p| view.y(p.test_mse).map(|y| (p.n, y)))
                .collect(),
            errors: None,
            color: TINTS[i % TINTS.len()],
            draw: Draw::Markers,
        })
        .collect()
}

/// The best width per `N` (a line).
fn best_series(f: &Frame<'_>) -> Series {
    Series {
        label: match &f.g.selection_metric {
            Some(m) => format!("best width per N (by {m})"),
            None => "test MSE".into(),
        },
        points: f.map(
            &f.g.best
                .iter()
                .map(|b| (b.n, b.test_mse))
                .collect::<Vec<_>>(),
        ),
        errors: None,
        color: BEST,
        draw: Draw::Line,
    }
}

/// The fit's 95% bootstrap band (shaded); `None` on the excess view.
fn band_series(f: &Frame<'_>, band: &Band) -> Option<Series> {
    // The band is of the fitted curve; its excess over a floor is not the fit's own
    // uncertainty (the ends cross the floor), so the excess view shows the lines only.
    if matches!(f.view, View::Excess(_)) {
        return None;
    }
    // The view's transform may reverse the order (PSNR), so sort each pair.
    let (pts, errs): (Points, Points) = band
        .iter()
        .filter_map(|&(n, lo, hi)| {
            let (a, b) = (f.view.y(lo)?, f.view.y(hi)?);
            let (a, b) = (a.min(b).max(f.win.0), a.max(b).min(f.win.1));
            (a <= b).then_some(((n, a), (a, b)))
        })
        .unzip();
    Some(Series {
        label: "95% bootstrap band of the fit".into(),
        points: pts,
        errors: Some(errs),
        color: FREE_FIT,
        draw: Draw::Band,
    })
}

/// The free fit over `grid` (dashed), its parameters in the legend.
fn fit_series(f: &Frame<'_>, fit: &crate::fit::FitReport, grid: &[f64]) -> Series {
    let g = f.g;
    let p = |k: &str| fit.params.get(k).copied().unwrap_or(f64::NAN);
    let pts: Points = grid
        .iter()
        .filter_map(|&n| match f.view {
            // A fitted floor within its uncertainty below the exact floor counts as the
            // floor here: the excess is then the learnable part a N^-b, a straight line,
            // not a curve diving to minus infinity where it crosses the floor.
            View::Excess(floor) if fit.model == ModelKind::Saturating => Some((
                n,
                floor + p("a") * n.powf(-p("b")) + (p("c") - floor).max(0.0),
            )),
            _ => g.predict(n).map(|y| (n, y)),
        })
        .collect();
    let label = match fit.model {
        ModelKind::Saturating => format!(
            "fit a N^-b + c{}: b = {:.2}, c = {:.3e}{}",
            if g.floor.is_some() {
                ", c >= floor - 1 se"
            } else {
                ""
            },
            p("b"),
            p("c"),
            g.floor
                .as_ref()
                .and_then(|f| f.fitted_floor_over_floor)
                .map_or(String::new(), |r| format!(" ({r:.3} x floor)"))
        ),
        _ => format!("power-law fit: alpha = {:.2}", p("alpha")),
    };
    Series {
        label,
        points: f.map(&pts),
        errors: None,
        color: FREE_FIT,
        draw: Draw::Dashed,
    }
}

/// The floor-anchored power law over `grid` (dashed), where the curve has both.
fn anchored_series(f: &Frame<'_>, grid: &[f64]) -> Option<Series> {
    let floor = f.g.floor.as_ref()?;
    let (a, floor) = (floor.anchored_fit.as_ref()?, floor.floor_mse);
    let pts: Points = grid
        .iter()
        .map(|&n| (n, floor + a.beta * n.powf(a.alpha)))
        .collect();
    Some(Series {
        label: format!(
            "floor + beta N^alpha: alpha = {:.2}{}",
            a.alpha,
            if matches!(f.view, View::Excess(_)) {
                " (slope)"
            } else {
                ""
            }
        ),
        points: f.map(&pts),
        errors: None,
        color: ANCHORED_FIT,
        draw: Draw::Dashed,
    })
}

/// The predicted curves (dashed), each in its own colour.
fn extra_series<'a>(
    f: &'a Frame<'_>,
    curves: &'a [PredictedCurve],
) -> impl Iterator<Item = Series> + 'a {
    curves.iter().enumerate().map(|(i, c)| Series {
        label: c.label.clone(),
        points: f.map(&c.points),
        errors: None,
        color: EXTRA_COLORS[i % EXTRA_COLORS.len()],
        draw: Draw::Dashed,
    })
}

/// The exact floor's horizontal line, where the curve has one the view can show.
fn floor_line(g: &GroupSummary, view: View) -> Option<(String, f64, RGBColor)> {
    let floor = g.floor.as_ref()?;
    let f = floor.floor_mse;
    let y = view.y(f)?;
    // A floor the network cannot reach for lack of information is named a bound.
    let bound = floor.floor_label == LOWER_BOUND_LABEL;
    let text = match (view, bound) {
        (View::Psnr, false) => format!("Bayes floor {y:.2} dB"),
        (View::Psnr, true) => format!("{LOWER_BOUND_LABEL} {y:.2} dB"),
        (_, false) => format!("predicted floor (Bayes error) {f:.4e}"),
        (_, true) => format!("{LOWER_BOUND_LABEL} {f:.4e}"),
    };
    Some((text, y, FLOOR))
}

/// The view's title and y-axis label.
fn titles(g: &GroupSummary, view: View, y_log: bool) -> (&'static str, String) {
    match view {
        View::Error => (
            "Scaling",
            if y_log {
                "test MSE per pixel (log scale)"
            } else {
                "test MSE per pixel"
            }
            .to_string(),
        ),
        View::Excess(_) => (
            "Excess over the floor",
            format!(
                "test MSE - {} (log scale)",
                if g.floor.is_some() {
                    "exact floor"
                } else {
                    "fitted floor c"
                }
            ),
        ),
        View::Psnr => ("PSNR", "PSNR of the test MSE, peak 1 (dB)".to_string()),
    }
}

/// The floor of the excess view: the exact floor, else the fitted saturating law's `c`;
/// `None` when neither is positive.
fn excess_floor(g: &GroupSummary) -> Option<f64> {
    let fitted = g.fit.as_ref().filter(|f| f.model == ModelKind::Saturating);
    g.floor_mse()
        .or_else(|| fitted.and_then(|f| f.params.get("c").copied()))
        .filter(|c| *c > 0.0)
}

/// Every view (see the module docs) with its file-name suffix: `""` (test error), `"_excess"`
/// (only with a floor, see `excess_floor`), `"_psnr"`.
pub fn scaling_views(
    g: &GroupSummary,
    extra: Predicted<'_>,
    band: Option<&Band>,
) -> Vec<(&'static str, Chart)> {
    let views = [
        ("", Some(View::Error)),
        ("_excess", excess_floor(g).map(View::Excess)),
        ("_psnr", Some(View::Psnr)),
    ];
    views
        .into_iter()
        .filter_map(|(suffix, view)| Some((suffix, chart(g, extra, band, view?))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clip_cuts_at_the_edges() {
        let pts = [(1.0, 10.0), (10.0, 5.0), (100.0, 1.0), (1000.0, 0.5)];
        let c = clip(&pts, (0.8, 8.0));
        assert_eq!(c.len(), 4);
        assert_eq!(c[0].1, 8.0);
        assert!(c[0].0 > 1.0 && c[0].0 < 10.0);
        assert_eq!(c[1], (10.0, 5.0));
        assert_eq!(c[3].1, 0.8);
    }
}
