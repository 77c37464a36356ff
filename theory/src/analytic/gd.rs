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
        let offset_floor = suffix_minima(offset);
        let nodes = Nodes::compressed(m.x, m.we, m.wu, floor, c * (2 * iters + 2) as f64);
        let data = BlockData::new(&nodes, c);
        // psi_k = (1 - c x)^k; phi_k = 1 - psi_k, tracked separately to avoid cancellation.
        // J_k(x) = G_k(x) + beta_k with G_{k+1} = (1 - c x) G_k - c x beta_k and
        // beta_{k+1} = beta_k - c M_k, M_k = int rho_u psi_k (atom included): the same recursion
        // as J_{k+1} = (1 - c x) J_k - c M_k, but one pass per step.
        let blocks = data.cx.len();
        let mut state = State {
            gk: vec![[0.0; LANES]; blocks],
            phi: vec![[0.0; LANES]; blocks],
            psi: vec![[1.0; LANES]; blocks],
        };
        let mut beta = -1.0;
        let mut best = f64::INFINITY;
        let mut path = Vec::with_capacity(iters + 1);
        for k in 0..=iters {
            let [bias, var, moment] = sweep(data.view(), &mut state, beta);
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

/// `out[k] = min_{i >= k} v[i]`: the early-exit bound's smallest later offset.
fn suffix_minima(v: &[f64]) -> Vec<f64> {
    let mut out = vec![0.0; v.len()];
    let mut low = f64::INFINITY;
    for k in (0..v.len()).rev() {
        low = low.min(v[k]);
        out[k] = low;
    }
    out
}

/// `v` in blocks of `LANES`, the last padded with `fill`, so that the loop vectorises.
fn blocked(v: &[f64], fill: f64) -> Vec<[f64; LANES]> {
    v.chunks(LANES)
        .map(|ch| std::array::from_fn(|l| ch.get(l).copied().unwrap_or(fill)))
        .collect()
}

/// Nodes per compressed group ([`Nodes::compressed`]): the degree of exactness plus one.
const GROUP_NODES: usize = 13;

/// Largest `2 (iters + 1) c (b - a)` of a group `[a, b]` of nodes that is compressed.
const GROUP_SPAN: f64 = 0.5;

/// Least distance of a compressed group from 0, in group widths: near 0 the variance weight
/// `rho_u / x` (and, at a hard edge, `rho_u` itself) is singular while `phi_k^2 ~ (c k x)^2`
/// vanishes, and an interpolant exact to rounding of `max phi_k^2` would be far from exact
/// relative to their small product. At this distance `phi_k` varies by a tenth over the group.
const GROUP_OFFSET: f64 = 10.0;

/// The nodes of the GD path and their weights: `rho_E`, `rho_u` and the variance weight
/// `tau^2 rho_u / x`.
struct Nodes {
    x: Vec<f64>,
    we: Vec<f64>,
    wu: Vec<f64>,
    wv: Vec<f64>,
}

impl Nodes {
    /// The measures `(x, we, wu)` with the variance weight `floor wu / x`, where every run of
    /// nodes `[a, b]` with `span (b - a) <= GROUP_SPAN` (`span = 2 (iters + 1) c`), more
    /// than `2 GROUP_NODES` nodes and `a >= GROUP_OFFSET (b - a)` is replaced by `GROUP_NODES` Chebyshev points of `[a, b]`
    /// whose weights have the same Chebyshev moments up to degree `GROUP_NODES - 1`.
    ///
    /// Why it is exact to rounding: every quantity of the path is a polynomial in `c x` of
    /// degree at most `2 (iters + 1)` (the squares of `J_k`, `phi_k`), whose coefficients in
    /// `t = (x - a) / (b - a)` are bounded by `(span (b - a))^p / p!`; its Chebyshev
    /// interpolant of degree 12 on the group is then exact to `0.5^13 / 13! / 2^12`, about
    /// `3e-18` of its size. Narrow clusters (a noise bulk far below the signal, isolated
    /// population atoms at large `N`) collapse to 13 nodes. Cost `O(nodes GROUP_NODES)`.
    fn compressed(x: &[f64], we: &[f64], wu: &[f64], floor: f64, span: f64) -> Self {
        let mut out = Nodes {
            x: Vec::with_capacity(x.len()),
            we: Vec::with_capacity(x.len()),
            wu: Vec::with_capacity(x.len()),
            wv: Vec::with_capacity(x.len()),
        };
        let wv: Vec<f64> = wu.iter().zip(x).map(|(w, x)| floor * w / x).collect();
        let mut i = 0;
        while i < x.len() {
            let end = i + x[i..].partition_point(|&xj| span * (xj - x[i]) <= GROUP_SPAN);
            let group = i..end;
            let width = x[end - 1] - x[i];
            if end - i > 2 * GROUP_NODES && width > 0.0 && x[i] >= GROUP_OFFSET * width {
                out.push_group(
                    &x[group.clone()],
                    [&we[group.clone()], &wu[group.clone()], &wv[group]],
                );
            } else {
                out.x.extend_from_slice(&x[group.clone()]);
                out.we.extend_from_slice(&we[group.clone()]);
                out.wu.extend_from_slice(&wu[group.clone()]);
                out.wv.extend_from_slice(&wv[group]);
            }
            i = end;
        }
        out
    }

    /// Appends the `GROUP_NODES` Chebyshev points of `[x_0, x_last]` with, for each weight
    /// vector, the weights `w'_j = sum_p (2 - [p = 0]) T_p(t_j) m_p / GROUP_NODES` from its
    /// moments `m_p = sum_i w_i T_p(t_i)`: by the discrete orthogonality of `T_p` at those
    /// points, `sum_j w'_j g(t_j) = sum_i w_i (I g)(t_i)` with `I g` the interpolant of `g`.
    fn push_group(&mut self, x: &[f64], weights: [&[f64]; 3]) {
        let (a, b) = (x[0], x[x.len() - 1]);
        let (mid, half) = (0.5 * (a + b), 0.5 * (b - a));
        let q = GROUP_NODES;
        let moments = weights.map(|w| {
            let mut m = [0.0; GROUP_NODES];
            for (&xi, &wi) in x.iter().zip(w) {
                chebyshev(((xi - mid) / half).clamp(-1.0, 1.0), |p, tp| {
                    m[p] += wi * tp
                });
            }
            m
        });
        for j in 0..q {
            let t = (std::f64::consts::PI * (j as f64 + 0.5) / q as f64).cos();
            let mut w = [0.0; 3];
            chebyshev(t, |p, tp| {
                let scale = if p == 0 { 1.0 } else { 2.0 } * tp / q as f64;
                for (wk, mk) in w.iter_mut().zip(&moments) {
                    *wk += scale * mk[p];
                }
            });
            self.x.push(mid + half * t);
            self.we.push(w[0]);
            self.wu.push(w[1]);
            self.wv.push(w[2]);
        }
    }
}

/// Calls `f(p, T_p(t))` for `p < GROUP_NODES` (three-term recurrence).
fn chebyshev(t: f64, mut f: impl FnMut(usize, f64)) {
    let (mut prev, mut cur) = (1.0, t);
    f(0, prev);
    for p in 1..GROUP_NODES {
        f(p, cur);
        (prev, cur) = (cur, 2.0 * t * cur - prev);
    }
}

/// The per-node data of the GD-path loop, owned, in blocks of `LANES` (padding: zero weights).
struct BlockData {
    we: Vec<[f64; LANES]>,
    wu: Vec<[f64; LANES]>,
    /// The variance weight `tau^2 rho_u / x`.
    wv: Vec<[f64; LANES]>,
    cx: Vec<[f64; LANES]>,
}

impl BlockData {
    fn new(nodes: &Nodes, c: f64) -> Self {
        Self {
            we: blocked(&nodes.we, 0.0),
            wu: blocked(&nodes.wu, 0.0),
            wv: blocked(&nodes.wv, 0.0),
            cx: blocked(&nodes.x, 1.0)
                .iter()
                .map(|x| x.map(|x| c * x))
                .collect(),
        }
    }

    fn view(&self) -> Blocks<'_> {
        Blocks {
            we: &self.we,
            wv: &self.wv,
            wu: &self.wu,
            cx: &self.cx,
        }
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

#[cfg(test)]
mod tests {
    use super::super::quadrature::Measures;
    use super::*;

    /// The path of the recursion `J_{k+1} = (1 - c x) J_k - c (M_k + atom)`, node by node and
    /// uncompressed: the reference of [`RiskKernel::gd_path`].
    fn reference_path(
        m: Measures<'_>,
        floor: f64,
        bias_scale: f64,
        c: f64,
        iters: usize,
    ) -> Vec<f64> {
        let mut j = vec![-1.0; m.x.len()];
        let mut psi = vec![1.0f64; m.x.len()];
        (0..=iters)
            .map(|_| {
                let (mut bias, mut var, mut moment) = (0.0, 0.0, 0.0);
                for i in 0..m.x.len() {
                    bias += m.we[i] * j[i] * j[i];
                    var += floor * m.wu[i] * (1.0 - psi[i]).powi(2) / m.x[i];
                    moment += m.wu[i] * psi[i];
                }
                for i in 0..m.x.len() {
                    j[i] = (1.0 - c * m.x[i]) * j[i] - c * (moment + m.atom_u);
                    psi[i] *= 1.0 - c * m.x[i];
                }
                floor + bias_scale * bias + var
            })
            .collect()
    }

    /// A narrow cluster (collapsed to `GROUP_NODES` nodes) between a hard edge at 0 and a wide
    /// cluster (both kept): the path agrees with the uncompressed recursion to rounding.
    #[test]
    fn compressed_nodes_give_the_uncompressed_path() {
        // A hard edge at 0 (rho_u ~ x^-1/2, kept: near 0 the variance weight is singular), a
        // narrow cluster, a wide one.
        let mut x: Vec<f64> = (1..=200).map(|i| 1e-12 * (i * i) as f64).collect();
        x.extend((0..400).map(|i| 1e-3 + 1e-8 * i as f64));
        x.extend((0..60).map(|i| 0.5 + i as f64 / 60.0));
        let we: Vec<f64> = x
            .iter()
            .map(|x| 0.01 * (1.0 + (37.0 * x).sin().abs()))
            .collect();
        let wu: Vec<f64> = x
            .iter()
            .map(|x| 1e-9 / x.sqrt() + 0.002 * x.sqrt())
            .collect();
        let m = Measures {
            x: &x,
            we: &we,
            wu: &wu,
            atom_u: 0.05,
        };
        let (c, iters) = (0.9, 800);
        let nodes = Nodes::compressed(&x, &we, &wu, 0.1, c * (2 * iters + 2) as f64);
        assert_eq!(
            nodes.x.len(),
            200 + GROUP_NODES + 60,
            "only the narrow cluster is grouped"
        );
        let kernel = RiskKernel {
            measures: m,
            floor: 0.1,
            bias_scale: 2.0,
        };
        let got = kernel.gd_path(c, iters, &[], false);
        let want = reference_path(m, 0.1, 2.0, c, iters);
        for (k, (g, w)) in got.iter().zip(&want).enumerate() {
            assert!((g - w).abs() <= 1e-12 * w.abs(), "k = {k}: {g} vs {w}");
        }
    }
}
