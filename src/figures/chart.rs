//! A small declarative chart (log or linear axes, lines, markers with error bars, horizontal
//! reference lines) rendered with plotters to PNG and SVG.
//!
//! Fonts are embedded (DejaVu Sans, `assets/fonts`), so figures look the same on every machine
//! and need no system font library.

use std::path::Path;
use std::sync::Once;

use anyhow::{anyhow, Context, Result};
use image::ImageEncoder;
use plotters::coord::combinators::{LogCoord, WithKeyPoints};
use plotters::coord::ranged1d::ValueFormatter;
use plotters::coord::{CoordTranslate, Shift};
use plotters::element::{Drawable, PointCollection};
use plotters::prelude::*;
use plotters_backend::{BackendCoord, DrawingErrorKind};

use crate::output::write_atomic;

static FONT: Once = Once::new();

fn register_font() {
    FONT.call_once(|| {
        let bytes: &'static [u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
        plotters::style::register_font("sans-serif", FontStyle::Normal, bytes)
            .unwrap_or_else(|_| panic!("embedded DejaVuSans.ttf is a valid font"));
    });
}

/// `(x, y)` points.
type Points = Vec<(f64, f64)>;

/// A chart on two `f64` axes, each linear or logarithmic.
type Axes<'a, DB, X, Y> = ChartContext<'a, DB, Cartesian2d<X, Y>>;

/// What drawing on the backend `DB` returns.
type Drawn<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// An axis of `f64` values (plotters' linear and log ranges).
trait Axis: Ranged<ValueType = f64> {}
impl<T: Ranged<ValueType = f64>> Axis for T {}

/// Plot area (pixels), axes' ranges and legend corner of a drawn chart.
type Frame = ((f64, f64), ((f64, f64), (f64, f64)), SeriesLabelPosition);

/// The x range, the y range and the legend's corner of a chart.
type Layout = ((f64, f64), (f64, f64), SeriesLabelPosition);

/// How a series is drawn.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Draw {
    /// Solid line.
    Line,
    /// Dashed line.
    Dashed,
    /// Circles, with vertical error bars when the series has them.
    Markers,
    /// A shaded band between the series' `errors` `(lo, hi)` at each point (an interval
    /// around a curve); the points themselves are not drawn.
    Band,
}

/// One labelled series of `(x, y)` points.
#[derive(Clone, Debug)]
pub struct Series {
    /// Legend text (empty: not in the legend).
    pub label: String,
    /// Points; non-finite or (on a log axis) non-positive ones are skipped.
    pub points: Vec<(f64, f64)>,
    /// Optional symmetric error `(lo, hi)` per point, drawn as vertical bars.
    pub errors: Option<Vec<(f64, f64)>>,
    /// Colour.
    pub color: RGBColor,
    /// Style.
    pub draw: Draw,
}

/// A chart description.
#[derive(Clone, Debug)]
pub struct Chart {
    /// Title above the plot.
    pub title: String,
    /// X axis label.
    pub x_label: String,
    /// Y axis label.
    pub y_label: String,
    /// Logarithmic x axis.
    pub x_log: bool,
    /// Logarithmic y axis.
    pub y_log: bool,
    /// Data series, drawn in order.
    pub series: Vec<Series>,
    /// Horizontal reference lines `(label, y, colour)`, drawn dotted across the plot.
    pub hlines: Vec<(String, f64, RGBColor)>,
}

impl Chart {
    fn visible(&self, (x, y): (f64, f64)) -> bool {
        x.is_finite() && y.is_finite() && (!self.x_log || x > 0.0) && (!self.y_log || y > 0.0)
    }

    /// Data bounds over all visible points, error bars and reference lines, padded.
    fn bounds(&self) -> Result<((f64, f64), (f64, f64))> {
        let mut xs = Vec::new();
        let mut ys = Vec::new();
        for s in &self.series {
            for (i, &p) in s.points.iter().enumerate() {
                if !self.visible(p) {
                    continue;
                }
                xs.push(p.0);
                ys.push(p.1);
                if let Some(e) = s.errors.as_ref().and_then(|e| e.get(i)) {
                    ys.extend([e.0, e.1].into_iter().filter(|&y| self.visible((p.0, y))));
                }
            }
        }
        ys.extend(
            self.hlines
                .iter()
                .map(|h| h.1)
                .filter(|&y| y.is_finite() && (!self.y_log || y > 0.0)),
        );
        let range = |v: &[f64], log: bool| -> Option<(f64, f64)> {
            let (lo, hi) = crate::fit::min_max(v);
            if !lo.is_finite() {
                return None;
            }
            Some(if log {
                let (lo, hi) = if hi / lo < 1.5 {
                    (lo / 1.25, hi * 1.25)
                } else {
                    (lo, hi)
                };
                (lo / 1.3, hi * 1.3)
            } else {
                let pad = ((hi - lo) * 0.05).max(1e-12 * hi.abs().max(1.0));
                (lo - pad, hi + pad)
            })
        };
        let x = range(&xs, self.x_log)
            .ok_or_else(|| anyhow!("chart '{}' has no points", self.title))?;
        let y = range(&ys, self.y_log)
            .ok_or_else(|| anyhow!("chart '{}' has no points", self.title))?;
        Ok((x, y))
    }

    /// The axes' ranges and the legend's corner for a plot area of `px` pixels: the corner
    /// whose legend box holds no drawn point, line or reference line ([`legend_corner`]); when
    /// every corner is taken, the upper right with room added above the data so that the
    /// legend sits above everything drawn.
    fn layout(&self, px: (f64, f64)) -> Result<Layout> {
        let (x, mut y) = self.bounds()?;
        let labels: Vec<&str> = self
            .series
            .iter()
            .map(|s| s.label.as_str())
            .chain(self.hlines.iter().map(|h| h.0.as_str()))
            .filter(|l| !l.is_empty())
            .collect();
        if labels.is_empty() {
            return Ok((x, y, SeriesLabelPosition::UpperRight));
        }
        let size = legend_size(&labels, px);
        let drawn = self.drawn_points(x, y);
        if let Some(pos) = legend_corner(&drawn, size) {
            return Ok((x, y, pos));
        }
        // Room above the data: its top at `size.1` (plus a margin) below the plot's top.
        let frac = (size.1 + 0.02).min(0.8);
        let grow = frac / (1.0 - frac);
        if self.y_log {
            y.1 *= (y.1 / y.0).powf(grow);
        } else {
            y.1 += (y.1 - y.0) * grow;
        }
        Ok((x, y, SeriesLabelPosition::UpperRight))
    }

    /// Every drawn point in plot fractions (`0..1` from the lower left), lines sampled between
    /// their points, error bars and band edges included, reference lines across the width.
    fn drawn_points(&self, x: (f64, f64), y: (f64, f64)) -> Vec<(f64, f64)> {
        let frac = |v: f64, (lo, hi): (f64, f64), log: bool| {
            if log {
                (v / lo).ln() / (hi / lo).ln()
            } else {
                (v - lo) / (hi - lo)
            }
        };
        let to = |(a, b): (f64, f64)| (frac(a, x, self.x_log), frac(b, y, self.y_log));
        let mut out = Vec::new();
        for s in &self.series {
            let mut lines: Vec<Vec<(f64, f64)>> = Vec::new();
            let visible: Vec<(f64, f64)> = s
                .points
                .iter()
                .copied()
                .filter(|&p| self.visible(p))
                .map(to)
                .collect();
            match s.draw {
                Draw::Markers => out.extend(&visible),
                _ => lines.push(visible),
            }
            if let Some(errs) = &s.errors {
                let (lo, hi): (Points, Points) = s
                    .points
                    .iter()
                    .zip(errs)
                    .map(|(&(px, _), &(l, h))| ((px, l), (px, h)))
                    .filter(|(a, b)| self.visible(*a) && self.visible(*b))
                    .map(|(a, b)| (to(a), to(b)))
                    .unzip();
                match s.draw {
                    Draw::Band => lines.extend([lo, hi]),
                    _ => out.extend(lo.into_iter().chain(hi)),
                }
            }
            for line in lines {
                for w in line.windows(2) {
                    out.extend((0..8).map(|k| {
                        let t = f64::from(k) / 8.0;
                        (
                            w[0].0 + t * (w[1].0 - w[0].0),
                            w[0].1 + t * (w[1].1 - w[0].1),
                        )
                    }));
                }
                out.extend(line.last());
            }
        }
        for h in &self.hlines {
            if self.visible((x.0, h.1)) {
                let fy = frac(h.1, y, self.y_log);
                out.extend((0..=20).map(|k| (f64::from(k) / 20.0, fy)));
            }
        }
        out
    }

    /// Title font size: 30 px, smaller for a long title so that it fits the width (a DejaVu
    /// Sans character is about 0.55 em wide on average).
    fn title_size(&self, width: u32) -> u32 {
        let chars = self.title.chars().count().max(1) as f64;
        let fit = (f64::from(width) - 40.0) / (0.55 * chars);
        fit.clamp(14.0, 30.0) as u32
    }

    /// Renders `stem.png` (1200 x 800) and `stem.svg`, each written atomically. The extensions
    /// are appended, so a stem may contain dots (`sigma0.1`).
    pub fn render(&self, stem: &Path) -> Result<()> {
        render_figure(self, (1200, 800), stem)
    }
}

/// A figure that can draw itself on any plotters backend (PNG and SVG).
pub trait Figure {
    /// Draws the whole figure on `root` (already filled white by [`render_figure`]).
    ///
    /// # Errors
    /// The backend's drawing errors.
    fn draw_on<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn<DB>;
}

/// Renders `stem.png` and `stem.svg` of `size` pixels with the embedded font, each written
/// atomically. The extensions are appended, so a stem may contain dots (`sigma0.1`).
///
/// # Errors
/// Drawing, encoding or writing fails.
pub fn render_figure(fig: &impl Figure, (w, h): (u32, u32), stem: &Path) -> Result<()> {
    let with_ext = |ext: &str| {
        let mut name = stem.as_os_str().to_owned();
        name.push(ext);
        std::path::PathBuf::from(name)
    };
    register_font();
    let mut pixels = vec![0u8; (w * h * 3) as usize];
    draw_white(fig, BitMapBackend::with_buffer(&mut pixels, (w, h)), stem)?;
    let mut png = Vec::new();
    image::codecs::png::PngEncoder::new(&mut png)
        .write_image(&pixels, w, h, image::ExtendedColorType::Rgb8)
        .context("encoding PNG")?;
    write_atomic(&with_ext(".png"), &png)?;

    let mut svg = String::new();
    draw_white(fig, SVGBackend::with_string(&mut svg, (w, h)), stem)?;
    write_atomic(&with_ext(".svg"), svg.as_bytes())
}

/// Draws `fig` on a white `backend` and flushes it; errors name the figure's `stem`.
fn draw_white<DB: DrawingBackend>(fig: &impl Figure, backend: DB, stem: &Path) -> Result<()> {
    let root = backend.into_drawing_area();
    let drawn = root.fill(&WHITE).and_then(|()| fig.draw_on(&root));
    drawn
        .and_then(|()| root.present())
        .map_err(|e| anyhow!("drawing {}: {e}", stem.display()))
}

/// Largest magnitude an axis may reach: wide enough for any data, and keeps `hi - lo` finite.
const AXIS_LIMIT: f64 = 1e300;

/// An axis range that plotters can draw, from the wanted `lo..hi`: finite, increasing, within
/// `+-`[`AXIS_LIMIT`], and on a log axis positive. plotters' tick search never ends on an
/// infinite range or a log range from 0 (`validate --tol-z 1e308` hung after writing its
/// files), so every chart's axes go through here. Non-finite (or, on a log axis, non-positive)
/// ends are replaced from the other end; an empty range is widened around its value.
pub(crate) fn drawable_range(lo: f64, hi: f64, log: bool) -> (f64, f64) {
    let usable = |v: f64| v.is_finite() && (!log || v > 0.0);
    let clamp = |v: f64| {
        if log {
            v.clamp(1.0 / AXIS_LIMIT, AXIS_LIMIT)
        } else {
            v.clamp(-AXIS_LIMIT, AXIS_LIMIT)
        }
    };
    let (lo, hi) = match (usable(lo), usable(hi)) {
        (true, true) => (clamp(lo.min(hi)), clamp(lo.max(hi))),
        (true, false) => (clamp(lo), clamp(lo)),
        (false, true) => (clamp(hi), clamp(hi)),
        (false, false) if log => (1.0, 10.0),
        (false, false) => (0.0, 1.0),
    };
    let distinct = if log {
        hi > lo * (1.0 + 1e-9)
    } else {
        hi - lo > 1e-9 * hi.abs().max(lo.abs())
    };
    if distinct {
        return (lo, hi);
    }
    if log {
        (clamp(lo / 2.0), clamp(hi * 2.0))
    } else {
        let pad = (0.1 * lo.abs()).max(1.0);
        (clamp(lo - pad), clamp(hi + pad))
    }
}

#[cfg(test)]
mod range_tests {
    use super::*;

    /// Each range that hung or would hang plotters' tick search, and ordinary ones unchanged.
    #[test]
    fn degenerate_axes_get_a_drawable_range() {
        let inf = f64::INFINITY;
        let cases = [
            // (lo, hi, log) -> want
            ((1.0, 100.0, true), (1.0, 100.0)),
            ((-3.0, 5.0, false), (-3.0, 5.0)),
            ((0.0, 10.0, true), (10.0 / 2.0, 10.0 * 2.0)),
            ((1e-3, inf, true), (1e-3 / 2.0, 1e-3 * 2.0)),
            (
                (-1.2e308, inf, false),
                (-AXIS_LIMIT, -AXIS_LIMIT + 1.0 * AXIS_LIMIT * 0.1),
            ),
            ((f64::NAN, f64::NAN, true), (1.0, 10.0)),
            ((f64::NAN, f64::NAN, false), (0.0, 1.0)),
            ((5.0, 5.0, false), (4.0, 6.0)),
            ((0.0, 0.0, false), (-1.0, 1.0)),
            ((1e-320, 1e-310, true), (1.0 / AXIS_LIMIT, 2.0 / AXIS_LIMIT)),
        ];
        for ((lo, hi, log), want) in cases {
            let got = drawable_range(lo, hi, log);
            assert!(
                got.0.is_finite() && got.1.is_finite() && got.0 < got.1,
                "{lo}..{hi} (log {log}) -> {got:?}"
            );
            assert!(!log || got.0 > 0.0, "{lo}..{hi} -> {got:?}");
            let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * a.abs().max(b.abs());
            assert!(
                close(got.0, want.0) && close(got.1, want.1),
                "{lo}..{hi} (log {log}) -> {got:?}, want {want:?}"
            );
        }
        // Within a huge linear range, the width stays finite.
        let (a, b) = drawable_range(-1.2e308, 1.2e308, false);
        assert!((b - a).is_finite());
    }
}

impl Figure for Chart {
    fn draw_on<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Drawn<DB> {
        let (w, h) = root.dim_in_pixel();
        let title = self.title_size(w);
        let (px, ((x0, x1), (y0, y1)), legend) = self.frame((w, h));
        let mut builder = ChartBuilder::on(root);
        builder
            .caption(&self.title, ("sans-serif", title))
            .margin(20)
            .x_label_area_size(60)
            .y_label_area_size(90);
        let x_log = || log_axis(x0, x1, px.0, MIN_X_LABEL_GAP);
        let y_log = || log_axis(y0, y1, px.1, MIN_Y_LABEL_GAP);
        // The four axis combinations have different coordinate types in plotters.
        match (self.x_log, self.y_log) {
            (true, true) => {
                let chart = builder.build_cartesian_2d(x_log(), y_log())?;
                self.fill(chart, legend)
            }
            (true, false) => {
                let chart = builder.build_cartesian_2d(x_log(), y0..y1)?;
                self.fill(chart, legend)
            }
            (false, true) => {
                let chart = builder.build_cartesian_2d(x0..x1, y_log())?;
                self.fill(chart, legend)
            }
            (false, false) => {
                let chart = builder.build_cartesian_2d(x0..x1, y0..y1)?;
                self.fill(chart, legend)
            }
        }
    }
}

impl Chart {
    /// The axes' ranges `((x0, x1), (y0, y1))` drawn on a `w x h` pixel canvas (data units):
    /// the data's bounds with the legend's room, made drawable. Figure tests check that they
    /// hold what the figure must show.
    pub fn axis_ranges(&self, size: (u32, u32)) -> ((f64, f64), (f64, f64)) {
        self.frame(size).1
    }

    /// The plot area in pixels, the axes' ranges and the legend's corner on a `w x h` canvas.
    /// An empty chart still renders (axes only) rather than failing the whole job.
    fn frame(&self, (w, h): (u32, u32)) -> Frame {
        let title = self.title_size(w);
        let px = (
            f64::from(w) - 2.0 * 20.0 - 90.0,
            f64::from(h) - 2.0 * 20.0 - 60.0 - f64::from(title) * 1.5,
        );
        let ((x0, x1), (y0, y1), legend) =
            self.layout(px)
                .unwrap_or(((1.0, 10.0), (1.0, 10.0), SeriesLabelPosition::UpperRight));
        let x = drawable_range(x0, x1, self.x_log);
        let y = drawable_range(y0, y1, self.y_log);
        (px, (x, y), legend)
    }

    /// Draws the mesh, the reference lines, the series in order and the legend.
    fn fill<'a, DB, X, Y>(
        &self,
        mut chart: Axes<'a, DB, X, Y>,
        legend: SeriesLabelPosition,
    ) -> Drawn<DB>
    where
        DB: DrawingBackend + 'a,
        X: Axis + ValueFormatter<f64>,
        Y: Axis + ValueFormatter<f64>,
    {
        // Log axes carry their own labelled ticks ([`log_ticks`]): every key point is labelled.
        let fmt = |v: &f64| tick(*v);
        chart
            .configure_mesh()
            .x_desc(&self.x_label)
            .y_desc(&self.y_label)
            .label_style(("sans-serif", 20))
            .axis_desc_style(("sans-serif", 24))
            .x_label_formatter(&fmt)
            .y_label_formatter(&fmt)
            .light_line_style(RGBColor(235, 235, 235))
            .bold_line_style(RGBColor(200, 200, 200))
            .draw()?;
        let x_range = chart.x_range();
        for (label, y, color) in &self.hlines {
            let style = ShapeStyle::from(color).stroke_width(2);
            chart
                .draw_series(DashedLineSeries::new(
                    vec![(x_range.start, *y), (x_range.end, *y)],
                    4,
                    6,
                    style,
                ))?
                .label(label.as_str())
                .legend(move |at| dashed_sample(at, style, 4, 6));
        }
        let mut painter = Painter {
            chart: self,
            axes: &mut chart,
        };
        for s in &self.series {
            match s.draw {
                Draw::Band => painter.band(s)?,
                Draw::Markers => painter.markers(s)?,
                Draw::Line | Draw::Dashed => painter.line(s)?,
            }
        }
        draw_legend(&mut chart, legend, (18, 45))
    }

    /// The visible points of `s`.
    fn visible_points(&self, s: &Series) -> Points {
        s.points
            .iter()
            .copied()
            .filter(|&p| self.visible(p))
            .collect()
    }
}

/// Draws a [`Chart`]'s series on its axes, each as its [`Draw`] says.
struct Painter<'c, 'a, DB: DrawingBackend, X: Axis, Y: Axis> {
    chart: &'c Chart,
    axes: &'c mut Axes<'a, DB, X, Y>,
}

impl<'a, DB: DrawingBackend + 'a, X: Axis, Y: Axis> Painter<'_, 'a, DB, X, Y> {
    /// A solid ([`Draw::Line`]) or dashed ([`Draw::Dashed`]) line through `s`'s points.
    fn line(&mut self, s: &Series) -> Drawn<DB> {
        let pts = self.chart.visible_points(s);
        let dashed = s.draw == Draw::Dashed;
        let style = ShapeStyle::from(s.color).stroke_width(if dashed { 2 } else { 3 });
        let anno = if dashed {
            self.axes
                .draw_series(DashedLineSeries::new(pts, 10, 6, style))?
        } else {
            self.axes.draw_series(LineSeries::new(pts, style))?
        };
        if s.label.is_empty() {
            return Ok(());
        }
        let anno = anno.label(s.label.as_str());
        if dashed {
            anno.legend(move |at| dashed_sample(at, style, 10, 6));
        } else {
            anno.legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 30, y)], style));
        }
        Ok(())
    }

    /// The shaded band between `s`'s `(lo, hi)` errors ([`Draw::Band`]); nothing without them.
    fn band(&mut self, s: &Series) -> Drawn<DB> {
        let Some(errors) = &s.errors else {
            return Ok(());
        };
        let c = self.chart;
        let (upper, lower): (Points, Points) = s
            .points
            .iter()
            .zip(errors)
            .filter(|((x, _), (lo, hi))| c.visible((*x, *lo)) && c.visible((*x, *hi)))
            .map(|(&(x, _), &(lo, hi))| ((x, hi), (x, lo)))
            .unzip();
        let outline: Points = upper.into_iter().chain(lower.into_iter().rev()).collect();
        let fill = s.color.mix(0.18).filled();
        let anno = self
            .axes
            .draw_series(std::iter::once(Polygon::new(outline, fill)))?;
        if !s.label.is_empty() {
            anno.label(s.label.as_str())
                .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 30, y + 6)], fill));
        }
        Ok(())
    }

    /// Circles at `s`'s points with vertical error bars where it has errors
    /// ([`Draw::Markers`]); a bar whose low end is off a log axis starts at the point.
    fn markers(&mut self, s: &Series) -> Drawn<DB> {
        let (c, color) = (self.chart, s.color);
        if let Some(errors) = &s.errors {
            let style = ShapeStyle::from(color).stroke_width(2);
            let bars: Vec<_> = s
                .points
                .iter()
                .zip(errors)
                .filter(|(p, _)| c.visible(**p))
                .map(|(&(x, y), &(lo, hi))| {
                    let lo = if c.visible((x, lo)) { lo } else { y };
                    ErrorBar::new_vertical(x, lo, y, hi, style, 10)
                })
                .collect();
            self.axes.draw_series(bars)?;
        }
        let pts = c.visible_points(s);
        let anno = self
            .axes
            .draw_series(pts.iter().map(|&p| Circle::new(p, 5, color.filled())))?;
        if !s.label.is_empty() {
            anno.label(s.label.as_str())
                .legend(move |(x, y)| Circle::new((x + 15, y), 5, color.filled()));
        }
        Ok(())
    }
}

/// A shape drawn around one point in pixels (a marker, a legend sample), placed in a chart
/// by [`Placed`].
pub(crate) trait Glyph {
    /// Draws the shape around `at`, pixels.
    ///
    /// # Errors
    /// The backend's drawing errors.
    fn draw_at<DB: DrawingBackend>(&self, at: BackendCoord, backend: &mut DB) -> Painted<DB>;
}

/// What drawing straight on a backend returns.
pub(crate) type Painted<DB> = Result<(), DrawingErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// A [`Glyph`] at `at` (data coordinates in a series, pixels in a legend): the element that
/// plotters draws.
pub(crate) struct Placed<C, G> {
    pub at: C,
    pub glyph: G,
}

impl<'a, C, G> PointCollection<'a, C> for &'a Placed<C, G> {
    type Point = &'a C;
    type IntoIter = std::iter::Once<&'a C>;
    fn point_iter(self) -> Self::IntoIter {
        std::iter::once(&self.at)
    }
}

impl<C, G: Glyph, DB: DrawingBackend> Drawable<DB> for Placed<C, G> {
    fn draw<I: Iterator<Item = BackendCoord>>(
        &self,
        mut pixels: I,
        backend: &mut DB,
        _: (u32, u32),
    ) -> Painted<DB> {
        match pixels.next() {
            Some(at) => self.glyph.draw_at(at, backend),
            None => Ok(()),
        }
    }
}

/// A legend sample of a dashed line: 30 pixels of `dash`-pixel dashes and `gap`-pixel gaps
/// from the legend's anchor, as the line itself is drawn (a solid sample reads as a solid line).
struct DashSample {
    style: ShapeStyle,
    dash: i32,
    gap: i32,
}

fn dashed_sample(
    at: BackendCoord,
    style: ShapeStyle,
    dash: i32,
    gap: i32,
) -> Placed<BackendCoord, DashSample> {
    let glyph = DashSample { style, dash, gap };
    Placed { at, glyph }
}

impl Glyph for DashSample {
    fn draw_at<DB: DrawingBackend>(&self, (x, y): BackendCoord, backend: &mut DB) -> Painted<DB> {
        let mut from = 0;
        while from < 30 {
            let to = (from + self.dash).min(30);
            backend.draw_line((x + from, y), (x + to, y), &self.style)?;
            from = to + self.gap.max(1);
        }
        Ok(())
    }
}

/// Draws the legend of `chart` at `pos` in a translucent white box with a black border;
/// `(font, sample)`: label font size and width of the sample area, pixels.
///
/// # Errors
/// The backend's drawing errors.
pub(crate) fn draw_legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    pos: SeriesLabelPosition,
    (font, sample): (u32, u32),
) -> Drawn<DB> {
    chart
        .configure_series_labels()
        .position(pos)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", font))
        .legend_area_size(sample)
        .draw()
}

/// Smallest distance between two labels of a log axis, pixels: x labels are wide, y labels
/// one line high.
pub(crate) const MIN_X_LABEL_GAP: f64 = 60.0;
pub(crate) const MIN_Y_LABEL_GAP: f64 = 30.0;

/// Fewest labelled ticks on a log axis.
pub(crate) const MIN_LOG_LABELS: usize = 3;

/// Mantissa sets of log-axis ticks, coarsest first: `1`, `1 2 5`, `1 2 3 5`, every integer,
/// then steps of 0.5, 0.2, 0.1, 0.05, 0.02 and 0.01 (for axes spanning a fraction of a
/// decade).
fn mantissas(level: usize) -> Vec<f64> {
    let steps = |s: f64| -> Vec<f64> {
        let k = (9.0 / s).round() as usize;
        (0..=k)
            .map(|i| 1.0 + i as f64 * s)
            .filter(|m| *m < 10.0 - 1e-9)
            .collect()
    };
    match level {
        0 => vec![1.0],
        1 => vec![1.0, 2.0, 5.0],
        2 => vec![1.0, 2.0, 3.0, 5.0],
        3 => steps(1.0),
        4 => steps(0.5),
        5 => steps(0.2),
        6 => steps(0.1),
        7 => steps(0.05),
        8 => steps(0.02),
        _ => steps(0.01),
    }
}

/// Number of mantissa sets of [`mantissas`].
const LEVELS: usize = 10;

/// The ticks `m 10^k` in `[lo, hi]` for the mantissas of `level`, increasing.
fn ticks_at(lo: f64, hi: f64, level: usize) -> Vec<f64> {
    let ms = mantissas(level);
    let (k0, k1) = (lo.log10().floor() as i32 - 1, hi.log10().ceil() as i32);
    (k0..=k1)
        .flat_map(|k| ms.iter().map(move |m| m * 10f64.powi(k)))
        .filter(|v| *v >= lo * (1.0 - 1e-12) && *v <= hi * (1.0 + 1e-12))
        .collect()
}

/// Labelled (`.0`) and light (`.1`, grid only) ticks of a log axis over `[lo, hi]` drawn on
/// `px` pixels: the finest mantissa set whose labels stay `gap` pixels apart, and at least
/// [`MIN_LOG_LABELS`] labels (a finer set where a decade holds fewer: 2x and 5x ticks, then
/// finer steps on an axis spanning a fraction of a decade). Light ticks at every integer
/// mantissa (or the labelled ones when finer). Cost `O(decades)`.
pub(crate) fn log_ticks(lo: f64, hi: f64, px: f64, gap: f64) -> (Vec<f64>, Vec<f64>) {
    if !(lo > 0.0 && hi > lo && hi.is_finite()) {
        return (vec![], vec![]);
    }
    let per_decade = px / (hi / lo).log10();
    let spaced = |v: &[f64]| {
        v.windows(2)
            .all(|w| per_decade * (w[1] / w[0]).log10() >= gap)
    };
    // Many decades: thin powers of ten so that labels keep their gap.
    let mut bold = ticks_at(lo, hi, 0);
    if !spaced(&bold) {
        let every = (gap / per_decade).ceil().max(1.0) as i64;
        bold.retain(|v| (v.log10().round() as i64).rem_euclid(every) == 0);
    }
    for level in 1..LEVELS {
        let finer = ticks_at(lo, hi, level);
        if bold.len() >= MIN_LOG_LABELS && !spaced(&finer) {
            break;
        }
        if finer.len() > bold.len() {
            bold = finer;
        }
        if bold.len() >= MIN_LOG_LABELS && !spaced(&bold) {
            break;
        }
    }
    let grid = ticks_at(lo, hi, 3);
    let light = if grid.len() > bold.len() && grid.len() < 500 {
        grid
    } else {
        bold.clone()
    };
    (bold, light)
}

/// A log axis over `[lo, hi]` with the ticks of [`log_ticks`].
pub(crate) fn log_axis(lo: f64, hi: f64, px: f64, gap: f64) -> WithKeyPoints<LogCoord<f64>> {
    let (bold, light) = log_ticks(lo, hi, px, gap);
    (lo..hi)
        .log_scale()
        .with_key_points(bold)
        .with_light_points(light)
}

/// Size of a legend of `labels` as fractions of a plot area of `px` pixels: rows of about
/// 26 px, DejaVu Sans 18 px about 0.55 em per character, a 45 px sample and padding.
fn legend_size(labels: &[&str], px: (f64, f64)) -> (f64, f64) {
    let chars = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0) as f64;
    let w = chars * 0.55 * 18.0 + 45.0 + 30.0;
    let h = labels.len() as f64 * 26.0 + 16.0;
    ((w / px.0).min(1.0), (h / px.1).min(1.0))
}

/// The first corner (upper right, upper left, lower right, lower left) whose legend box of
/// `size` (fractions of the plot, with the 5 px plotters keeps from the edge) holds none of
/// `drawn` (plot fractions); `None` when every corner is taken.
fn legend_corner(drawn: &[(f64, f64)], size: (f64, f64)) -> Option<SeriesLabelPosition> {
    let (w, h) = (size.0 + 0.01, size.1 + 0.01);
    let corners = [
        (
            SeriesLabelPosition::UpperRight,
            (1.0 - w, 1.0),
            (1.0 - h, 1.0),
        ),
        (SeriesLabelPosition::UpperLeft, (0.0, w), (1.0 - h, 1.0)),
        (SeriesLabelPosition::LowerRight, (1.0 - w, 1.0), (0.0, h)),
        (SeriesLabelPosition::LowerLeft, (0.0, w), (0.0, h)),
    ];
    corners
        .into_iter()
        .find(|(_, xr, yr)| {
            !drawn
                .iter()
                .any(|&(x, y)| (xr.0..=xr.1).contains(&x) && (yr.0..=yr.1).contains(&y))
        })
        .map(|(pos, _, _)| pos)
}

/// [`tick`] for a linear axis spanning `span`: plotters computes its key points as `start + k
/// step`, so the zero line can come out as `3.5e-18`; within `1e-9 span` of zero it reads 0.
pub(crate) fn linear_tick(v: f64, span: f64) -> String {
    tick(if v.abs() <= 1e-9 * span { 0.0 } else { v })
}

/// Tick labels: plain numbers in a readable range, powers of ten elsewhere.
pub(crate) fn tick(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        "0".into()
    } else if (1e-3..1e5).contains(&a) {
        let s = format!("{v:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        let e = v.log10().round() as i32;
        if (v / 10f64.powi(e) - 1.0).abs() < 1e-9 {
            format!("1e{e}")
        } else {
            format!("{v:.1e}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_axes_label_at_least_three_ticks() {
        // Plot heights and widths of a 1200 x 800 figure; the MRI views (0.06..0.25) and the
        // capacity surfaces (1e5..2e5) labelled two ticks before.
        for (lo, hi) in [
            (0.02, 0.2),
            (1e5, 2e5),
            (0.06, 0.25),
            (0.0195, 0.0215),
            (16.0, 1e6),
        ] {
            for (px, gap) in [(660.0, MIN_Y_LABEL_GAP), (1070.0, MIN_X_LABEL_GAP)] {
                let (bold, light) = log_ticks(lo, hi, px, gap);
                assert!(
                    bold.len() >= MIN_LOG_LABELS,
                    "{lo}..{hi} on {px} px: {bold:?}"
                );
                let inside = |v: &f64| *v >= lo * (1.0 - 1e-12) && *v <= hi * (1.0 + 1e-12);
                assert!(bold.iter().all(inside), "{bold:?}");
                assert!(light.len() >= bold.len());
                let labels: Vec<String> = bold.iter().map(|v| tick(*v)).collect();
                let mut unique = labels.clone();
                unique.dedup();
                assert_eq!(unique, labels, "labels must differ: {labels:?}");
            }
        }
        // 2x and 5x ticks when one decade is in view.
        let (bold, _) = log_ticks(0.02, 0.2, 660.0, MIN_Y_LABEL_GAP);
        assert!(bold.contains(&0.05) && bold.contains(&0.1), "{bold:?}");
        // Many decades on a short axis: powers of ten only, thinned to keep their gap.
        let (bold, _) = log_ticks(1e-8, 1e8, 300.0, MIN_Y_LABEL_GAP);
        assert!(bold.len() >= MIN_LOG_LABELS && bold.len() <= 10, "{bold:?}");
        let per_decade = 300.0 / 16.0;
        assert!(bold
            .windows(2)
            .all(|w| per_decade * (w[1] / w[0]).log10() >= 30.0 - 1e-9));
        // Dense: labels stay at least the gap apart once there are three.
        let (bold, _) = log_ticks(1e-3, 1e3, 660.0, MIN_Y_LABEL_GAP);
        let per_decade = 660.0 / 6.0;
        assert!(bold
            .windows(2)
            .all(|w| per_decade * (w[1] / w[0]).log10() >= 30.0 - 1e-9));
    }

    #[test]
    fn the_legend_goes_to_an_empty_corner_or_above_the_data() {
        // Points along the top and the right: the upper right and lower right are taken,
        // the upper left too (a point at (0.1, 0.95)); the lower left is empty.
        let drawn = [(0.9, 0.9), (0.95, 0.1), (0.1, 0.95), (0.5, 0.5)];
        assert_eq!(
            legend_corner(&drawn, (0.3, 0.3)),
            Some(SeriesLabelPosition::LowerLeft)
        );
        let everywhere: Vec<(f64, f64)> = (0..=10)
            .flat_map(|i| (0..=10).map(move |j| (f64::from(i) / 10.0, f64::from(j) / 10.0)))
            .collect();
        assert_eq!(legend_corner(&everywhere, (0.3, 0.3)), None);
        // A chart whose data fill every corner gets room above them: its legend box holds no
        // drawn point once the range is grown.
        let line: Vec<(f64, f64)> = (0..50)
            .map(|i| (f64::from(i + 1), 1.0 + f64::from(i % 2)))
            .collect();
        let chart = Chart {
            title: "t".into(),
            x_label: "x".into(),
            y_label: "y".into(),
            x_log: false,
            y_log: false,
            series: vec![Series {
                label: "a zig-zag through every corner".into(),
                points: line,
                errors: None,
                color: BLACK,
                draw: Draw::Line,
            }],
            hlines: vec![("level".into(), 1.5, BLACK)],
        };
        let px = (1070.0, 660.0);
        let (x, y, pos) = chart.layout(px).unwrap();
        assert_eq!(pos, SeriesLabelPosition::UpperRight);
        let size = legend_size(&["a zig-zag through every corner", "level"], px);
        let drawn = chart.drawn_points(x, y);
        assert!(
            drawn.iter().all(|&(_, fy)| fy < 1.0 - size.1),
            "the legend covers data"
        );
    }

    #[test]
    fn tick_labels() {
        assert_eq!(tick(100.0), "100");
        assert_eq!(tick(0.01), "0.01");
        assert_eq!(tick(1e-4), "1e-4");
        assert_eq!(tick(1e6), "1e6");
        assert_eq!(tick(3e-5), "3.0e-5");
        // The zero key point of a linear axis from -0.02 in steps of 0.01.
        let zero = -0.02 + 0.01 + 0.01 + 3.5e-18;
        assert_eq!(linear_tick(zero, 0.06), "0");
        assert_eq!(linear_tick(0.01, 0.06), "0.01");
        assert_eq!(linear_tick(3e-5, 0.06), "3.0e-5");
    }
}
