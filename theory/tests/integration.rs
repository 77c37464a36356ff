//! The crate's integration tests, one binary: each file below is a module, so they are
//! compiled and linked once (not once a file) and libtest runs the tests of all of them on
//! every core. A new test file is added here as `mod name;` (`autotests = false` in
//! `Cargo.toml`).

mod common;

mod analytic_equivalents;
mod analytic_montecarlo;
mod exact_engine;
mod field_operators;
mod gaussian_model;
mod structured_engine;
mod validate;
