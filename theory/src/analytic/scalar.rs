//! One-dimensional root finding and minimisation: bisection for the scalar fixed points
//! (`kappa0`, the effective ridge, the critical points of `x(m)`), golden section for ridge
//! tuning and for the necks of the spectrum.

/// `root` of `g` in `[lo, hi]` with `g(lo) > 0 > g(hi)` (or the reverse), to machine precision,
/// by Brent's method: secant and inverse quadratic interpolation steps, each kept inside the
/// bracket and replaced by bisection where it would not shrink the bracket fast enough, so it
/// never takes more steps than bisection does and usually about ten. Cost: at most 200
/// evaluations of `g`.
pub(crate) fn bisect(g: impl Fn(f64) -> f64, lo: f64, hi: f64) -> f64 {
    let (mut a, mut b) = (lo, hi);
    let (mut fa, mut fb) = (g(a), g(b));
    if fa == 0.0 {
        return a;
    }
    if fb == 0.0 {
        return b;
    }
    if fa.is_sign_negative() == fb.is_sign_negative() || fa.is_nan() || fb.is_nan() {
        // No sign change at the ends: bisection's answer (an end, or an inner sign change).
        return halving(g, lo, hi);
    }
    // b: best estimate; a: previous b; c: the other end of the bracket [b, c].
    let (mut c, mut fc) = (a, fa);
    let (mut d, mut e) = (b - a, b - a);
    for _ in 0..200 {
        if fb.is_sign_negative() == fc.is_sign_negative() {
            (c, fc) = (a, fa);
            d = b - a;
            e = d;
        }
        if fc.abs() < fb.abs() {
            (a, b, c) = (b, c, b);
            (fa, fb, fc) = (fb, fc, fb);
        }
        let tol = (f64::EPSILON * b.abs()).max(f64::MIN_POSITIVE);
        let m = 0.5 * (c - b);
        if m.abs() <= tol || fb == 0.0 {
            break;
        }
        if e.abs() >= tol && fa.abs() > fb.abs() {
            let (p, q) = interpolation_step(a, b, c, fa, fb, fc, m);
            if 2.0 * p < (3.0 * m * q - (tol * q).abs()).min((e * q).abs()) {
                e = d;
                d = p / q;
            } else {
                (d, e) = (m, m);
            }
        } else {
            (d, e) = (m, m);
        }
        (a, fa) = (b, fb);
        b += if d.abs() > tol { d } else { tol.copysign(m) };
        fb = g(b);
        if fb.is_nan() {
            break;
        }
    }
    b
}

/// Plain bisection of `[lo, hi]` towards the end where `g` has the sign opposite to `g(lo)`
/// (200 steps at most, until the midpoint rounds onto an end).
fn halving(g: impl Fn(f64) -> f64, mut lo: f64, mut hi: f64) -> f64 {
    let up = g(lo) < 0.0;
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if (g(mid) < 0.0) == up {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// Brent's interpolation step from `b` as `p / q` (`p >= 0`): the secant through `(a, fa)`,
/// `(b, fb)` when `a = c`, else inverse quadratic interpolation through the three points.
fn interpolation_step(a: f64, b: f64, c: f64, fa: f64, fb: f64, fc: f64, m: f64) -> (f64, f64) {
    let s = fb / fa;
    let (p, q) = if a == c {
        (2.0 * m * s, 1.0 - s)
    } else {
        let (qa, r) = (fa / fc, fb / fc);
        (
            s * (2.0 * m * qa * (qa - r) - (b - a) * (r - 1.0)),
            (qa - 1.0) * (r - 1.0) * (s - 1.0),
        )
    };
    if p > 0.0 {
        (p, -q)
    } else {
        (-p, q)
    }
}

/// The minimiser of `f` on `[lo, hi]` by `iters` golden-section steps (`f` unimodal there).
/// Each step shrinks the bracket by `0.618`; cost `2 iters` evaluations of `f`.
pub(crate) fn golden_section(f: impl Fn(f64) -> f64, lo: f64, hi: f64, iters: usize) -> f64 {
    let (mut l, mut r) = (lo, hi);
    let gr = 0.5 * (5f64.sqrt() - 1.0);
    for _ in 0..iters {
        let (m1, m2) = (r - gr * (r - l), l + gr * (r - l));
        if f(m1) < f(m2) {
            r = m2;
        } else {
            l = m1;
        }
    }
    0.5 * (l + r)
}

/// Minimises `f` over `[lo, hi]`: the best of 141 equally spaced points, refined by golden
/// section within one grid step of it. For the smooth, unimodal-near-the-minimum risk curves in
/// `log lambda` of ridge. Returns `(argmin, min)`. Cost about 300 evaluations of `f`.
pub(crate) fn minimise_log(f: impl Fn(f64) -> f64, lo: f64, hi: f64) -> (f64, f64) {
    let steps = 140;
    let h = (hi - lo) / steps as f64;
    let best = (0..=steps)
        .map(|i| lo + h * i as f64)
        .min_by(|p, q| f(*p).total_cmp(&f(*q)))
        .unwrap_or(lo);
    let x = golden_section(&f, (best - h).max(lo), (best + h).min(hi), 80);
    (x, f(x))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bisect_finds_sqrt2_either_orientation() {
        let up = bisect(|x| x * x - 2.0, 0.0, 2.0);
        let down = bisect(|x| 2.0 - x * x, 0.0, 2.0);
        for r in [up, down] {
            assert!((r - 2f64.sqrt()).abs() <= 4.0 * f64::EPSILON, "{r}");
        }
    }

    #[test]
    fn golden_section_finds_parabola_vertex() {
        // The bracket shrinks to 2 * 0.618^80 ~ 4e-17, below the vertex's precision ~ sqrt(eps).
        let x = golden_section(|x| (x - 0.3) * (x - 0.3), -1.0, 2.0, 80);
        assert!((x - 0.3).abs() < 1e-7, "{x}");
    }
}
