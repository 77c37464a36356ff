//! Cartesian k-space masks with fastMRI's semantics (`RandomMaskFunc`,
//! `EquispacedMaskFractionFunc`).
//!
//! A mask keeps whole columns (phase-encode lines) of centred k-space of width `W` (column `c`
//! is the frequency `c - W/2`): always the `num_low = round(W * center_fraction)` centre columns
//! ([`centre_columns`]), plus either independent columns with probability
//! [`random_column_probability`] ([`MaskKind::Random`], and [`MaskKind::Fixed`], whose one mask
//! is such a draw) or every `a'`-th column from a random
//! offset ([`MaskKind::Equispaced`], [`equispaced_columns`]), so that about `W / acceleration`
//! columns are sampled. Building a mask costs `O(W)`.

use std::ops::Range;

use rand::Rng;

use plateau_run::problem::{num_low, MaskKind};

/// First centre column, `(W - num_low + 1) / 2` (fastMRI's `pad`), so that the centre block
/// `pad..pad + num_low` holds the DC column `W / 2` of centred k-space.
pub fn center_start(width: usize, low: usize) -> usize {
    (width - low).div_ceil(2)
}

/// The always-sampled centre block `pad..pad + low` ([`center_start`]).
pub fn centre_columns(width: usize, low: usize) -> Range<usize> {
    let pad = center_start(width, low);
    pad..pad + low
}

/// Probability that a non-centre column is sampled by [`MaskKind::Random`]:
/// `(W / acc - num_low) / (W - num_low)`.
pub fn random_column_probability(width: usize, acceleration: usize, low: usize) -> f64 {
    (width as f64 / acceleration as f64 - low as f64) / (width - low) as f64
}

/// Adjusted spacing of [`MaskKind::Equispaced`]: `acc (num_low - W) / (num_low acc - W)`.
pub fn equispaced_spacing(width: usize, acceleration: usize, low: usize) -> f64 {
    let (w, a, l) = (width as f64, acceleration as f64, low as f64);
    a * (l - w) / (l * a - w)
}

/// The sampled columns of a Cartesian mask for centred k-space of width `width`, fastMRI
/// semantics (see the module docs); `rng` supplies the random columns or the offset.
pub fn column_mask<R: Rng + ?Sized>(
    width: usize,
    acceleration: usize,
    center_fraction: f64,
    kind: MaskKind,
    rng: &mut R,
) -> Vec<bool> {
    let low = num_low(width, center_fraction);
    match kind {
        MaskKind::Random | MaskKind::Fixed => {
            let p = random_column_probability(width, acceleration, low);
            let mut mask: Vec<bool> = (0..width).map(|_| rng.random::<f64>() < p).collect();
            mask[centre_columns(width, low)].fill(true);
            mask
        }
        MaskKind::Equispaced => {
            let offset = rng.random_range(0..equispaced_offsets(width, acceleration, low));
            equispaced_mask(width, acceleration, low, offset)
        }
    }
}

/// Number of possible offsets of [`MaskKind::Equispaced`], `round(a')` (at least 1); each is
/// equally likely.
pub fn equispaced_offsets(width: usize, acceleration: usize, low: usize) -> usize {
    (equispaced_spacing(width, acceleration, low).round() as usize).max(1)
}

/// The [`MaskKind::Equispaced`] mask with offset `offset` (`< equispaced_offsets`): its
/// [`equispaced_columns`] and the centre block.
pub fn equispaced_mask(width: usize, acceleration: usize, low: usize, offset: usize) -> Vec<bool> {
    let mut mask = vec![false; width];
    for c in equispaced_columns(width, acceleration, low, offset) {
        mask[c] = true;
    }
    mask[centre_columns(width, low)].fill(true);
    mask
}

/// Columns `round(offset + j a')` for `offset + j a' < W - 1` (numpy's
/// `np.around(np.arange(offset, W - 1, a'))`), without the centre block.
pub fn equispaced_columns(
    width: usize,
    acceleration: usize,
    low: usize,
    offset: usize,
) -> Vec<usize> {
    let a = equispaced_spacing(width, acceleration, low);
    let mut cols = Vec::new();
    // num_low = W / acc leaves nothing to sample outside the centre (fastMRI divides by zero).
    if !(a.is_finite() && a >= 1.0) {
        return cols;
    }
    let mut j = 0usize;
    loop {
        let t = offset as f64 + j as f64 * a;
        if t >= (width - 1) as f64 {
            break;
        }
        // numpy rounds half to even.
        cols.push(t.round_ties_even() as usize);
        j += 1;
    }
    cols
}

#[cfg(test)]
mod tests {
    use super::*;
    use plateau_run::problem::Task;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn random_masks_follow_fastmri_semantics() {
        // W = 320, acc 4, cf 0.08: 26 centre columns, p = (80 - 26) / 294.
        let (w, acc, cf) = (320, 4, 0.08);
        assert_eq!(num_low(w, cf), 26);
        assert_eq!(center_start(w, 26), 147);
        let p = random_column_probability(w, acc, 26);
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let (mut total, reps) = (0usize, 400);
        for _ in 0..reps {
            let m = column_mask(w, acc, cf, MaskKind::Random, &mut rng);
            assert!(
                m[147..173].iter().all(|&b| b),
                "centre columns always sampled"
            );
            assert!(m[w / 2], "DC column sampled");
            total += m.iter().filter(|&&b| b).count();
        }
        // Expected columns 26 + 294 p = 80; s.e. of the mean sqrt(294 p (1-p) / reps).
        let mean = total as f64 / reps as f64;
        let se = (294.0 * p * (1.0 - p) / reps as f64).sqrt();
        assert!((mean - 80.0).abs() < 4.0 * se, "{mean} vs 80 (se {se})");
    }

    #[test]
    fn degenerate_equispaced_spacing_samples_only_the_centre() {
        // W = 32, acc 4, num_low = 8 = W / acc: the adjusted spacing is infinite.
        assert!(equispaced_spacing(32, 4, 8).is_infinite());
        assert!(equispaced_columns(32, 4, 8, 0).is_empty());
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let m = column_mask(32, 4, 0.25, MaskKind::Equispaced, &mut rng);
        assert_eq!(m.iter().filter(|&&b| b).count(), 8);
        let full = Task::Mri {
            acceleration: 1,
            center_fraction: 0.99,
            mask: MaskKind::Equispaced,
            mask_seed: Default::default(),
            input: plateau_run::problem::MriInput::Magnitude,
        };
        assert!(full.validate(32).is_err(), "32 centre columns of 32");
    }

    #[test]
    fn equispaced_masks_sample_a_quarter() {
        let (w, acc) = (64, 4);
        let low = num_low(w, 0.08);
        for offset in 0..equispaced_offsets(w, acc, low) {
            let cols = equispaced_columns(w, acc, low, offset);
            // Spacing a' = 4 (5 - 64) / (20 - 64) = 5.3636: 12 columns, plus 5 centre columns
            // minus those that coincide.
            assert!((11..=12).contains(&cols.len()), "{cols:?}");
            assert!(cols
                .windows(2)
                .all(|p| p[1] - p[0] >= 5 && p[1] - p[0] <= 6));
        }
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let m = column_mask(w, acc, 0.08, MaskKind::Equispaced, &mut rng);
        let n = m.iter().filter(|&&b| b).count();
        assert!((14..=17).contains(&n), "{n} columns sampled");
    }
}
