//! Throughput of the streaming loader alone (`plateau_experiments::loader`): one epoch of
//! shuffled training batches of a `folder:PATH` source (decode, fit, noise, stack), in images
//! per second, with the process's CPU time.
//!
//! ```sh
//! cargo run --release -p plateau-experiments --example loader_throughput -- \
//!     --folder /tmp/photos256 --files 1500 --side 256 --train 1000 [--batch 16] [--threads 2]
//! ```
//!
//! A missing `--folder` is first filled with `--files` colour PNGs of `side x side` pixels: crops
//! of the scikit-image photographs (`PLATEAU_SKIMAGE_DATA`) at positions drawn from seed 0, a
//! fixed and realistic test set (the same folder serves `plateau train --data folder:PATH`). The
//! last line is `images=N seconds=S images_per_s=R cpu_user_s=U cpu_sys_s=Y`; the timed part
//! excludes building the index and the folder.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{ensure, Context, Result};
use clap::Parser;
use plateau_experiments::loader::{Measurement, Prefetch, SplitData, Stream};
use plateau_experiments::sources::{skimage_dir, Color, Load, LoadOptions, Source};
use plateau_experiments::streams::Split;
use plateau_experiments::task::Task;
use rand::{Rng, SeedableRng};

#[derive(Parser)]
struct Args {
    /// Folder of photographs (created and filled when missing).
    #[arg(long)]
    folder: PathBuf,
    /// Files to write into a missing folder (about 75% land in the training split).
    #[arg(long, default_value_t = 1500)]
    files: usize,
    /// Image side (pixels).
    #[arg(long, default_value_t = 256)]
    side: usize,
    /// Training images read in the timed epoch.
    #[arg(long, default_value_t = 1000)]
    train: usize,
    /// Images per batch.
    #[arg(long, default_value_t = 16)]
    batch: usize,
    /// Decoding threads [default: one per core].
    #[arg(long)]
    threads: Option<usize>,
}

/// Writes `count` colour PNGs of `side x side` cut from the scikit-image colour photographs.
fn make_folder(dir: &Path, count: usize, side: u32) -> Result<()> {
    let photos: Vec<image::RgbImage> = ["astronaut.png", "coffee.png", "chelsea.png", "rocket.jpg"]
        .iter()
        .map(|f| {
            let path = skimage_dir().join(f);
            image::open(&path)
                .with_context(|| format!("cannot read {}", path.display()))
                .map(|i| i.to_rgb8())
        })
        .collect::<Result<_>>()?;
    std::fs::create_dir_all(dir)?;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    for i in 0..count {
        let p = &photos[i % photos.len()];
        ensure!(
            p.width() >= side && p.height() >= side,
            "photo under {side}"
        );
        let (x, y) = (
            rng.random_range(0..=p.width() - side),
            rng.random_range(0..=p.height() - side),
        );
        let crop = image::imageops::crop_imm(p, x, y, side, side).to_image();
        crop.save(dir.join(format!("img{i:06}.png")))?;
    }
    Ok(())
}

/// User and system CPU seconds of this process so far.
fn cpu_seconds() -> (f64, f64) {
    let mut u = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage fills the struct it is given.
    let u = unsafe {
        libc::getrusage(libc::RUSAGE_SELF, u.as_mut_ptr());
        u.assume_init()
    };
    let s = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
    (s(u.ru_utime), s(u.ru_stime))
}

fn main() -> Result<()> {
    let args = Args::parse();
    if !args.folder.exists() {
        eprintln!("writing {} PNGs into {}", args.files, args.folder.display());
        make_folder(&args.folder, args.files, args.side as u32)?;
    }
    let opt = LoadOptions {
        side: args.side,
        color: Color::Rgb,
        skip_bad: false,
        seed: 0,
        volumes: None,
    };
    let indexed = Source::Folder(args.folder.clone()).examples(Split::Train, args.train, &opt)?;
    let prefetch = match args.threads {
        Some(t) => Prefetch::new(t, 2)?,
        None => Prefetch::per_core()?,
    };
    let measurement = Measurement {
        task: Task::Denoise { sigma: 0.1 },
        split: Split::Train,
        seed: 0,
    };
    let threads = prefetch.threads;
    let data = SplitData::Streamed(Stream::new(
        Arc::from(indexed.examples),
        measurement,
        prefetch,
    ));
    // A fixed shuffle, as an epoch's permutation.
    let mut order: Vec<usize> = (0..data.len()).collect();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    for i in (1..order.len()).rev() {
        order.swap(i, rng.random_range(0..=i));
    }
    let (u0, s0) = cpu_seconds();
    let start = Instant::now();
    let mut images = 0;
    for batch in data.batches(order, args.batch, tch::Device::Cpu) {
        images += batch?.0.size()[0];
    }
    let seconds = start.elapsed().as_secs_f64();
    let (u1, s1) = cpu_seconds();
    println!(
        "side={} batch={} threads={threads}\nimages={images} seconds={seconds:.3} images_per_s={:.1} \
         cpu_user_s={:.2} cpu_sys_s={:.2}",
        args.side,
        args.batch,
        images as f64 / seconds,
        u1 - u0,
        s1 - s0
    );
    Ok(())
}
