//! Speed of the analytic curves, alone in its own test binary so that no other test competes
//! for the two cores while it is timed. Referenced from `theory/analytic.md`.

use plateau_theory::analytic::curves;
use plateau_theory::{Setup, StepSize};

/// All eight paper setups over their whole grids (n = 10000 included) in under a second
/// (checked in optimised builds only; debug builds print the time).
#[test]
fn curves_are_fast() {
    let setups = Setup::paper_setups();
    let start = std::time::Instant::now();
    let points: usize = curves(&setups, StepSize::Paper)
        .unwrap()
        .iter()
        .map(Vec::len)
        .sum();
    let took = start.elapsed();
    println!("{points} analytic points in {took:?}");
    assert_eq!(
        points,
        4 * setups
            .iter()
            .map(|s| s.default_train_sizes().len())
            .sum::<usize>()
    );
    if !cfg!(debug_assertions) {
        assert!(took.as_secs_f64() < 1.0, "analytic curves took {took:?}");
    }
}
