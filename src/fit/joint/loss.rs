//! The loss on the log residuals of a joint fit: least squares, or Huber's loss (the robust
//! loss of the field's reference fits of the joint law, Hoffmann et al. 2022 approach 3 and
//! its replication by Besiroglu et al. 2024, which use `delta = 1e-3` on `ln R`).
//!
//! Huber's loss of a residual `r` is `rho(r) = r^2 / 2` for `|r| <= delta` and
//! `delta |r| - delta^2 / 2` beyond: quadratic near zero, linear in the tails, so a cell that
//! misses the law by far pulls on the fit with a bounded force. It is minimised by the same
//! Levenberg-Marquardt as least squares, on the pseudo-residuals
//! `r~ = sign(r) sqrt(2 rho(r))` (so `sum r~^2 = 2 sum rho(r)`, and `r~ = r` inside
//! `[-delta, delta]`) with the chain rule `dr~/dr = delta / |r~|` outside. The gradient of
//! `sum r~^2` is then exactly that of `2 sum rho`; the Gauss-Newton curvature of a tail
//! residual is `delta / (2 |r| - delta)`, the weight of iteratively reweighted least squares
//! up to a factor of two, which the damping absorbs. Checked by
//! `tests::pseudo_residuals_give_the_huber_objective_and_its_gradient`.

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};

/// Default `delta` of `--loss huber` (that of the reference fits, on `ln R`).
pub const HUBER_DELTA: f64 = 1e-3;

/// Loss on the log residuals of the cells.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, strum::IntoStaticStr)]
#[serde(tag = "name", rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Loss {
    /// `sum r^2`.
    Squares,
    /// `2 sum rho_delta(r)` (see the module docs); `delta` in units of `ln R`.
    Huber {
        /// Where the loss turns from quadratic to linear (`> 0`).
        delta: f64,
    },
}

impl Loss {
    /// The loss named `name` (`squares` or `huber`) with Huber's `delta`.
    ///
    /// # Errors
    /// An unknown name, or a `delta` that is not positive and finite (one line).
    pub fn parse(name: &str, delta: f64) -> Result<Loss> {
        match name {
            "squares" => Ok(Loss::Squares),
            "huber" if delta.is_finite() && delta > 0.0 => Ok(Loss::Huber { delta }),
            "huber" => bail!("--huber-delta {delta} must be positive and finite"),
            _ => bail!("unknown loss '{name}' (expected squares or huber)"),
        }
    }

    /// Name in the JSON and on the command line.
    pub fn name(self) -> &'static str {
        self.into()
    }

    /// The pseudo-residual of `r` and its derivative `dr~/dr` (see the module docs).
    pub fn pseudo(self, r: f64) -> (f64, f64) {
        match self {
            Loss::Huber { delta } if r.abs() > delta => {
                let t = (delta * (2.0 * r.abs() - delta)).sqrt();
                (t.copysign(r), delta / t)
            }
            _ => (r, 1.0),
        }
    }

    /// The objective `sum r~^2` of the residuals `r`.
    pub fn objective(self, resid: impl Iterator<Item = f64>) -> f64 {
        resid.map(|r| self.pseudo(r).0.powi(2)).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pseudo_residuals_give_the_huber_objective_and_its_gradient() {
        let delta = 0.1;
        let loss = Loss::Huber { delta };
        let rho = |r: f64| {
            if r.abs() <= delta {
                r * r / 2.0
            } else {
                delta * r.abs() - delta * delta / 2.0
            }
        };
        for r in [-3.0, -0.2, -0.1, -0.05, 0.0, 0.03, 0.1, 0.5, 7.0] {
            let (t, d) = loss.pseudo(r);
            assert!((t * t - 2.0 * rho(r)).abs() < 1e-15, "{r}");
            // d(r~^2)/dr = 2 r~ dr~/dr must be 2 rho'(r) = 2 clamp(r, -delta, delta).
            assert!(
                (2.0 * t * d - 2.0 * r.clamp(-delta, delta)).abs() < 1e-12,
                "{r}"
            );
        }
        assert_eq!(Loss::Squares.pseudo(-3.0), (-3.0, 1.0));
        assert_eq!(
            Loss::parse("huber", 1e-3).unwrap(),
            Loss::Huber { delta: 1e-3 }
        );
        assert!(Loss::parse("huber", 0.0).is_err());
        assert!(Loss::parse("l1", 1e-3).is_err());
    }
}
