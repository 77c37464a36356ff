//! # plateau
//!
//! Ties the theory engine ([`plateau_theory`]) and the experiments side together: the `plateau`
//! command line, scaling-law fits, figures and reports.

pub mod analysis;
pub mod commands;
pub mod figures;
pub mod fit;
pub mod output;
pub mod sweep;
pub mod text;
