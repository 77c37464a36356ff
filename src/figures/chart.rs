//! A small declarative chart (log or linear axes, lines, markers with error bars, horizontal
//! reference lines) rendered with plotters to PNG and SVG.
//!
//! Fonts are embedded (DejaVu Sans, `assets/fonts`), so figures look the same on every machine
//! and need no system font library.

use std::path::Path;
use std::sync::Once;

use anyhow::{anyhow, Context, Result};
use image::ImageEncoder;
use plotters::coord::ranged1d::ValueFormatter;
use plotters::coord::{CoordTranslate, Shift};
use plotters::prelude::*;

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
        let mut y = range(&ys, self.y_log)
            .ok_or_else(|| anyhow!("chart '{}' has no points", self.title))?;
        // Room above the data for the legend (upper right), so it hides no point.
        let legend_rows =
            self.series.iter().filter(|s| !s.label.is_empty()).count() + self.hlines.len();
        if self.y_log {
            y.1 *= (y.1 / y.0).powf(0.045 * legend_rows as f64);
        } else {
            y.1 += (y.1 - y.0) * 0.045 * legend_rows as f64;
        }
        Ok((x, y))
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
    fn draw_on<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>>;
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
    fn draw_on<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        // An empty chart still renders (axes only) rather than failing the whole job.
        let ((x0, x1), (y0, y1)) = self.bounds().unwrap_or(((1.0, 10.0), (1.0, 10.0)));
        let (x0, x1) = drawable_range(x0, x1, self.x_log);
        let (y0, y1) = drawable_range(y0, y1, self.y_log);
        let mut builder = ChartBuilder::on(root);
        builder
            .caption(
                &self.title,
                ("sans-serif", self.title_size(root.dim_in_pixel().0)),
            )
            .margin(20)
            .x_label_area_size(60)
            .y_label_area_size(90);
        // The four axis combinations have different coordinate types in plotters.
        match (self.x_log, self.y_log) {
            (true, true) => {
                let chart =
                    builder.build_cartesian_2d((x0..x1).log_scale(), (y0..y1).log_scale())?;
                self.fill(chart)
            }
            (true, false) => {
                let chart = builder.build_cartesian_2d((x0..x1).log_scale(), y0..y1)?;
                self.fill(chart)
            }
            (false, true) => {
                let chart = builder.build_cartesian_2d(x0..x1, (y0..y1).log_scale())?;
                self.fill(chart)
            }
            (false, false) => {
                let chart = builder.build_cartesian_2d(x0..x1, y0..y1)?;
                self.fill(chart)
            }
        }
    }
}

impl Chart {
    fn fill<'a, DB, X, Y>(
        &self,
        mut chart: ChartContext<'a, DB, Cartesian2d<X, Y>>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>>
    where
        DB: DrawingBackend + 'a,
        X: Ranged<ValueType = f64> + ValueFormatter<f64>,
        Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
    {
        // Log axes get a light tick at every 1..9 x 10^k; label only as many as fit.
        let (w, h) = chart.plotting_area().dim_in_pixel();
        let span = |r: std::ops::Range<f64>| (r.end / r.start).log10().abs().max(1e-9);
        let x_keep = self
            .x_log
            .then(|| TickThinning::new(f64::from(w) / span(chart.x_range()), MIN_X_LABEL_GAP));
        let y_keep = self
            .y_log
            .then(|| TickThinning::new(f64::from(h) / span(chart.y_range()), MIN_Y_LABEL_GAP));
        let x_fmt = |v: &f64| match x_keep {
            Some(k) if !k.labels(*v) => String::new(),
            _ => tick(*v),
        };
        let y_fmt = |v: &f64| match y_keep {
            Some(k) if !k.labels(*v) => String::new(),
            _ => tick(*v),
        };
        chart
            .configure_mesh()
            .x_desc(&self.x_label)
            .y_desc(&self.y_label)
            .label_style(("sans-serif", 20))
            .axis_desc_style(("sans-serif", 24))
            .x_label_formatter(&x_fmt)
            .y_label_formatter(&y_fmt)
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
                .legend(move |(x, yy)| PathElement::new(vec![(x, yy), (x + 30, yy)], style));
        }
        for s in &self.series {
            let pts: Vec<(f64, f64)> = s
                .points
                .iter()
                .cloned()
                .filter(|&p| self.visible(p))
                .collect();
            let color = s.color;
            match s.draw {
                Draw::Band => {
                    let Some(errors) = &s.errors else { continue };
                    let (upper, lower): (Points, Points) = s
                        .points
                        .iter()
                        .zip(errors)
                        .filter(|((x, _), (lo, hi))| {
                            self.visible((*x, *lo)) && self.visible((*x, *hi))
                        })
                        .map(|(&(x, _), &(lo, hi))| ((x, hi), (x, lo)))
                        .unzip();
                    let outline: Vec<(f64, f64)> =
                        upper.into_iter().chain(lower.into_iter().rev()).collect();
                    let fill = color.mix(0.18).filled();
                    let anno = chart.draw_series(std::iter::once(Polygon::new(outline, fill)))?;
                    if !s.label.is_empty() {
                        anno.label(s.label.as_str()).legend(move |(x, y)| {
                            Rectangle::new([(x, y - 6), (x + 30, y + 6)], fill)
                        });
                    }
                }
                Draw::Line => {
                    let style = ShapeStyle::from(color).stroke_width(3);
                    let anno = chart.draw_series(LineSeries::new(pts, style))?;
                    if !s.label.is_empty() {
                        anno.label(s.label.as_str()).legend(move |(x, y)| {
                            PathElement::new(vec![(x, y), (x + 30, y)], style)
                        });
                    }
                }
                Draw::Dashed => {
                    let style = ShapeStyle::from(color).stroke_width(2);
                    let anno = chart.draw_series(DashedLineSeries::new(pts, 10, 6, style))?;
                    if !s.label.is_empty() {
                        anno.label(s.label.as_str()).legend(move |(x, y)| {
                            PathElement::new(vec![(x, y), (x + 12, y)], style)
                        });
                    }
                }
                Draw::Markers => {
                    if let Some(errors) = &s.errors {
                        let bars: Vec<_> = s
                            .points
                            .iter()
                            .zip(errors)
                            .filter(|(p, _)| self.visible(**p))
                            .map(|(&(x, y), &(lo, hi))| {
                                let lo = if self.visible((x, lo)) { lo } else { y };
                                ErrorBar::new_vertical(
                                    x,
                                    lo,
                                    y,
                                    hi,
                                    ShapeStyle::from(color).stroke_width(2),
                                    10,
                                )
                            })
                            .collect();
                        chart.draw_series(bars)?;
                    }
                    let anno = chart
                        .draw_series(pts.iter().map(|&p| Circle::new(p, 5, color.filled())))?;
                    if !s.label.is_empty() {
                        anno.label(s.label.as_str())
                            .legend(move |(x, y)| Circle::new((x + 15, y), 5, color.filled()));
                    }
                }
            }
        }
        draw_legend(&mut chart, SeriesLabelPosition::UpperRight, (18, 45))
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
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
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
const MIN_X_LABEL_GAP: f64 = 60.0;
const MIN_Y_LABEL_GAP: f64 = 30.0;

/// Which ticks of a log axis get a label: mantissas (`v / 10^floor(log10 v)`) that are
/// multiples of `step`, or in `set` when the axis is too dense for every integer mantissa.
/// Chosen from the axis' pixels per decade so that neighbouring labels are at least `gap`
/// pixels apart (the overprinted 0.06 0.07 0.08 0.09 0.1 of a tall log axis).
#[derive(Clone, Copy, Debug, PartialEq)]
struct TickThinning {
    step: Option<f64>,
    set: &'static [f64],
}

impl TickThinning {
    fn new(px_per_decade: f64, gap: f64) -> Self {
        // The closest neighbours of a mantissa step s are at the top of a decade:
        // log10(10 / (10 - s)) decades apart.
        for step in [0.1_f64, 0.2, 0.5, 1.0] {
            if px_per_decade * (10.0 / (10.0 - step)).log10() >= gap {
                return TickThinning {
                    step: Some(step),
                    set: &[],
                };
            }
        }
        // Smallest ratio between neighbours: 3/2 for {1, 2, 3, 5}, 2 for {1, 2, 5}.
        let set: &'static [f64] = if px_per_decade * 1.5f64.log10() >= gap {
            &[1.0, 2.0, 3.0, 5.0]
        } else if px_per_decade * 2f64.log10() >= gap {
            &[1.0, 2.0, 5.0]
        } else {
            &[1.0]
        };
        TickThinning { step: None, set }
    }

    fn labels(&self, v: f64) -> bool {
        if !(v.is_finite() && v > 0.0) {
            return true;
        }
        let m = v / 10f64.powf(v.log10().floor());
        let near = |a: f64, b: f64| (a - b).abs() < 1e-6 * b.max(1.0);
        match self.step {
            Some(s) => near((m / s).round() * s, m),
            None => self.set.iter().any(|&k| near(m, k) || near(m, 10.0 * k)),
        }
    }
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
    fn dense_log_axes_label_fewer_ticks() {
        // 700 px over 1.2 decades: every integer mantissa would put 0.09 and 0.1 27 px apart.
        let t = TickThinning::new(700.0 / 1.2, MIN_Y_LABEL_GAP);
        assert!(t.labels(0.01) && t.labels(0.02) && t.labels(0.05) && t.labels(0.1));
        assert!(!t.labels(0.09) && !t.labels(0.07));
        // A very tall decade labels every integer mantissa, or tenths.
        assert_eq!(TickThinning::new(1000.0, 30.0).step, Some(1.0));
        assert_eq!(TickThinning::new(20000.0, 30.0).step, Some(0.1));
        // Many decades: powers of ten only.
        let t = TickThinning::new(60.0, 30.0);
        assert!(t.labels(1e3) && !t.labels(2e3));
    }

    #[test]
    fn tick_labels() {
        assert_eq!(tick(100.0), "100");
        assert_eq!(tick(0.01), "0.01");
        assert_eq!(tick(1e-4), "1e-4");
        assert_eq!(tick(1e6), "1e6");
        assert_eq!(tick(3e-5), "3.0e-5");
    }
}
