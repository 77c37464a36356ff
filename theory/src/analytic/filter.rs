//! The risk of a spectral filter on the discretised deterministic equivalent.
//!
//! For a spectral estimator `W = X Y^T h(Y Y^T)` with filter `phi(x) = x h(N x)` on the
//! eigenvalues `x` of `Y Y^T / N` and `psi = 1 - phi`, the two-resolvent collapse of
//! `theory/analytic.md` gives
//! `R = floor + bias_scale int rho_E J^2 + floor int rho_u phi^2 / x`, with
//! `J(x) = -psi(x) + int rho_u(y) (psi(y) - psi(x)) / (y - x) dy` (atom at 0 included). In the
//! subspace model `bias_scale = 1/alpha^2` and `rho_E = rho_e`; in the general Gaussian model
//! `bias_scale = 1` and the signal projector is replaced by `A = diag(w_i^2)`
//! (`theory/gaussian.md`).

use super::quadrature::Measures;

/// The measures, floor (= label-noise variance `tau^2`) and bias scale of one equivalent: what
/// every risk kernel (a filter, gradient flow, the GD path) reads.
#[derive(Clone, Copy)]
pub(crate) struct RiskKernel<'a> {
    pub measures: Measures<'a>,
    pub floor: f64,
    pub bias_scale: f64,
}

impl RiskKernel<'_> {
    /// `floor + bias_scale int rho_E J^2 + floor int rho_u phi^2 / x` for the residual filter
    /// `psi` with divided difference `dd(y, x) = (psi(y) - psi(x)) / (y - x)` (`dd(x, x) =
    /// psi'(x)`); `psi` analytic near the spectrum and 0, `phi(0) = 0`. Cost `O(nodes^2)`.
    pub(crate) fn filter(&self, psi: impl Fn(f64) -> f64, dd: impl Fn(f64, f64) -> f64) -> f64 {
        let (m, floor, bias_scale) = (self.measures, self.floor, self.bias_scale);
        let psi_x: Vec<f64> = m.x.iter().map(|&x| psi(x)).collect();
        let mut bias = 0.0;
        let mut var = 0.0;
        for (j, &xj) in m.x.iter().enumerate() {
            let mut jj = -psi_x[j] + m.atom_u * dd(0.0, xj);
            for (i, &xi) in m.x.iter().enumerate() {
                jj += m.wu[i] * dd(xi, xj);
            }
            bias += m.we[j] * jj * jj;
            let phi = 1.0 - psi_x[j];
            var += m.wu[j] * phi * phi / xj;
        }
        floor + bias_scale * bias + floor * var
    }

    /// Expected risk of gradient flow at time `t` (`psi = exp(-t x)`). Cost `O(nodes^2)`.
    pub(crate) fn gradient_flow(&self, t: f64) -> f64 {
        self.filter(|x| (-t * x).exp(), |y, x| exp_divided_difference(t, y, x))
    }
}

/// `(exp(-t y) - exp(-t x)) / (y - x)`, and `-t exp(-t x)` at `y = x`: the divided difference of
/// the gradient-flow residual filter, without cancellation.
pub(crate) fn exp_divided_difference(t: f64, y: f64, x: f64) -> f64 {
    let h = y - x;
    if h == 0.0 {
        -t * (-t * x).exp()
    } else {
        (-t * x).exp() * (-t * h).exp_m1() / h
    }
}
