//! Timing command for the analytic curves (reported in `theory/analytic.md`):
//!
//! ```text
//! cargo run --release -p plateau-theory --example analytic_speed
//! ```
//!
//! Predicts all four estimators for the paper's eight setups over their whole training-set
//! grids (n = 10000 included) and prints the number of points and the wall time (best of 3).

use plateau_theory::analytic::curves;
use plateau_theory::{Setup, StepSize};

fn main() {
    let setups = Setup::paper_setups();
    let mut best = f64::INFINITY;
    let mut points = 0;
    for _ in 0..3 {
        let start = std::time::Instant::now();
        points = curves(&setups, StepSize::Paper)
            .expect("paper setups are valid")
            .iter()
            .map(Vec::len)
            .sum::<usize>();
        best = best.min(start.elapsed().as_secs_f64());
    }
    println!("{points} analytic points (8 setups, whole grids) in {best:.3} s (best of 3)");
}
