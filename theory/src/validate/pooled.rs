//! Pooled statistics over many compared points: what a per-point test cannot see.
//!
//! Each compared point gives `z = (predicted - mean) / stderr`, approximately standard normal
//! when the prediction is right and the points are independent (distinct setups and sizes use
//! independent Monte Carlo streams). With the standard error estimated from `m` draws, `z` is
//! closer to Student-t with `m - 1` degrees of freedom; `Report::pooled` maps it to the normal
//! quantile of the same tail probability ([`t_to_normal`]) before pooling, so that a 20-draw
//! point with `|z| = 3.6` (t tail 0.002) does not pass for a normal 3.6-sigma outlier (0.0003). The per-point criterion `|error| <= max(tol * excess,
//! tol_z * stderr)` accepts a small bias at every point; pooled over `k` points the same bias is
//! `sqrt(k)` times easier to see.
//!
//! - **Mean z** (`sqrt(k) mean(z) ~ N(0, 1)`): a systematic bias of one sign, too small per
//!   point (the limit alone is 1-2% low on most points: each z about -1, the mean over 40
//!   points -1 with standard error 0.16).
//! - **Chi-square** (`sum z^2 ~ chi^2_k`): errors larger than the Monte Carlo noise explains,
//!   of either sign (over-dispersion), e.g. a formula right on average but wrong in shape.
//! - **Sign test** (`#{z > 0} ~ Binomial(k, 1/2)`): the same bias as the mean z, but robust to
//!   heavy tails and to wrong standard errors (it uses signs only).
//! - **Holm-adjusted worst point** (`min(1, k p_min)`, the first Holm step, `p` two-sided
//!   normal): one point out of line at a family-wise level, whereas `tol_z = 3` per point has
//!   a family-wise false-alarm rate that grows with `k` and the `tol` of the excess lets any
//!   |z| pass when the error is a small fraction of the excess.

use statrs::distribution::{Binomial, ChiSquared, ContinuousCDF, DiscreteCDF, Normal, StudentsT};

/// `z` (Student-t with `draws - 1` degrees of freedom) as the standard-normal quantile with the
/// same tail probability; `z` itself for fewer than 2 draws or a non-finite `z`. Cost: one
/// incomplete beta function and one inverse normal CDF.
pub fn t_to_normal(z: f64, draws: usize) -> f64 {
    if draws < 2 || !z.is_finite() || z == 0.0 {
        return z;
    }
    let t = StudentsT::new(0.0, 1.0, (draws - 1) as f64).expect("positive degrees of freedom");
    // Through the tail (not 1 - tail), which keeps the precision of small tail probabilities.
    let tail = t.sf(z.abs());
    z.signum() * -Normal::standard().inverse_cdf(tail)
}

/// The pooled statistics of a set of z-scores (non-finite ones are left out).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pooled {
    /// Number of finite z-scores pooled.
    pub points: usize,
    /// Mean z.
    pub mean_z: f64,
    /// Two-sided p-value of the mean z (`sqrt(k) mean z` against `N(0, 1)`).
    pub mean_z_p: f64,
    /// `sum z^2 / k`.
    pub chi2_per_dof: f64,
    /// Upper-tail p-value of `sum z^2` against `chi^2_k`.
    pub chi2_p: f64,
    /// Number of positive z (prediction above the Monte Carlo mean).
    pub positive: usize,
    /// Number of negative z.
    pub negative: usize,
    /// Two-sided binomial sign-test p-value (zeros left out).
    pub sign_p: f64,
    /// Index (into the z-scores given) of the largest |z|; the first one on a tie.
    pub worst: usize,
    /// Holm-adjusted p-value of the largest |z|: `min(1, k p)`.
    pub worst_holm_p: f64,
}

impl Pooled {
    /// Pools `z`. `None` when no z-score is finite. Cost `O(k)`.
    pub fn of(z: &[f64]) -> Option<Self> {
        let finite: Vec<(usize, f64)> = z
            .iter()
            .copied()
            .enumerate()
            .filter(|(_, v)| v.is_finite())
            .collect();
        let k = finite.len();
        if k == 0 {
            return None;
        }
        let kf = k as f64;
        let normal = Normal::standard();
        let two_sided = |x: f64| (2.0 * normal.sf(x.abs())).min(1.0);
        let mean_z = finite.iter().map(|p| p.1).sum::<f64>() / kf;
        let ss: f64 = finite.iter().map(|p| p.1 * p.1).sum();
        let chi2 = ChiSquared::new(kf).expect("k >= 1 degrees of freedom");
        let positive = finite.iter().filter(|p| p.1 > 0.0).count();
        let negative = finite.iter().filter(|p| p.1 < 0.0).count();
        // `max_by` keeps the last of equal maxima; the first reads better in a report.
        let (worst, worst_z) = finite
            .iter()
            .copied()
            .rev()
            .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
            .expect("k >= 1");
        Some(Self {
            points: k,
            mean_z,
            mean_z_p: two_sided(mean_z * kf.sqrt()),
            chi2_per_dof: ss / kf,
            chi2_p: chi2.sf(ss),
            positive,
            negative,
            sign_p: sign_test(positive, negative),
            worst,
            worst_holm_p: (kf * two_sided(worst_z)).min(1.0),
        })
    }

    /// The smallest of the four p-values.
    pub fn min_p(&self) -> f64 {
        self.mean_z_p
            .min(self.chi2_p)
            .min(self.sign_p)
            .min(self.worst_holm_p)
    }

    /// Whether any of the four tests rejects at `level` (e.g. 0.01).
    pub fn rejects(&self, level: f64) -> bool {
        self.min_p() < level
    }

    /// The four tests by name with their p-values.
    pub fn tests(&self) -> [(&'static str, f64); 4] {
        [
            ("mean z", self.mean_z_p),
            ("chi-square", self.chi2_p),
            ("sign test", self.sign_p),
            ("Holm worst point", self.worst_holm_p),
        ]
    }

    /// The names of the tests that reject at `level` (each on its own, not family-wise).
    pub fn rejected_tests(&self, level: f64) -> Vec<&'static str> {
        self.tests()
            .into_iter()
            .filter(|(_, p)| *p < level)
            .map(|(name, _)| name)
            .collect()
    }
}

/// Holm's step-down adjustment of `p` (same order): with `p_(1) <= ... <= p_(m)`, the
/// adjusted `p_(i)` is `max_{j <= i} min(1, (m - j + 1) p_(j))`. Rejecting where the adjusted
/// value is below `level` keeps the family-wise error at most `level` under any dependence.
/// Cost `O(m log m)`.
pub fn holm_adjust(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let mut out = vec![0.0; m];
    let mut running: f64 = 0.0;
    for (rank, &i) in order.iter().enumerate() {
        running = running.max(((m - rank) as f64 * p[i]).min(1.0));
        out[i] = running;
    }
    out
}

/// Hall's (1992) skewness-removing transform of a studentised mean, on the z-scale used here
/// (`z = (predicted - mean) / (sd / sqrt(m))`, `skewness` the sample skewness of the `m`
/// draws). With `S = (mean - mu) / sd = -z / sqrt(m)` and `g` the skewness,
/// `T = sqrt(m) (S + g S^2 / 3 + g^2 S^3 / 27 + g / (6 m))` is normal to `O(1/m)` instead of
/// `O(1/sqrt(m))` (the cubic keeps the map monotone); returns `-T`. `z` itself for fewer than
/// 3 draws, a zero or non-finite `z` or `skewness`.
pub fn skew_corrected(z: f64, skewness: f64, draws: usize) -> f64 {
    if draws < 3 || z == 0.0 || !z.is_finite() || !skewness.is_finite() {
        return z;
    }
    let m = draws as f64;
    let s = -z / m.sqrt();
    let g = skewness;
    -m.sqrt() * (s + g * s * s / 3.0 + g * g * s * s * s / 27.0 + g / (6.0 * m))
}

/// Sample skewness `m_3 / m_2^{3/2}` (central moments with `1/len`); 0 for fewer than 3
/// values or no spread. `O(len)`.
pub fn skewness(xs: &[f64]) -> f64 {
    let n = xs.len() as f64;
    if xs.len() < 3 {
        return 0.0;
    }
    let mean = xs.iter().sum::<f64>() / n;
    let m2 = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
    let m3 = xs.iter().map(|x| (x - mean).powi(3)).sum::<f64>() / n;
    if m2 > 0.0 {
        m3 / m2.powf(1.5)
    } else {
        0.0
    }
}

/// Two-sided exact binomial test of `positive` successes in `positive + negative` trials with
/// `p = 1/2`: `min(1, 2 min(P(X <= x), P(X >= x)))`. 1 for no trials.
pub fn sign_test(positive: usize, negative: usize) -> f64 {
    let trials = (positive + negative) as u64;
    if trials == 0 {
        return 1.0;
    }
    let b = Binomial::new(0.5, trials).expect("p = 1/2 is valid");
    let x = positive as u64;
    let lower = b.cdf(x);
    let upper = if x == 0 { 1.0 } else { b.sf(x - 1) };
    (2.0 * lower.min(upper)).min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_test_matches_hand_values() {
        // 10 trials, all positive: 2 / 2^10.
        assert!((sign_test(10, 0) - 2.0 / 1024.0).abs() < 1e-15);
        assert!((sign_test(5, 5) - 1.0).abs() < 1e-15);
        // 8 of 10: 2 (1 + 10 + 45) / 1024.
        assert!((sign_test(8, 2) - 112.0 / 1024.0).abs() < 1e-12);
        assert_eq!(sign_test(0, 0), 1.0);
    }

    #[test]
    fn pooled_values() {
        let p = Pooled::of(&[1.0, -1.0, 2.0, f64::NAN, -2.0]).unwrap();
        assert_eq!(p.points, 4);
        assert_eq!(p.mean_z, 0.0);
        assert!((p.mean_z_p - 1.0).abs() < 1e-12);
        assert!((p.chi2_per_dof - 2.5).abs() < 1e-15);
        // P(chi^2_4 > 10) = e^-5 (1 + 5) for 4 degrees of freedom.
        assert!((p.chi2_p - 6.0 * (-5.0f64).exp()).abs() < 1e-10);
        assert_eq!((p.positive, p.negative), (2, 2));
        assert_eq!(p.worst, 2);
        // 4 * 2 * (1 - Phi(2)) = 4 * 0.0455002638...
        assert!((p.worst_holm_p - 4.0 * 0.045_500_263_896_358_4).abs() < 1e-9);
        assert!(!p.rejects(0.01));
        assert!(Pooled::of(&[f64::NAN]).is_none());
        // A bias of z = -1 on 40 points: mean z rejects, the per-point test would not.
        let biased = Pooled::of(&[-1.0; 40]).unwrap();
        assert!(biased.mean_z_p < 1e-9 && biased.sign_p < 1e-9);
        assert!(biased.rejected_tests(0.01).contains(&"mean z"));
    }

    /// Holm by hand: `p = (0.01, 0.04, 0.03)` gives `(3 x 0.01, max(2 x 0.03, 0.04) ...)`.
    /// Hall's transform is the identity without skew and pulls a right-skewed sample's large
    /// positive z (a low mean with a small standard error) towards zero.
    #[test]
    fn holm_and_skew_by_hand() {
        let adj = holm_adjust(&[0.01, 0.04, 0.03]);
        for (a, want) in adj.iter().zip([0.03, 0.06, 0.06]) {
            assert!((a - want).abs() < 1e-15, "{adj:?}");
        }
        assert_eq!(holm_adjust(&[0.9, 0.4]), vec![0.9, 0.8]);
        assert!((skew_corrected(2.5, 0.0, 20) - 2.5).abs() < 1e-12);
        assert!(skew_corrected(2.5, 1.5, 20) < 2.5);
        assert!(skew_corrected(-2.5, 1.5, 20) < -2.5 + 1e-12);
        assert!((skewness(&[0.0, 0.0, 3.0]) - 0.707_106_781_186_547_5).abs() < 1e-12);
    }

    /// Student-t to normal: the tail probability is kept, the sign too; many draws change
    /// nothing.
    #[test]
    fn t_scores_map_to_normal_quantiles() {
        let normal = Normal::standard();
        // t_19: P(T > 3.6) is about 0.001, the normal tail at 3.10.
        let z = t_to_normal(3.6, 20);
        assert!((normal.sf(z) - StudentsT::new(0.0, 1.0, 19.0).unwrap().sf(3.6)).abs() < 1e-12);
        assert!((z - 3.10).abs() < 0.01, "{z}");
        assert!((t_to_normal(-3.6, 20) + z).abs() < 1e-12);
        assert!((t_to_normal(2.0, 100_000) - 2.0).abs() < 1e-3);
        assert_eq!(t_to_normal(0.0, 20), 0.0);
        assert_eq!(t_to_normal(1.5, 1), 1.5);
    }
}
