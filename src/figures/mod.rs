//! Figures for people: risk against training-set size and against gradient-descent iteration.

pub mod capacity;
pub mod chart;
pub(crate) mod palette;
pub mod scaling;
pub mod theory;
pub mod validate;

pub use chart::{Chart, Draw, Series};
