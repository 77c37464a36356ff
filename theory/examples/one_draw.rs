//! Timing command for one draw of the largest paper case (`d = 10, n = 10000, N = 16384`):
//!
//! ```text
//! cargo run --release -p plateau-theory --example one_draw -- [d n sigma N engine iters]
//! ```
//!
//! `engine` is `structured` (default), `dense` or `auto`; the draw's linear algebra runs on the
//! rayon pool (`RAYON_NUM_THREADS=1` for one core). Prints the time of drawing the ingredients
//! (null-Wishart eigenvalues included), of the decomposition, of the `iters`-iterate (default
//! 5000) gradient-descent path, the four estimators' risks and the peak resident memory.

mod common;

use std::time::Instant;

use faer::Par;
use plateau_theory::engine::{Engine, SpectralDraw};
use plateau_theory::spectrum::early_stopped;
use plateau_theory::StepSize;
use rand::SeedableRng;

use common::Positional;

fn main() {
    let args = Positional::from_env();
    let setup = args.setup(["10", "10000", "0.1"]);
    let n_train: usize = args.get(3, "16384", "N");
    let engine: Engine = args.get(4, "structured", "engine");
    let iters: usize = args.get(5, "5000", "iters");
    let par = Par::rayon(0);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    let t0 = Instant::now();
    let draw = SpectralDraw::draw(&setup, n_train, &mut rng).expect("valid draw");
    let t_draw = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    let spectrum = match engine.resolve(&setup, n_train) {
        Engine::Dense => draw.dense(par),
        _ => draw.structured(par),
    };
    let t_eig = t1.elapsed().as_secs_f64();
    let t2 = Instant::now();
    let path = spectrum.gd_risk_path(StepSize::Paper.eta(&setup, n_train), iters, par);
    let t_path = t2.elapsed().as_secs_f64();
    let (gd, k_opt) = early_stopped(&path);
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let hwm = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .unwrap_or("VmHWM: ?");
    println!(
        "d={} n={} sigma={} N={n_train} engine={} threads={}: draw {t_draw:.2} s, decomposition {t_eig:.2} s, path {t_path:.2} s, total {:.2} s; pca {:.6} ls {:.6} gd {gd:.6} (k={k_opt}) floor {:.6}; {hwm}",
        setup.d(),
        setup.n(),
        setup.sigma(),
        engine.resolve(&setup, n_train),
        rayon::current_num_threads(),
        t_draw + t_eig + t_path,
        spectrum.pca_risk(),
        spectrum.least_squares_risk(),
        setup.floor(),
    );
}
