//! # plateau
//!
//! Ties the theory engine ([`plateau_theory`]) and the experiments side together: the `plateau`
//! command line, scaling-law fits, figures and reports.

pub mod commands;
pub mod figures;
pub mod fit;
pub mod linear_theory;
pub mod output;
pub mod sweep;
