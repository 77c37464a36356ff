//! The package's integration tests, one binary: each file below is a module, so they are
//! compiled and linked once (not once a file) and libtest runs the tests of all of them on
//! every core. A new test file is added here as `mod name;` (`autotests = false` in
//! `Cargo.toml`).

mod common;
mod joint_table;

mod build_profile;
mod capacity_cli;
mod cli_hardening;
mod cli_hardening_num;
mod cli_outputs;
mod cli_pipe;
mod cli_progress;
mod cli_refusals;
mod cli_theory;
mod cli_train;
mod cli_validate;
mod docs;
mod fit_backtest;
mod fit_bootstrap;
mod fit_cli;
mod fit_joint;
mod fit_joint_table;
mod fit_models;
mod fit_regime;
mod plan_cli;
mod plan_floors;
mod plan_joint_table;
mod scaling_cli;
mod scaling_linear;
mod sweep_cli;
mod sweep_resume;
