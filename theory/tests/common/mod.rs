//! What the theory integration tests share: sample means compared within standard errors.
#![allow(dead_code)] // each test file uses a part

use plateau_theory::montecarlo::{mean_std, mean_stderr};

/// Checks that the mean of `values` (independent draws) is within 4 standard errors of
/// `expected`; `what` names the statistic and the case in the message.
pub fn assert_mean_near(values: &[f64], expected: f64, what: &str) {
    let (mean, se) = mean_stderr(values);
    let se = se.unwrap();
    assert!(
        (mean - expected).abs() <= 4.0 * se,
        "{what}: mean {mean} expected {expected} se {se}"
    );
}

/// Checks that two samplers, named `a.0` and `b.0`, give every statistic the same mean within 4
/// combined standard errors: `a.1[i]` and `b.1[i]` are equally many independent draws of the
/// statistic `names[i]`; `what` names the case in the message.
pub fn assert_same_means(
    names: &[&str],
    (a_name, a): (&str, &[Vec<f64>]),
    (b_name, b): (&str, &[Vec<f64>]),
    what: &str,
) {
    assert_eq!((a.len(), b.len()), (names.len(), names.len()));
    for (name, (x, y)) in names.iter().zip(a.iter().zip(b)) {
        assert_eq!(x.len(), y.len());
        let (mx, sx) = mean_std(x);
        let (my, sy) = mean_std(y);
        let se = ((sx.unwrap().powi(2) + sy.unwrap().powi(2)) / x.len() as f64).sqrt();
        assert!(
            (mx - my).abs() <= 4.0 * se,
            "{name} at {what}: {a_name} {mx} {b_name} {my} se {se}"
        );
    }
}

/// A reproducible proptest configuration: `cases` cases drawn from the fixed seed `seed`, and no
/// failure-persistence files written.
pub fn fixed_proptest(cases: u32, seed: u64) -> proptest::prelude::ProptestConfig {
    proptest::prelude::ProptestConfig {
        cases,
        failure_persistence: None,
        rng_seed: proptest::test_runner::RngSeed::Fixed(seed),
        ..proptest::prelude::ProptestConfig::default()
    }
}
