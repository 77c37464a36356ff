//! The figures' colours, by name: Tableau's categorical colours (matplotlib's default cycle, so
//! that plateau's figures sit beside a notebook's without clashing), light colours for the
//! individual runs behind a curve, and a dark grey for reference lines.

use plotters::style::RGBColor;

pub(crate) const BLUE: RGBColor = RGBColor(31, 119, 180);
pub(crate) const ORANGE: RGBColor = RGBColor(255, 127, 14);
pub(crate) const GREEN: RGBColor = RGBColor(44, 160, 44);
pub(crate) const RED: RGBColor = RGBColor(214, 39, 40);
pub(crate) const PURPLE: RGBColor = RGBColor(148, 103, 189);
pub(crate) const BROWN: RGBColor = RGBColor(140, 86, 75);
pub(crate) const PINK: RGBColor = RGBColor(227, 119, 194);
pub(crate) const CYAN: RGBColor = RGBColor(23, 190, 207);

/// Curves of one kind told apart by colour alone, in this order.
pub(crate) const CATEGORICAL: [RGBColor; 6] = [BLUE, ORANGE, GREEN, RED, PURPLE, BROWN];

/// Light colours for the many individual runs behind a curve, one per network width, pale so
/// that the curve drawn over them stands out. The grey is a mid grey: a pale one vanished on
/// white.
pub(crate) const TINTS: [RGBColor; 6] = [
    RGBColor(158, 202, 225),
    RGBColor(161, 217, 155),
    RGBColor(253, 174, 107),
    RGBColor(188, 189, 220),
    RGBColor(150, 150, 150),
    RGBColor(250, 159, 181),
];

/// Reference lines (floors, the optimal estimator): darker than any curve.
pub(crate) const DARK_GREY: RGBColor = RGBColor(60, 60, 60);
