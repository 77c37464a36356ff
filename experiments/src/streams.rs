//! The data splits and every ChaCha8 random stream of the experiments, in one table.
//!
//! Every random number of a run comes from ChaCha8 seeded with a `u64` and put on a *stream*
//! (`set_stream`, a 64-bit id): two different ids give independent sequences for the same seed.
//! Keeping all ids here makes their disjointness checkable in one place
//! (`tests::stream_ids_are_disjoint`).
//!
//! | stream id | seed | draws | function |
//! | --- | --- | --- | --- |
//! | `1`, `2`, `3` (train, validation, test) | run seed | synthetic images and their noise (`DataSpec::generate`); phantoms; patch positions of the sample photographs | [`split_rng`] |
//! | `((16 + split) << 40) \| index`, `index < 2^40` | run seed | noise (denoising) or mask (MRI) of example `index` of a split (`Measure::measure`) | [`example_rng`] |
//! | `99` | `0` | random masks averaged for the subspace model's MRI floor (`DataSpec::task_floor`) | [`floor_mask_rng`] |
//! | `100` | mask seed (`--mask-seed`: the run seed or a number) | the one mask of `--mask fixed` | [`fixed_mask_rng`] |
//!
//! A run reads one data source, so the synthetic generator, the phantoms and the patch positions
//! may share the split streams. Not ChaCha, hence not in the table: the network's initial
//! weights and the training order and flips use LibTorch's generator, seeded with the run seed
//! and with `seed * 1_000_003 + epoch` (`train.rs`).

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// A data split; its discriminant is the split's stream id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, strum::IntoStaticStr)]
#[strum(serialize_all = "lowercase")]
pub enum Split {
    /// Training pairs.
    Train = 1,
    /// Validation pairs (learning-rate schedule, best checkpoint, early stopping).
    Validation = 2,
    /// Test pairs (reported metrics only).
    Test = 3,
}

impl Split {
    /// The three splits, in stream order.
    pub const ALL: [Split; 3] = [Split::Train, Split::Validation, Split::Test];

    /// `train`, `validation` or `test`.
    pub fn name(self) -> &'static str {
        self.into()
    }
}

/// Bits of an example index in its stream id: examples `0..2^40` of a split have their own
/// streams.
pub const EXAMPLE_INDEX_BITS: u32 = 40;

/// Stream of the masks averaged for the subspace model's MRI floor (seed 0).
pub const FLOOR_MASK_STREAM: u64 = 99;

/// Stream of the one mask of `--mask fixed` (seeded with the mask seed).
pub const FIXED_MASK_STREAM: u64 = 100;

/// Stream id of `split`'s data (see the table in the module docs).
pub fn split_stream(split: Split) -> u64 {
    split as u64
}

/// Stream id of example `index` of `split`: `((16 + split) << 40) | index`.
pub fn example_stream(split: Split, index: usize) -> u64 {
    debug_assert!(
        (index as u64) < 1 << EXAMPLE_INDEX_BITS,
        "example index {index}"
    );
    ((16 + split as u64) << EXAMPLE_INDEX_BITS) | index as u64
}

fn rng_on(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}

/// The random stream of `split`'s data for `seed`.
pub fn split_rng(seed: u64, split: Split) -> ChaCha8Rng {
    rng_on(seed, split_stream(split))
}

/// The random stream of example `index` of `split` for `seed`: its noise or mask does not
/// depend on batching, and nested training sets share their measurements.
pub fn example_rng(seed: u64, split: Split, index: usize) -> ChaCha8Rng {
    rng_on(seed, example_stream(split, index))
}

/// The fixed random stream of the subspace model's Monte Carlo MRI floor (seed 0).
pub fn floor_mask_rng() -> ChaCha8Rng {
    rng_on(0, FLOOR_MASK_STREAM)
}

/// The random stream of the one mask of `--mask fixed` drawn with mask seed `seed`.
pub fn fixed_mask_rng(seed: u64) -> ChaCha8Rng {
    rng_on(seed, FIXED_MASK_STREAM)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_ids_are_disjoint() {
        // Every use as a closed interval of ids: single ids, and each split's example range.
        let mut uses: Vec<(String, u64, u64)> = Split::ALL
            .iter()
            .map(|&s| (format!("{s:?} data"), split_stream(s), split_stream(s)))
            .collect();
        let last = (1usize << EXAMPLE_INDEX_BITS) - 1;
        for s in Split::ALL {
            let (lo, hi) = (example_stream(s, 0), example_stream(s, last));
            assert_eq!(
                hi - lo,
                last as u64,
                "{s:?}: the index bits are the low bits"
            );
            uses.push((format!("{s:?} examples"), lo, hi));
        }
        uses.push(("floor masks".into(), FLOOR_MASK_STREAM, FLOOR_MASK_STREAM));
        uses.push(("fixed mask".into(), FIXED_MASK_STREAM, FIXED_MASK_STREAM));
        for (i, a) in uses.iter().enumerate() {
            for b in &uses[i + 1..] {
                assert!(a.2 < b.1 || b.2 < a.1, "{a:?} overlaps {b:?}");
            }
        }
    }

    #[test]
    fn streams_are_the_documented_ids() {
        assert_eq!(Split::ALL.map(split_stream), [1, 2, 3]);
        assert_eq!(example_stream(Split::Validation, 5), (18 << 40) | 5);
        // Different streams of one seed differ; the same stream repeats.
        use rand::Rng;
        let draw = |mut r: ChaCha8Rng| r.random::<u64>();
        assert_eq!(
            draw(split_rng(4, Split::Test)),
            draw(split_rng(4, Split::Test))
        );
        assert_ne!(
            draw(split_rng(4, Split::Test)),
            draw(example_rng(4, Split::Test, 0))
        );
    }
}
