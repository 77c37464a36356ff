//! Is the Gaussian theory right on real images? The learned linear map (tuned ridge and
//! early-stopped gradient descent, exact in f64) trained on 8 x 8 grey patches of the
//! scikit-image photographs at sigma = 25/255, several seeds per N, against the deterministic
//! equivalents of `DiagonalModel` for the pool's second-moment spectrum, with a control: the
//! same learning on Gaussian images of the same second moment (`theory/gaussian.md` section
//! 4.1). Prints the table (`cargo test -p plateau-experiments --test spectrum_gaussian --
//! --nocapture`).

use clap::Parser;
use plateau_experiments::command::spectrum::{measure, pool, Cli};
use plateau_experiments::sources::skimage_dir;
use plateau_experiments::spectrum::learned::{gaussian_like, learned_linear};
use plateau_experiments::spectrum::predict::{model, risks, Estimator};
use rand::SeedableRng;

/// Seeds (training sets) per N.
const SEEDS: usize = 6;

struct Row {
    n: usize,
    est: Estimator,
    pred: f64,
    /// Mean and standard error over seeds of the learned map's risk, real patches.
    real: (f64, f64),
    /// The same on Gaussian images with the same second moment (the control).
    gauss: (f64, f64),
    floor: f64,
}

impl Row {
    /// (prediction - measured mean) as a fraction of the measured excess over the floor.
    fn fraction(&self, (mean, _): (f64, f64)) -> f64 {
        (self.pred - mean) / (mean - self.floor)
    }
}

fn mean_se(v: &[f64]) -> (f64, f64) {
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (v.len() - 1) as f64;
    (mean, (var / v.len() as f64).sqrt())
}

fn table() -> Vec<Row> {
    assert!(
        skimage_dir().is_dir(),
        "{} is missing: run `make bootstrap` (scripts/bootstrap-skimage.sh)",
        skimage_dir().display()
    );
    let sigma = 25.0 / 255.0;
    let cli = Cli::try_parse_from([
        "plateau spectrum",
        "--data",
        "skimage",
        "--image-size",
        "8",
        "--noise-std",
        &sigma.to_string(),
        "--max-images",
        "10000",
        "--train-sizes",
        "64,256,1024",
        "--measure-linear",
        &SEEDS.to_string(),
    ])
    .unwrap();
    let args = &cli.args;
    let source = pool::PoolSource::new(args).unwrap();
    let moments = pool::moments(&source, args, pool::Which::Pool).unwrap();
    let model = model(&moments.eigenvalues(), sigma).unwrap();
    let measured = measure::measure(args, &source, &moments).unwrap();
    let m_pool = moments.pooled(&vec![1.0; moments.blocks()]);
    let mut rows = Vec::new();
    for &n in &args.train_sizes {
        let pred = risks(&model, n).unwrap();
        let control: Vec<_> = (1..=SEEDS as u64)
            .map(|seed| {
                let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1000 + seed);
                let x = gaussian_like(&m_pool, n, &mut rng);
                learned_linear(&x, sigma, &m_pool, &mut rng)
            })
            .collect();
        for (k, est) in [(1, Estimator::RidgeTuned), (2, Estimator::GdEarlyStopped)] {
            let real: Vec<f64> = measured
                .iter()
                .filter(|m| m.n_train == n && m.estimator == est)
                .map(|m| m.mse)
                .collect();
            assert_eq!(real.len(), SEEDS);
            let gauss: Vec<f64> = control
                .iter()
                .map(|l| if k == 1 { l.ridge } else { l.gd })
                .collect();
            rows.push(Row {
                n,
                est,
                pred: pred[k],
                real: mean_se(&real),
                gauss: mean_se(&gauss),
                floor: pred[0],
            });
        }
    }
    rows
}

#[test]
fn learned_linear_map_on_photographs_against_the_gaussian_prediction() {
    let rows = table();
    println!(
        "N     estimator         floor       predicted   gaussian (s.e.)       real (s.e.)           \
         (pred-gauss)/excess (pred-real)/excess"
    );
    for r in &rows {
        println!(
            "{:<5} {:<17} {:.4e}  {:.4e}  {:.4e} ({:.1e})  {:.4e} ({:.1e})  {:+.3}              {:+.3}",
            r.n,
            r.est.name(),
            r.floor,
            r.pred,
            r.gauss.0,
            r.gauss.1,
            r.real.0,
            r.real.1,
            r.fraction(r.gauss),
            r.fraction(r.real),
        );
    }
    for r in &rows {
        // Every learned map is above the best linear map (the floor is exact for any
        // distribution with this second moment).
        assert!(r.real.0 > r.floor, "N = {}: measured below the floor", r.n);
    }
}
