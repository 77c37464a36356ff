//! The spectral decomposition of one sample signal direction in the reduced model of the
//! finite-`d` correction (`theory/analytic.md`, sections 8 and 8b).
//!
//! The companion matrix is `Y^T Y / N = T + G`: `T = (alpha/N) Z1^T Z1` (rank `d`, eigenvalues
//! `t = alpha a / N`, `a` a real-Wishart eigenvalue) and `G = (s/N) Z2^T Z2` (the noise block,
//! `N x N`). With `g(z) = (1/N) tr (z - G)^{-1}` and the signal eigenvectors' projections
//! `O^T (z - G)^{-1} O` replaced by `g(z) I`, the signal direction of eigenvalue `a` has the
//! spectral measures
//!
//! ```text
//! nu    (of P1 f(Sigma_hat) P1):   S(z) = 1 / (z (1 - t g(z))),
//! kappa (its share of tr f):       K(z) = -t g'(z) / (1 - t g(z)) = d/dz log(1 - t g(z)),
//! ```
//!
//! `nu` of mass 1, `kappa` of mass 0: an outlier at `mu` (`t g(mu) = 1`) of `nu`-weight `w`
//! and `kappa`-weight 1, plus what the noise eigenvalues and 0 carry.

use super::poly::C64;

/// One atom of a direction's decomposition: eigenvalue `x` of `Sigma_hat`, its `nu`-weight
/// (share of `||P1 u||^2`) and its `kappa`-weight (share of the trace).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Atom {
    pub x: f64,
    pub nu: f64,
    pub kappa: f64,
}

/// How the noise block `G` is modelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NoiseModel {
    /// `G = beta/N I`, `beta = s (n - d)` (section 8; needs `N < n - d`).
    Flat,
    /// `G` has its Marchenko-Pastur spectrum (ratio `gamma = (n - d)/N`, scale `s`, an atom
    /// `1 - gamma` at 0 when `gamma < 1`), on `bulk` Gauss-Chebyshev nodes (section 8b).
    MarchenkoPastur { bulk: usize },
}

/// The outlier must clear the noise edge `s (1 + sqrt(gamma))` (the BBP threshold of `t`) by
/// this factor; nearer, the outlier merges with the bulk and the decomposition is not used.
const BBP_MARGIN: f64 = 1.1;

/// The decomposition of the direction with `t = alpha a / N`, for noise variance `s > 0` and
/// `gamma = (n - d)/N`; `None` below the BBP margin. The atoms are, in this order, the outlier,
/// the atom at 0, and the noise atoms, whose eigenvalues depend on `(model, s, gamma)` only
/// (not on `t`). Cost `O(bulk)`.
pub(crate) fn decompose(model: NoiseModel, t: f64, s: f64, gamma: f64) -> Option<Vec<Atom>> {
    match model {
        NoiseModel::Flat => {
            let b = s * gamma;
            let w = t / (t + b);
            Some(vec![
                Atom {
                    x: t + b,
                    nu: w,
                    kappa: 1.0,
                },
                Atom {
                    x: 0.0,
                    nu: 1.0 - w,
                    kappa: 0.0,
                },
                Atom {
                    x: b,
                    nu: 0.0,
                    kappa: -1.0,
                },
            ])
        }
        NoiseModel::MarchenkoPastur { bulk } => {
            if t <= BBP_MARGIN * s * (1.0 + gamma.sqrt()) {
                return None;
            }
            let mut atoms = outlier_and_zero(t, s, gamma);
            let mut leak: Vec<Atom> = bulk_atoms(t, s, gamma, bulk).collect();
            // The bulk's nu-mass is known exactly, 1 - w - (atom at 0); the rule's small error
            // there (largest at a nearly hard edge, gamma near 1) is removed by rescaling, so
            // that a filter equal to 1 (the zero estimator) gets no correction.
            let exact = 1.0 - atoms.iter().map(|a| a.nu).sum::<f64>();
            let rule: f64 = leak.iter().map(|a| a.nu).sum();
            leak.iter_mut().for_each(|a| a.nu *= exact / rule);
            atoms.extend(leak);
            Some(atoms)
        }
    }
}

/// The outlier and the atom at 0 under the Marchenko-Pastur noise block. With `m = -g` solving
/// `z = -1/m + gamma s/(1 + s m)`, `g(mu) = 1/t` gives `mu = t + gamma s t/(t - s)`, and the
/// residue of `S` at `mu` is `w = -g(mu)/(mu g'(mu)) = t (1 - gamma s^2/(t - s)^2) / mu`.
/// For `gamma > 1`, `g(0) = -1/(s (gamma - 1))` and `S` has the atom `1/(1 - t g(0))` at 0; for
/// `gamma <= 1`, `K` has an atom at 0 (-1, the spike lifts a zero eigenvalue of `G`; -1/2 at
/// `gamma = 1`); it carries no risk (`phi(0) = 0`) and closes the mass check.
fn outlier_and_zero(t: f64, s: f64, gamma: f64) -> Vec<Atom> {
    let mu = t + gamma * s * t / (t - s);
    let w = t * (1.0 - gamma * s * s / ((t - s) * (t - s))) / mu;
    let mut atoms = vec![Atom {
        x: mu,
        nu: w,
        kappa: 1.0,
    }];
    if gamma > 1.0 {
        let z = s * (gamma - 1.0);
        atoms.push(Atom {
            x: 0.0,
            nu: z / (z + t),
            kappa: 0.0,
        });
    } else {
        // At gamma = 1 (hard edge, g ~ z^{-1/2}) K ~ -1/(2z): half an atom.
        let kappa = if gamma < 1.0 { -1.0 } else { -0.5 };
        atoms.push(Atom {
            x: 0.0,
            nu: 0.0,
            kappa,
        });
    }
    atoms
}

/// The bulk of `S` and `K` on `count` Gauss-Chebyshev nodes of the noise support
/// `[s (1 - sqrt gamma)^2, s (1 + sqrt gamma)^2]`: densities `-(1/pi) Im S(x + i0)`,
/// `-(1/pi) Im K(x + i0)` times `(pi/count) sqrt((x - l)(r - x))`. `S`'s density vanishes like a
/// square root at the edges and `K`'s diverges like an inverse square root, so both weighted
/// integrands are smooth in the angle and the rule converges geometrically. Cost `O(count)`.
///
/// Both weights are invariant under `(x, s, t) -> (x, s, t)/s`, so they are computed in units of
/// `s` (`u = x/s`, `g_hat = s g`, `tau = t/s`): in absolute units the products `x s` and the
/// square of `g' ~ 1/s^2` leave the range of `f64` for `s` below about `1e-75`.
fn bulk_atoms(t: f64, s: f64, gamma: f64, count: usize) -> impl Iterator<Item = Atom> {
    let tau = t / s;
    let (l, r) = ((1.0 - gamma.sqrt()).powi(2), (1.0 + gamma.sqrt()).powi(2));
    (0..count).map(move |j| {
        let theta = std::f64::consts::PI * (j as f64 + 0.5) / count as f64;
        let u = 0.5 * (l + r) - 0.5 * (r - l) * theta.cos();
        let jacobian = std::f64::consts::PI / count as f64 * 0.5 * (r - l) * theta.sin();
        let b = u + 1.0 - gamma;
        let root = (4.0 * u - b * b).max(0.0).sqrt();
        let g = C64::new(b, -root) / (2.0 * u);
        let one_minus = C64::new(1.0, 0.0) - tau * g;
        let nu = tau * root / (2.0 * std::f64::consts::PI * u) / (u * one_minus.norm_sqr());
        // g' = -1/(dz/dm) at m = -g.
        let m = -g;
        let dzdm = C64::new(1.0, 0.0) / (m * m) - gamma / ((1.0 + m) * (1.0 + m));
        let k = tau / dzdm / one_minus;
        Atom {
            x: s * u,
            nu: jacobian * nu,
            kappa: -jacobian * k.im / std::f64::consts::PI,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `nu` has mass 1 and `kappa` mass 0 (quadrature converged), and the outlier solves
    /// `t g(mu) = 1` for the closed-form `g` of the Marchenko-Pastur companion. Just above
    /// `gamma = 1` (`N` just below `n - d`) half of `kappa`'s bulk mass sits within `O((gamma -
    /// 1)^2 s)` of 0, finer than the rule resolves; it carries no risk there (`phi^2/x -> 0`),
    /// so only `nu` is checked at `N = 89` on `n = 100` (with the production node count).
    #[test]
    fn masses_and_outlier() {
        for (t, s, gamma) in [
            (0.5, 0.01, 0.9),
            (1.0, 0.04, 0.35),
            (0.3, 0.0025, 2.0),
            (1.2, 0.01, 1.0),
        ] {
            let atoms = decompose(NoiseModel::MarchenkoPastur { bulk: 256 }, t, s, gamma).unwrap();
            let nu: f64 = atoms.iter().map(|a| a.nu).sum();
            let kappa: f64 = atoms.iter().map(|a| a.kappa).sum();
            assert!((nu - 1.0).abs() < 1e-6, "{t} {s} {gamma}: nu {nu}");
            assert!(kappa.abs() < 1e-4, "{t} {s} {gamma}: kappa {kappa}");
            let mu = atoms[0].x;
            let b = mu + s * (1.0 - gamma);
            let g = (b - (b * b - 4.0 * mu * s).sqrt()) / (2.0 * mu * s);
            assert!((t * g - 1.0).abs() < 1e-12);
        }
        let atoms = decompose(
            NoiseModel::MarchenkoPastur { bulk: 48 },
            0.8,
            0.01,
            90.0 / 89.0,
        );
        let nu: f64 = atoms.unwrap().iter().map(|a| a.nu).sum();
        // The near-hard edge costs the 48-node rule 5e-5 of the mass here.
        assert!((nu - 1.0).abs() < 1e-4, "nu {nu}");
    }

    /// Far below the threshold (`gamma -> infinity` at fixed `beta/N = s gamma`) the noise block
    /// concentrates at `beta/N` and the decomposition tends to the flat one of section 8.
    #[test]
    fn tends_to_the_flat_block() {
        let (t, b) = (0.7, 0.2);
        let flat = decompose(NoiseModel::Flat, t, b / 1e6, 1e6).unwrap();
        let mp = decompose(NoiseModel::MarchenkoPastur { bulk: 64 }, t, b / 1e6, 1e6).unwrap();
        assert!((mp[0].x - flat[0].x).abs() < 1e-6 && (mp[0].nu - flat[0].nu).abs() < 1e-6);
        assert!((mp[1].nu - flat[1].nu).abs() < 1e-6);
        let (bulk_nu, bulk_kappa) = mp[2..]
            .iter()
            .fold((0.0, 0.0), |(n, k), a| (n + a.nu, k + a.kappa));
        assert!(bulk_nu.abs() < 1e-6 && (bulk_kappa + 1.0).abs() < 1e-6);
    }
}
