//! The whole gradient-descent path of the deterministic equivalent in one pass per step, and
//! early stopping on it.
//!
//! For `psi_k(x) = (1 - c x)^k` (`c = eta N`) the bias integrand follows the recursion
//! `J_{k+1}(x) = (1 - c x) J_k(x) - c int rho_u psi_k`, `J_0 = -1` (`theory/analytic.md`), so the
//! path costs `O(iters * nodes)` instead of `O(iters * nodes^2)` through the general filter.

use super::filter::RiskKernel;

/// Largest gradient-descent iteration considered for early stopping (as in the paper and the
/// Monte Carlo engine).
pub const GD_ITERS: usize = crate::montecarlo::DEFAULT_ITERS;

/// Accumulator lanes of the GD-path loop (a multiple of the SIMD width).
const LANES: usize = 8;

impl RiskKernel<'_> {
    /// Expected risk of gradient descent with `c = eta N` after `k = 0..=iters` steps:
    /// `floor + bias_scale int rho_e J_k^2 + floor int rho_u phi_k^2 / x + offset_k` (`offset`:
    /// empty, or one term per step, e.g. the finite-`d` correction). With `stop_early`, the path
    /// ends as soon as no later iterate can beat the best one so far: when every node has
    /// `0 <= c x <= 1`, `phi_k` and hence the variance are non-decreasing in `k`, and
    /// `R_j >= floor + var_j + offset_j >= floor + var_k + min_{i >= k} offset_i` for `j >= k`.
    ///
    /// Cost `O(iters * nodes)`, one fused pass over the nodes per step.
    pub(crate) fn gd_path(
        &self,
        c: f64,
        iters: usize,
        offset: &[f64],
        stop_early: bool,
    ) -> Vec<f64> {
        let (m, floor, bias_scale) = (self.measures, self.floor, self.bias_scale);
        debug_assert!(offset.is_empty() || offset.len() == iters + 1);
        let monotone = m.x.iter().all(|&x| (0.0..=1.0).contains(&(c * x)));
        let offset_at = |k: usize| offset.get(k).copied().unwrap_or(0.0);
        // Suffix minima of the offset, for the early-exit bound.
        let mut offset_floor = vec![0.0; offset.len()];
        let mut low = f64::INFINITY;
        for k in (0..offset.len()).rev() {
            low = low.min(offset[k]);
            offset_floor[k] = low;
        }
        // Blocks of LANES nodes, padded with zero weights, so that the loop vectorises.
        let block = |v: &[f64], fill: f64| -> Vec<[f64; LANES]> {
            v.chunks(LANES)
                .map(|ch| std::array::from_fn(|l| ch.get(l).copied().unwrap_or(fill)))
                .collect()
        };
        let x = block(m.x, 1.0);
        let we = block(m.we, 0.0);
        let wu = block(m.wu, 0.0);
        // The variance weight tau^2 rho_u / x.
        let wv: Vec<[f64; LANES]> = wu
            .iter()
            .zip(&x)
            .map(|(w, x)| std::array::from_fn(|l| floor * w[l] / x[l]))
            .collect();
        let cx: Vec<[f64; LANES]> = x.iter().map(|x| x.map(|x| c * x)).collect();
        let blocks = x.len();
        // psi_k = (1 - c x)^k; phi_k = 1 - psi_k, tracked separately to avoid cancellation.
        // J_k(x) = G_k(x) + beta_k with G_{k+1} = (1 - c x) G_k - c x beta_k and
        // beta_{k+1} = beta_k - c M_k, M_k = int rho_u psi_k (atom included): the same recursion
        // as J_{k+1} = (1 - c x) J_k - c M_k, but one pass per step.
        let mut state = State {
            gk: vec![[0.0; LANES]; blocks],
            phi: vec![[0.0; LANES]; blocks],
            psi: vec![[1.0; LANES]; blocks],
        };
        let mut beta = -1.0;
        let mut best = f64::INFINITY;
        let mut path = Vec::with_capacity(iters + 1);
        for k in 0..=iters {
            let [bias, var, moment] = sweep(
                Blocks {
                    we: &we,
                    wv: &wv,
                    wu: &wu,
                    cx: &cx,
                },
                &mut state,
                beta,
            );
            let risk = floor + bias_scale * bias + var + offset_at(k);
            path.push(risk);
            best = best.min(risk);
            let later_offset = offset_floor.get(k).copied().unwrap_or(0.0);
            if stop_early && monotone && floor + var + later_offset > best {
                break;
            }
            beta -= c * (moment + m.atom_u);
        }
        path
    }
}

/// The early-stopped iterate of a risk path: the first index of its smallest entry (`(0, inf)`
/// for an empty path or one without a finite entry).
pub(crate) fn best_iterate(path: &[f64]) -> (usize, f64) {
    let mut best = (0, f64::INFINITY);
    for (k, &r) in path.iter().enumerate() {
        if r < best.1 {
            best = (k, r);
        }
    }
    best
}

/// Read-only per-node data of the GD-path loop, in blocks of `LANES`.
#[derive(Clone, Copy)]
struct Blocks<'a> {
    we: &'a [[f64; LANES]],
    wv: &'a [[f64; LANES]],
    wu: &'a [[f64; LANES]],
    cx: &'a [[f64; LANES]],
}

/// Per-node state of the GD-path loop at step `k`, in blocks of `LANES`: `G_k`, `phi_k`, `psi_k`.
struct State {
    gk: Vec<[f64; LANES]>,
    phi: Vec<[f64; LANES]>,
    psi: Vec<[f64; LANES]>,
}

/// One GD step over all nodes: returns `(int rho_e J_k^2, variance_k, M_k without atom)` and
/// advances `G`, `phi`, `psi` to `k + 1`. Dispatches to an AVX2+FMA build of the same loop when
/// the CPU has it (the default target only guarantees SSE2); the results differ only by FMA
/// rounding.
fn sweep(b: Blocks<'_>, state: &mut State, beta: f64) -> [f64; 3] {
    #[cfg(target_arch = "x86_64")]
    {
        if crate::simd::level() >= crate::simd::Level::Avx2 {
            // SAFETY: the features this function is compiled for were detected at run time
            // (the level never exceeds the detected one).
            return unsafe { sweep_avx2(b, state, beta) };
        }
    }
    sweep_body(b, state, beta)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn sweep_avx2(b: Blocks<'_>, state: &mut State, beta: f64) -> [f64; 3] {
    sweep_body(b, state, beta)
}

#[inline(always)]
fn sweep_body(b: Blocks<'_>, state: &mut State, beta: f64) -> [f64; 3] {
    let (mut ab, mut av, mut am) = ([0.0; LANES], [0.0; LANES], [0.0; LANES]);
    let State { gk, phi, psi } = state;
    let rows = gk.iter_mut().zip(phi.iter_mut()).zip(psi.iter_mut());
    let data = b.we.iter().zip(b.wv).zip(b.wu).zip(b.cx);
    for (((gb, pb), qb), (((web, wvb), wub), cxb)) in rows.zip(data) {
        for l in 0..LANES {
            let j = gb[l] + beta;
            ab[l] += web[l] * j * j;
            av[l] += wvb[l] * pb[l] * pb[l];
            am[l] += wub[l] * qb[l];
            gb[l] -= cxb[l] * j;
            pb[l] += cxb[l] * qb[l];
            // Flush to zero long before subnormals, which are ~100x slower on x86.
            let q = qb[l] - cxb[l] * qb[l];
            qb[l] = if q.abs() < 1e-200 { 0.0 } else { q };
        }
    }
    [ab.iter().sum(), av.iter().sum(), am.iter().sum()]
}
