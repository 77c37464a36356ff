//! Polynomials with real coefficients (ascending order): products, evaluation at a complex
//! point, and all complex roots of the low-degree ones the two-atom spectrum needs (a cubic for
//! the Stieltjes transform, a quartic for the support edges).

use nalgebra::Complex;

pub(crate) type C64 = Complex<f64>;

/// Product of two polynomials in ascending coefficients.
pub(crate) fn poly_mul(p: &[f64], q: &[f64]) -> Vec<f64> {
    let mut out = vec![0.0; p.len() + q.len() - 1];
    for (i, &pi) in p.iter().enumerate() {
        for (j, &qj) in q.iter().enumerate() {
            out[i + j] += pi * qj;
        }
    }
    out
}

/// Polynomial and derivative at a complex point (ascending coefficients).
pub(crate) fn eval(c: &[f64], z: C64) -> (C64, C64) {
    let mut p = C64::new(0.0, 0.0);
    let mut dp = C64::new(0.0, 0.0);
    for &ci in c.iter().rev() {
        dp = dp * z + p;
        p = p * z + ci;
    }
    (p, dp)
}

/// Relative backward error below which a root counts as converged: `|p(z)|` within this many
/// ulps of `sum_i |c_i| |z|^i`, the size of the rounding of Horner's rule itself (about
/// `2 deg` ulps for the low degrees here), so no iteration can do better: the root is exact for
/// coefficients perturbed at the rounding level.
pub(crate) const ROUNDING_BACKWARD_ERROR: f64 = 8.0 * f64::EPSILON;

/// Relative backward error of `z` as a root of `c`: `|p(z)| / sum_i |c_i| |z|^i` (0 for the
/// zero polynomial). Cost `O(deg)`.
pub(crate) fn backward_error(c: &[f64], z: C64) -> f64 {
    let r = z.norm();
    let mut p = C64::new(0.0, 0.0);
    let mut scale = 0.0;
    for &ci in c.iter().rev() {
        p = p * z + ci;
        scale = scale * r + ci.abs();
    }
    if scale == 0.0 {
        0.0
    } else {
        p.norm() / scale
    }
}

/// Newton polish of a real root.
pub(crate) fn polish_real(c: &[f64], mut m: f64) -> f64 {
    for _ in 0..8 {
        let (p, dp) = eval(c, C64::new(m, 0.0));
        if dp.re == 0.0 {
            break;
        }
        let step = p.re / dp.re;
        if !step.is_finite() {
            break;
        }
        m -= step;
        if step.abs() <= 1e-16 * m.abs() {
            break;
        }
    }
    m
}

/// All complex roots of a low-degree real polynomial (ascending coefficients) by the
/// Aberth-Ehrlich iteration, then Newton-polished. Leading zero coefficients are dropped.
///
/// The iteration stops when no root moves by more than `1e-15` relative, or when every root's
/// [`backward_error`] is at the rounding level ([`ROUNDING_BACKWARD_ERROR`]): where rounding
/// keeps the moves above `1e-15` (roots of very different sizes), the first test alone ran all
/// 500 sweeps, which made the quadrature at `N >= 3e5` (tens of thousands of cubics) cost a
/// second per grid. Cost `O(deg^2)` per sweep, a handful of sweeps for a cubic.
pub(crate) fn poly_roots(c: &[f64]) -> Vec<C64> {
    let scale = c.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let mut deg = c.len() - 1;
    while deg > 0 && c[deg].abs() <= 1e-15 * scale {
        deg -= 1;
    }
    if deg == 0 {
        return Vec::new();
    }
    let c = &c[..=deg];
    // Start on a circle whose radius is the geometric mean of the root moduli.
    let radius = (c[0].abs() / c[deg].abs())
        .powf(1.0 / deg as f64)
        .max(1e-12);
    let mut z: Vec<C64> = (0..deg)
        .map(|k| {
            let ang = 0.4 + 2.0 * std::f64::consts::PI * k as f64 / deg as f64;
            C64::from_polar(radius, ang)
        })
        .collect();
    for _ in 0..500 {
        let mut moved = 0.0f64;
        for i in 0..deg {
            let (p, dp) = eval(c, z[i]);
            if p.norm() == 0.0 {
                continue;
            }
            let ratio = p / dp;
            let mut rep = C64::new(0.0, 0.0);
            for (j, zj) in z.iter().enumerate() {
                if j != i {
                    rep += 1.0 / (z[i] - zj);
                }
            }
            let w = ratio / (1.0 - ratio * rep);
            if w.re.is_finite() && w.im.is_finite() {
                z[i] -= w;
                moved = moved.max(w.norm() / z[i].norm().max(1e-300));
            }
        }
        if moved < 1e-15
            || z.iter()
                .all(|&zi| backward_error(c, zi) <= ROUNDING_BACKWARD_ERROR)
        {
            break;
        }
    }
    for zi in z.iter_mut() {
        for _ in 0..3 {
            let (p, dp) = eval(c, *zi);
            let step = p / dp;
            if step.re.is_finite() && step.im.is_finite() {
                *zi -= step;
            }
        }
    }
    z
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots_of_known_cubic() {
        // (z - 1)(z - 2)(z + 3) = z^3 - 7 z + 6
        let mut r: Vec<f64> = poly_roots(&[6.0, -7.0, 0.0, 1.0])
            .iter()
            .map(|z| z.re)
            .collect();
        r.sort_by(f64::total_cmp);
        for (got, want) in r.iter().zip([-3.0, 1.0, 2.0]) {
            assert!((got - want).abs() < 1e-12, "{r:?}");
        }
    }
}
