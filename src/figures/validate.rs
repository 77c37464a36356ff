//! The `plateau validate` figure: z and the error as a fraction of the excess risk against `N`
//! (log axis), one colour per estimator and one marker per setup, with the tolerance bands of
//! the criterion. Failing points are ringed in black.

use std::path::Path;

use anyhow::Result;
use plateau_theory::validate::Report;
use plateau_theory::Estimator;
use plotters::coord::combinators::{LogCoord, WithKeyPoints};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters_backend::BackendCoord;

use super::chart::{
    draw_legend, drawable_range, linear_tick, log_axis, render_figure, tick, Figure, Glyph,
    Painted, Placed, MIN_X_LABEL_GAP,
};
use super::theory::color;

/// The figure of one report.
pub struct ValidateFigure<'a> {
    report: &'a Report,
}

/// The figure of `report`; [`ValidateFigure::render`] writes it.
pub fn errors_vs_n(report: &Report) -> ValidateFigure<'_> {
    ValidateFigure { report }
}

/// Marker shapes, one per setup (cycled beyond eight): each outline differs, so that setups
/// stay apart in the legend and in the panels whatever their colour (the colour is the estimator).
const SHAPES: [Shape; 8] = [
    Shape::Disc,
    Shape::TriangleUp,
    Shape::Square,
    Shape::Diamond,
    Shape::TriangleDown,
    Shape::Cross,
    Shape::Plus,
    Shape::Ring,
];

/// The outline of a marker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    Disc,
    TriangleUp,
    Square,
    Diamond,
    TriangleDown,
    Cross,
    Plus,
    Ring,
}

/// The marker of setup `index` (shape) in colour `colour` (the estimator's, or grey in the
/// legend) at `at`, data or pixel coordinates; about 14 pixels across.
struct Marker {
    shape: Shape,
    colour: RGBColor,
}

impl Marker {
    fn new<C>(index: usize, at: C, colour: RGBColor) -> Placed<C, Self> {
        let shape = SHAPES[index % SHAPES.len()];
        let glyph = Self { shape, colour };
        Placed { at, glyph }
    }
}

impl Glyph for Marker {
    fn draw_at<DB: DrawingBackend>(&self, (x, y): BackendCoord, backend: &mut DB) -> Painted<DB> {
        let fill = self.colour.filled();
        let line = self.colour.stroke_width(3);
        let shifted = |corners: &[(i32, i32)]| {
            corners
                .iter()
                .map(|&(dx, dy)| (x + dx, y + dy))
                .collect::<Vec<_>>()
        };
        match self.shape {
            Shape::Disc => backend.draw_circle((x, y), 6, &fill, true),
            Shape::Ring => backend.draw_circle((x, y), 6, &self.colour.stroke_width(2), false),
            Shape::Square => backend.draw_rect((x - 5, y - 5), (x + 5, y + 5), &fill, true),
            Shape::TriangleUp => backend.fill_polygon(shifted(&[(0, -8), (7, 5), (-7, 5)]), &fill),
            Shape::TriangleDown => {
                backend.fill_polygon(shifted(&[(0, 8), (7, -5), (-7, -5)]), &fill)
            }
            Shape::Diamond => {
                backend.fill_polygon(shifted(&[(0, -8), (7, 0), (0, 8), (-7, 0)]), &fill)
            }
            Shape::Cross => {
                backend.draw_line((x - 6, y - 6), (x + 6, y + 6), &line)?;
                backend.draw_line((x - 6, y + 6), (x + 6, y - 6), &line)
            }
            Shape::Plus => {
                backend.draw_line((x - 7, y), (x + 7, y), &line)?;
                backend.draw_line((x, y - 7), (x, y + 7), &line)
            }
        }
    }
}

/// Greys for the setup entries of the legend.
const GREY: RGBColor = RGBColor(90, 90, 90);

fn setup_label(s: &plateau_theory::Setup) -> String {
    format!("d={}, n={}, sigma={}", s.d(), s.n(), s.sigma())
}

impl ValidateFigure<'_> {
    /// Writes `stem.png` (1400 x 1100) and `stem.svg`.
    ///
    /// # Errors
    /// Drawing, encoding or writing fails.
    pub fn render(&self, stem: &Path) -> Result<()> {
        render_figure(self, (1400, 1100), stem)
    }

    fn setups(&self) -> Vec<plateau_theory::Setup> {
        let mut out = Vec::new();
        for p in &self.report.points {
            if !out.contains(&p.target.setup) {
                out.push(p.target.setup);
            }
        }
        out
    }

    fn estimators(&self) -> Vec<Estimator> {
        let mut out: Vec<Estimator> = self
            .report
            .points
            .iter()
            .map(|p| p.target.estimator)
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// One panel: `spec.value(point)` against N with the band `[-spec.band, spec.band]`.
    fn panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        spec: &Panel<'_>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        let setups = self.setups();
        let estimators = self.estimators();
        let win = self.window(spec);
        let mut chart = ChartBuilder::on(area)
            .caption(spec.title, ("sans-serif", 26))
            .margin(PANEL_MARGIN)
            .x_label_area_size(55)
            .y_label_area_size(Y_LABEL_AREA)
            .build_cartesian_2d(
                log_axis(win.x0, win.x1, plot_width(area), MIN_X_LABEL_GAP),
                -win.ymax..win.ytop,
            )?;
        chart
            .configure_mesh()
            .x_desc("training examples N")
            .y_desc(spec.y_label)
            .label_style(("sans-serif", 18))
            .axis_desc_style(("sans-serif", 22))
            .x_label_formatter(&|v| tick(*v))
            .y_label_formatter(&|v| linear_tick(*v, win.ytop + win.ymax))
            .light_line_style(RGBColor(235, 235, 235))
            .bold_line_style(RGBColor(200, 200, 200))
            .draw()?;
        draw_band(&mut chart, spec, win)?;
        for (si, s) in setups.iter().enumerate() {
            for &e in &estimators {
                self.draw_points(&mut chart, spec, win, (si, s), e)?;
            }
        }
        draw_legend(&mut chart, SeriesLabelPosition::UpperRight, (16, 35))
    }

    /// The legend of both panels in `area` (a column beside them): one colour per estimator,
    /// one marker per setup, and the ring of a failing point.
    fn legend_column<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        // Level with the top of the z panel's plot area (below its caption).
        let mut chart = ChartBuilder::on(area)
            .margin(PANEL_MARGIN)
            .margin_top(PANEL_MARGIN + 45)
            .build_cartesian_2d(0.0..1.0, 0.0..1.0)?;
        legend_entries(&mut chart, &self.estimators(), &self.setups())?;
        draw_legend(&mut chart, SeriesLabelPosition::UpperLeft, (16, 35))
    }

    /// The panel's axes: `N` padded by a factor 1.4 each side, the values symmetric about 0
    /// with room at the top for the criterion's legend entry.
    fn window(&self, spec: &Panel<'_>) -> Window {
        let pts = &self.report.points;
        let xs = pts.iter().map(|p| p.target.n_train as f64);
        let x0 = xs.clone().fold(f64::INFINITY, f64::min).max(1.0) / 1.4;
        let x1 = xs.fold(1.0, f64::max) * 1.4;
        let ymax = pts
            .iter()
            .map(|p| (spec.value)(p).abs())
            .filter(|v| v.is_finite())
            .fold(spec.band, f64::max)
            * 1.2;
        // Room at the top for the band's legend entry.
        let ytop = ymax * 1.25;
        let (x0, x1) = drawable_range(x0, x1, true);
        let (ymin, ytop) = drawable_range(-ymax, ytop, false);
        Window {
            x0,
            x1,
            ymax: -ymin,
            ytop,
        }
    }

    /// One estimator's points on one setup: a faint line through them, its markers, and a
    /// black ring round each failing point.
    fn draw_points<DB: DrawingBackend>(
        &self,
        chart: &mut PanelChart<'_, DB>,
        spec: &Panel<'_>,
        win: Window,
        (si, s): (usize, &plateau_theory::Setup),
        e: Estimator,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        let c = color(e);
        let series: Vec<(f64, f64, bool)> = self
            .report
            .points
            .iter()
            .filter(|p| p.target.setup == *s && p.target.estimator == e)
            .map(|p| (p.target.n_train as f64, (spec.value)(p), p.pass))
            .filter(|(_, y, _)| y.is_finite())
            .map(|(x, y, pass)| (x, y.clamp(-win.ymax, win.ytop), pass))
            .collect();
        let line: Vec<(f64, f64)> = series.iter().map(|&(x, y, _)| (x, y)).collect();
        chart.draw_series(std::iter::once(PathElement::new(
            line,
            c.mix(0.35).stroke_width(1),
        )))?;
        chart.draw_series(series.iter().map(|&(x, y, _)| Marker::new(si, (x, y), c)))?;
        chart.draw_series(
            series
                .iter()
                .filter(|(_, _, pass)| !pass)
                .map(|&(x, y, _)| Circle::new((x, y), 11, BLACK.stroke_width(2))),
        )?;
        Ok(())
    }
}

/// What one panel shows.
struct Panel<'a> {
    title: &'a str,
    y_label: &'a str,
    /// Half-width of the tolerance band.
    band: f64,
    band_label: &'a str,
    /// The value drawn for a point.
    value: &'a dyn Fn(&plateau_theory::validate::Point) -> f64,
}

/// A panel's axes: `x0..x1` (log) and `-ymax..ytop`.
#[derive(Clone, Copy)]
struct Window {
    x0: f64,
    x1: f64,
    ymax: f64,
    ytop: f64,
}

/// A panel's chart: log `N` (labelled ticks of [`log_axis`]) against a linear value.
type PanelChart<'a, DB> =
    ChartContext<'a, DB, Cartesian2d<WithKeyPoints<LogCoord<f64>>, RangedCoordf64>>;

/// A panel's margin on every side, in pixels.
const PANEL_MARGIN: u32 = 15;

/// Width of the legend column right of the panels, in pixels (the longest setup label,
/// `d=100, n=10000, sigma=0.05`, and its marker).
const LEGEND_COLUMN: u32 = 280;

/// Width of a panel's y tick labels and axis name, in pixels.
const Y_LABEL_AREA: u32 = 80;

/// The plot area's width in pixels on a panel of `area` (its margins and y label area off).
fn plot_width<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>) -> f64 {
    f64::from(area.dim_in_pixel().0) - f64::from(2 * PANEL_MARGIN + Y_LABEL_AREA)
}

/// The tolerance band (shaded, in the legend) and the zero line.
fn draw_band<DB: DrawingBackend>(
    chart: &mut PanelChart<'_, DB>,
    spec: &Panel<'_>,
    win: Window,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let band_style = RGBColor(120, 180, 120).mix(0.18).filled();
    let Window { x0, x1, ymax, ytop } = win;
    chart
        .draw_series(std::iter::once(Rectangle::new(
            // Within the axis: plotters' pixel arithmetic overflows far outside it.
            [(x0, -spec.band.min(ymax)), (x1, spec.band.min(ytop))],
            band_style,
        )))?
        .label(spec.band_label)
        .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 25, y + 6)], band_style));
    chart.draw_series(std::iter::once(PathElement::new(
        vec![(x0, 0.0), (x1, 0.0)],
        BLACK.stroke_width(1),
    )))?;
    Ok(())
}

/// The legend's entries: one colour per estimator, one marker per setup, and the ring of a
/// failing point.
fn legend_entries<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    estimators: &[Estimator],
    setups: &[plateau_theory::Setup],
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    for &e in estimators {
        let c = color(e);
        chart
            .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())?
            .label(e.name())
            .legend(move |(x, y)| Circle::new((x + 12, y), 6, c.filled()));
    }
    for (si, s) in setups.iter().enumerate() {
        chart
            .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())?
            .label(setup_label(s))
            .legend(move |(x, y)| Marker::new(si, (x + 12, y), GREY));
    }
    chart
        .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())?
        .label("fails the criterion")
        .legend(|(x, y)| Circle::new((x + 12, y), 9, BLACK.stroke_width(2)));
    Ok(())
}

impl Figure for ValidateFigure<'_> {
    fn draw_on<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        let c = &self.report.criterion;
        // The estimators' and setups' legend in a column of its own: inside the z panel it
        // covered the points at the largest N (13 entries on the paper preset).
        let (plots, key) = root.split_horizontally(root.dim_in_pixel().0 - LEGEND_COLUMN);
        self.legend_column(&key)?;
        let (top, bottom) = plots.split_vertically(plots.dim_in_pixel().1 / 2);
        self.panel(
            &top,
            &Panel {
                title: "Analytic prediction against exact Monte Carlo: z = (predicted - MC) / s.e.",
                y_label: "z",
                band: c.tol_z(),
                band_label: &format!("|z| <= {}", crate::text::number(c.tol_z())),
                value: &|p| p.z,
            },
        )?;
        self.panel(
            &bottom,
            &Panel {
                title: "Error as a fraction of the excess risk: (predicted - MC) / (MC - floor)",
                y_label: "relative error",
                band: c.tol_excess(),
                band_label: &format!(
                    "|error| <= {} of the excess",
                    crate::text::number(c.tol_excess())
                ),
                value: &|p| p.rel_excess_err,
            },
        )
    }
}
