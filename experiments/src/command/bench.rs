//! `plateau bench-train`: training throughput of the U-Net (forward, backward, Adam) on random
//! data, in images per second, measured after a warm-up. The last line of standard output is
//! `images_per_s=<value>`. `scripts/bench-pytorch.py` times the same network through PyTorch's
//! Python API for comparison.

use std::time::Instant;

use anyhow::{ensure, Result};
use plateau_run::args::BenchArgs;
use plateau_run::budget::MemoryEstimate;
use plateau_run::settings::UNetShape;

use crate::train::Bench;
use crate::unet::UNetConfig;

/// `plateau bench-train`'s command line.
#[derive(Debug, clap::Parser)]
#[command(
    name = "plateau bench-train",
    version,
    about = "Training throughput of the U-Net in images/s (last line `images_per_s=<value>`)."
)]
pub struct Cli {
    /// The flags.
    #[command(flatten)]
    pub args: BenchArgs,
}

/// Runs `plateau bench-train`.
///
/// # Errors
/// An invalid shape, an unavailable device, or a non-finite loss.
pub fn run(args: &BenchArgs) -> Result<()> {
    let net = UNetConfig {
        channels: args.channels,
        pools: args.pools,
    };
    net.validate(args.image_size)?;
    ensure!(args.batch_size >= 1, "--batch-size must be at least 1");
    ensure!(args.steps >= 1, "--steps must be at least 1");
    // Before any tensor: LibTorch panics on an allocation it cannot make.
    if let Some(limit) = plateau_theory::montecarlo::machine_memory_bytes() {
        let shape = UNetShape {
            channels: args.channels,
            pools: args.pools,
        };
        MemoryEstimate::of_bench(shape, args.image_size, args.batch_size).check(limit)?;
    }
    let device = crate::cuda::device(&args.device)?;
    let mut bench = Bench::new(
        net,
        args.image_size as i64,
        args.batch_size as i64,
        device,
        args.precision,
    )?;
    for _ in 0..args.warmup {
        bench.step();
    }
    let start = Instant::now();
    let mut last = 0.0;
    for _ in 0..args.steps {
        last = bench.step(); // reads the loss back: synchronises with the device
    }
    let seconds = start.elapsed().as_secs_f64();
    ensure!(
        last.is_finite(),
        "the benchmark loss is not finite ({last})"
    );
    let images_per_s = (args.steps * args.batch_size) as f64 / seconds;
    let report = format!(
        "channels={} pools={} image_size={} batch_size={} steps={} device={} precision={} threads={} seconds={seconds:.3}",
        args.channels,
        args.pools,
        args.image_size,
        args.batch_size,
        args.steps,
        args.device,
        args.precision.name(),
        tch::get_num_threads()
    );
    plateau_run::files::write_stdout(
        format!("{report}\nimages_per_s={images_per_s:.2}\n").as_bytes(),
    )
}
