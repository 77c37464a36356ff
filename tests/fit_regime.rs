//! Regime detection on synthetic curves.

use plateau::fit::{detect_regime, fit_curve, Curve, FitOptions, ModelKind};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

fn logspace(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| (lo.ln() + (hi.ln() - lo.ln()) * i as f64 / (n - 1) as f64).exp())
        .collect()
}

fn with_noise(ys: &[f64], sigma: f64, seed: u64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    ys.iter()
        .map(|y| {
            let z: f64 = StandardNormal.sample(&mut rng);
            y * (sigma * z).exp()
        })
        .collect()
}

#[test]
fn power_law_then_floor_bends_where_the_law_meets_the_floor() {
    // R = 5 / N + 0.05: the power law meets the floor at N* = 5 / 0.05 = 100. The curve is
    // symmetric about ln N* in log-log, so the bend must be found at N* up to the grid
    // spacing (25 points over 4 decades: a factor 10^(4/24) = 1.47 per step) and the noise
    // (2% per point, which moves a kink by well under one step with 25 points). Tolerance:
    // a factor 1.47^1.5 = 1.8 either way.
    let xs = logspace(1.0, 1e4, 25);
    let clean: Vec<f64> = xs.iter().map(|x| 5.0 / x + 0.05).collect();
    for (seed, ys) in [
        (0, clean.clone()),
        (1, with_noise(&clean, 0.02, 1)),
        (2, with_noise(&clean, 0.02, 2)),
    ] {
        let r = detect_regime(&xs, &ys).unwrap();
        let bend = r.bend.expect("a plateau follows the steep part");
        assert!(
            bend > 100.0 / 1.8 && bend < 100.0 * 1.8,
            "seed {seed}: bend {bend}, {r:?}"
        );
        // The steep segment is the first one, ends before the plateau and has a slope
        // steeper than the average slope of the curve on the same range.
        assert_eq!(r.steep, 0, "seed {seed}: {r:?}");
        assert!(r.steep_range[1] <= 100.0 * 1.8, "seed {seed}: {r:?}");
        assert!(r.steep_slope < -0.6, "seed {seed}: {r:?}");
        // The last segment is the plateau: nearly flat.
        let last = r.segments.last().unwrap();
        assert!(last.slope.abs() < 0.15, "seed {seed}: {r:?}");
    }
}

#[test]
fn pure_power_law_is_one_segment() {
    let xs = logspace(1.0, 1e4, 20);
    let clean: Vec<f64> = xs.iter().map(|x| 2.0 * x.powf(-0.5)).collect();
    for ys in [clean.clone(), with_noise(&clean, 0.03, 3)] {
        let r = detect_regime(&xs, &ys).unwrap();
        assert_eq!(r.segments.len(), 1, "{r:?}");
        assert_eq!(r.bend, None);
        assert_eq!(r.steep_range, [xs[0], xs[19]]);
    }
}

#[test]
fn flat_start_steep_middle_and_floor_are_three_segments() {
    // R = c + (1 - c) / (1 + N/8): near 1 for N << 8, ~ 8/N in the middle, c for N >> 800.
    let c = 0.01;
    let xs = logspace(1.0, 16384.0, 30);
    let clean: Vec<f64> = xs.iter().map(|x| c + (1.0 - c) / (1.0 + x / 8.0)).collect();
    let ys = with_noise(&clean, 0.01, 4);
    let r = detect_regime(&xs, &ys).unwrap();
    assert_eq!(r.segments.len(), 3, "{r:?}");
    assert_eq!(r.steep, 1, "{r:?}");
    // The steep segment lies between the two bends (8 and 800) within a grid factor.
    assert!(
        r.steep_range[0] > 8.0 / 2.5 && r.steep_range[0] < 8.0 * 2.5,
        "{r:?}"
    );
    let bend = r.bend.unwrap();
    assert!(bend > 800.0 / 2.5 && bend < 800.0 * 2.5, "{r:?}");
    assert!((r.steep_slope + 0.9).abs() < 0.15, "{r:?}");
}

#[test]
fn auto_fits_from_the_steep_segment_and_picks_the_saturating_law() {
    let xs = logspace(1.0, 1e4, 25);
    let clean: Vec<f64> = xs.iter().map(|x| 5.0 / x + 0.05).collect();
    let ys = with_noise(&clean, 0.02, 5);
    let curve = Curve::new(&xs, &ys).unwrap();
    let opts = FitOptions {
        bootstrap: plateau::fit::BootstrapOptions {
            reps: 100,
            ..Default::default()
        },
        ..FitOptions::default()
    };
    let rep = fit_curve("g", &curve, &opts).unwrap();
    assert_eq!(rep.model, ModelKind::Saturating, "{rep:?}");
    let regime = rep.regime.as_ref().unwrap();
    assert_eq!(rep.range, [regime.steep_range[0], xs[24]]);
    // The floor is recovered (2% noise on 25 points: a few percent).
    let c = *rep.params.get("c").unwrap();
    assert!((c - 0.05).abs() < 0.005, "{rep:?}");
    // The steep power law alone extrapolates far below the floor, the chosen model does not:
    // the paper's point.
    let steep = *regime.steep_extrapolation.get("1e6").unwrap();
    let chosen = *rep.extrapolation.get("1e6").unwrap();
    assert!(
        steep < 0.01 && (chosen - 0.05).abs() < 0.005,
        "{steep} {chosen}"
    );
    let sel = rep.selection.as_ref().unwrap();
    assert_eq!(sel.criterion, "AICc");
    assert_eq!(sel.candidates.len(), 3);
}

#[test]
fn a_rising_segment_ends_the_fit_range() {
    // Like least squares near N = n: falls as N^-1 up to N = 40, rises as N^3 to N = 100, then
    // falls as N^-0.8. The steep part is the first; the rise is no plateau, so the fit range
    // stops where it starts and there is no bend.
    let xs = logspace(1.0, 1e4, 31);
    let ln_y = |x: f64| {
        let l = x.ln();
        let (l1, l2) = (40f64.ln(), 100f64.ln());
        if l <= l1 {
            -l
        } else if l <= l2 {
            -l1 + 3.0 * (l - l1)
        } else {
            -l1 + 3.0 * (l2 - l1) - 0.8 * (l - l2)
        }
    };
    let ys = with_noise(
        &xs.iter().map(|&x| ln_y(x).exp()).collect::<Vec<_>>(),
        0.01,
        7,
    );
    let r = detect_regime(&xs, &ys).unwrap();
    assert_eq!(r.segments.len(), 3, "{r:?}");
    assert_eq!((r.steep, r.plateau, r.bend), (0, 0, None), "{r:?}");
    assert!(
        r.fit_range[1] > 40.0 / 1.5 && r.fit_range[1] < 40.0 * 1.5,
        "{r:?}"
    );
    assert!((r.steep_slope + 1.0).abs() < 0.05, "{r:?}");
}
