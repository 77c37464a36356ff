//! Rank-one updates of a diagonal matrix through the secular equation, carrying for each
//! eigenvector only its projections onto a few fixed vectors.
//!
//! The matrix is kept as `Q diag(d) Q^T` with `d` ascending, and instead of `Q` (`K x K`) only
//! `W = Q^T [b_0 .. b_{p-1}]` (`K x p`) is stored. Adding `b_c b_c^T` is the rank-one problem
//! `diag(d) + z z^T` with `z = W[:, c]`; its eigenvectors are `s_i ∝ (d - lambda_i)^{-1} z`, so
//! `W <- S^T W` costs `O(K^2 p)` and `Q` is never formed. The method follows Bunch, Nielsen and
//! Sorensen (1978) and Gu and Eisenstat (1994), as in LAPACK's `dlaed2/dlaed4/dlaed9` (written
//! anew here):
//!
//! 1. *Deflation.* Components with `||z|| |z_j| <= tol` are dropped (the eigenpair stays), and two
//!    poles closer than `tol / |c s|` are merged by a Givens rotation that zeroes one component;
//!    `tol = 8 eps max(max |d|, ||z||^2)`, an absolute perturbation of the matrix of that size.
//! 2. *Roots.* Each root of `1 + sum_j z_j^2 / (d_j - lambda) = 0` is found as an offset `tau`
//!    from its nearer pole (`lambda = d_origin + tau`) by the fixed-weight rational iteration with
//!    a bisection safeguard, so that the differences `d_j - lambda = (d_j - d_origin) - tau` are
//!    accurate even for clustered poles. From `K = 384` the poles far from a root's bracket are
//!    summed once per root, as moments of a Taylor expansion in the shift ([`far_field`]), so
//!    that an iteration costs a window of poles instead of a pass over all of them.
//! 3. *Gu-Eisenstat.* `z` is recomputed from the computed roots (Löwner's formula), which makes
//!    the computed eigenvectors numerically orthogonal however close the roots are.
//!
//! Derivation and tests: `theory/exact.md`.

use faer::{Mat, Par};
use rayon::prelude::*;

use crate::simd::simd_kernel;
use far_field::PoleSums;

mod far_field;

/// Eigenvalues and projections of a symmetric matrix `Q diag(d) Q^T`.
#[derive(Clone, Debug)]
pub(crate) struct Projected {
    /// Eigenvalues, ascending; length `K`.
    d: Vec<f64>,
    /// `K x p`, row-major: row `j` holds the projections of eigenvector `j` onto `b_0..b_{p-1}`.
    w: Vec<f64>,
    p: usize,
}

/// A root of the secular equation: `lambda = d[origin] + tau`.
#[derive(Clone, Copy, Debug)]
struct Root {
    origin: usize,
    tau: f64,
    /// Whether the iteration met a stopping test within [`MAX_ITERATIONS`] (else `tau` is the
    /// last iterate, inside the bisection bracket).
    converged: bool,
}

/// Iterations of the secular root finder before it gives up (it converges in a few).
const MAX_ITERATIONS: usize = 200;

/// Roots that ran out of iterations since the process started (all threads).
static NONCONVERGED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// The number of secular roots, over every structured decomposition of this process so far,
/// whose iteration stopped at the iteration bound without meeting its convergence test (their
/// value is the last iterate, inside a bracket of the root). Zero in every test and run so
/// far; a caller that needs the guarantee reads it before and after its work.
pub fn nonconverged_roots() -> usize {
    NONCONVERGED.load(std::sync::atomic::Ordering::Relaxed)
}

/// Roots per parallel task, and rows per eigenvector block (bounds the `rows x K` scratch).
const CHUNK: usize = 64;

impl Projected {
    /// The diagonal matrix `diag(d)` (eigenvectors `e_j`) with `w[j * p + c] = b_c[j]`.
    /// `d` must be ascending.
    pub(crate) fn new(d: Vec<f64>, w: Vec<f64>, p: usize) -> Self {
        debug_assert_eq!(w.len(), d.len() * p);
        debug_assert!(d.windows(2).all(|x| x[0] <= x[1]));
        Self { d, w, p }
    }

    /// Eigenvalues (ascending) and the `K x p` projections, row-major.
    pub(crate) fn into_parts(self) -> (Vec<f64>, Vec<f64>) {
        (self.d, self.w)
    }

    /// Replaces the matrix `A` by `A + b_col b_col^T`.
    ///
    /// Cost `O(K'^2 (p + passes))` for the `K'` components that survive deflation, `passes`
    /// the passes over the poles per root (about one, with moments, from `K' = 384`; four to
    /// five below); memory `O(K p + CHUNK K)`.
    pub(crate) fn add_rank_one(&mut self, col: usize, par: Par) {
        let (k, p) = (self.d.len(), self.p);
        let znorm2: f64 = (0..k).map(|j| self.w[j * p + col].powi(2)).sum();
        if znorm2 == 0.0 {
            return;
        }
        let active = self.deflate(col, znorm2);
        if active.is_empty() {
            self.sort();
            return;
        }
        let dd: Vec<f64> = active.iter().map(|&j| self.d[j]).collect();
        let zz: Vec<f64> = active.iter().map(|&j| self.w[j * p + col]).collect();
        let zn2: f64 = zz.iter().map(|z| z * z).sum();
        let roots: Vec<Root> = map_chunks(dd.len(), par, |range| {
            roots_chunk(&dd, &zz, zn2, range.start, range.end)
        });
        let zhat = lowner_z(&dd, &zz, &roots, par);
        let wa: Vec<f64> = active
            .iter()
            .flat_map(|&j| self.w[j * p..(j + 1) * p].iter().copied())
            .collect();
        let rows = eigenvector_projections(&dd, &zhat, &roots, &wa, p, par);
        for (slot, &j) in active.iter().enumerate() {
            let r = roots[slot];
            self.d[j] = dd[r.origin] + r.tau;
            self.w[j * p..(j + 1) * p].copy_from_slice(&rows[slot * p..(slot + 1) * p]);
        }
        self.sort();
    }

    /// Deflation: returns the indices (ascending `d`) that take part in the secular equation;
    /// the others keep their eigenpair, with their component of `b_col` set to zero.
    fn deflate(&mut self, col: usize, znorm2: f64) -> Vec<usize> {
        let (k, p) = (self.d.len(), self.p);
        let dmax = self.d.iter().fold(0.0f64, |a, x| a.max(x.abs()));
        let tol = 8.0 * f64::EPSILON * dmax.max(znorm2);
        let znorm = znorm2.sqrt();
        let mut active: Vec<usize> = Vec::with_capacity(k);
        for j in 0..k {
            let zj = self.w[j * p + col];
            if znorm * zj.abs() <= tol {
                self.w[j * p + col] = 0.0;
                continue;
            }
            if let Some(&i) = active.last() {
                let zi = self.w[i * p + col];
                let r = zi.hypot(zj);
                let (c, s) = (zj / r, zi / r);
                if (c * s * (self.d[j] - self.d[i])).abs() <= tol {
                    // Rotate (e_i, e_j) to u = c e_i - s e_j (orthogonal to z: deflated) and
                    // v = s e_i + c e_j (carries the whole component r); the neglected coupling
                    // c s (d_i - d_j) is below tol.
                    for q in 0..p {
                        let (wi, wj) = (self.w[i * p + q], self.w[j * p + q]);
                        self.w[i * p + q] = c * wi - s * wj;
                        self.w[j * p + q] = s * wi + c * wj;
                    }
                    self.w[i * p + col] = 0.0;
                    self.w[j * p + col] = r;
                    let (di, dj) = (self.d[i], self.d[j]);
                    self.d[i] = c * c * di + s * s * dj;
                    self.d[j] = s * s * di + c * c * dj;
                    active.pop();
                }
            }
            active.push(j);
        }
        active
    }

    /// Restores ascending order of `d`, permuting the rows of `w` alongside.
    fn sort(&mut self) {
        if self.d.windows(2).all(|x| x[0] <= x[1]) {
            return;
        }
        let p = self.p;
        let mut order: Vec<usize> = (0..self.d.len()).collect();
        order.sort_by(|&a, &b| self.d[a].total_cmp(&self.d[b]));
        self.d = order.iter().map(|&j| self.d[j]).collect();
        self.w = order
            .iter()
            .flat_map(|&j| self.w[j * p..(j + 1) * p].iter().copied())
            .collect();
    }
}

/// The concatenation of `f(range)` over consecutive ranges of `CHUNK` indices covering
/// `0..len`, in parallel when `par` is not sequential (the values do not depend on the split).
fn map_chunks<T: Send>(
    len: usize,
    par: Par,
    f: impl Fn(std::ops::Range<usize>) -> Vec<T> + Sync + Send,
) -> Vec<T> {
    map_chunks_of(len, CHUNK, par, f)
}

/// [`map_chunks`] with ranges of `size` indices.
fn map_chunks_of<T: Send>(
    len: usize,
    size: usize,
    par: Par,
    f: impl Fn(std::ops::Range<usize>) -> Vec<T> + Sync + Send,
) -> Vec<T> {
    let chunk = |c: usize| c * size..((c + 1) * size).min(len);
    let chunks = len.div_ceil(size);
    let parts: Vec<Vec<T>> = match par {
        Par::Seq => (0..chunks).map(|c| f(chunk(c))).collect(),
        _ => (0..chunks).into_par_iter().map(|c| f(chunk(c))).collect(),
    };
    parts.into_iter().flatten().collect()
}

simd_kernel! {
    /// The roots `lo..hi` of the secular equation (see [`secular_root`]).
    fn roots_chunk(d: &[f64], z: &[f64], znorm2: f64, lo: usize, hi: usize) -> Vec<Root> {
        let mut out = Vec::with_capacity(hi - lo);
        for i in lo..hi {
            out.push(secular_root(d, z, znorm2, i));
        }
        out
    }
}

/// `sum_j z_j^2 / delta_j` and `sum_j z_j^2 / delta_j^2` over `j` in `range`, with
/// `delta_j = (d_j - base) - tau`: one pass over the poles, one division each, the cost of
/// every secular iteration. Explicit AVX-512 where the CPU has it (the compiler's own
/// vectorisation of this loop pairs the two sums instead of filling a register), with the
/// same order of operations as the portable version, so results are bit-identical.
#[inline(always)]
fn pole_sums(d: &[f64], z: &[f64], base: f64, tau: f64) -> (f64, f64) {
    #[cfg(target_arch = "x86_64")]
    if crate::simd::level() >= crate::simd::Level::Avx512 {
        // SAFETY: the CPU supports AVX-512F (the level never exceeds the detected one).
        return unsafe { pole_sums_avx512(d, z, base, tau) };
    }
    pole_sums_portable(d, z, base, tau)
}

/// Lanes of [`pole_sums`]: eight independent accumulators, summed in lane order at the end.
const POLE_LANES: usize = 8;

/// The remainder (fewer than [`POLE_LANES`] poles, into lane 0) and the final sum of
/// [`pole_sums`], shared by both versions.
#[inline(always)]
fn pole_sums_finish(
    d: &[f64],
    z: &[f64],
    base: f64,
    tau: f64,
    mut s: [f64; POLE_LANES],
    mut ds: [f64; POLE_LANES],
) -> (f64, f64) {
    for (dj, zj) in d.iter().zip(z) {
        let t = zj / ((dj - base) - tau);
        s[0] += zj * t;
        ds[0] += t * t;
    }
    (s.iter().sum(), ds.iter().sum())
}

simd_kernel! {
    /// [`pole_sums`] in plain Rust.
    fn pole_sums_portable(d: &[f64], z: &[f64], base: f64, tau: f64) -> (f64, f64) {
        const L: usize = POLE_LANES;
        let mut s = [0.0; L];
        let mut ds = [0.0; L];
        let (dc, zc) = (d.chunks_exact(L), z.chunks_exact(L));
        let (dr, zr) = (dc.remainder(), zc.remainder());
        for (dch, zch) in dc.zip(zc) {
            for l in 0..L {
                let t = zch[l] / ((dch[l] - base) - tau);
                s[l] += zch[l] * t;
                ds[l] += t * t;
            }
        }
        pole_sums_finish(dr, zr, base, tau, s, ds)
    }
}

/// [`pole_sums`] with AVX-512 intrinsics: lane `l` of each register is accumulator `l`.
///
/// # Safety
/// The CPU must support AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn pole_sums_avx512(d: &[f64], z: &[f64], base: f64, tau: f64) -> (f64, f64) {
    use std::arch::x86_64::*;
    const L: usize = POLE_LANES;
    let n = d.len().min(z.len());
    let full = n - n % L;
    let (vbase, vtau) = (_mm512_set1_pd(base), _mm512_set1_pd(tau));
    let (mut s, mut ds) = (_mm512_setzero_pd(), _mm512_setzero_pd());
    for c in (0..full).step_by(L) {
        // SAFETY: c + L <= full <= len of both slices.
        let (dv, zv) = unsafe {
            (
                _mm512_loadu_pd(d.as_ptr().add(c)),
                _mm512_loadu_pd(z.as_ptr().add(c)),
            )
        };
        let t = _mm512_div_pd(zv, _mm512_sub_pd(_mm512_sub_pd(dv, vbase), vtau));
        s = _mm512_add_pd(s, _mm512_mul_pd(zv, t));
        ds = _mm512_add_pd(ds, _mm512_mul_pd(t, t));
    }
    let (mut sa, mut dsa) = ([0.0; L], [0.0; L]);
    // SAFETY: the arrays hold L = 8 doubles.
    unsafe {
        _mm512_storeu_pd(sa.as_mut_ptr(), s);
        _mm512_storeu_pd(dsa.as_mut_ptr(), ds);
    }
    pole_sums_finish(&d[full..n], &z[full..n], base, tau, sa, dsa)
}

/// Root `i` (0-based, ascending) of `1 + sum_j z_j^2 / (d_j - lambda) = 0`, for strictly
/// increasing `d` and non-zero `z` (`znorm2 = ||z||^2`). Root `i < K - 1` lies in
/// `(d_i, d_{i+1})`, the last in `(d_{K-1}, d_{K-1} + ||z||^2)`.
#[inline(always)]
fn secular_root(d: &[f64], z: &[f64], znorm2: f64, i: usize) -> Root {
    let root = secular_root_within(d, z, znorm2, i, MAX_ITERATIONS);
    if !root.converged {
        NONCONVERGED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    root
}

/// [`secular_root`] with at most `max_iterations` iterations; the root says whether it
/// converged.
#[inline(always)]
fn secular_root_within(d: &[f64], z: &[f64], znorm2: f64, i: usize, max_iterations: usize) -> Root {
    let k = d.len();
    if k == 1 {
        return Root {
            origin: 0,
            tau: znorm2,
            converged: true,
        };
    }
    // The two poles that bracket (or, for the last root, precede) the root.
    let (lo, hi) = if i + 1 < k {
        (i, i + 1)
    } else {
        (k - 2, k - 1)
    };
    let mut sums = PoleSums::new(d, z, (lo, hi));
    let Start {
        origin,
        mut tau,
        mut lb,
        mut ub,
    } = start(d, z, znorm2, (lo, hi), i + 1 == k, &mut sums);
    let other = if origin == lo { hi } else { lo };
    let mut converged = false;
    for _ in 0..max_iterations {
        let (psi, dpsi, phi, dphi) = sums.at(origin, tau);
        let w = 1.0 + psi + phi;
        let dw = dpsi + dphi;
        // Rounding-error bound of w (phi >= 0 >= psi: phi - psi is the sum of |terms|).
        let err = 8.0 * (phi - psi + 1.0) + tau.abs() * dw;
        if w.abs() <= f64::EPSILON * err {
            converged = true;
            break;
        }
        if w <= 0.0 {
            lb = lb.max(tau);
        } else {
            ub = ub.min(tau);
        }
        if ub - lb <= 4.0 * f64::EPSILON * lb.abs().max(ub.abs()) {
            converged = true;
            break;
        }
        let eta = rational_step(d, z, (origin, other), tau, w, dw);
        let next = tau + eta;
        if next > lb && next < ub && next.is_finite() {
            tau = next;
            // The iteration converges quadratically: a step this small leaves an error far
            // below rounding, so the confirming evaluation is skipped.
            if eta.abs() <= 1e-10 * tau.abs() {
                converged = true;
                break;
            }
        } else {
            tau = 0.5 * (lb + ub);
        }
    }
    Root {
        origin,
        tau,
        converged,
    }
}

/// Where the iteration for one root starts: the origin pole, the offset `tau` from it, and the
/// bracket `(lb, ub)` of offsets.
struct Start {
    origin: usize,
    tau: f64,
    lb: f64,
    ub: f64,
}

/// The start of [`secular_root_within`] between the poles `(lo, hi)`: the root of the
/// two-pole model (the other poles as a constant, from the sums at the midpoint `eval`) on
/// the side of the midpoint where the secular function changes sign; for the last root, the
/// middle of `(d_{K-1}, d_{K-1} + ||z||^2)`.
#[inline(always)]
fn start(
    d: &[f64],
    z: &[f64],
    znorm2: f64,
    (lo, hi): (usize, usize),
    last_root: bool,
    sums: &mut PoleSums,
) -> Start {
    let (origin, mut tau, lb, ub);
    if !last_root {
        let del = d[hi] - d[lo];
        let mid = del / 2.0;
        let (psi, _, phi, _) = sums.at(lo, mid);
        let (zlo2, zhi2) = (z[lo] * z[lo], z[hi] * z[hi]);
        let w = 1.0 + psi + phi;
        // The secular function without its two nearest poles, at the midpoint.
        let c = w - zlo2 / (-mid) - zhi2 / (del - mid);
        if w > 0.0 {
            origin = lo;
            let a = c * del + zlo2 + zhi2;
            let b = zlo2 * del;
            let disc = (a * a - 4.0 * b * c).abs().sqrt();
            tau = if a > 0.0 {
                2.0 * b / (a + disc)
            } else {
                (a - disc) / (2.0 * c)
            };
            (lb, ub) = (0.0, mid);
        } else {
            origin = hi;
            let a = c * del - zlo2 - zhi2;
            let b = zhi2 * del;
            let disc = (a * a + 4.0 * b * c).abs().sqrt();
            tau = if a < 0.0 {
                2.0 * b / (a - disc)
            } else {
                -(a + disc) / (2.0 * c)
            };
            (lb, ub) = (-mid, 0.0);
        }
        if !(tau > lb && tau < ub) {
            tau = 0.5 * (lb + ub);
        }
    } else {
        origin = hi;
        (lb, ub) = (0.0, znorm2);
        tau = 0.5 * znorm2;
    }
    Start {
        origin,
        tau,
        lb,
        ub,
    }
}

/// The fixed-weight rational step from offset `tau` of the `origin` pole, where the secular
/// function is `w` with derivative `dw`: keep the origin's pole exactly, model the rest as a
/// constant plus the `other` pole, matching value and derivative; Newton's step where the
/// model's root lies on the wrong side or is not finite.
#[inline(always)]
fn rational_step(
    d: &[f64],
    z: &[f64],
    (origin, other): (usize, usize),
    tau: f64,
    w: f64,
    dw: f64,
) -> f64 {
    let lo_is_origin = origin < other;
    let delta_o = -tau;
    let delta_x = (d[other] - d[origin]) - tau;
    let (dlo, dhi) = if lo_is_origin {
        (delta_o, delta_x)
    } else {
        (delta_x, delta_o)
    };
    let zo = z[origin] / delta_o;
    let c = w - delta_x * dw - (d[origin] - d[other]) * zo * zo;
    let a = (dlo + dhi) * w - dlo * dhi * dw;
    let b = dlo * dhi * w;
    let mut eta = if c == 0.0 {
        if a == 0.0 {
            -w / dw
        } else {
            b / a
        }
    } else {
        let disc = (a * a - 4.0 * b * c).abs().sqrt();
        if a <= 0.0 {
            (a - disc) / (2.0 * c)
        } else {
            2.0 * b / (a + disc)
        }
    };
    if w * eta >= 0.0 || !eta.is_finite() {
        eta = -w / dw;
    }
    eta
}

/// `z` recomputed from the roots (Löwner): `zhat_j^2 = prod_i (lambda_i - d_j) /
/// prod_{i != j} (d_i - d_j)`, with the sign of `z_j`, evaluated as a product of ratios close to
/// one. Cost `O(K^2)` divisions.
fn lowner_z(d: &[f64], z: &[f64], roots: &[Root], par: Par) -> Vec<f64> {
    map_chunks(d.len(), par, |range| {
        let mut prod: Vec<f64> = range
            .clone()
            .map(|j| {
                let r = roots[j];
                (d[j] - d[r.origin]) - r.tau
            })
            .collect();
        lowner_products(d, roots, range.start, &mut prod);
        range
            .zip(prod)
            .map(|(j, p)| p.abs().sqrt().copysign(z[j]))
            .collect()
    })
}

simd_kernel! {
    /// Multiplies `prod[slot]` (pole `j = lo + slot`) by `(d_j - lambda_i) / (d_j - d_i)` for
    /// every root `i != j`. Numerators and denominators are multiplied separately over 16 roots
    /// at a time (no overflow: 16 factors stay far inside the exponent range) and divided once,
    /// which trades 15 of 16 divisions for multiplications.
    fn lowner_products(d: &[f64], roots: &[Root], lo: usize, prod: &mut [f64]) -> () {
        const GROUP: usize = 16;
        let hi = lo + prod.len();
        let dj = &d[lo..hi];
        let mut num = vec![1.0; prod.len()];
        let mut den = vec![1.0; prod.len()];
        for (g, group) in roots.chunks(GROUP).enumerate() {
            for (gi, r) in group.iter().enumerate() {
                let i = g * GROUP + gi;
                let (base, tau, di) = (d[r.origin], r.tau, d[i]);
                let cut = if i >= lo && i < hi { i - lo } else { prod.len() };
                for ((nu, de), &x) in num[..cut].iter_mut().zip(&mut den[..cut]).zip(&dj[..cut]) {
                    *nu *= (x - base) - tau;
                    *de *= x - di;
                }
                if cut < prod.len() {
                    let rest = cut + 1..prod.len();
                    for ((nu, de), &x) in num[rest.clone()]
                        .iter_mut()
                        .zip(&mut den[rest.clone()])
                        .zip(&dj[rest])
                    {
                        *nu *= (x - base) - tau;
                        *de *= x - di;
                    }
                }
            }
            for ((p, nu), de) in prod.iter_mut().zip(&mut num).zip(&mut den) {
                *p *= *nu / *de;
                *nu = 1.0;
                *de = 1.0;
            }
        }
    }
}

/// Rows `S^T W`: for root `i`, `sum_j s_i[j] W[j, :]` with the unit eigenvector
/// `s_i ∝ zhat_j / (d_j - lambda_i)`. `wa` is `K x p` row-major; returns `K x p` row-major.
/// The eigenvectors of `CHUNK` roots at a time are formed (`CHUNK x K`) and multiplied by `W` as
/// one GEMM. Cost `K^2` divisions and `2 K^2 (p + 1)` flops; scratch `CHUNK K` per thread.
fn eigenvector_projections(
    d: &[f64],
    zhat: &[f64],
    roots: &[Root],
    wa: &[f64],
    p: usize,
    par: Par,
) -> Vec<f64> {
    let k = d.len();
    let w = faer::MatRef::from_row_major_slice(wa, k, p);
    // Each task reuses one `K x CHUNK` block for 16 blocks of roots: allocating it per block
    // cost more in page faults than the arithmetic at K = 65536.
    map_chunks_of(k, 16 * CHUNK, par, |range| {
        let mut s = Mat::<f64>::zeros(k, CHUNK);
        let mut out = Vec::with_capacity(range.len() * p);
        for lo in range.clone().step_by(CHUNK) {
            let hi = (lo + CHUNK).min(range.end);
            let rows = hi - lo;
            let mut inv_norm = vec![0.0; rows];
            for (slot, i) in (lo..hi).enumerate() {
                let col = s
                    .col_mut(slot)
                    .try_as_col_major_mut()
                    .expect("contiguous column")
                    .as_slice_mut();
                inv_norm[slot] = 1.0 / cauchy_column(d, zhat, roots[i], col).sqrt();
            }
            let prod = crate::linalg::mul(s.subcols(0, rows).transpose(), w, Par::Seq);
            for slot in 0..rows {
                for q in 0..p {
                    out.push(prod[(slot, q)] * inv_norm[slot]);
                }
            }
        }
        out
    })
}

simd_kernel! {
    /// Fills `out[j] = zhat_j / (d_j - lambda)` for the root `lambda` and returns its squared
    /// norm.
    fn cauchy_column(d: &[f64], zhat: &[f64], root: Root, out: &mut [f64]) -> f64 {
        const L: usize = 8;
        let base = d[root.origin];
        let mut norm2 = [0.0; L];
        let k = out.len();
        let (d, zhat) = (&d[..k], &zhat[..k]);
        let mut oc = out.chunks_exact_mut(L);
        let (dc, zc) = (d.chunks_exact(L), zhat.chunks_exact(L));
        let (dr, zr) = (dc.remainder(), zc.remainder());
        for ((och, dch), zch) in (&mut oc).zip(dc).zip(zc) {
            let och: &mut [f64; L] = och.try_into().expect("chunk of L");
            let dch: &[f64; L] = dch.try_into().expect("chunk of L");
            let zch: &[f64; L] = zch.try_into().expect("chunk of L");
            for l in 0..L {
                let v = zch[l] / ((dch[l] - base) - root.tau);
                och[l] = v;
                norm2[l] += v * v;
            }
        }
        for ((o, dj), zj) in oc.into_remainder().iter_mut().zip(dr).zip(zr) {
            let v = zj / ((dj - base) - root.tau);
            *o = v;
            norm2[0] += v * v;
        }
        norm2.iter().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// The dispatched pole sums (AVX-512 where present) are bit-identical to the portable
    /// loop, for lengths with and without a remainder and for poles on both sides of the shift.
    #[test]
    fn pole_sums_are_bit_identical_to_the_portable_loop() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(8);
        for len in [0, 1, 7, 8, 9, 64, 1001] {
            let d: Vec<f64> = (0..len).map(|_| 4.0 * rng.random::<f64>()).collect();
            let z: Vec<f64> = (0..len).map(|_| rng.random::<f64>() - 0.5).collect();
            let (base, tau) = (2.0 + 1e-3 * rng.random::<f64>(), 1e-7);
            let (s, ds) = pole_sums(&d, &z, base, tau);
            let (ps, pds) = pole_sums_portable(&d, &z, base, tau);
            assert_eq!(
                (s.to_bits(), ds.to_bits()),
                (ps.to_bits(), pds.to_bits()),
                "len {len}"
            );
        }
    }

    /// `diag(d) + B^T B` by `p` rank-one updates against a dense eigendecomposition: the
    /// eigenvalues and the projections `B q_i` agree everywhere, including repeated (triples of
    /// equal entries, all equal), clustered (`1e-13` and `1e-9` apart) diagonal entries and
    /// exact zeros in `B` (deflation). Where eigenvalues are closer than `1e-6` of the scale
    /// the eigenvectors are not unique, so a cluster is compared through its projector:
    /// `sum_{i in cluster} (B q_i)(B q_i)^T`, which is (an error `eps scale / gap` with the gap
    /// to the rest at least `1e-6 scale`). No root runs out of iterations. Sizes up to 500, so
    /// that the far poles' expansion (from `far_field::FAR_MIN_POLES` poles) is exercised on
    /// random, tripled and clustered poles.
    #[test]
    fn rank_one_updates_match_dense() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let failures_before = nonconverged_roots();
        for case in 0..20 {
            let k = [1, 2, 5, 30, 150, 500][case % 6];
            let p = 1 + case % 4;
            let mut d: Vec<f64> = (0..k)
                .map(|j| match case % 5 {
                    0 => rng.random::<f64>(),
                    1 => (j / 3) as f64, // triples of equal entries
                    2 => 1.0 + 1e-13 * (j % 2) as f64,
                    3 => 1.0 + 1e-9 * j as f64,
                    _ => 0.5, // all tied
                })
                .collect();
            d.sort_by(f64::total_cmp);
            let b = Mat::<f64>::from_fn(p, k, |c, j| {
                if (j + c) % 5 == 0 {
                    0.0
                } else {
                    rng.random::<f64>() - 0.5
                }
            });
            let w: Vec<f64> = (0..k)
                .flat_map(|j| (0..p).map(move |c| (j, c)))
                .map(|(j, c)| b[(c, j)])
                .collect();
            let mut proj = Projected::new(d.clone(), w, p);
            for c in 0..p {
                proj.add_rank_one(c, Par::Seq);
            }
            let (lambda, w) = proj.into_parts();
            let dense = Mat::<f64>::from_fn(k, k, |i, j| {
                let mut x = if i == j { d[i] } else { 0.0 };
                for c in 0..p {
                    x += b[(c, i)] * b[(c, j)];
                }
                x
            });
            let evd = dense.self_adjoint_eigen(faer::Side::Lower).unwrap();
            let (vals, vecs) = (evd.S(), evd.U());
            let scale = vals[k - 1].abs().max(1.0);
            for i in 0..k {
                assert!(
                    (lambda[i] - vals[i]).abs() <= 1e-13 * scale,
                    "case {case}: {} vs {}",
                    lambda[i],
                    vals[i]
                );
            }
            let (b, vecs) = (&b, &vecs);
            let reference: Vec<f64> = (0..k)
                .flat_map(|i| {
                    (0..p).map(move |c| (0..k).map(|j| b[(c, j)] * vecs[(j, i)]).sum::<f64>())
                })
                .collect();
            let mut start = 0;
            while start < k {
                let mut end = start + 1;
                while end < k && vals[end] - vals[end - 1] < 1e-6 * scale {
                    end += 1;
                }
                for (c1, c2) in (0..p).flat_map(|c1| (0..p).map(move |c2| (c1, c2))) {
                    let sum = |m: &[f64]| -> f64 {
                        (start..end).map(|i| m[i * p + c1] * m[i * p + c2]).sum()
                    };
                    let (want, got) = (sum(&reference), sum(&w));
                    assert!(
                        (want - got).abs() <= 1e-9 * scale,
                        "case {case} cluster {start}..{end} ({c1}, {c2}): {want} vs {got}"
                    );
                }
                start = end;
            }
        }
        assert_eq!(nonconverged_roots(), failures_before);
    }

    /// The root finder says when it stops at its iteration bound: with no iteration a root of
    /// clustered poles is not converged, with the default bound it is, and within its bracket.
    #[test]
    fn secular_root_signals_non_convergence() {
        let d = [1.0, 1.0 + 1e-12, 1.0 + 2e-12, 2.0];
        let z = [0.3, 1e-7, 0.2, 0.5];
        let znorm2: f64 = z.iter().map(|x| x * x).sum();
        for i in 0..d.len() {
            let starved = secular_root_within(&d, &z, znorm2, i, 0);
            assert!(!starved.converged, "root {i}");
            let root = secular_root_within(&d, &z, znorm2, i, MAX_ITERATIONS);
            assert!(root.converged, "root {i}");
            let lambda = d[root.origin] + root.tau;
            let upper = if i + 1 < d.len() {
                d[i + 1]
            } else {
                d[i] + znorm2
            };
            assert!(lambda >= d[i] && lambda <= upper, "root {i}: {lambda}");
        }
    }
}
