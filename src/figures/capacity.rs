//! The capacity figures of one curve of a width sweep (see [`crate::analysis::capacity`]):
//!
//! - **error against N per width** ([`width_chart`]): the mean test MSE of every `(N, width)`
//!   cell (markers, bars from the smallest to the largest seed), the joint law at each measured
//!   width (dashed, same colour), the law's best-width envelope (the smallest predicted error
//!   over the swept widths at each `N`), the widths chosen on validation (measured) and the
//!   exact floor;
//! - **the fitted surface** ([`SurfaceFigure`]): predicted PSNR over `(N, P)` as a heat map,
//!   beyond the measured range up to 8x in `N` and 4x in `P`, with the measured cells marked
//!   (filled with their measured PSNR on the same colour scale, so a misfit shows as a
//!   contrast), the held-out corner outlined and the optimal width per `N` drawn as a line.

use plateau_theory::grid::log_spaced;
use plotters::coord::combinators::{LogCoord, WithKeyPoints};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::colors::colormaps::ViridisRGB;

use super::chart::{
    draw_legend, drawable_range, log_axis, tick, Chart, Draw, Figure, Series, MIN_X_LABEL_GAP,
    MIN_Y_LABEL_GAP,
};
use crate::analysis::capacity::{optimal_width, CapacityModel, WIDTH_TOLERANCE_DB};
use crate::analysis::scaling::GroupSummary;
use crate::fit::joint::JointCell;

const ENVELOPE: RGBColor = RGBColor(190, 190, 190);
const VALIDATION: RGBColor = super::palette::RED;
const FLOOR: RGBColor = RGBColor(120, 120, 120);

/// Points of the drawn law curves.
const CURVE_POINTS: usize = 60;

/// Colour of the `i`-th of `k` widths: viridis from dark to green (its yellow end is too light
/// on white).
fn width_color(i: usize, k: usize) -> RGBColor {
    let t = if k > 1 {
        i as f64 / (k - 1) as f64
    } else {
        0.0
    };
    ViridisRGB::get_color(0.85 * t)
}

/// Predicted PSNR (peak 1), the heat map's value.
fn psnr(mse: f64) -> f64 {
    -10.0 * mse.log10()
}

/// The width of the cells with parameter count `p` (the runs' own widths).
fn width_of(g: &GroupSummary, p: f64) -> Option<i64> {
    g.points
        .iter()
        .find(|r| r.params.is_some_and(|q| q as f64 == p))
        .and_then(|r| r.width)
}

/// Error against `N`, one curve per width, with the law's best-width envelope.
pub fn width_chart(g: &GroupSummary, model: &CapacityModel) -> Chart {
    let cells = model.data.cells();
    let sizes = model.data.sizes();
    let grid = log_spaced(sizes[0], sizes[sizes.len() - 1], CURVE_POINTS).unwrap_or_default();
    // The envelope is drawn first and pale, so the dashed law of the best width stays visible
    // on it.
    let mut series = vec![envelope_series(model, &grid)];
    series.extend(width_series(g, model, &grid));
    series.push(Series {
        label: "width chosen on validation (measured)".into(),
        points: g.best.iter().map(|b| (b.n, b.test_mse)).collect(),
        errors: None,
        color: VALIDATION,
        draw: Draw::Line,
    });
    let means: Vec<f64> = cells.iter().map(|c| c.mean).collect();
    let lo = means.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = means.iter().copied().fold(0.0, f64::max);
    Chart {
        title: format!("Error against N per width: {}", g.label),
        x_label: "training-set size N".into(),
        y_label: "test MSE per pixel (mean over seeds)".into(),
        x_log: true,
        y_log: hi / lo > 5.0,
        series,
        hlines: g
            .floor_mse()
            .map(|f| (format!("exact floor {f:.4e}"), f, FLOOR))
            .into_iter()
            .collect(),
    }
}

/// Per measured width: its cells (markers, bars from the smallest to the largest seed) and the
/// joint law over `grid` (dashed, same colour; only the first in the legend).
fn width_series(g: &GroupSummary, model: &CapacityModel, grid: &[f64]) -> Vec<Series> {
    let cells = model.data.cells();
    let counts = model.data.param_counts();
    let spread = |c: &JointCell| {
        let lo = c.draws.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = c.draws.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (lo, hi)
    };
    let mut series = Vec::new();
    for (i, &p) in counts.iter().enumerate() {
        let color = width_color(i, counts.len());
        let mine: Vec<&JointCell> = cells.iter().filter(|c| c.p == p).collect();
        series.push(Series {
            label: match width_of(g, p) {
                Some(w) => format!("width {w} (P = {})", tick(p)),
                None => format!("P = {}", tick(p)),
            },
            points: mine.iter().map(|c| (c.n, c.mean)).collect(),
            errors: Some(mine.iter().map(|c| spread(c)).collect()),
            color,
            draw: Draw::Markers,
        });
        series.push(Series {
            label: if i == 0 {
                format!(
                    "joint law ({}), dashed in each width's colour",
                    model.law.family
                )
            } else {
                String::new()
            },
            points: grid.iter().map(|&n| (n, model.law.predict(n, p))).collect(),
            errors: None,
            color,
            draw: Draw::Dashed,
        });
    }
    series
}

/// The law's smallest predicted error over the swept widths at each `N` of `grid`.
fn envelope_series(model: &CapacityModel, grid: &[f64]) -> Series {
    let [w_lo, w_hi] = model.widths.range();
    let widths = log_spaced(w_lo, w_hi, CURVE_POINTS).unwrap_or_default();
    let envelope: Vec<(f64, f64)> = grid
        .iter()
        .map(|&n| {
            let best = widths
                .iter()
                .map(|&w| model.law.predict(n, model.widths.params(w)))
                .fold(f64::INFINITY, f64::min);
            (n, best)
        })
        .collect();
    Series {
        label: format!("best-width envelope of the law (widths {w_lo}-{w_hi})"),
        points: envelope,
        errors: None,
        color: ENVELOPE,
        draw: Draw::Line,
    }
}

/// The fitted surface over `(N, P)` (see the module docs).
pub struct SurfaceFigure<'a> {
    /// Title.
    pub title: String,
    /// The fit.
    pub model: &'a CapacityModel,
    /// `(n_from, p_from)` of the held-out corner, when there was one.
    pub corner: Option<[f64; 2]>,
}

/// Heat-map resolution (cells along `N` and `P`).
const HEAT: (usize, usize) = (150, 100);

impl SurfaceFigure<'_> {
    fn ranges(&self) -> ([f64; 2], [f64; 2]) {
        let s = self.model.data.sizes();
        let p = self.model.data.param_counts();
        (
            [s[0] / 1.5, s[s.len() - 1] * 8.0],
            [p[0] / 1.5, p[p.len() - 1] * 4.0],
        )
    }

    /// Predicted PSNR on the heat grid, `[i][j]` for the `i`-th `N` and `j`-th `P`, and the
    /// grid edges.
    fn heat(&self) -> (Vec<f64>, Vec<f64>, Vec<Vec<f64>>) {
        let ([n0, n1], [p0, p1]) = self.ranges();
        let ns = log_spaced(n0, n1, HEAT.0 + 1).unwrap_or_default();
        let ps = log_spaced(p0, p1, HEAT.1 + 1).unwrap_or_default();
        let mid = |v: &[f64], i: usize| (v[i] * v[i + 1]).sqrt();
        let z = (0..HEAT.0)
            .map(|i| {
                (0..HEAT.1)
                    .map(|j| psnr(self.model.law.predict(mid(&ns, i), mid(&ps, j))))
                    .collect()
            })
            .collect();
        (ns, ps, z)
    }
}

impl Figure for SurfaceFigure<'_> {
    fn draw_on<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        let (w, _) = root.dim_in_pixel();
        let (main, bar) = root.split_horizontally(w - 190);
        let (ns, ps, z) = self.heat();
        let cells = self.model.data.cells();
        let measured: Vec<f64> = cells.iter().map(|c| psnr(c.mean)).collect();
        let all = z.iter().flatten().chain(&measured);
        let zmin = all.clone().copied().fold(f64::INFINITY, f64::min);
        let zmax = all.copied().fold(f64::NEG_INFINITY, f64::max);
        let color = |v: f64| ViridisRGB::get_color_normalized(v, zmin, zmax);
        let ([n0, n1], [p0, p1]) = self.ranges();
        let (n0, n1) = drawable_range(n0, n1, true);
        let (p0, p1) = drawable_range(p0, p1, true);
        let mut chart = self.axes(&main, w, [n0, n1], [p0, p1])?;
        chart.draw_series((0..HEAT.0).flat_map(|i| {
            let (ns, ps, z) = (&ns, &ps, &z);
            (0..HEAT.1).map(move |j| {
                Rectangle::new(
                    [(ns[i], ps[j]), (ns[i + 1], ps[j + 1])],
                    color(z[i][j]).filled(),
                )
            })
        }))?;
        if let Some(corner) = self.corner {
            let top = (ns[ns.len() - 1].min(n1), ps[ps.len() - 1].min(p1));
            draw_corner(&mut chart, corner, top)?;
        }
        self.draw_optimal(&mut chart, n0, n1)?;
        chart
            .draw_series(
                cells
                    .iter()
                    .zip(&measured)
                    .map(|(c, &v)| Circle::new((c.n, c.p), 9, color(v).filled())),
            )?
            .label("measured cell (filled with its PSNR)")
            .legend(|(x, y)| Circle::new((x + 15, y), 7, BLACK.stroke_width(2)));
        chart.draw_series(
            cells
                .iter()
                .map(|c| Circle::new((c.n, c.p), 9, BLACK.stroke_width(2))),
        )?;
        draw_legend(&mut chart, SeriesLabelPosition::UpperLeft, (18, 45))?;
        colour_bar(&bar, zmin, zmax)
    }
}

/// The surface's chart: log `N` against log `P`.
type SurfaceChart<'a, DB> =
    ChartContext<'a, DB, Cartesian2d<WithKeyPoints<LogCoord<f64>>, WithKeyPoints<LogCoord<f64>>>>;

impl SurfaceFigure<'_> {
    /// The titled chart on `main` over `[n0, n1] x [p0, p1]`, its axes drawn (no mesh: the heat
    /// map fills it); the title's size follows the figure's width `w` in pixels.
    fn axes<'a, DB: DrawingBackend>(
        &self,
        main: &'a DrawingArea<DB, Shift>,
        w: u32,
        [n0, n1]: [f64; 2],
        [p0, p1]: [f64; 2],
    ) -> Result<SurfaceChart<'a, DB>, DrawingAreaErrorKind<DB::ErrorType>> {
        let (mw, mh) = main.dim_in_pixel();
        let title_size = (1.8 * f64::from(w) / self.title.chars().count().max(1) as f64)
            .clamp(14.0, 28.0) as u32;
        let mut chart = ChartBuilder::on(main)
            .caption(&self.title, ("sans-serif", title_size))
            .margin(20)
            .x_label_area_size(60)
            .y_label_area_size(100)
            .build_cartesian_2d(
                log_axis(n0, n1, f64::from(mw) - 140.0, MIN_X_LABEL_GAP),
                log_axis(
                    p0,
                    p1,
                    f64::from(mh) - 120.0 - f64::from(title_size),
                    MIN_Y_LABEL_GAP,
                ),
            )?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc("training-set size N")
            .y_desc("trainable parameters P")
            .label_style(("sans-serif", 20))
            .axis_desc_style(("sans-serif", 24))
            .x_label_formatter(&|v: &f64| tick(*v))
            .y_label_formatter(&|v: &f64| tick(*v))
            .draw()?;
        Ok(chart)
    }

    /// The optimal width per `N` from `n0` to `n1`, as its parameter count (a line).
    fn draw_optimal<DB: DrawingBackend>(
        &self,
        chart: &mut SurfaceChart<'_, DB>,
        n0: f64,
        n1: f64,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        let map = &self.model.widths;
        let optimal: Vec<(f64, f64)> = log_spaced(n0, n1, 80)
            .unwrap_or_default()
            .into_iter()
            .map(|n| (n, map.params(optimal_width(&self.model.law, n, map))))
            .collect();
        let line = ShapeStyle::from(&RGBColor(255, 80, 80)).stroke_width(3);
        chart
            .draw_series(LineSeries::new(optimal, line))?
            .label(format!(
                "optimal width (within {WIDTH_TOLERANCE_DB} dB of the best)"
            ))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 30, y)], line));
        Ok(())
    }
}

/// The held-out corner `N >= nf, P >= pf` outlined (dashed, just outside it) up to `top`.
fn draw_corner<DB: DrawingBackend>(
    chart: &mut SurfaceChart<'_, DB>,
    [nf, pf]: [f64; 2],
    (nm, pm): (f64, f64),
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let edge = ShapeStyle::from(&BLACK).stroke_width(2);
    chart
        .draw_series(DashedLineSeries::new(
            [(nf / 1.25, pm), (nf / 1.25, pf / 1.25), (nm, pf / 1.25)],
            8,
            6,
            edge,
        ))?
        .label("held-out corner (family choice)")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 30, y)], edge));
    Ok(())
}

/// The colour scale: predicted PSNR from `lo` to `hi` dB.
fn colour_bar<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    lo: f64,
    hi: f64,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let (lo, hi) = drawable_range(lo, hi, false);
    let mut bar = ChartBuilder::on(area)
        .margin_top(80)
        .margin_bottom(80)
        .margin_right(10)
        .y_label_area_size(110)
        .build_cartesian_2d(0.0..1.0, lo..hi)?;
    bar.configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .y_desc("predicted PSNR (dB)")
        .label_style(("sans-serif", 18))
        .axis_desc_style(("sans-serif", 20))
        .y_label_formatter(&|v: &f64| format!("{v:.2}"))
        .draw()?;
    let steps = 200;
    bar.draw_series((0..steps).map(|k| {
        let a = lo + (hi - lo) * k as f64 / steps as f64;
        let b = lo + (hi - lo) * (k + 1) as f64 / steps as f64;
        Rectangle::new(
            [(0.0, a), (1.0, b)],
            ViridisRGB::get_color_normalized(a, lo, hi).filled(),
        )
    }))?;
    Ok(())
}
