//! Recovery of known parameters by the power, saturating and broken fits.
//!
//! Noiseless curves must be recovered to rounding. Noisy curves use multiplicative noise
//! `y = R(x) exp(sigma z)`, `z ~ N(0, 1)`, with a fixed seed; the tolerance on each parameter is
//! 4 asymptotic (Wald) standard errors, `sigma sqrt(diag((J^T J)^-1))` with `J` the Jacobian of
//! `ln R` in the reported parameters, computed here by central differences from an
//! independent implementation of the formulas. A correct fit misses by more than 4 standard
//! errors with probability about 6e-5 per parameter.

use plateau::fit::{
    detect_regime, fit_broken, fit_model, fit_power, fit_saturating, select_model, ModelKind,
};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

fn logspace(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| (lo.ln() + (hi.ln() - lo.ln()) * i as f64 / (n - 1) as f64).exp())
        .collect()
}

fn ln_power(p: &[f64], x: f64) -> f64 {
    p[0].ln() + p[1] * x.ln()
}

fn ln_saturating(p: &[f64], x: f64) -> f64 {
    (p[0] * x.powf(-p[1]) + p[2]).ln()
}

fn ln_broken(p: &[f64], x: f64) -> f64 {
    let (beta, a1, a2, nb, delta) = (p[0], p[1], p[2], p[3], p[4]);
    (beta * x.powf(a1) * (1.0 + (x / nb).powf(1.0 / delta)).powf((a2 - a1) * delta)).ln()
}

fn noisy(xs: &[f64], f: impl Fn(f64) -> f64, sigma: f64, seed: u64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    xs.iter()
        .map(|&x| {
            let z: f64 = StandardNormal.sample(&mut rng);
            f(x).exp() * (sigma * z).exp()
        })
        .collect()
}

/// Inverse of a small symmetric positive definite matrix by Gauss-Jordan.
fn invert(mut a: Vec<Vec<f64>>) -> Vec<Vec<f64>> {
    let n = a.len();
    let mut inv: Vec<Vec<f64>> = (0..n)
        .map(|i| (0..n).map(|j| f64::from(u8::from(i == j))).collect())
        .collect();
    for c in 0..n {
        let piv = (c..n)
            .max_by(|&i, &j| a[i][c].abs().total_cmp(&a[j][c].abs()))
            .unwrap();
        a.swap(c, piv);
        inv.swap(c, piv);
        let d = a[c][c];
        for j in 0..n {
            a[c][j] /= d;
            inv[c][j] /= d;
        }
        for i in 0..n {
            if i != c {
                let f = a[i][c];
                for j in 0..n {
                    a[i][j] -= f * a[c][j];
                    inv[i][j] -= f * inv[c][j];
                }
            }
        }
    }
    inv
}

/// Wald standard errors of the parameters of `ln_model` at `p` for log-noise `sigma`.
fn wald_se(ln_model: fn(&[f64], f64) -> f64, p: &[f64], xs: &[f64], sigma: f64) -> Vec<f64> {
    let k = p.len();
    let jac: Vec<Vec<f64>> = xs
        .iter()
        .map(|&x| {
            (0..k)
                .map(|j| {
                    let h = 1e-6 * p[j].abs().max(1e-3);
                    let (mut up, mut dn) = (p.to_vec(), p.to_vec());
                    up[j] += h;
                    dn[j] -= h;
                    (ln_model(&up, x) - ln_model(&dn, x)) / (2.0 * h)
                })
                .collect()
        })
        .collect();
    let jtj: Vec<Vec<f64>> = (0..k)
        .map(|a| {
            (0..k)
                .map(|b| jac.iter().map(|r| r[a] * r[b]).sum())
                .collect()
        })
        .collect();
    let inv = invert(jtj);
    (0..k).map(|j| sigma * inv[j][j].sqrt()).collect()
}

fn assert_close(name: &str, got: f64, want: f64, tol: f64) {
    assert!(
        (got - want).abs() <= tol,
        "{name}: got {got}, want {want} +- {tol}"
    );
}

#[test]
fn noiseless_power_law_is_exact() {
    let xs = logspace(1.0, 1e4, 20);
    let ys: Vec<f64> = xs.iter().map(|&x| 3.0 * x.powf(-0.7)).collect();
    let f = fit_power(&xs, &ys).unwrap();
    assert_close("beta", f.beta, 3.0, 1e-12);
    assert_close("alpha", f.alpha, -0.7, 1e-13);
    assert!(f.rss_log < 1e-25);
    assert_close("predict", f.predict(1e6), 3.0 * 1e6_f64.powf(-0.7), 1e-15);
}

#[test]
fn noiseless_saturating_law_is_exact() {
    let xs = logspace(1.0, 1e5, 25);
    let truth = [5.0, 0.8, 0.02];
    let ys: Vec<f64> = xs.iter().map(|&x| ln_saturating(&truth, x).exp()).collect();
    let f = fit_saturating(&xs, &ys).unwrap();
    assert_close("a", f.a, 5.0, 1e-8);
    assert_close("b", f.b, 0.8, 1e-9);
    assert_close("c", f.c, 0.02, 1e-10);
}

#[test]
fn saturating_fit_of_a_pure_power_law_puts_the_floor_at_zero() {
    let xs = logspace(1.0, 1e4, 20);
    let ys: Vec<f64> = xs.iter().map(|&x| 2.0 * x.powf(-0.5)).collect();
    let f = fit_saturating(&xs, &ys).unwrap();
    assert_eq!(f.c, 0.0, "{f:?}");
    assert_close("a", f.a, 2.0, 1e-9);
    assert_close("b", f.b, 0.5, 1e-10);
}

#[test]
fn noiseless_broken_law_is_exact() {
    let xs = logspace(1.0, 1e5, 30);
    let truth = [2.0, -1.0, -0.1, 300.0, 0.5];
    let ys: Vec<f64> = xs.iter().map(|&x| ln_broken(&truth, x).exp()).collect();
    let f = fit_broken(&xs, &ys).unwrap();
    let got = [f.beta, f.alpha1, f.alpha2, f.n_break, f.delta];
    for (j, name) in ["beta", "alpha1", "alpha2", "n_break", "delta"]
        .iter()
        .enumerate()
    {
        assert_close(name, got[j], truth[j], 1e-7 * truth[j].abs());
    }
    assert!(f.rss_log < 1e-20, "{f:?}");
    assert_close("slope at break", f.slope(300.0), -0.55, 1e-9);
}

#[test]
fn broken_law_contains_the_saturating_law() {
    // a N^-b + c = broken with alpha1 = -b, alpha2 = 0, delta = 1/b, n_break = (a/c)^(1/b).
    let xs = logspace(1.0, 1e5, 30);
    let (a, b, c) = (5.0, 0.8, 0.02);
    let ys: Vec<f64> = xs.iter().map(|&x| a * x.powf(-b) + c).collect();
    let f = fit_broken(&xs, &ys).unwrap();
    assert_close("beta", f.beta, a, 1e-6);
    assert_close("alpha1", f.alpha1, -b, 1e-7);
    assert_close("alpha2", f.alpha2, 0.0, 1e-7);
    assert_close("delta", f.delta, 1.0 / b, 1e-6);
    assert_close("n_break", f.n_break, (a / c).powf(1.0 / b), 1e-5 * 1000.0);
}

/// Fits `kind` to `ln_model(truth)` at `xs` with log-noise `sigma` (seeded by `seed`) and checks
/// every parameter, by name, within 4 Wald standard errors of the truth. Returns the fitted
/// parameters (in the order of `ModelKind::param_names`).
fn assert_within_wald(
    kind: ModelKind,
    ln_model: fn(&[f64], f64) -> f64,
    truth: &[f64],
    xs: &[f64],
    (sigma, seed): (f64, u64),
) -> Vec<f64> {
    let ys = noisy(xs, |x| ln_model(truth, x), sigma, seed);
    let got = fit_model(kind, xs, &ys).unwrap().params();
    let se = wald_se(ln_model, truth, xs, sigma);
    for (j, name) in kind.param_names().iter().enumerate() {
        assert_close(name, got[j], truth[j], 4.0 * se[j]);
    }
    got
}

#[test]
fn noisy_power_law_within_wald_tolerance() {
    let xs = logspace(8.0, 1000.0, 15);
    let truth = [2.5, -0.6];
    let got = assert_within_wald(ModelKind::Power, ln_power, &truth, &xs, (0.05, 11));
    // The fit is not trivially exact: the noise moved it.
    assert!((got[1] - truth[1]).abs() > 1e-6);
}

#[test]
fn noisy_saturating_law_within_wald_tolerance() {
    let xs = logspace(1.0, 1e5, 30);
    let truth = [5.0, 0.8, 0.02];
    assert_within_wald(
        ModelKind::Saturating,
        ln_saturating,
        &truth,
        &xs,
        (0.03, 12),
    );
}

#[test]
fn noisy_broken_law_within_wald_tolerance() {
    let xs = logspace(1.0, 1e5, 40);
    let truth = [2.0, -1.0, -0.1, 300.0, 0.5];
    assert_within_wald(ModelKind::Broken, ln_broken, &truth, &xs, (0.02, 13));
}

#[test]
fn aicc_prefers_the_true_model() {
    let xs = logspace(1.0, 1e5, 30);
    // Power law data: power wins (ties with the nesting models go to the simpler one).
    let ys: Vec<f64> = noisy(&xs, |x| ln_power(&[2.0, -0.5], x), 0.02, 21);
    let (fit, sel) = select_model(&xs, &ys).unwrap();
    assert_eq!(fit.kind(), ModelKind::Power, "{sel:?}");
    // Power law then floor: saturating wins over the plain power law by a wide margin.
    let ys: Vec<f64> = noisy(&xs, |x| ln_saturating(&[5.0, 0.8, 0.02], x), 0.02, 22);
    let (fit, sel) = select_model(&xs, &ys).unwrap();
    assert_eq!(fit.kind(), ModelKind::Saturating, "{sel:?}");
    let power = sel
        .candidates
        .iter()
        .find(|c| c.model == ModelKind::Power)
        .unwrap();
    assert!(power.weight.unwrap() < 1e-6, "{sel:?}");
    // Two genuine exponents: broken wins.
    let ys: Vec<f64> = noisy(
        &xs,
        |x| ln_broken(&[2.0, -1.0, -0.2, 300.0, 0.3], x),
        0.02,
        23,
    );
    let (fit, sel) = select_model(&xs, &ys).unwrap();
    assert_eq!(fit.kind(), ModelKind::Broken, "{sel:?}");
}

#[test]
fn noiseless_selection_ties_go_to_the_simpler_model() {
    let xs = logspace(1.0, 1e5, 30);
    let ys: Vec<f64> = xs.iter().map(|&x| 2.0 * x.powf(-0.5)).collect();
    assert_eq!(select_model(&xs, &ys).unwrap().0.kind(), ModelKind::Power);
    let ys: Vec<f64> = xs.iter().map(|&x| 5.0 * x.powf(-0.8) + 0.02).collect();
    assert_eq!(
        select_model(&xs, &ys).unwrap().0.kind(),
        ModelKind::Saturating
    );
}

#[test]
fn bad_data_gives_errors_not_panics() {
    let xs = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0];
    let ys = [1.0, 0.5, 0.25, 0.125, 0.0625, 0.03125];
    // Too few points for the model.
    assert!(fit_power(&xs[..2], &ys[..2]).is_err());
    assert!(fit_saturating(&xs[..3], &ys[..3]).is_err());
    assert!(fit_broken(&xs[..5], &ys[..5]).is_err());
    // Non-positive or non-finite values.
    let mut bad = ys;
    bad[2] = 0.0;
    for kind in ModelKind::ALL {
        let e = fit_model(kind, &xs, &bad).unwrap_err().to_string();
        assert!(e.contains("positive"), "{e}");
    }
    bad[2] = f64::NAN;
    assert!(fit_power(&xs, &bad).is_err());
    assert!(fit_power(&[1.0, -2.0, 3.0], &[1.0, 1.0, 1.0]).is_err());
    // Length mismatch.
    assert!(fit_power(&xs, &ys[..5]).is_err());
    // Degenerate x.
    assert!(fit_power(&[2.0; 4], &[1.0, 2.0, 3.0, 4.0]).is_err());
    assert!(detect_regime(&[2.0; 4], &[1.0, 2.0, 3.0, 4.0]).is_err());
    // A constant curve is fitted (alpha = 0), not rejected.
    let flat = [0.3; 6];
    let f = fit_power(&xs, &flat).unwrap();
    assert!(f.alpha.abs() < 1e-12 && (f.beta - 0.3).abs() < 1e-12);
    for kind in ModelKind::ALL {
        let f = fit_model(kind, &xs, &flat).unwrap();
        assert!((f.predict(1e6) - 0.3).abs() < 1e-6, "{kind}: {f:?}");
    }
}
