//! The `plateau validate` figure: z and the error as a fraction of the excess risk against `N`
//! (log axis), one colour per estimator and one marker per setup, with the tolerance bands of
//! the criterion. Failing points are ringed in black.

use std::path::Path;

use anyhow::Result;
use plateau_theory::validate::Report;
use plateau_theory::Estimator;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::chart::{draw_legend, render_figure, tick, Figure};
use super::theory::color;

/// The figure of one report.
pub struct ValidateFigure<'a> {
    report: &'a Report,
}

/// The figure of `report`; [`ValidateFigure::render`] writes it.
pub fn errors_vs_n(report: &Report) -> ValidateFigure<'_> {
    ValidateFigure { report }
}

/// Marker shapes, one per setup (cycled).
const SHAPES: usize = 8;

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

    /// One panel: `value(point)` against N with the band `[-band, band]`.
    #[allow(clippy::too_many_arguments)]
    fn panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        title: &str,
        y_label: &str,
        band: f64,
        band_label: &str,
        value: impl Fn(&plateau_theory::validate::Point) -> f64,
        legend: bool,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        let pts = &self.report.points;
        let xs = pts.iter().map(|p| p.target.n_train as f64);
        let x0 = xs.clone().fold(f64::INFINITY, f64::min).max(1.0) / 1.4;
        let x1 = xs.fold(1.0, f64::max) * 1.4;
        let ymax = pts
            .iter()
            .map(|p| value(p).abs())
            .filter(|v| v.is_finite())
            .fold(band, f64::max)
            * 1.2;
        let setups = self.setups();
        let estimators = self.estimators();
        // Room at the top for the legend.
        let rows = (estimators.len() + setups.len() + 1) as f64;
        let ytop = ymax * (1.0 + 0.09 * rows);
        let mut chart = ChartBuilder::on(area)
            .caption(title, ("sans-serif", 26))
            .margin(15)
            .x_label_area_size(55)
            .y_label_area_size(80)
            .build_cartesian_2d((x0..x1).log_scale(), -ymax..ytop)?;
        chart
            .configure_mesh()
            .x_desc("training examples N")
            .y_desc(y_label)
            .label_style(("sans-serif", 18))
            .axis_desc_style(("sans-serif", 22))
            .x_label_formatter(&|v| tick(*v))
            .y_label_formatter(&|v| tick(*v))
            .light_line_style(RGBColor(235, 235, 235))
            .bold_line_style(RGBColor(200, 200, 200))
            .draw()?;
        let band_style = RGBColor(120, 180, 120).mix(0.18).filled();
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(x0, -band), (x1, band)],
                band_style,
            )))?
            .label(band_label)
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 25, y + 6)], band_style));
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(x0, 0.0), (x1, 0.0)],
            BLACK.stroke_width(1),
        )))?;
        for (si, s) in setups.iter().enumerate() {
            for &e in &estimators {
                let c = color(e);
                let series: Vec<(f64, f64, bool)> = pts
                    .iter()
                    .filter(|p| p.target.setup == *s && p.target.estimator == e)
                    .map(|p| (p.target.n_train as f64, value(p), p.pass))
                    .filter(|(_, y, _)| y.is_finite())
                    .collect();
                let line: Vec<(f64, f64)> = series.iter().map(|&(x, y, _)| (x, y)).collect();
                chart.draw_series(std::iter::once(PathElement::new(
                    line.clone(),
                    c.mix(0.35).stroke_width(1),
                )))?;
                for &(x, y, _) in &series {
                    draw_marker(&mut chart, si, (x, y), c)?;
                }
                chart.draw_series(
                    series
                        .iter()
                        .filter(|(_, _, pass)| !pass)
                        .map(|&(x, y, _)| Circle::new((x, y), 11, BLACK.stroke_width(2))),
                )?;
            }
        }
        if legend {
            for &e in &estimators {
                let c = color(e);
                chart
                    .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())?
                    .label(e.name())
                    .legend(move |(x, y)| Circle::new((x + 12, y), 6, c.filled()));
            }
            for (si, s) in setups.iter().enumerate() {
                let entry = chart
                    .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())?
                    .label(setup_label(s));
                let style = if si % SHAPES < 4 {
                    GREY.filled()
                } else {
                    GREY.stroke_width(2)
                };
                let at = move |x: i32, y: i32| EmptyElement::at((x + 12, y));
                match si % 4 {
                    0 => entry.legend(move |(x, y)| at(x, y) + Circle::new((0, 0), 6, style)),
                    1 => {
                        entry.legend(move |(x, y)| at(x, y) + TriangleMarker::new((0, 0), 7, style))
                    }
                    2 => entry
                        .legend(move |(x, y)| at(x, y) + Rectangle::new([(-5, -5), (5, 5)], style)),
                    _ => entry.legend(move |(x, y)| {
                        at(x, y) + Cross::new((0, 0), 6, GREY.stroke_width(3))
                    }),
                };
            }
            chart
                .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())?
                .label("fails the criterion")
                .legend(|(x, y)| Circle::new((x + 12, y), 9, BLACK.stroke_width(2)));
        }
        draw_legend(&mut chart, 16, 35)
    }
}

/// Marker `shape` (one per setup) at a data point.
fn draw_marker<DB: DrawingBackend, X, Y>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<X, Y>>,
    shape: usize,
    p: (f64, f64),
    c: RGBColor,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>>
where
    X: plotters::coord::ranged1d::Ranged<ValueType = f64>,
    Y: plotters::coord::ranged1d::Ranged<ValueType = f64>,
{
    let filled = shape % SHAPES < 4;
    let style = if filled {
        c.filled()
    } else {
        c.stroke_width(2)
    };
    let at = EmptyElement::at(p);
    match shape % 4 {
        0 => chart.draw_series(std::iter::once(at + Circle::new((0, 0), 6, style)))?,
        1 => chart.draw_series(std::iter::once(at + TriangleMarker::new((0, 0), 7, style)))?,
        2 => chart.draw_series(std::iter::once(
            at + Rectangle::new([(-5, -5), (5, 5)], style),
        ))?,
        _ => chart.draw_series(std::iter::once(
            at + Cross::new((0, 0), 6, c.stroke_width(3)),
        ))?,
    };
    Ok(())
}

impl Figure for ValidateFigure<'_> {
    fn draw_on<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        root.fill(&WHITE)?;
        let c = &self.report.criterion;
        let (top, bottom) = root.split_vertically(root.dim_in_pixel().1 / 2);
        self.panel(
            &top,
            "Analytic prediction against exact Monte Carlo: z = (predicted - MC) / s.e.",
            "z",
            c.tol_z(),
            &format!("|z| <= {}", c.tol_z()),
            |p| p.z,
            true,
        )?;
        self.panel(
            &bottom,
            "Error as a fraction of the excess risk: (predicted - MC) / (MC - floor)",
            "relative error",
            c.tol_excess(),
            &format!("|error| <= {} of the excess", c.tol_excess()),
            |p| p.rel_excess_err,
            false,
        )
    }
}
