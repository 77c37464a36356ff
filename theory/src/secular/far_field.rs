//! The secular function's pole sums with the far poles expanded once per root.
//!
//! Every iteration of the root finder evaluates
//!
//! ```text
//! psi(x) = sum_{j < hi} z_j^2 / (d_j - x),     phi(x) = sum_{j >= hi} z_j^2 / (d_j - x)
//! ```
//!
//! and their derivatives: one pass over all `K` poles, a division each, about four and a half
//! passes per root at `K = 10^4` (the start and three or four iterations). The iterates of one
//! root all lie in its bracket `(d_lo, d_hi)`, so for a pole `j` outside a window of [`NEAR`]
//! poles on either side of the bracket the shift `h = x - x_0` from a fixed centre `x_0` is
//! small against `delta_j = d_j - x_0`, and
//!
//! ```text
//! z_j^2 / (delta_j - h) = sum_{k >= 1} h^{k-1} z_j^2 / delta_j^k,
//! ```
//!
//! so the far poles' contribution at any `x` follows from the moments `S_k = sum_far z_j^2 /
//! delta_j^k`, `k = 1..=FAR_TERMS`, taken in one pass at `x_0` (value `sum_k h^{k-1} S_k`,
//! derivative `sum_k (k - 1) h^{k-2} S_k`). With `rho = |h| / min_far |delta_j| < 1` the
//! truncation error of the value is at most
//!
//! ```text
//! (sum_far |z_j^2 / delta_j|) rho^FAR_TERMS / (1 - rho),
//! ```
//!
//! and the expansion is used only where that bound is below [`TOLERANCE`] times the rounding
//! bound `sum_j |z_j^2 / (d_j - x)| + 1` that the root finder's stopping test allows; otherwise
//! the sums are taken in full and the moments re-centred there. The results therefore meet the
//! same stopping test as full passes, and a root costs one pass with moments plus `2 NEAR`
//! poles per iteration instead of a full pass per iteration. Both sides of the bracket are
//! expanded separately (`psi`'s far poles lie below `lo`, `phi`'s above `hi`), so the sums keep
//! their signs, which the rounding bound uses.
//!
//! Cost: the pass with moments is one division and `FAR_TERMS + 1` multiplications a pole (one
//! pass of [`super::pole_sums`] is one division and three); an expanded evaluation is
//! `2 NEAR + 2` poles and `2 FAR_TERMS` multiply-adds. Derivation and tests: `theory/exact.md`.

use std::ops::Range;

use super::pole_sums;
use crate::simd::simd_kernel;

/// Poles on each side of the bracket `(lo, hi)` that every evaluation sums exactly.
const NEAR: usize = 96;

/// Terms of the far poles' expansion in the shift.
const FAR_TERMS: usize = 8;

/// The smallest `K` whose roots use the expansion; below, every evaluation is a full pass (the
/// window would be most of the poles).
const FAR_MIN_POLES: usize = 4 * NEAR;

/// The expansion's truncation bound, as a fraction of `eps (sum_j |z_j^2 / (d_j - x)| + 1)`:
/// the root finder stops at `|w| <= 8 eps (that sum + 1) + ...`, so this adds at most 1/32 to
/// its tolerance.
const TOLERANCE: f64 = 0.25 * f64::EPSILON;

/// Evaluates `(psi, psi', phi, phi')` for the iterations of one root (see the module
/// documentation). Holds the far poles' moments between evaluations.
pub(super) struct PoleSums<'a> {
    d: &'a [f64],
    z: &'a [f64],
    /// The first pole of `phi`.
    hi: usize,
    /// The poles summed exactly at every evaluation; `None` below [`FAR_MIN_POLES`] (every
    /// evaluation a full pass).
    near: Option<Range<usize>>,
    /// The far poles' moments, once taken.
    far: Option<FarField>,
    /// Evaluations that took a full pass (with moments, or plain below [`FAR_MIN_POLES`]).
    full_passes: usize,
}

/// The moments of the far poles at a centre `x_0 = d[origin] + tau`.
struct FarField {
    origin: usize,
    tau: f64,
    /// `sum_{j < near.start} z_j^2 / delta_j^k` for `k = 1..=FAR_TERMS` (index `k - 1`),
    /// `delta_j = d_j - x_0`.
    below: [f64; FAR_TERMS],
    /// The same over `j >= near.end`.
    above: [f64; FAR_TERMS],
    /// `min |delta_j|` over the far poles (infinite when there are none).
    reach: f64,
}

impl<'a> PoleSums<'a> {
    /// The sums for the root bracketed by the poles `(lo, hi)` of `d` (ascending, length `K`).
    pub(super) fn new(d: &'a [f64], z: &'a [f64], (lo, hi): (usize, usize)) -> Self {
        let k = d.len();
        let near = (k >= FAR_MIN_POLES).then(|| lo.saturating_sub(NEAR)..(hi + 1 + NEAR).min(k));
        Self {
            d,
            z,
            hi,
            near,
            far: None,
            full_passes: 0,
        }
    }

    /// `(psi, psi', phi, phi')` at `x = d[origin] + tau`, the differences `d_j - x` taken as
    /// `(d_j - d[origin]) - tau`.
    pub(super) fn at(&mut self, origin: usize, tau: f64) -> (f64, f64, f64, f64) {
        let (d, z, hi) = (self.d, self.z, self.hi);
        let base = d[origin];
        // Below FAR_MIN_POLES every pole is near: each evaluation is a full pass.
        let near = self.near.clone().unwrap_or(0..d.len());
        let (psi, dpsi) = pole_sums(&d[near.start..hi], &z[near.start..hi], base, tau);
        let (phi, dphi) = pole_sums(&d[hi..near.end], &z[hi..near.end], base, tau);
        if self.near.is_none() {
            self.full_passes += 1;
            return (psi, dpsi, phi, dphi);
        }
        let near_abs = phi - psi;
        if let Some(far) = &self.far {
            if let Some([b, db, a, da]) = far.expand(d, origin, tau, near_abs) {
                return (psi + b, dpsi + db, phi + a, dphi + da);
            }
        }
        self.full_passes += 1;
        let far = FarField::centred(d, z, &near, origin, tau);
        let sums = (
            psi + far.below[0],
            dpsi + far.below[1],
            phi + far.above[0],
            dphi + far.above[1],
        );
        self.far = Some(far);
        sums
    }
}

impl FarField {
    /// The moments at `d[origin] + tau` of the poles outside `near`: one pass over them.
    fn centred(d: &[f64], z: &[f64], near: &Range<usize>, origin: usize, tau: f64) -> Self {
        let base = d[origin];
        let (lower, upper) = (0..near.start, near.end..d.len());
        let below = far_moments(&d[lower.clone()], &z[lower.clone()], base, tau);
        let above = far_moments(&d[upper.clone()], &z[upper.clone()], base, tau);
        let gap = |j: usize| ((d[j] - base) - tau).abs();
        let reach = lower
            .last()
            .map(gap)
            .into_iter()
            .chain(upper.clone().next().map(gap))
            .fold(f64::INFINITY, f64::min);
        Self {
            origin,
            tau,
            below,
            above,
            reach,
        }
    }

    /// `[psi_far, psi_far', phi_far, phi_far']` at `d[origin] + tau` from the moments, or
    /// `None` where the truncation bound exceeds [`TOLERANCE`] against the rounding bound
    /// (`near_abs` is the near poles' `sum |z_j^2 / (d_j - x)|`).
    fn expand(&self, d: &[f64], origin: usize, tau: f64, near_abs: f64) -> Option<[f64; 4]> {
        // Adjacent poles: their difference is exact or nearly, and small against `reach`.
        let h = (d[origin] - d[self.origin]) + (tau - self.tau);
        let rho = h.abs() / self.reach;
        if rho.is_nan() || rho > 0.25 {
            return None;
        }
        let far_abs = self.above[0] - self.below[0];
        let truncation = far_abs * rho.powi(FAR_TERMS as i32) / (1.0 - rho);
        if truncation > TOLERANCE * (near_abs + far_abs + 1.0) {
            return None;
        }
        let (b, db) = series(&self.below, h);
        let (a, da) = series(&self.above, h);
        Some([b, db, a, da])
    }
}

/// `(sum_k h^{k-1} s[k-1], sum_k (k-1) h^{k-2} s[k-1])` by Horner's rule.
fn series(s: &[f64; FAR_TERMS], h: f64) -> (f64, f64) {
    let mut value = s[FAR_TERMS - 1];
    let mut slope = (FAR_TERMS - 1) as f64 * s[FAR_TERMS - 1];
    for k in (1..FAR_TERMS).rev() {
        value = value * h + s[k - 1];
        if k >= 2 {
            slope = slope * h + (k - 1) as f64 * s[k - 1];
        }
    }
    (value, slope)
}

simd_kernel! {
    /// `sum_j z_j^2 / delta_j^k` for `k = 1..=FAR_TERMS`, `delta_j = (d_j - base) - tau`: one
    /// division per pole, eight lanes summed in lane order (bit-identical at every level).
    fn far_moments(d: &[f64], z: &[f64], base: f64, tau: f64) -> [f64; FAR_TERMS] {
        const L: usize = 8;
        let mut acc = [[0.0; L]; FAR_TERMS];
        let (dc, zc) = (d.chunks_exact(L), z.chunks_exact(L));
        let (dr, zr) = (dc.remainder(), zc.remainder());
        for (dch, zch) in dc.zip(zc) {
            for l in 0..L {
                let r = 1.0 / ((dch[l] - base) - tau);
                let mut u = zch[l] * (zch[l] * r);
                acc[0][l] += u;
                for row in acc.iter_mut().skip(1) {
                    u *= r;
                    row[l] += u;
                }
            }
        }
        for (dj, zj) in dr.iter().zip(zr) {
            let r = 1.0 / ((dj - base) - tau);
            let mut u = zj * (zj * r);
            acc[0][0] += u;
            for row in acc.iter_mut().skip(1) {
                u *= r;
                row[0] += u;
            }
        }
        acc.map(|row| row.iter().sum())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// Sorted random poles and weights, `k` of them.
    fn poles(k: usize, seed: u64) -> (Vec<f64>, Vec<f64>) {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let mut d: Vec<f64> = (0..k).map(|_| 5.0 * rng.random::<f64>()).collect();
        d.sort_by(f64::total_cmp);
        let z = (0..k).map(|_| rng.random::<f64>() - 0.5).collect();
        (d, z)
    }

    /// Wherever the expansion is used, it agrees with the full pass to within its own bound
    /// plus rounding (a few `eps` of `sum |terms| + 1`), for points across the bracket and on
    /// both origins; the bracket's midpoint, where the moments are taken, always is a full
    /// pass, and points close to it are not.
    #[test]
    fn expanded_sums_match_full_passes() {
        let (d, z) = poles(2000, 3);
        let mut expanded = 0;
        for lo in [0, 1, 700, 1500, 1998] {
            let hi = lo + 1;
            let mid = 0.5 * (d[hi] - d[lo]);
            let mut sums = PoleSums::new(&d, &z, (lo, hi));
            sums.at(lo, mid);
            assert_eq!(sums.full_passes, 1);
            for f in [0.5 - 1e-9, 0.5 + 1e-12, 0.4, 0.1, 0.9, 1e-6, 0.999_999] {
                let tau = f * (d[hi] - d[lo]);
                let (origin, tau) = if f < 0.5 {
                    (lo, tau)
                } else {
                    (hi, tau - (d[hi] - d[lo]))
                };
                let before = sums.full_passes;
                let got = sums.at(origin, tau);
                expanded += usize::from(sums.full_passes == before);
                let (psi, dpsi) = pole_sums(&d[..hi], &z[..hi], d[origin], tau);
                let (phi, dphi) = pole_sums(&d[hi..], &z[hi..], d[origin], tau);
                let bound = 4.0 * f64::EPSILON * (phi - psi + 1.0);
                assert!((got.0 - psi).abs() <= bound, "lo {lo} f {f}: psi");
                assert!((got.2 - phi).abs() <= bound, "lo {lo} f {f}: phi");
                for (g, w) in [(got.1, dpsi), (got.3, dphi)] {
                    assert!((g - w).abs() <= 1e-12 * w, "lo {lo} f {f}: {g} vs {w}");
                }
            }
        }
        assert!(expanded >= 20, "only {expanded} of 35 points expanded");
    }

    /// The moments at every SIMD level are the portable loop's, bit for bit.
    #[test]
    fn far_moments_are_bit_identical_across_levels() {
        use crate::simd::{detected, with_level, Level};
        let (d, z) = poles(1001, 4);
        let native = far_moments(&d, &z, 2.5, 1e-6);
        for cap in Level::ALL.into_iter().filter(|&l| l < detected()) {
            let forced = with_level(cap, || far_moments(&d, &z, 2.5, 1e-6));
            assert_eq!(
                forced.map(f64::to_bits),
                native.map(f64::to_bits),
                "{cap:?}"
            );
        }
    }
}
