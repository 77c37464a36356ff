//! Peak memory of training does not grow with the training set: `plateau-train` on a folder of
//! colour photographs, one epoch with `N` and with `8 N` training images, compared by the
//! child's maximum resident set size (`wait4`'s `ru_maxrss`).
//!
//! The children run with one malloc arena and a fixed mmap threshold (glibc's
//! `MALLOC_ARENA_MAX=1`, `MALLOC_MMAP_THRESHOLD_=131072`): with the defaults, each thread (decode
//! workers, the batch producer, LibTorch's) gets its own arena and freed large blocks raise the
//! threshold, so the peak moved by 4-21 MB from run to run with the number of steps, more than
//! a cache of the decoded 8-bit images (11 MB) adds. With these settings every block of 128 KiB
//! or more (batches, activations, decoded `f32` images) is returned on free, and the peak of the
//! N and 8 N runs differed by -0.14 to +0.03 MB (4 pairs, loaded machine).

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

use image::{ImageBuffer, Rgb};

/// Image side and the two training-set sizes.
const SIDE: usize = 128;
const SMALL: usize = 32;
const LARGE: usize = 8 * SMALL;

/// Writes `count` smooth colour PNGs (`SIDE x SIDE`), each different, into `dir`.
fn write_photos(dir: &Path, count: usize) {
    for i in 0..count {
        let img = ImageBuffer::from_fn(SIDE as u32, SIDE as u32, |x, y| {
            let v = |k: u32| ((x * (k + 1) + y * (i as u32 % 7 + k) + 13 * i as u32) % 256) as u8;
            Rgb([v(0), v(1), v(2)])
        });
        img.save(dir.join(format!("img{i:04}.png"))).unwrap();
    }
}

/// Runs `plateau-train` for one epoch on `n` images of `data` and returns its peak RSS in bytes.
// The child is reaped by `wait4` (which also gives its rusage), not `Child::wait`.
#[allow(clippy::zombie_processes)]
fn peak_rss(data: &Path, n: usize, out: &Path) -> u64 {
    let child = Command::new(env!("CARGO_BIN_EXE_plateau-train"))
        .args(common_flags(data, n, out))
        .env("MALLOC_ARENA_MAX", "1")
        .env("MALLOC_MMAP_THRESHOLD_", "131072")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: waits for our own child and fills the status and usage it is given. (The child's
    // stderr pipe stays open but the child writes little: --quiet.)
    let usage = unsafe {
        assert_eq!(libc::wait4(pid, &mut status, 0, usage.as_mut_ptr()), pid);
        usage.assume_init()
    };
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "plateau-train failed on N = {n}"
    );
    assert!(out.join("metrics.json").exists());
    // Linux reports ru_maxrss in kilobytes.
    usage.ru_maxrss as u64 * 1024
}

fn common_flags(data: &Path, n: usize, out: &Path) -> Vec<String> {
    let flags = format!(
        "--task denoise --data folder:{} --color rgb --image-size {SIDE} --train-size {n} \
         --val-size 4 --test-size 8 --epochs 1 --channels 4 --batch-size 8 --quiet --out {}",
        data.display(),
        out.display()
    );
    flags.split_whitespace().map(String::from).collect()
}

#[test]
fn peak_memory_does_not_grow_with_the_training_set() {
    let dir = common::tmpdir("loader-memory");
    let photos = dir.join("photos");
    std::fs::create_dir_all(&photos).unwrap();
    // About 75% of the files are training files; 400 leave room for 256 of them and the
    // held-out images.
    write_photos(&photos, 400);
    let small = peak_rss(&photos, SMALL, &dir.join("small"));
    let large = peak_rss(&photos, LARGE, &dir.join("large"));
    // Holding the training set in memory costs the large run at least the 8-bit decoded images
    // more (`u8`, 11 MB; the `f32` clean and noisy pairs of the loader before streaming, 8 times
    // that, measured +86 MB), while streaming keeps an index of ~100 bytes per file (22 kB). A
    // quarter of the smallest cache leaves over 10 times the measured noise (0.14 MB) and
    // rejects it.
    let resident = ((LARGE - SMALL) * 3 * SIDE * SIDE) as u64;
    let tolerance = resident / 4;
    let mb = |b: u64| b as f64 / 1e6;
    eprintln!(
        "peak RSS: N = {SMALL}: {:.1} MB, N = {LARGE}: {:.1} MB (tolerance {:.1} MB, a quarter of the {:.1} MB 8-bit cache)",
        mb(small),
        mb(large),
        mb(tolerance),
        mb(resident)
    );
    assert!(
        large < small + tolerance,
        "peak RSS grows with N: {:.1} MB at N = {SMALL}, {:.1} MB at N = {LARGE}",
        mb(small),
        mb(large)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
