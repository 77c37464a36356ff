//! A joint law with its parameters, what follows from it in closed form, and the internal
//! parametrisation the optimiser works in.
//!
//! Internally `theta = (ln A, alpha, ln B, beta[, ln q][, E])`: `ln q` only for the power
//! mean, `E` only when the floor is fitted. With `t1 = ln A - alpha ln N`,
//! `t2 = ln B - beta ln P` (the logs of the two terms) the log of the excess is
//! `ln S = q LSE(t1 / q, t2 / q)` and the model `f = ln(E + S) = LSE(ln E, ln S)`, both
//! evaluated without overflow. Derivatives: with `pi_k = softmax(t / q)_k` and
//! `w = S / (E + S)`, `df/dt_k = w pi_k`, `df/d ln q = w (ln S - pi_1 t1 - pi_2 t2)` and
//! `df/dE = e^-f`.

use serde::{Deserialize, Serialize};

use super::Family;

/// A joint law `R(N, P)` (see [`crate::fit::joint`]). `q = 1` for the additive family.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct JointLaw {
    /// Which family.
    pub family: Family,
    /// Floor `E >= 0`, units of `R`.
    pub e: f64,
    /// Scale of the data term `A N^-alpha`, units of `R` times `N^alpha`.
    pub a: f64,
    /// Exponent of the data term (dimensionless).
    pub alpha: f64,
    /// Scale of the width term `B P^-beta`, units of `R` times `P^beta`.
    pub b: f64,
    /// Exponent of the width term (dimensionless).
    pub beta: f64,
    /// Power-mean index (1 for the additive law).
    pub q: f64,
}

/// `ln(e^x + e^y)` without overflow.
fn lse(x: f64, y: f64) -> f64 {
    lse_weights(x, y).0
}

/// `ln(e^x + e^y)` and the weights `e^x / (e^x + e^y)`, `e^y / (e^x + e^y)`, from one
/// exponential `z = e^(lo - hi)`: the weights are `1 / (1 + z)` and `z / (1 + z)`, so the
/// smaller keeps its relative accuracy (`1 - w` would not). The fit evaluates the model at
/// every cell of every bootstrap refit, where `exp` and `ln_1p` are most of its time.
fn lse_weights(x: f64, y: f64) -> (f64, f64, f64) {
    let (hi, lo) = if x >= y { (x, y) } else { (y, x) };
    let (l, big, small) = if lo == f64::NEG_INFINITY {
        (hi, 1.0, 0.0)
    } else {
        let z = (lo - hi).exp();
        (hi + z.ln_1p(), 1.0 / (1.0 + z), z / (1.0 + z))
    };
    if x >= y {
        (l, big, small)
    } else {
        (l, small, big)
    }
}

impl JointLaw {
    /// The data term `A N^-alpha`.
    pub fn data_term(&self, n: f64) -> f64 {
        self.a * n.powf(-self.alpha)
    }

    /// The width term `B P^-beta`.
    pub fn width_term(&self, p: f64) -> f64 {
        self.b * p.powf(-self.beta)
    }

    /// `ln` of the excess over the floor at `(ln N, ln P)`.
    fn ln_excess(&self, ln_n: f64, ln_p: f64) -> f64 {
        let t1 = self.a.ln() - self.alpha * ln_n;
        let t2 = self.b.ln() - self.beta * ln_p;
        self.q * lse(t1 / self.q, t2 / self.q)
    }

    /// The excess over the floor, `R - E`.
    pub fn excess(&self, n: f64, p: f64) -> f64 {
        self.ln_excess(n.ln(), p.ln()).exp()
    }

    /// Predicted `R(N, P)`.
    pub fn predict(&self, n: f64, p: f64) -> f64 {
        self.e + self.excess(n, p)
    }

    /// Gain in dB of going from `(n, p)` to `(n2, p2)`: `10 log10(R(n, p) / R(n2, p2))`.
    pub fn gain_db(&self, (n, p): (f64, f64), (n2, p2): (f64, f64)) -> f64 {
        10.0 * (self.predict(n, p) / self.predict(n2, p2)).log10()
    }

    /// The size at which width `p` saturates: where the excess comes within the fraction
    /// `kappa` of its limit `B P^-beta` for infinite data, so that more data can lower it by at
    /// most that fraction. The data term is then `c B P^-beta` with
    /// `c = ((1 + kappa)^(1/q) - 1)^q` (`c = kappa` for the additive law), so
    /// `N = (A / (c B P^-beta))^(1/alpha)`; infinite when `alpha = 0`.
    pub fn saturation_n(&self, p: f64, kappa: f64) -> f64 {
        if self.alpha <= 0.0 {
            return f64::INFINITY;
        }
        let c = ((1.0 + kappa).powf(1.0 / self.q) - 1.0).powf(self.q);
        (self.a / (c * self.width_term(p))).powf(1.0 / self.alpha)
    }
}

/// How `theta` maps to a law: the family, and the floor when it is fixed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Layout {
    pub family: Family,
    pub floor: Option<f64>,
}

impl Layout {
    /// Length of `theta`.
    pub fn len(&self) -> usize {
        self.family.n_params(self.floor.is_some())
    }

    fn q_index(&self) -> Option<usize> {
        (self.family == Family::PowerMean).then_some(4)
    }

    fn e_index(&self) -> Option<usize> {
        self.floor.is_none().then(|| self.len() - 1)
    }

    /// The law of `theta`.
    pub fn law(&self, theta: &[f64]) -> JointLaw {
        JointLaw {
            family: self.family,
            e: self
                .e_index()
                .map_or_else(|| self.floor.unwrap_or(0.0), |i| theta[i])
                + 0.0,
            a: theta[0].exp(),
            alpha: theta[1] + 0.0,
            b: theta[2].exp(),
            beta: theta[3] + 0.0,
            q: self.q_index().map_or(1.0, |i| theta[i].exp()),
        }
    }

    /// `theta` of `law` (of this layout's family).
    pub fn theta(&self, law: &JointLaw) -> Vec<f64> {
        let mut t = vec![law.a.ln(), law.alpha, law.b.ln(), law.beta];
        if self.q_index().is_some() {
            t.push(law.q.ln());
        }
        if self.e_index().is_some() {
            t.push(law.e);
        }
        t
    }

    /// Box bounds `(lower, upper)` for data whose largest value is `ymax`: `ln A, ln B` in
    /// `[-500, 500]`, exponents in `[0, 10]`, `q` in `[0.1, 10]`, `E` in `[0, ymax]`.
    pub fn bounds(&self, ymax: f64) -> (Vec<f64>, Vec<f64>) {
        let mut lo = vec![-500.0, 0.0, -500.0, 0.0];
        let mut hi = vec![500.0, 10.0, 500.0, 10.0];
        if self.q_index().is_some() {
            lo.push(0.1f64.ln());
            hi.push(10f64.ln());
        }
        if self.e_index().is_some() {
            lo.push(0.0);
            hi.push(ymax);
        }
        (lo, hi)
    }

    /// `f = ln R` at `(ln N, ln P)` and its gradient with respect to `theta` (written into
    /// `grad`, length [`Layout::len`]).
    pub fn eval(&self, theta: &[f64], ln_n: f64, ln_p: f64, grad: &mut [f64]) -> f64 {
        let q = self.q_index().map_or(1.0, |i| theta[i].exp());
        let e = self
            .e_index()
            .map_or(self.floor.unwrap_or(0.0), |i| theta[i]);
        let t1 = theta[0] - theta[1] * ln_n;
        let t2 = theta[2] - theta[3] * ln_p;
        let (l, pi1, pi2) = lse_weights(t1 / q, t2 / q);
        let ln_s = q * l;
        let (f, w) = if e > 0.0 {
            let (f, w, _) = lse_weights(ln_s, e.ln());
            (f, w)
        } else {
            (ln_s, 1.0)
        };
        grad[0] = w * pi1;
        grad[1] = -w * pi1 * ln_n;
        grad[2] = w * pi2;
        grad[3] = -w * pi2 * ln_p;
        if let Some(i) = self.q_index() {
            grad[i] = w * (ln_s - pi1 * t1 - pi2 * t2);
        }
        if let Some(i) = self.e_index() {
            grad[i] = (-f).exp();
        }
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gradient_matches_finite_differences() {
        let layouts = [
            Layout {
                family: Family::PowerMean,
                floor: None,
            },
            Layout {
                family: Family::Additive,
                floor: Some(0.01),
            },
        ];
        for layout in layouts {
            let law = JointLaw {
                family: layout.family,
                e: 0.01,
                a: 2.0,
                alpha: 0.6,
                b: 30.0,
                beta: 0.5,
                q: if layout.family == Family::PowerMean {
                    0.7
                } else {
                    1.0
                },
            };
            let theta = layout.theta(&law);
            let k = layout.len();
            for (ln_n, ln_p) in [(2.0, 6.0), (8.0, 12.0), (4.0, 9.0)] {
                let mut g = vec![0.0; k];
                let f = layout.eval(&theta, ln_n, ln_p, &mut g);
                assert!((f - law.predict(ln_n.exp(), ln_p.exp()).ln()).abs() < 1e-12);
                // Central differences, step 1e-6 in every (log-scaled) parameter.
                let at = |j: usize, h: f64| {
                    let mut t = theta.clone();
                    t[j] += h;
                    layout.eval(&t, ln_n, ln_p, &mut vec![0.0; k])
                };
                for (j, &gj) in g.iter().enumerate() {
                    let fd = (at(j, 1e-6) - at(j, -1e-6)) / 2e-6;
                    assert!(
                        (fd - gj).abs() < 1e-6 * (1.0 + gj.abs()),
                        "{layout:?} {j}: {fd} vs {gj}"
                    );
                }
            }
        }
    }

    #[test]
    fn power_mean_limits_and_saturation() {
        let mut law = JointLaw {
            family: Family::PowerMean,
            e: 0.0,
            a: 1.0,
            alpha: 0.5,
            b: 1.0,
            beta: 0.5,
            q: 1.0,
        };
        // q = 1: the sum; small q: close to the larger term.
        assert!((law.excess(4.0, 16.0) - 0.75).abs() < 1e-12);
        law.q = 0.1;
        assert!((law.excess(4.0, 16.0) - 0.5).abs() < 1e-3);
        // At the saturation size the excess is 1.1 times the width term.
        for q in [0.5, 1.0, 2.0] {
            law.q = q;
            let n = law.saturation_n(16.0, 0.1);
            assert!((law.excess(n, 16.0) / law.width_term(16.0) - 1.1).abs() < 1e-9);
        }
    }
}
