//! The theory figures: Monte Carlo risk against `N` with analytic curves, the floor and fitted
//! power laws; and the risk of every gradient-descent iterate for a few `N`.

use plateau_theory::grid::log_spaced;
use plateau_theory::montecarlo::Summary;
use plateau_theory::{Estimator, Setup};
use plotters::style::RGBColor;

use super::chart::{Chart, Draw, Series};
use super::palette::{self, CATEGORICAL, DARK_GREY};

// The SVG reader of the integration tests, so that the figures' unit tests need no
// test-only public API.
#[cfg(test)]
#[path = "../../tests/common/svg.rs"]
mod svg;

/// Colour of an estimator, shared by its markers, analytic line and fit.
pub fn color(e: Estimator) -> RGBColor {
    match e {
        Estimator::Optimal => DARK_GREY,
        Estimator::Pca => palette::BLUE,
        Estimator::LeastSquares => palette::RED,
        Estimator::GdEarlyStopped => palette::GREEN,
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
    let mut series = monte_carlo_series(setup, mc);
    series.extend(analytic.iter().flat_map(|c| analytic_series(setup, c)));
    series.extend(fits.iter().map(power_law_series));
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

/// Risk of the zero estimator `W = 0` (the normalisation of every risk here): analytic lines
/// are drawn up to it, so that the approach to least squares' pole (as high as the grid goes
/// near `N = n`) does not set the axis.
const ZERO_ESTIMATOR_RISK: f64 = 1.0;

/// An analytic curve, dashed, as one series per piece between sizes of infinite expected risk
/// ([`Estimator::has_infinite_mean`]) and points above [`ZERO_ESTIMATOR_RISK`]: a line joining
/// the two sides of least squares' pole would draw a finite peak that is not there. Only the
/// first piece is labelled.
fn analytic_series(setup: &Setup, (e, points): &AnalyticCurve) -> Vec<Series> {
    let pole_between = |a: f64, b: f64| {
        let (lo, hi) = (a.ceil() as usize, b.floor() as usize);
        (lo..=hi).any(|n| e.has_infinite_mean(setup, n))
    };
    let mut pieces: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
    for &p in points {
        let last = pieces.last_mut().expect("pieces start with one");
        let shown = p.1 <= ZERO_ESTIMATOR_RISK;
        let broken = !shown || last.last().is_some_and(|&(x, _)| pole_between(x, p.0));
        if broken && !last.is_empty() {
            pieces.push(Vec::new());
        }
        if shown {
            pieces.last_mut().expect("just pushed or kept").push(p);
        }
    }
    pieces
        .into_iter()
        .filter(|piece| !piece.is_empty())
        .enumerate()
        .map(|(i, piece)| Series {
            label: if i == 0 {
                format!("{e} (analytic)")
            } else {
                String::new()
            },
            points: piece,
            errors: None,
            color: color(*e),
            draw: Draw::Dashed,
        })
        .collect()
}

/// The Monte Carlo means of each estimator with their standard-error bars, in estimator order;
/// the optimal estimator's risk is the floor, drawn as a reference line instead. A size whose
/// expected risk is infinite ([`Estimator::has_infinite_mean`]: least squares next to `N = n`)
/// has no mean to estimate: it is left out and named in the label.
fn monte_carlo_series(setup: &Setup, mc: &[Summary]) -> Vec<Series> {
    let mut estimators: Vec<Estimator> = mc.iter().map(|r| r.estimator).collect();
    estimators.sort();
    estimators.dedup();
    estimators
        .into_iter()
        .filter(|&e| e != Estimator::Optimal)
        .map(|e| {
            let (infinite, rows): (Vec<&Summary>, Vec<&Summary>) = mc
                .iter()
                .filter(|r| r.estimator == e)
                .partition(|r| e.has_infinite_mean(setup, r.n_train));
            let runs = rows.first().or(infinite.first()).map_or(0, |r| r.runs);
            let left_out = if infinite.is_empty() {
                String::new()
            } else {
                let sizes: Vec<String> = infinite.iter().map(|r| r.n_train.to_string()).collect();
                format!("; N = {}: infinite mean, not drawn", sizes.join(", "))
            };
            Series {
                label: format!("{e} (mean of {runs} draws, ±1 s.e.{left_out})"),
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
            }
        })
        .collect()
}

/// A fitted power law over its range (21 points; none for a degenerate range).
fn power_law_series(f: &PowerLawLine) -> Series {
    let (lo, hi) = (f.range[0], f.range[1]);
    let points = log_spaced(lo, hi, 21)
        .unwrap_or_default()
        .into_iter()
        .map(|x| (x, f.beta * x.powf(f.alpha)))
        .collect();
    Series {
        label: format!("fit {}: N^{:.2} on [{}, {}]", f.estimator, f.alpha, lo, hi),
        points,
        errors: None,
        color: color(f.estimator),
        draw: Draw::Line,
    }
}

/// Risk of gradient-descent iterate `k` (log axis, `k >= 1`) for several `N`, with the
/// early-stopping point of each path marked.
pub fn risk_vs_iteration(setup: &Setup, paths: &[(usize, Vec<f64>)]) -> Chart {
    let mut series = Vec::new();
    for (i, (n_train, path)) in paths.iter().enumerate() {
        let c = CATEGORICAL[i % CATEGORICAL.len()];
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
            DARK_GREY,
        )],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Monte Carlo rows of the four estimators at `sizes`: the risk `floor (1 + k / N)` with a
    /// 5% standard error over 8 draws.
    fn summaries(setup: &Setup, sizes: &[usize]) -> Vec<Summary> {
        let mut rows = Vec::new();
        for (k, e) in Estimator::ALL.into_iter().enumerate() {
            for &n in sizes {
                let mean = setup.floor() * (1.0 + (k as f64 + 1.0) * 10.0 / n as f64);
                rows.push(Summary {
                    n_train: n,
                    estimator: e,
                    mean,
                    std: Some(0.05 * mean * 8f64.sqrt()),
                    stderr: Some(0.05 * mean),
                    runs: 8,
                    k_opt_mean: None,
                });
            }
        }
        rows
    }

    /// Every point and error-bar end of every series of `chart`, and its reference lines, lie
    /// inside the axes drawn on a 1200 x 800 canvas.
    fn assert_axes_hold_everything(chart: &Chart) {
        let ((x0, x1), (y0, y1)) = chart.axis_ranges((1200, 800));
        let inside = |(x, y): (f64, f64)| x0 <= x && x <= x1 && y0 <= y && y <= y1;
        for s in &chart.series {
            for (i, &p) in s.points.iter().enumerate() {
                assert!(
                    inside(p),
                    "{}: {p:?} outside {x0}..{x1} x {y0}..{y1}",
                    s.label
                );
                if let Some(e) = &s.errors {
                    assert!(
                        inside((p.0, e[i].0)) && inside((p.0, e[i].1)),
                        "{}",
                        s.label
                    );
                }
            }
        }
        for h in &chart.hlines {
            assert!(
                y0 < h.1 && h.1 < y1,
                "{} at {} outside {y0}..{y1}",
                h.0,
                h.1
            );
        }
    }

    #[test]
    fn least_squares_is_not_drawn_where_its_mean_is_infinite() {
        let setup = Setup::new(10, 100, 0.1).unwrap();
        let sizes = [50, 98, 99, 100, 101, 102, 200];
        let chart = risk_vs_n(&setup, &summaries(&setup, &sizes), &[], &[]);
        let by_label = |e: Estimator| {
            let s = chart.series.iter().find(|s| s.label.starts_with(e.name()));
            s.unwrap_or_else(|| panic!("no {e} series"))
        };
        let ls = by_label(Estimator::LeastSquares);
        let xs: Vec<f64> = ls.points.iter().map(|p| p.0).collect();
        assert_eq!(xs, [50.0, 98.0, 102.0, 200.0]);
        assert_eq!(ls.errors.as_ref().unwrap().len(), 4);
        assert_eq!(
            ls.label,
            "least_squares (mean of 8 draws, ±1 s.e.; N = 99, 100, 101: infinite mean, not drawn)"
        );
        // The other estimators' means are finite at every size.
        for e in [Estimator::Pca, Estimator::GdEarlyStopped] {
            assert_eq!(by_label(e).points.len(), sizes.len(), "{e}");
        }
    }

    #[test]
    fn least_squares_analytic_line_breaks_at_its_pole() {
        let setup = Setup::new(10, 100, 0.1).unwrap();
        let ls = |n: f64| (n, 1.0 / (n - 100.0).abs());
        let curve = (
            Estimator::LeastSquares,
            vec![ls(50.0), ls(98.0), ls(102.0), ls(200.0)],
        );
        let pca = (
            Estimator::Pca,
            vec![(50.0, 0.1), (98.0, 0.05), (102.0, 0.04)],
        );
        let chart = risk_vs_n(&setup, &[], &[curve, pca], &[]);
        let drawn: Vec<(&str, Vec<f64>)> = chart
            .series
            .iter()
            .map(|s| (s.label.as_str(), s.points.iter().map(|p| p.0).collect()))
            .collect();
        assert_eq!(
            drawn,
            [
                ("least_squares (analytic)", vec![50.0, 98.0]),
                ("", vec![102.0, 200.0]),
                ("pca (analytic)", vec![50.0, 98.0, 102.0]),
            ]
        );
        assert!(chart.series.iter().all(|s| s.draw == Draw::Dashed));
        // Above the zero estimator's risk a line is not drawn, and it does not bridge the gap.
        let bump = (
            Estimator::Pca,
            vec![(1.0, 0.5), (2.0, 1.5), (3.0, 0.5), (4.0, 0.4)],
        );
        let pieces: Vec<Vec<f64>> = risk_vs_n(&setup, &[], &[bump], &[])
            .series
            .iter()
            .map(|s| s.points.iter().map(|p| p.0).collect())
            .collect();
        assert_eq!(pieces, [vec![1.0], vec![3.0, 4.0]]);
    }

    #[test]
    fn risk_vs_n_shows_each_estimator_the_floor_and_the_fits_inside_its_axes() {
        let setup = Setup::new(10, 100, 0.1).unwrap();
        let sizes = [20, 50, 200, 1000];
        let mc = summaries(&setup, &sizes);
        let analytic: Vec<AnalyticCurve> = [Estimator::Pca, Estimator::GdEarlyStopped]
            .into_iter()
            .map(|e| {
                let pts = log_spaced(20.0, 1000.0, 30).unwrap();
                (
                    e,
                    pts.into_iter()
                        .map(|n| (n, setup.floor() * (1.0 + 12.0 / n)))
                        .collect(),
                )
            })
            .collect();
        let fit = PowerLawLine {
            estimator: Estimator::Pca,
            beta: 0.5,
            alpha: -0.8,
            range: [20.0, 1000.0],
        };
        let chart = risk_vs_n(&setup, &mc, &analytic, std::slice::from_ref(&fit));
        // The optimal estimator is the floor line; the other three are markers with one
        // point and one +-1 s.e. bar per size.
        let labels: Vec<&str> = chart.series.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(chart.series.len(), 3 + 2 + 1, "{labels:?}");
        for (s, e) in chart.series[..3].iter().zip(&Estimator::ALL[1..]) {
            assert!(
                s.label.starts_with(&format!("{e} (mean of 8 draws")),
                "{}",
                s.label
            );
            assert_eq!(s.draw, Draw::Markers);
            let rows: Vec<&Summary> = mc.iter().filter(|r| r.estimator == *e).collect();
            let want: Vec<(f64, f64)> = rows.iter().map(|r| (r.n_train as f64, r.mean)).collect();
            assert_eq!(s.points, want);
            let errors = s.errors.as_ref().unwrap();
            for (r, &(lo, hi)) in rows.iter().zip(errors) {
                let se = r.stderr.unwrap();
                assert!((lo - (r.mean - se)).abs() < 1e-15 && (hi - (r.mean + se)).abs() < 1e-15);
            }
        }
        for (s, (e, pts)) in chart.series[3..5].iter().zip(&analytic) {
            assert_eq!(
                (s.label.clone(), s.draw),
                (format!("{e} (analytic)"), Draw::Dashed)
            );
            assert_eq!(&s.points, pts);
        }
        // The fit: 21 points of beta N^alpha from one end of its range to the other.
        let f = &chart.series[5];
        assert_eq!((f.draw, f.points.len()), (Draw::Line, 21));
        assert!((f.points[0].0 - 20.0).abs() < 1e-9 && (f.points[20].0 - 1000.0).abs() < 1e-9);
        for &(n, r) in &f.points {
            assert!((r / (0.5 * n.powf(-0.8)) - 1.0).abs() < 1e-12);
        }
        assert_eq!(chart.hlines.len(), 1);
        assert_eq!(chart.hlines[0].1, setup.floor());
        assert!((chart.x_log, chart.y_log) == (true, true));
        assert_axes_hold_everything(&chart);
    }

    #[test]
    fn risk_vs_iteration_draws_each_path_its_early_stop_and_the_floor() {
        let setup = Setup::new(10, 100, 0.1).unwrap();
        let f = setup.floor();
        // Paths that fall to a minimum at k = 40 (N = 50) and k = 90 (N = 500), then rise.
        let path = |k_min: usize, len: usize| -> Vec<f64> {
            (0..len)
                .map(|k| f * (1.2 + ((k as f64 - k_min as f64) / 50.0).powi(2)))
                .collect()
        };
        let paths = vec![(50, path(40, 200)), (500, path(90, 300))];
        let chart = risk_vs_iteration(&setup, &paths);
        assert_eq!(chart.series.len(), 4);
        for (i, (n, p)) in paths.iter().enumerate() {
            let (line, stop) = (&chart.series[2 * i], &chart.series[2 * i + 1]);
            assert_eq!(line.label, format!("N = {n}"));
            // Iterates 1.. (k = 0 has no place on a log axis), at their own k.
            assert_eq!(line.points.len(), p.len() - 1);
            assert!(line.points.iter().all(|&(k, r)| r == p[k as usize]));
            let k_min = [40, 90][i];
            assert_eq!(
                stop.points,
                vec![(k_min as f64, p[k_min])],
                "{}",
                stop.label
            );
            assert_eq!(stop.color, line.color);
        }
        assert_eq!(chart.hlines.len(), 1);
        assert_eq!(chart.hlines[0].1, f);
        assert_axes_hold_everything(&chart);
    }

    /// The SVG draws what the chart holds: a circle per Monte Carlo point in the estimator's
    /// colour (plus its legend sample), the fit as one polyline of 21 points, and the floor's
    /// label.
    #[test]
    fn the_svg_draws_the_chart_data() {
        let setup = Setup::new(10, 100, 0.1).unwrap();
        let mc = summaries(&setup, &[20, 50, 200, 1000]);
        let fit = PowerLawLine {
            estimator: Estimator::LeastSquares,
            beta: 0.5,
            alpha: -0.8,
            range: [20.0, 1000.0],
        };
        let chart = risk_vs_n(&setup, &mc, &[], &[fit]);
        let dir = tempfile::tempdir().unwrap();
        chart.render(&dir.path().join("risk")).unwrap();
        let svg = std::fs::read_to_string(dir.path().join("risk.svg")).unwrap();
        let hex = |c: RGBColor| format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2);
        for e in &Estimator::ALL[1..] {
            let fill = format!("fill=\"{}\"", hex(color(*e)));
            let circles = svg
                .lines()
                .filter(|l| l.starts_with("<circle") && l.contains(&fill))
                .count();
            assert_eq!(circles, 4 + 1, "{e}: {fill}");
        }
        let stroke = format!("stroke=\"{}\"", hex(color(Estimator::LeastSquares)));
        let fit_lines = super::svg::polyline_points(&svg, &[&stroke]);
        assert!(fit_lines.contains(&21), "{fit_lines:?}");
        assert!(svg.contains(&format!("floor sigma²/(1+sigma²) = {:.4}", setup.floor())));
    }
}
