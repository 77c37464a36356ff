//! Timing command for one draw of the largest paper case (`d = 10, n = 10000, N = 16384`):
//!
//! ```text
//! cargo run --release -p plateau-theory --example one_draw -- [d n sigma N]
//! ```
//!
//! Prints the time of the Bartlett sample plus eigendecomposition, of the 5001-iterate
//! gradient-descent path, and the peak resident memory.

use std::time::Instant;

use faer::Par;
use plateau_theory::sample::bartlett_spectrum;
use plateau_theory::{Setup, StepSize};
use rand::SeedableRng;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let get = |i: usize, default: &str| args.get(i).cloned().unwrap_or_else(|| default.to_string());
    let setup = Setup::new(
        get(0, "10").parse().expect("d"),
        get(1, "10000").parse().expect("n"),
        get(2, "0.1").parse().expect("sigma"),
    )
    .expect("valid setup");
    let n_train: usize = get(3, "16384").parse().expect("N");
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    let t0 = Instant::now();
    let spectrum = bartlett_spectrum(&setup, n_train, &mut rng, Par::Seq).expect("valid draw");
    let t_spec = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    let path = spectrum.gd_risk_path(StepSize::Paper.eta(&setup, n_train), 5000, Par::Seq);
    let t_path = t1.elapsed().as_secs_f64();
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let hwm = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .unwrap_or("VmHWM: ?");
    println!(
        "d={} n={} N={n_train}: sample+eig {t_spec:.1} s, path {t_path:.2} s, min risk {:.6}, {hwm}",
        setup.d(),
        setup.n(),
        path.iter().cloned().fold(f64::INFINITY, f64::min)
    );
}
