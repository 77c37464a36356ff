//! Where training and evaluation get their batches: real images streamed from disk, synthetic
//! images from memory.
//!
//! # Design
//!
//! A split of real data is an index ([`Examples`], built by the source: which file, slice or
//! patch each example is) plus a rule for its network input ([`Measurement`]). The index holds a
//! few bytes per example; the images themselves are decoded when a batch needs them:
//!
//! - [`SplitData::batches`] takes the examples in a given order (the trainer's per-epoch
//!   permutation), `batch` at a time. One producer thread per pass builds each batch: it decodes
//!   and crops the batch's examples on a pool of [`Prefetch::threads`] worker threads (rayon),
//!   stacks them into `[B, C, s, s]`, measures them ([`Measure::measure_at`]: noise or mask of
//!   example `i` from its own stream, so a batch does not change any value) and sends
//!   `(clean, input)` through a bounded queue ([`std::sync::mpsc::sync_channel`]) of
//!   [`Prefetch::depth`] batches. The trainer's step overlaps with the decoding of the next
//!   batches; dropping the iterator (early stop, divergence) ends the producer.
//! - [`SplitData::chunks`] is the same in index order, for validation and test, in chunks of
//!   [`eval_chunk`] examples.
//! - Synthetic images ([`SplitData::Resident`]) stay in memory as today: their `f64` pairs are
//!   kept for the exact floors and the linear model anyway, and they are small (`s <= 64`, gray).
//!
//! Values and order are those of the all-in-memory loader it replaces: example `i` of a split
//! is the same image, with the same noise or mask, and the permutation is the trainer's.
//!
//! # Memory
//!
//! For real data, resident memory is the index (`O(N)` words), the decoded inputs of the
//! batches in flight (at most `depth + 2` batches of `B` examples: queued, being built, being
//! trained on; each `2 C s^2` `f32`, clean and input) and, per worker, one decoded file;
//! it does not grow with the size of the training set. (100k colour `256 x 256` images would
//! take 78 GB as `f32`.) The scikit-image source also keeps its split's photographs decoded
//! (a fixed set of a few MB).
//!
//! # Cost
//!
//! Every epoch decodes each training file again (PNG/JPEG decode and `fit`, or one HDF5 slice):
//! `O(N)` decodes per epoch instead of once per run, spread over the worker threads, while the
//! network trains on the previous batch. With `--color rgb-split` a photograph is decoded once
//! per colour plane.

use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::Arc;
use std::thread::JoinHandle;

use anyhow::Result;
use rayon::prelude::*;
use tch::{Device, Tensor};

pub use crate::sources::Examples;
use crate::streams::Split;
use crate::task::{Measure, Task};

/// Values (`C s^2` per example) in one evaluation chunk at most: 64 images of `128 x 128` gray,
/// 5 colour images of `256 x 256`. The network's activations on a chunk scale with it.
pub const EVAL_VALUES: usize = 1 << 20;

/// Examples per evaluation chunk for examples of `values` numbers each: as many as fit
/// [`EVAL_VALUES`], between 1 and 64 (64 for every image of at most `128 x 128` gray).
pub fn eval_chunk(values: usize) -> usize {
    (EVAL_VALUES / values.max(1)).clamp(1, 64)
}

/// How a split's clean examples become network inputs: `task` measured with the random streams
/// of `(seed, split, example index)`.
#[derive(Clone, Copy, Debug)]
pub struct Measurement {
    /// The task.
    pub task: Task,
    /// The split (its example streams).
    pub split: Split,
    /// The run seed.
    pub seed: u64,
}

/// The parallelism and read-ahead of a stream.
#[derive(Clone, Debug)]
pub struct Prefetch {
    /// Worker threads decoding examples.
    pub threads: usize,
    /// Batches built ahead of the trainer (the bound of the queue).
    pub depth: usize,
    pool: Arc<rayon::ThreadPool>,
}

impl Prefetch {
    /// `threads` decoding workers, `depth` batches ahead (both at least 1).
    ///
    /// # Errors
    /// A thread pool that cannot be started.
    pub fn new(threads: usize, depth: usize) -> Result<Self> {
        let threads = threads.max(1);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("plateau-loader-{i}"))
            .build()?;
        Ok(Self {
            threads,
            depth: depth.max(1),
            pool: Arc::new(pool),
        })
    }

    /// One worker per available core, two batches ahead.
    ///
    /// # Errors
    /// As [`Prefetch::new`].
    pub fn per_core() -> Result<Self> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self::new(cores, 2)
    }
}

/// A split of the data as the trainer reads it.
pub enum SplitData {
    /// Every example in memory: `(clean, input)`, `[N, C, s, s]` `f32`.
    Resident {
        /// Clean images.
        clean: Tensor,
        /// Network inputs.
        input: Tensor,
    },
    /// Examples decoded on demand.
    Streamed(Stream),
}

/// A streamed split: the index of its examples, their measurement and the workers.
pub struct Stream {
    examples: Arc<dyn Examples>,
    measurement: Measurement,
    prefetch: Prefetch,
}

impl Stream {
    /// A stream over `examples`, measured by `measurement`, read by `prefetch`.
    pub fn new(examples: Arc<dyn Examples>, measurement: Measurement, prefetch: Prefetch) -> Self {
        Self {
            examples,
            measurement,
            prefetch,
        }
    }
}

impl From<(Tensor, Tensor)> for SplitData {
    fn from((clean, input): (Tensor, Tensor)) -> Self {
        SplitData::Resident { clean, input }
    }
}

impl SplitData {
    /// Number of examples.
    pub fn len(&self) -> usize {
        match self {
            SplitData::Resident { clean, .. } => clean.size()[0] as usize,
            SplitData::Streamed(s) => s.examples.len(),
        }
    }

    /// Whether the split has no examples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Values of one example, `C s^2`.
    pub fn example_values(&self) -> usize {
        match self {
            SplitData::Resident { clean, .. } => clean.size()[1..].iter().product::<i64>() as usize,
            SplitData::Streamed(s) => s.examples.shape().iter().product(),
        }
    }

    /// `(clean, input)` batches on `device` of the examples in `order`, `batch` consecutive
    /// entries of `order` each (the last may be shorter).
    pub fn batches(&self, order: Vec<usize>, batch: usize, device: Device) -> Batches<'_> {
        let batch = batch.max(1);
        match self {
            SplitData::Resident { clean, input } => Batches::Resident {
                clean,
                input,
                order,
                batch,
                at: 0,
                device,
            },
            SplitData::Streamed(s) => s.start(order, batch, device),
        }
    }

    /// Every example in index order, [`eval_chunk`] at a time (validation, test).
    pub fn chunks(&self, device: Device) -> Batches<'_> {
        let size = eval_chunk(self.example_values());
        self.batches((0..self.len()).collect(), size, device)
    }
}

impl Stream {
    fn start(&self, order: Vec<usize>, batch: usize, device: Device) -> Batches<'static> {
        let (tx, rx) = sync_channel(self.prefetch.depth);
        let examples = Arc::clone(&self.examples);
        let pool = Arc::clone(&self.prefetch.pool);
        let m = self.measurement;
        let worker = std::thread::spawn(move || {
            for idx in order.chunks(batch) {
                let built = build(&*examples, &pool, m, idx);
                let failed = built.is_err();
                // A closed queue: the trainer stopped early.
                if tx.send(built).is_err() || failed {
                    break;
                }
            }
        });
        Batches::Streamed {
            rx: Some(rx),
            worker: Some(worker),
            device,
        }
    }
}

/// Decodes the examples `idx` on `pool`, stacks and measures them.
fn build(
    examples: &dyn Examples,
    pool: &rayon::ThreadPool,
    m: Measurement,
    idx: &[usize],
) -> Result<(Tensor, Tensor)> {
    let images: Vec<Vec<f32>> = pool.install(|| {
        idx.par_iter()
            .map(|&i| examples.example(i))
            .collect::<Result<_>>()
    })?;
    let [c, h, w] = examples.shape().map(|d| d as i64);
    let flat: Vec<f32> = images.concat();
    let clean = Tensor::from_slice(&flat).view([idx.len() as i64, c, h, w]);
    let input = m.task.measure_at(&clean, m.split, m.seed, idx);
    Ok((clean, input))
}

/// An iterator of `(clean, input)` batches (see [`SplitData::batches`]).
pub enum Batches<'a> {
    /// Index selections of resident tensors.
    Resident {
        /// Clean images of the split.
        clean: &'a Tensor,
        /// Inputs of the split.
        input: &'a Tensor,
        /// Example order.
        order: Vec<usize>,
        /// Batch size.
        batch: usize,
        /// Next position in `order`.
        at: usize,
        /// Where the batches go.
        device: Device,
    },
    /// Batches built by a producer thread.
    Streamed {
        /// The bounded queue.
        rx: Option<Receiver<Result<(Tensor, Tensor)>>>,
        /// The producer.
        worker: Option<JoinHandle<()>>,
        /// Where the batches go.
        device: Device,
    },
}

impl Iterator for Batches<'_> {
    type Item = Result<(Tensor, Tensor)>;

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Batches::Resident {
                clean,
                input,
                order,
                batch,
                at,
                device,
            } => {
                if *at >= order.len() {
                    return None;
                }
                let end = (*at + *batch).min(order.len());
                let idx: Vec<i64> = order[*at..end].iter().map(|&i| i as i64).collect();
                *at = end;
                let idx = Tensor::from_slice(&idx).to_device(clean.device());
                Some(Ok((
                    clean.index_select(0, &idx).to_device(*device),
                    input.index_select(0, &idx).to_device(*device),
                )))
            }
            Batches::Streamed { rx, device, .. } => {
                let got = rx.as_ref()?.recv().ok()?;
                Some(got.map(|(x, y)| (x.to_device(*device), y.to_device(*device))))
            }
        }
    }
}

impl Drop for Batches<'_> {
    fn drop(&mut self) {
        if let Batches::Streamed { rx, worker, .. } = self {
            // Closing the queue first lets a producer blocked on a full queue finish.
            drop(rx.take());
            if let Some(w) = worker.take() {
                let _ = w.join();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::{Color, Layout};

    /// Example `i` is the constant `i`, `[1, 2, 2]`.
    struct Constants(usize);

    impl Examples for Constants {
        fn layout(&self) -> Layout {
            Layout {
                items: self.0,
                color: Color::Gray,
                side: 2,
            }
        }
        fn example(&self, i: usize) -> Result<Vec<f32>> {
            anyhow::ensure!(i != 13, "example 13 is unreadable");
            Ok(vec![i as f32; 4])
        }
    }

    fn stream(n: usize, depth: usize) -> SplitData {
        let m = Measurement {
            task: Task::Denoise { sigma: 0.5 },
            split: Split::Train,
            seed: 3,
        };
        SplitData::Streamed(Stream::new(
            Arc::new(Constants(n)),
            m,
            Prefetch::new(2, depth).unwrap(),
        ))
    }

    fn firsts(t: &Tensor) -> Vec<f32> {
        Vec::<f32>::try_from(t.select(3, 0).select(2, 0).flatten(0, -1)).unwrap()
    }

    #[test]
    fn streamed_batches_follow_the_order_and_match_resident_ones() {
        let data = stream(10, 1);
        let order = vec![7, 2, 9, 0, 4, 1, 3, 8, 6, 5];
        let got: Vec<(Tensor, Tensor)> = data
            .batches(order.clone(), 4, Device::Cpu)
            .collect::<Result<_>>()
            .unwrap();
        assert_eq!(
            got.iter().map(|b| b.0.size()[0]).collect::<Vec<_>>(),
            [4, 4, 2]
        );
        let seen: Vec<f32> = got.iter().flat_map(|b| firsts(&b.0)).collect();
        assert_eq!(seen, order.iter().map(|&i| i as f32).collect::<Vec<_>>());
        // The inputs are those of the whole split measured at once, then selected.
        let all: Vec<f32> = (0..10).flat_map(|i| vec![i as f32; 4]).collect();
        let clean = Tensor::from_slice(&all).view([10, 1, 2, 2]);
        let task = Task::Denoise { sigma: 0.5 };
        let input = task.measure(&clean, Split::Train, 3, 0);
        let resident = SplitData::from((clean, input));
        for (a, b) in resident.batches(order, 4, Device::Cpu).zip(&got) {
            let (rx, ry) = a.unwrap();
            assert!(rx.equal(&b.0) && ry.equal(&b.1));
        }
    }

    #[test]
    fn a_bad_example_ends_the_pass_with_its_error_and_early_drops_stop_the_producer() {
        let data = stream(20, 1);
        let results: Vec<Result<(Tensor, Tensor)>> =
            data.batches((0..20).collect(), 4, Device::Cpu).collect();
        assert_eq!(results.len(), 4, "batches 0..3, then the error");
        let e = results[3].as_ref().err().unwrap().to_string();
        assert!(e.contains("example 13"), "{e}");
        // Taking one batch of many and dropping the iterator returns (the producer ends).
        let mut it = data.batches((0..12).collect(), 1, Device::Cpu);
        assert!(it.next().unwrap().is_ok());
        drop(it);
        let chunks: Vec<_> = stream(12, 1).chunks(Device::Cpu).collect();
        assert_eq!(chunks.len(), 1, "12 tiny examples: one chunk");
    }

    #[test]
    fn evaluation_chunks_are_bounded_by_values() {
        assert_eq!(eval_chunk(32 * 32), 64);
        assert_eq!(eval_chunk(128 * 128), 64);
        assert_eq!(eval_chunk(3 * 256 * 256), 5);
        assert_eq!(eval_chunk(3 * 1024 * 1024), 1);
    }
}
