//! The joint law in (N, P) on synthetic tables drawn from a known law: 5 sizes (16 to 4096) x
//! 5 parameter counts (widths 4 to 64 of a network with P = 300 width^2) x 2 seeds, each run
//! the law times `exp(3% Gaussian noise)`, the floor fixed at its true value (as for the
//! gaussian field). Tolerances come from the spread of the estimates over the tables and from
//! binomial bounds on coverage, never from one lucky draw.

use plateau::fit::joint::corner::corner_backtest;
use plateau::fit::joint::{bootstrap_joint, fit_joint, Family, JointData, JointLaw, JointPoint};
use plateau::fit::{BootstrapOptions, Method};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

// The law and the noise level of the table tests (`tests/joint_table`): one truth for both.
use crate::joint_table;
use joint_table::{SIGMA, TRUTH};

fn table(law: &JointLaw, rng: &mut ChaCha8Rng) -> JointData {
    let noise = Normal::new(0.0, SIGMA).unwrap();
    let mut points = Vec::new();
    for i in 0..5 {
        for j in 0..5 {
            let n = 16.0 * 4f64.powi(i);
            let p = 300.0 * (4.0 * 2f64.powi(j)).powi(2);
            for _ in 0..2 {
                let y = law.predict(n, p) * noise.sample(rng).exp();
                points.push(JointPoint { n, p, y });
            }
        }
    }
    JointData::new(&points).unwrap()
}

fn boot(reps: usize) -> BootstrapOptions {
    BootstrapOptions {
        method: Method::Auto,
        reps,
        seed: 0,
    }
}

fn mean_sd(v: &[f64]) -> (f64, f64) {
    let m = v.iter().sum::<f64>() / v.len() as f64;
    let var = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64;
    (m, var.sqrt())
}

/// `p0 -+ 3 sqrt(p0 (1 - p0) / k)`: where a coverage rate measured on `k` independent units
/// lies unless the intervals are miscalibrated.
fn binomial_bounds(p0: f64, k: usize) -> (f64, f64) {
    let sd = (p0 * (1.0 - p0) / k as f64).sqrt();
    (p0 - 3.0 * sd, p0 + 3.0 * sd)
}

#[test]
fn parameters_are_recovered_and_their_intervals_cover_them() {
    const TABLES: usize = 100;
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    // (estimate, truth) per table for ln A, alpha, ln B, beta.
    let truth = [TRUTH.a.ln(), TRUTH.alpha, TRUTH.b.ln(), TRUTH.beta];
    let mut est: Vec<[f64; 4]> = Vec::new();
    let mut covered = [0usize; 4];
    for _ in 0..TABLES {
        let data = table(&TRUTH, &mut rng);
        let fit = fit_joint(&data, Family::Additive, Some(TRUTH.e)).unwrap();
        let s = bootstrap_joint(&data, &fit, &boot(200)).unwrap();
        let l = fit.law;
        est.push([l.a.ln(), l.alpha, l.b.ln(), l.beta]);
        let params: [fn(&JointLaw) -> f64; 4] =
            [|l| l.a.ln(), |l| l.alpha, |l| l.b.ln(), |l| l.beta];
        for (k, f) in params.iter().enumerate() {
            let [lo, hi] = s.interval(f);
            covered[k] += usize::from(lo <= truth[k] && truth[k] <= hi);
        }
    }
    for k in 0..4 {
        // Recovery: the mean estimate is the truth within 4 standard errors of that mean.
        let v: Vec<f64> = est.iter().map(|e| e[k]).collect();
        let (m, sd) = mean_sd(&v);
        let se = sd / (TABLES as f64).sqrt();
        assert!(
            (m - truth[k]).abs() < 4.0 * se,
            "parameter {k}: mean {m} vs truth {} (se {se})",
            truth[k]
        );
        // Coverage: a 95% interval of a parameter fitted to 25 cells with 4 parameters covers
        // like P(|T_21| <= 1.96) = 0.936 at best.
        let (lo, hi) = binomial_bounds(0.936, TABLES);
        let rate = covered[k] as f64 / TABLES as f64;
        eprintln!(
            "parameter {k}: mean {m:.4} (truth {:.4}), coverage {rate}",
            truth[k]
        );
        assert!(
            rate >= lo && rate <= hi.min(1.0),
            "parameter {k}: coverage {rate} outside [{lo:.3}, {hi:.3}]"
        );
    }
}

#[test]
fn the_held_out_corner_is_predicted_within_its_interval() {
    const TABLES: usize = 40;
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let (mut rates, mut additive_best) = (Vec::new(), 0usize);
    for _ in 0..TABLES {
        let data = table(&TRUTH, &mut rng);
        let c = corner_backtest(&data, Some(TRUTH.e), &boot(100)).unwrap();
        assert_eq!((c.n_from, c.train_cells), (1024.0, 21));
        let add = &c.candidates[0];
        assert_eq!(add.family, Family::Additive);
        assert_eq!(add.held_out.len(), 4, "{add:?}");
        let covered = add
            .held_out
            .iter()
            .filter(|h| h.covered == Some(true))
            .count();
        rates.push(covered as f64 / 4.0);
        // The power mean nests the additive law; when it wins the corner on additive data it
        // must predict like it: within the additive law's own held-out error, plus the noise
        // of a cell mean (3% / sqrt(2)) that the extra parameter can chase.
        let pm = &c.candidates[1];
        let (a, p) = (add.rms_log_error.unwrap(), pm.rms_log_error.unwrap());
        assert!(p >= a - 3.0 * SIGMA / 2f64.sqrt(), "{c:?}");
        // The winner is the smaller held-out error, ties to the additive law.
        let want = if p < a - 1e-9 {
            Family::PowerMean
        } else {
            Family::Additive
        };
        assert_eq!(c.best, Some(want), "{c:?}");
        additive_best += usize::from(c.best == Some(Family::Additive));
    }
    // Prediction intervals of a new cell mean: P(|T_17| <= 1.96) = 0.933 for a right model.
    // The four cells of a table share one fit, so the standard error of the rate is that of
    // the mean of the per-table rates (independent tables), which holds the correlation; the
    // band is two-sided: intervals too wide (a 99% interval posing as 95%: every table near
    // 1) fail it as intervals too narrow do.
    let (rate, sd) = mean_sd(&rates);
    let se = sd / (TABLES as f64).sqrt();
    eprintln!(
        "corner coverage {rate} (se {se:.4}), additive chosen in {additive_best} of {TABLES}"
    );
    assert!(
        (rate - 0.933).abs() <= 3.0 * se,
        "corner coverage {rate} outside 0.933 +- 3 x {se:.4}"
    );
    // On additive data the extra parameter of the power mean only chases the noise of the
    // training cells: which family predicts the corner better is close to a coin flip (its
    // held-out error differs from the additive law's by noise of either sign). A selection
    // that favoured the family of better training fit (always the power mean, which nests the
    // additive law) or never left the additive law falls outside 1/2 +- 3 sqrt(1/4 / TABLES).
    let (lo, hi) = binomial_bounds(0.5, TABLES);
    let share = additive_best as f64 / TABLES as f64;
    assert!(
        share >= lo && share <= hi,
        "additive law chosen in {additive_best} of {TABLES} tables, outside [{lo:.3}, {hi:.3}]"
    );
}

#[test]
fn an_interaction_is_recovered_and_chosen_on_the_corner() {
    // q = 0.5: the scarcer of data and capacity dominates. Two tables are enough to show the
    // exponent and q come back and that the corner prefers the power mean over the additive
    // law, which cannot bend.
    let law = JointLaw {
        family: Family::PowerMean,
        q: 0.5,
        ..TRUTH
    };
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    for _ in 0..2 {
        let data = table(&law, &mut rng);
        let fit = fit_joint(&data, Family::PowerMean, Some(law.e)).unwrap();
        let s = bootstrap_joint(&data, &fit, &boot(200)).unwrap();
        for (name, f, want) in [
            ("q", (|l: &JointLaw| l.q) as fn(&JointLaw) -> f64, law.q),
            ("alpha", |l: &JointLaw| l.alpha, law.alpha),
        ] {
            let [lo, hi] = s.interval(f);
            // Four bootstrap half-widths around the estimate: a miss is a failed recovery,
            // not a 5% accident.
            let half = (hi - lo) / 2.0;
            let got = f(&fit.law);
            assert!(
                (got - want).abs() < 4.0 * half,
                "{name}: {got} vs {want} (ci {lo}..{hi})"
            );
        }
        let c = corner_backtest(&data, Some(law.e), &boot(50)).unwrap();
        assert_eq!(c.best, Some(Family::PowerMean), "{c:?}");
    }
}
