//! Ridge and min-norm least squares in the subspace model: closed forms in the effective
//! regularisation `kappa`, `lambda = kappa (1 - (1/N) tr(Sigma (Sigma + kappa)^{-1}))`.

use super::finite_size::FiniteSize;
use super::population::Population;
use super::scalar::{bisect, minimise_log};
use super::two_atom::TwoAtom;
use crate::setup::at_least_squares_pole;

/// `kappa > 0` with `kappa (1 - c1 a/(a + kappa) - c2 s/(s + kappa)) = lambda` (unique: the
/// left side is convex in `kappa`, 0 at 0, and grows without bound). Cost: one bisection.
pub(crate) fn effective_ridge(pop: &TwoAtom, lambda: f64) -> f64 {
    let g =
        |k: f64| k * (1.0 - pop.c1 * pop.a / (pop.a + k) - pop.c2 * pop.s / (pop.s + k)) - lambda;
    bisect(g, lambda, lambda + pop.trace_over_n())
}

/// Ridge risk at effective regularisation `kappa >= 0`, label-noise variance `floor`:
/// `floor + kappa^2 / (alpha (alpha + kappa)^2 (1 - D/N)) + tau^2 (D/N) / (1 - D/N)`,
/// `D = tr(Sigma^2 (Sigma + kappa)^{-2})`. Cost `O(1)`.
pub(crate) fn ridge_at_kappa(pop: &TwoAtom, floor: f64, kappa: f64) -> f64 {
    let (a, s) = (pop.a, pop.s);
    let dn =
        pop.c1 * a * a / ((a + kappa) * (a + kappa)) + pop.c2 * s * s / ((s + kappa) * (s + kappa));
    // sigma = 0 at N >= d: exact recovery (kappa = 0, no noise); avoid 0/0.
    let bias = if kappa > 0.0 {
        kappa * kappa / (a * (a + kappa) * (a + kappa) * (1.0 - dn))
    } else {
        0.0
    };
    let var = if floor > 0.0 {
        floor * dn / (1.0 - dn)
    } else {
        0.0
    };
    floor + bias + var
}

/// The real-Gaussian degrees-of-freedom term of the min-norm variance below the threshold
/// (`N < n - 1`), at `kappa0`: the limit's variance `tau^2 D/(N - D)` becomes
/// `tau^2 D/(N - D - delta)`, and this returns the difference, `None` where the denominator is
/// not positive (infinite expectation).
///
/// `D = tr(Sigma^2 (Sigma + kappa0)^{-2})`. With `delta = D/N` the isotropic case (`d = n`,
/// `D = N^2/n`) gives `tau^2 N/(n - N - 1)`, the exact real inverse-Wishart mean
/// `E tr W^{-1} = p/(m - p - 1)` (`p = N`, `m = n`), where the limit has `n - N`. Where the
/// signal-block correction ([`FiniteSize`]) applies it already carries the signal eigenvalues'
/// real-Gaussian fluctuations, so `delta` keeps only the noise block's share,
/// `D_noise/N = (n - d) s^2/((s + kappa0)^2 N)` (no double counting). Cost `O(1)`.
pub(crate) fn min_norm_real_term(
    pop: &TwoAtom,
    floor: f64,
    kappa0: f64,
    signal_corrected: bool,
) -> Option<f64> {
    let (a, s) = (pop.a, pop.s);
    let signal = pop.c1 * a * a / ((a + kappa0) * (a + kappa0));
    let noise = pop.c2 * s * s / ((s + kappa0) * (s + kappa0));
    // In units of N: D/N = signal + noise, and delta/N = share/N.
    let dn = signal + noise;
    let share = if signal_corrected { noise } else { dn };
    let denominator = 1.0 - dn - share / pop.n_train as f64;
    (denominator > 0.0).then(|| floor * dn * (1.0 / denominator - 1.0 / (1.0 - dn)))
}

/// The finite-`d` correction of ridge with penalty `lambda >= 0` (filter `x/(x + lambda)`; `1`
/// off 0 for `lambda = 0`).
pub(crate) fn ridge_correction(f: &FiniteSize, lambda: f64) -> f64 {
    f.filter(|x| x / (x + lambda))
}

/// Ridge risk at penalty `lambda > 0` with the finite-`d` correction where it applies. Cost: one
/// bisection.
pub(crate) fn ridge_closed_form(
    pop: &TwoAtom,
    floor: f64,
    finite: Option<&FiniteSize>,
    lambda: f64,
) -> f64 {
    let correction = finite.map_or(0.0, |f| ridge_correction(f, lambda));
    ridge_at_kappa(pop, floor, effective_ridge(pop, lambda)) + correction
}

/// The optimally tuned ridge `(lambda_opt, risk)` over `lambda in [1e-10, 1e4]` (log grid, then
/// golden section). Cost about 300 bisections.
pub(crate) fn ridge_optimal(pop: &TwoAtom, floor: f64, finite: Option<&FiniteSize>) -> (f64, f64) {
    let f = |log_l: f64| ridge_closed_form(pop, floor, finite, log_l.exp());
    let (x, r) = minimise_log(f, 1e-10f64.ln(), 1e4f64.ln());
    (x.exp(), r)
}

/// Min-norm least squares where its expectation is known exactly or infinite: `Some(None)` for
/// `N in {n - 1, n, n + 1}` with noise (infinite), `Some(Some(floor (N - 1)/(N - n - 1)))` for
/// `N > n + 1` (inverse Wishart: `E tr(Sigma (Y Y^T)^{-1}) = n / (N - n - 1)`, no bias), `None`
/// where the deterministic equivalent is needed.
pub(crate) fn least_squares_exact(pop: &TwoAtom, floor: f64) -> Option<Option<f64>> {
    let (n, nt, s) = (pop.n, pop.n_train, pop.s);
    if s > 0.0 && at_least_squares_pole(n, nt) {
        return Some(None);
    }
    if s > 0.0 && nt > n + 1 {
        return Some(Some(floor * (nt - 1) as f64 / (nt - n - 1) as f64));
    }
    None
}
