//! Eigenvalues of a null real Wishart matrix, drawn directly in `O(m^2)` flops.
//!
//! For a `p x q` matrix `G` of independent standard normal entries, Householder
//! bidiagonalisation `G = Q_1 B Q_2^T` leaves (Dumitriu and Edelman, 2002, beta = 1) an upper
//! bidiagonal `m x m` matrix `B`, `m = min(p, q)`, `M = max(p, q)`, with independent entries
//!
//! ```text
//! B_ii ~ chi_{M - i},   B_{i,i+1} ~ chi_{m - 1 - i}        (0-based i),
//! ```
//!
//! because each reflector maps the remaining part of a column (or row) of i.i.d. normals to its
//! norm, and the rest stays i.i.d. normal. The non-zero eigenvalues of `G^T G` are those of the
//! tridiagonal `B^T B`, found here by the root-free implicit QL/QR iteration of Pal, Walker and
//! Kahan (the method of LAPACK's `dsterf`, written anew, with one division fewer on each step's
//! dependency chain) for `m < 384`, and by divide and conquer over rank-one updates
//! ([`tridiagonal_eigenvalues_divide`], four to five times faster at `m` in the thousands)
//! above. Derivation: `theory/exact.md`.

use rand::Rng;
use rand_distr::{ChiSquared, Distribution};

pub use divide::tridiagonal_eigenvalues_divide;

mod divide;

/// From this size on the tridiagonal eigenvalues come from divide and conquer, below from QL.
/// Measured on one core (a Wishart-like `B^T B`): QL 1.1 ms and divide and conquer 1.3 ms at
/// `m = 256`, 4.3 and 3.3 ms at 512, 1.4 s and 0.26 s at 9990 (QL waits on a chain of
/// divisions; small merges are mostly overhead).
const DIVIDE_FROM: usize = 384;

/// The `min(p, q)` non-zero eigenvalues of `G^T G` for a `p x q` standard normal `G`, in
/// ascending order (scaled by `scale`).
///
/// Cost `O(m^2)` flops (QL below `m = 384`, about two sweeps per eigenvalue; divide and
/// conquer above), memory `O(m)`, `m = min(p, q)`.
pub fn null_wishart_eigenvalues<R: Rng + ?Sized>(
    p: usize,
    q: usize,
    scale: f64,
    rng: &mut R,
) -> Vec<f64> {
    let (m, big) = (p.min(q), p.max(q));
    if m == 0 {
        return Vec::new();
    }
    let chi = |k: usize, rng: &mut R| -> f64 {
        ChiSquared::new(k as f64)
            .expect("positive degrees of freedom")
            .sample(rng)
            .sqrt()
    };
    let diag: Vec<f64> = (0..m).map(|i| chi(big - i, rng)).collect();
    let sup: Vec<f64> = (0..m - 1).map(|i| chi(m - 1 - i, rng)).collect();
    let (mut d, mut e) = bidiagonal_gram(&diag, &sup);
    if m >= DIVIDE_FROM {
        d = tridiagonal_eigenvalues_divide(&d, &e);
    } else {
        tridiagonal_eigenvalues(&mut d, &mut e);
    }
    for x in &mut d {
        *x *= scale;
    }
    d
}

/// The tridiagonal `B^T B` of the upper bidiagonal `B` with diagonal `a` and superdiagonal `b`
/// (`b.len() + 1 == a.len()`): diagonal `a_i^2 + b_{i-1}^2`, off-diagonal `a_i b_i`.
fn bidiagonal_gram(a: &[f64], b: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let d = (0..a.len())
        .map(|i| a[i] * a[i] + if i > 0 { b[i - 1] * b[i - 1] } else { 0.0 })
        .collect();
    let e = a.iter().zip(b).map(|(x, y)| x * y).collect();
    (d, e)
}

/// Eigenvalues of the symmetric tridiagonal matrix with diagonal `d` and off-diagonal `e`
/// (`e.len() == d.len() - 1`), returned in `d` in ascending order; `e` is destroyed.
///
/// Implicit QL or QR (whichever end is smaller) with Wilkinson-like shifts, root-free
/// (Pal-Walker-Kahan) so that each step costs a few flops and two divisions. Absolute accuracy
/// about `eps * ||T||` per eigenvalue. Cost `O(m^2)`, no extra memory.
///
/// # Panics
/// When an eigenvalue has not converged after `30 m` sweeps in all, which does not happen for
/// finite input.
pub fn tridiagonal_eigenvalues(d: &mut [f64], e: &mut [f64]) {
    let n = d.len();
    assert_eq!(e.len() + 1, n.max(1), "off-diagonal length");
    if n <= 1 {
        return;
    }
    let eps = f64::EPSILON / 2.0;
    let mut budget = Sweeps {
        eps2: eps * eps,
        done: 0,
        max: 30 * n,
    };
    // Work with squared off-diagonals, as the root-free iteration does.
    let mut e2: Vec<f64> = e.iter().map(|x| x * x).collect();
    let mut l1 = 0;
    while l1 < n {
        if l1 > 0 {
            e2[l1 - 1] = 0.0;
        }
        // Find the end of the unreduced block starting at l1.
        let mut m = l1;
        while m < n - 1 {
            if e2[m].sqrt() <= d[m].abs().sqrt() * d[m + 1].abs().sqrt() * eps {
                e2[m] = 0.0;
                break;
            }
            m += 1;
        }
        let (lsv, lendsv) = (l1, m);
        l1 = m + 1;
        if lendsv == lsv {
            continue;
        }
        // QL when the bottom is larger than the top, QR otherwise (deflates the small end).
        if d[lendsv].abs() >= d[lsv].abs() {
            ql_block(d, &mut e2, lsv, lendsv, &mut budget);
        } else {
            qr_block(d, &mut e2, lendsv, lsv, &mut budget);
        }
    }
    d.sort_by(f64::total_cmp);
    e.iter_mut().for_each(|x| *x = 0.0);
}

/// The convergence test and the sweep budget shared by the blocks of one matrix.
struct Sweeps {
    /// Squared relative tolerance of a negligible off-diagonal.
    eps2: f64,
    /// Sweeps done so far, over all blocks.
    done: usize,
    /// Sweeps allowed in all.
    max: usize,
}

impl Sweeps {
    /// Counts one `method` (QL or QR) sweep.
    ///
    /// # Panics
    /// Past the budget: the iteration did not converge.
    fn sweep(&mut self, method: &str) {
        self.done += 1;
        assert!(
            self.done <= self.max,
            "tridiagonal {method} did not converge"
        );
    }
}

/// Root-free implicit QL on the block `l..=lend` (`l <= lend`), eigenvalues found at `l` first.
fn ql_block(d: &mut [f64], e2: &mut [f64], mut l: usize, lend: usize, budget: &mut Sweeps) {
    while l <= lend {
        // Look for a small subdiagonal element.
        let mut m = l;
        while m < lend {
            if e2[m].abs() <= budget.eps2 * (d[m] * d[m + 1]).abs() {
                break;
            }
            m += 1;
        }
        if m < lend {
            e2[m] = 0.0;
        }
        if m == l {
            l += 1;
            continue;
        }
        if m == l + 1 {
            let (rt1, rt2) = eig2(d[l], e2[l].sqrt(), d[l + 1]);
            d[l] = rt1;
            d[l + 1] = rt2;
            e2[l] = 0.0;
            l += 2;
            continue;
        }
        budget.sweep("QL");
        let p0 = d[l];
        let rte = e2[l].sqrt();
        let mut sigma = (d[l + 1] - p0) / (2.0 * rte);
        let r = sigma.hypot(1.0);
        sigma = p0 - rte / (sigma + r.copysign(sigma));
        let (mut c, mut s) = (1.0, 0.0);
        let mut gamma = d[m] - sigma;
        let mut p = gamma * gamma;
        for i in (l..m).rev() {
            let bb = e2[i];
            let r = p + bb;
            if i != m - 1 {
                e2[i + 1] = s * r;
            }
            let oldc = c;
            // `gamma^2 / c` as `gamma^2 (r / p)`: `r / p` runs beside `p / r`, one division
            // fewer on the dependency chain that bounds each step (14% faster at m = 10000).
            let r_over_p = r / p;
            c = p / r;
            s = bb / r;
            let oldgam = gamma;
            let alpha = d[i];
            gamma = c * (alpha - sigma) - s * oldgam;
            d[i + 1] = oldgam + (alpha - gamma);
            p = if c != 0.0 {
                gamma * gamma * r_over_p
            } else {
                oldc * bb
            };
        }
        e2[l] = s * p;
        d[l] = sigma + gamma;
    }
}

/// Root-free implicit QR on the block `lend..=l` (`l >= lend`), eigenvalues found at `l` first.
// A numerical kernel kept whole (the method of LAPACK's dsterf): the deflation test, the shift
// and the chase share their indices, and apart they would no longer read against the reference.
fn qr_block(d: &mut [f64], e2: &mut [f64], mut l: usize, lend: usize, budget: &mut Sweeps) {
    loop {
        // Look for a small superdiagonal element.
        let mut m = l;
        while m > lend {
            if e2[m - 1].abs() <= budget.eps2 * (d[m] * d[m - 1]).abs() {
                break;
            }
            m -= 1;
        }
        if m > lend {
            e2[m - 1] = 0.0;
        }
        if m == l {
            if l == lend {
                return;
            }
            l -= 1;
            continue;
        }
        if m + 1 == l {
            let (rt1, rt2) = eig2(d[l], e2[l - 1].sqrt(), d[l - 1]);
            d[l] = rt1;
            d[l - 1] = rt2;
            e2[l - 1] = 0.0;
            if l < lend + 2 {
                return;
            }
            l -= 2;
            continue;
        }
        budget.sweep("QR");
        let p0 = d[l];
        let rte = e2[l - 1].sqrt();
        let mut sigma = (d[l - 1] - p0) / (2.0 * rte);
        let r = sigma.hypot(1.0);
        sigma = p0 - rte / (sigma + r.copysign(sigma));
        let (mut c, mut s) = (1.0, 0.0);
        let mut gamma = d[m] - sigma;
        let mut p = gamma * gamma;
        for i in m..l {
            let bb = e2[i];
            let r = p + bb;
            if i != m {
                e2[i - 1] = s * r;
            }
            let oldc = c;
            let r_over_p = r / p;
            c = p / r;
            s = bb / r;
            let oldgam = gamma;
            let alpha = d[i + 1];
            gamma = c * (alpha - sigma) - s * oldgam;
            d[i] = oldgam + (alpha - gamma);
            p = if c != 0.0 {
                gamma * gamma * r_over_p
            } else {
                oldc * bb
            };
        }
        e2[l - 1] = s * p;
        d[l] = sigma + gamma;
    }
}

/// Eigenvalues `(rt1, rt2)`, `|rt1| >= |rt2|`, of the symmetric 2 x 2 matrix `[[a, b], [b, c]]`,
/// computed without cancellation in the larger one.
fn eig2(a: f64, b: f64, c: f64) -> (f64, f64) {
    let sm = a + c;
    let df = a - c;
    let adf = df.abs();
    let tb = b + b;
    let ab = tb.abs();
    let (acmx, acmn) = if a.abs() > c.abs() { (a, c) } else { (c, a) };
    let rt = if adf > ab {
        adf * (1.0 + (ab / adf).powi(2)).sqrt()
    } else if adf < ab {
        ab * (1.0 + (adf / ab).powi(2)).sqrt()
    } else {
        ab * std::f64::consts::SQRT_2
    };
    if sm < 0.0 {
        let rt1 = 0.5 * (sm - rt);
        (rt1, (acmx / rt1) * acmn - (b / rt1) * b)
    } else if sm > 0.0 {
        let rt1 = 0.5 * (sm + rt);
        (rt1, (acmx / rt1) * acmn - (b / rt1) * b)
    } else {
        (0.5 * rt, -0.5 * rt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    /// Against a dense symmetric eigensolver on random tridiagonal matrices, including ones
    /// with tiny and zero off-diagonals and a wide range of scales.
    #[test]
    fn tridiagonal_matches_dense() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        for &(n, scale) in &[
            (1usize, 1.0),
            (2, 1.0),
            (3, 1e-3),
            (17, 1.0),
            (60, 1e6),
            (200, 1.0),
        ] {
            let mut d: Vec<f64> = (0..n).map(|_| scale * rng.random::<f64>()).collect();
            let mut e: Vec<f64> = (0..n.saturating_sub(1))
                .map(|i| match i % 7 {
                    3 => 0.0,
                    5 => 1e-12 * scale,
                    _ => scale * (rng.random::<f64>() - 0.5),
                })
                .collect();
            let dense = faer::Mat::<f64>::from_fn(n, n, |i, j| {
                if i == j {
                    d[i]
                } else if i == j + 1 {
                    e[j]
                } else if j == i + 1 {
                    e[i]
                } else {
                    0.0
                }
            });
            let reference = dense.self_adjoint_eigenvalues(faer::Side::Lower).unwrap();
            tridiagonal_eigenvalues(&mut d, &mut e);
            let norm = reference.iter().fold(0.0f64, |a, x| a.max(x.abs()));
            for (a, b) in d.iter().zip(&reference) {
                assert!((a - b).abs() <= 1e-13 * norm, "n={n}: {a} vs {b}");
            }
        }
    }
}
