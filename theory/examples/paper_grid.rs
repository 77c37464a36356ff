//! Timing command for the exact engine (reported in the README):
//!
//! ```text
//! cargo run --release -p plateau-theory --example paper_grid -- [d n sigma runs]
//! cargo run --release -p plateau-theory --example paper_grid -- all [runs]
//! ```
//!
//! Runs the paper's training-set grid for one setup (default `d = 10, n = 1000, sigma = 0.1`,
//! 5 draws, all four estimators, `k <= 5000`, `--engine auto`) and prints the wall time and the
//! peak resident memory of the process. `all` runs the whole grids of all eight paper setups,
//! `n = 10000` included: the Monte Carlo of `plateau reproduce`'s theory part.

mod common;

use std::time::Instant;

use plateau_theory::montecarlo::MonteCarlo;
use plateau_theory::Setup;

use common::Positional;

fn main() {
    let args = Positional::from_env();
    if args.0.first().map(String::as_str) == Some("all") {
        let runs: usize = args.get(1, "5", "runs");
        let start = Instant::now();
        for setup in Setup::paper_setups() {
            let t = Instant::now();
            MonteCarlo::new(setup, setup.default_train_sizes(), runs, 0)
                .run(|| {})
                .expect("valid run");
            println!(
                "  ({}, {}, {}): {:.1} s",
                setup.d(),
                setup.n(),
                setup.sigma(),
                t.elapsed().as_secs_f64()
            );
        }
        println!(
            "all eight setups, whole grids, runs={runs} threads={}: {:.1} s wall, peak RSS {} MiB",
            rayon::current_num_threads(),
            start.elapsed().as_secs_f64(),
            peak_rss_mib().map_or("?".into(), |m| m.to_string())
        );
        return;
    }
    let setup = args.setup(["10", "1000", "0.1"]);
    let runs: usize = args.get(3, "5", "runs");
    let sizes = setup.default_train_sizes();
    let start = Instant::now();
    let rows = MonteCarlo::new(setup, sizes.clone(), runs, 0)
        .run(|| {})
        .expect("valid run");
    let secs = start.elapsed().as_secs_f64();
    let threads = rayon::current_num_threads();
    println!(
        "d={} n={} sigma={} sizes={} runs={runs} threads={threads}: {secs:.2} s wall, peak RSS {} MiB, {} rows",
        setup.d(),
        setup.n(),
        setup.sigma(),
        sizes.len(),
        peak_rss_mib().map_or("?".into(), |m| m.to_string()),
        rows.len()
    );
}

/// Peak resident set size from `/proc/self/status` (Linux), in MiB.
fn peak_rss_mib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024)
}
