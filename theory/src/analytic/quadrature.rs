//! The spectral measures of a [`Population`] on a quadrature grid, refined until their exact
//! total masses are reproduced.
//!
//! On every support interval `[l, r]` the measures are discretised by a rule that absorbs the
//! densities' end behaviour: square-root at a soft edge, inverse square-root at a hard edge at 0,
//! a finite value at a neck where two clusters almost separate. The nodes are doubled until the
//! masses, known in closed form, are exact to the population's tolerance: a built-in error
//! estimate, which matters where two clusters nearly touch.

use super::poly::C64;
use super::population::Population;

/// Half-width of the tanh-sinh parameter range: at `|t| = 4` the nodes are within `1e-37` of
/// the ends (relative). Beyond `|t| = 3` they round onto an edge unless it is 0, but a hard
/// edge at 0 (`N = rank`, density `~ x^{-1/2}`) needs them: its tail mass below `x` is
/// `~ sqrt(x)`.
const TANH_SINH_T: f64 = 4.0;

/// A quadrature rule on one support interval `[l, r]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Rule {
    /// `x = (l + r)/2 - (r - l)/2 cos(theta)` and the midpoint rule in `theta` (`nodes` points):
    /// square-root or inverse square-root ends become smooth periodic integrands, so the rule
    /// converges geometrically. Not for an interior end with a finite non-zero density.
    ChebyshevMidpoint,
    /// `x = mid + half tanh(pi/2 sinh t)`, trapezoid in `t` on `[-4, 4]` (`2 nodes + 1`
    /// points): geometric convergence for every end behaviour, necks included.
    TanhSinh,
}

impl Rule {
    /// Nodes and weights `(x_j, dx_j)` with `sum_j dx_j f(x_j) ~ int_l^r f(x) dx`, strictly inside
    /// `(l, r)`. Cost `O(nodes)`.
    pub(crate) fn nodes(self, l: f64, r: f64, nodes: usize) -> Vec<(f64, f64)> {
        match self {
            Rule::ChebyshevMidpoint => {
                let (mid, half) = (0.5 * (l + r), 0.5 * (r - l));
                let dtheta = std::f64::consts::PI / nodes as f64;
                (0..nodes)
                    .map(|j| {
                        let theta = (j as f64 + 0.5) * dtheta;
                        (mid - half * theta.cos(), half * theta.sin() * dtheta)
                    })
                    .collect()
            }
            Rule::TanhSinh => {
                let half = 0.5 * (r - l);
                let h = TANH_SINH_T / nodes as f64;
                (-(nodes as i64)..=(nodes as i64))
                    .filter_map(|j| {
                        let t = j as f64 * h;
                        let arg = std::f64::consts::FRAC_PI_2 * t.sinh();
                        // Distance to the nearer end, half (1 - tanh|arg|), without cancellation.
                        let dist = 2.0 * half / ((2.0 * arg.abs()).exp() + 1.0);
                        let x = if t < 0.0 { l + dist } else { r - dist };
                        let dx = half * std::f64::consts::FRAC_PI_2 * t.cosh()
                            / (arg.cosh() * arg.cosh())
                            * h;
                        // Beyond double precision the node sits on the edge itself.
                        (x != l && x != r).then_some((x, dx))
                    })
                    .collect()
            }
        }
    }
}

/// How a population's measures are discretised: the rule, and when the doubling stops.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Quadrature {
    pub rule: Rule,
    /// Relative error allowed on the total masses.
    pub mass_tol: f64,
    /// Upper bound on the `nodes` argument of [`Rule::nodes`].
    pub max_nodes: usize,
}

/// The spectral measures on a quadrature grid, plus their atoms at 0.
///
/// For a function `g`, `sum_j w[j] g(x[j])` approximates `integral g d(mu)` over the continuous
/// part. The measures (Stieltjes convention `F(z) = F_inf + integral rho(x) / (z - x) dx`):
/// - `esd`: limiting eigenvalue distribution of `Sigma_hat` (mass `min(N, rank) / n`);
/// - `wu`: `rho_u`, of `u(z) = 1 / (z mt(z))`, the measure
///   `(1/N) sum_i (p_i^T Sigma p_i) delta(lambda_i)` (total mass with the atom `tr(Sigma) / N`);
/// - `we`: `rho_E`, of the bias transform `E(z) = sum_k A_k / (1 + v_k mt(z))` (mass
///   `sum_k A_k v_k`; with `E / x` and `E(0)` it has mass `sum_k A_k`). In the two-atom model
///   `E = e = 1 / (1 + alpha mt)`, and `e(z) / z` is the transform of
///   `(1/d) sum_i ||P1 p_i||^2 delta(lambda_i)`.
#[derive(Clone, Debug)]
pub(crate) struct Grid {
    pub x: Vec<f64>,
    pub esd: Vec<f64>,
    pub wu: Vec<f64>,
    pub we: Vec<f64>,
    /// Atom of `rho_u` at 0: `kappa0` when `N < rank(Sigma)`, else 0.
    pub atom_u: f64,
    /// `E(0) = sum_k A_k kappa0 / (v_k + kappa0)` (0 without an atom); in the two-atom model the
    /// signal projector's mass at 0, `kappa0 / (alpha + kappa0)`.
    pub atom_bias: f64,
    /// Support intervals.
    pub support: Vec<(f64, f64)>,
    /// `1 / mt(0)` when `N < rank(Sigma)`.
    pub kappa0: Option<f64>,
}

impl Grid {
    /// Discretises with at least `min_nodes` per support interval, doubling them (up to the
    /// population's `max_nodes`) until every measure has its exact total mass to its `mass_tol`.
    /// An interval stops doubling once a doubling moved none of its partial masses by more than
    /// [`SETTLED`] of the tolerance: its error is then far below it (the rules converge
    /// geometrically), and only the intervals that need nodes get them. Cost `O(nodes)`
    /// Stieltjes solves per attempt, the nodes of a doubled tanh-sinh rule reused.
    pub fn adaptive<P: Population>(pop: &P, min_nodes: usize) -> Self {
        let support = pop.support();
        let mut solved = Solved::default();
        let mut parts: Vec<Part> = support
            .iter()
            .map(|&(l, r)| Part::new(pop, l, r, min_nodes, &mut solved))
            .collect();
        let (bias_mass, bias_weight) = pop.bias_masses();
        let scale = [
            pop.sample_fraction(),
            pop.trace_over_n(),
            bias_mass,
            bias_weight,
        ];
        let settled = SETTLED * P::QUADRATURE.mass_tol;
        loop {
            let grid = Self::assemble(pop, support.clone(), &parts);
            let open = |p: &Part| !p.settled && p.nodes < P::QUADRATURE.max_nodes;
            if !parts.iter().any(open) || grid.mass_error(pop) < P::QUADRATURE.mass_tol {
                return grid;
            }
            for part in parts.iter_mut().filter(|p| open(p)) {
                let finer = Part::new(pop, part.l, part.r, 2 * part.nodes, &mut solved);
                let moved = finer.change_from(part, &scale);
                *part = Part {
                    settled: moved <= settled,
                    ..finer
                };
            }
        }
    }

    /// `(esd, rho_u + atom, rho_E, rho_E / x + E(0))` total masses.
    pub fn masses(&self) -> (f64, f64, f64, f64) {
        (
            self.esd.iter().sum(),
            self.wu.iter().sum::<f64>() + self.atom_u,
            self.we.iter().sum(),
            self.we.iter().zip(&self.x).map(|(w, x)| w / x).sum::<f64>() + self.atom_bias,
        )
    }

    /// Largest relative error of the four total masses (absolute where the exact mass is 0: the
    /// bias masses when all `A_k` are 0).
    pub fn mass_error<P: Population>(&self, pop: &P) -> f64 {
        let rel = |got: f64, want: f64| {
            if want == 0.0 {
                got.abs()
            } else {
                (got - want).abs() / want
            }
        };
        let (esd, u, e, e_over_x) = self.masses();
        let (bias_mass, bias_weight) = pop.bias_masses();
        rel(esd, pop.sample_fraction())
            .max(rel(u, pop.trace_over_n()))
            .max(rel(e, bias_mass))
            .max(rel(e_over_x, bias_weight))
    }

    /// The view of the measures that the risk kernels read.
    pub fn measures(&self) -> Measures<'_> {
        Measures {
            x: &self.x,
            we: &self.we,
            wu: &self.wu,
            atom_u: self.atom_u,
        }
    }

    /// The grid of the intervals' rules, in order, with the atoms at 0.
    fn assemble<P: Population>(pop: &P, support: Vec<(f64, f64)>, parts: &[Part]) -> Self {
        let cat = |f: fn(&Part) -> &Vec<f64>| parts.iter().flat_map(f).copied().collect();
        let kappa0 = pop.kappa0();
        Self {
            x: cat(|p| &p.x),
            esd: cat(|p| &p.esd),
            wu: cat(|p| &p.wu),
            we: cat(|p| &p.we),
            atom_u: kappa0.unwrap_or(0.0),
            atom_bias: kappa0.map_or(0.0, |k| pop.bias_atom(k)),
            support,
            kappa0,
        }
    }
}

/// The continuation's start at `x` from the roots at the last two nodes: the secant through
/// them where `x` is at most twice as far from the last node as the two are apart (closer to
/// the root than the last one alone), else the last root.
fn extrapolate(last: [Option<(f64, C64)>; 2], x: f64) -> Option<C64> {
    match last {
        [Some((x0, m0)), Some((x1, m1))] if (x - x1).abs() <= 2.0 * (x1 - x0).abs() => {
            Some(m1 + (m1 - m0) * ((x - x1) / (x1 - x0)))
        }
        [_, one] => one.map(|(_, m)| m),
    }
}

/// Fraction of the mass tolerance below which a doubling settles an interval.
const SETTLED: f64 = 1e-3;

/// One support interval `[l, r]` discretised with `nodes`: its share of the grid.
struct Part {
    l: f64,
    r: f64,
    nodes: usize,
    x: Vec<f64>,
    esd: Vec<f64>,
    wu: Vec<f64>,
    we: Vec<f64>,
    /// Whether its last doubling moved its masses by less than [`SETTLED`] of the tolerance.
    settled: bool,
}

impl Part {
    /// The rule's nodes on `[l, r]` and the measures' weights there, reusing the roots of
    /// `solved` and adding the new ones to it. Cost `O(nodes)` Stieltjes solves, half of them
    /// on a doubling of the tanh-sinh rule (whose nodes include the previous ones, bit for bit).
    fn new<P: Population>(pop: &P, l: f64, r: f64, nodes: usize, solved: &mut Solved) -> Self {
        let mut part = Part {
            l,
            r,
            nodes,
            x: Vec::new(),
            esd: Vec::new(),
            wu: Vec::new(),
            we: Vec::new(),
            settled: false,
        };
        let inv_pi = std::f64::consts::FRAC_1_PI;
        let ratio = pop.n_train() as f64 / pop.n() as f64;
        // Continuation within an interval only: across a gap the root jumps.
        let mut last: [Option<(f64, C64)>; 2] = [None, None];
        for (xj, dx) in P::QUADRATURE.rule.nodes(l, r, nodes) {
            let guess = extrapolate(last, xj);
            let Some(mt) = solved.root(xj).or_else(|| pop.stieltjes(xj, guess)) else {
                continue;
            };
            solved.insert(xj, mt);
            last = [last[1], Some((xj, mt))];
            let u = 1.0 / (mt * xj);
            let e = pop.bias_transform(mt);
            part.x.push(xj);
            part.esd.push(ratio * inv_pi * mt.im * dx);
            part.wu.push(-inv_pi * u.im * dx);
            part.we.push(-inv_pi * e.im * dx);
        }
        part
    }

    /// The partial masses `(esd, rho_u, rho_E, rho_E / x)` of this interval.
    fn masses(&self) -> [f64; 4] {
        [
            self.esd.iter().sum(),
            self.wu.iter().sum(),
            self.we.iter().sum(),
            self.we.iter().zip(&self.x).map(|(w, x)| w / x).sum(),
        ]
    }

    /// Largest change of a partial mass from `coarser`, relative to the measure's total
    /// `scale` (absolute where that is 0).
    fn change_from(&self, coarser: &Part, scale: &[f64; 4]) -> f64 {
        let (now, before) = (self.masses(), coarser.masses());
        (0..4)
            .map(|i| {
                let d = (now[i] - before[i]).abs();
                if scale[i] == 0.0 {
                    d
                } else {
                    d / scale[i]
                }
            })
            .fold(0.0, f64::max)
    }
}

/// The Stieltjes roots found so far at each node `x` (by its bits): what a doubling reuses.
#[derive(Default)]
struct Solved(std::collections::HashMap<u64, C64>);

impl Solved {
    fn root(&self, x: f64) -> Option<C64> {
        self.0.get(&x.to_bits()).copied()
    }

    fn insert(&mut self, x: f64, mt: C64) {
        self.0.insert(x.to_bits(), mt);
    }
}

/// The discretised measures the risk of a spectral filter needs: nodes `x`, the bias measure
/// `we` (`rho_E`), `rho_u` as `wu` and its atom at 0.
#[derive(Clone, Copy)]
pub(crate) struct Measures<'a> {
    pub x: &'a [f64],
    pub we: &'a [f64],
    pub wu: &'a [f64],
    pub atom_u: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both rules integrate the end behaviours of a spectral density to near machine precision:
    /// two soft edges, `sqrt((x - l)(r - x))` (mass `pi (r - l)^2 / 8`), and a hard edge at 0
    /// with a soft one, `sqrt((r - x) / x)` (mass `pi r / 2`).
    #[test]
    fn rules_integrate_edge_singularities() {
        let r = 3.0;
        for rule in [Rule::ChebyshevMidpoint, Rule::TanhSinh] {
            for (l, f, want) in [
                (
                    0.5,
                    (|x: f64| ((x - 0.5) * (3.0 - x)).sqrt()) as fn(f64) -> f64,
                    std::f64::consts::PI * 2.5 * 2.5 / 8.0,
                ),
                (
                    0.0,
                    |x: f64| ((3.0 - x) / x).sqrt(),
                    std::f64::consts::PI * 1.5,
                ),
            ] {
                let nodes = rule.nodes(l, r, 64);
                assert!(nodes.iter().all(|&(x, dx)| l < x && x < r && dx > 0.0));
                let got: f64 = nodes.iter().map(|&(x, dx)| dx * f(x)).sum();
                assert!(
                    (got - want).abs() < 1e-12 * want,
                    "{rule:?} on [{l}, {r}]: {got}"
                );
            }
        }
    }
}
