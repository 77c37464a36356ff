//! Criterion benchmarks of one Monte Carlo draw's pieces at the paper's `d = 10, n = 1000`:
//! the Bartlett sample with its dense eigendecomposition, the structured draw (null-Wishart
//! eigenvalues and `d` secular updates), and the 5001-iterate gradient-descent path.
//! The whole-grid timing is `cargo run --release -p plateau-theory --example paper_grid`.

use criterion::{criterion_group, criterion_main, Criterion};
use faer::Par;
use plateau_theory::engine::SpectralDraw;
use plateau_theory::sample::bartlett_spectrum;
use plateau_theory::{Setup, StepSize};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn engine(c: &mut Criterion) {
    let setup = Setup::new(10, 1000, 0.1).unwrap();
    let mut group = c.benchmark_group("d10_n1000");
    group.sample_size(10);
    for n_train in [256usize, 16384] {
        group.bench_function(format!("bartlett_spectrum_N{n_train}"), |b| {
            let mut rng = ChaCha8Rng::seed_from_u64(0);
            b.iter(|| bartlett_spectrum(&setup, n_train, &mut rng, Par::Seq).unwrap())
        });
        group.bench_function(format!("structured_spectrum_N{n_train}"), |b| {
            let mut rng = ChaCha8Rng::seed_from_u64(0);
            b.iter(|| {
                SpectralDraw::draw(&setup, n_train, &mut rng)
                    .unwrap()
                    .structured(Par::Seq)
            })
        });
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let spectrum = bartlett_spectrum(&setup, n_train, &mut rng, Par::Seq).unwrap();
        let eta = StepSize::Paper.eta(&setup, n_train);
        group.bench_function(format!("gd_path_5000_N{n_train}"), |b| {
            b.iter(|| spectrum.gd_risk_path(eta, 5000, Par::Seq))
        });
    }
    group.finish();
}

criterion_group!(benches, engine);
criterion_main!(benches);
