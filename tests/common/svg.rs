//! Reading the SVG files the figures write: plotters puts each element on a line of its own.
//! Shared by the integration tests (through `common`) and the unit tests of `src/figures`
//! (through a `#[path]` module), so that both count the drawn lines the same way.

/// The number of points of each `<polyline>` of `svg` whose element contains every one of
/// `needles` (a stroke colour, a stroke width), in drawing order.
pub fn polyline_points(svg: &str, needles: &[&str]) -> Vec<usize> {
    svg.lines()
        .filter(|l| l.starts_with("<polyline") && needles.iter().all(|n| l.contains(n)))
        .map(|l| {
            let inner = l
                .split("points=\"")
                .nth(1)
                .expect("a polyline has points")
                .split('"')
                .next()
                .unwrap_or_default();
            inner.split_whitespace().count()
        })
        .collect()
}
