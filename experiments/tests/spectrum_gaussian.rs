//! Is the Gaussian theory right on real images? The learned linear map (tuned ridge and
//! early-stopped gradient descent, exact in f64) trained on 8 x 8 grey patches of the
//! scikit-image photographs at sigma = 25/255, several seeds per N, against the deterministic
//! equivalents of `DiagonalModel` for the pool's second-moment spectrum, with a control: the
//! same learning on Gaussian images of the same second moment (`theory/gaussian.md` section
//! 4.1). Prints the table (`cargo test -p plateau-experiments --test spectrum_gaussian --
//! --nocapture`).

use clap::Parser;
use plateau_experiments::command::spectrum::{measure, pool, Cli};
use plateau_experiments::metrics::mean_stderr;
use plateau_experiments::sources::skimage_dir;
use plateau_experiments::spectrum::predict::{model, risks, Estimator};

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
    let mut rows = Vec::new();
    for &n in &args.train_sizes {
        let pred = risks(&model, n).unwrap();
        for (k, est) in [(1, Estimator::RidgeTuned), (2, Estimator::GdEarlyStopped)] {
            let of = |f: fn(&measure::Measured) -> f64| -> Vec<f64> {
                measured
                    .iter()
                    .filter(|m| m.n_train == n && m.estimator == est)
                    .map(f)
                    .collect()
            };
            let (real, gauss) = (of(|m| m.mse), of(|m| m.mse_gaussian));
            assert_eq!(real.len(), SEEDS);
            rows.push(Row {
                n,
                est,
                pred: pred[k],
                real: mean_stderr(&real),
                gauss: mean_stderr(&gauss),
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
        // The control: on Gaussian images the equivalents hold at this n, within the criterion
        // of section 3 (max(5% of the excess, 3 s.e.)).
        let tol = (0.05 * (r.gauss.0 - r.floor)).max(3.0 * r.gauss.1);
        assert!(
            (r.pred - r.gauss.0).abs() <= tol,
            "N = {} {}: Gaussian control {} vs predicted {} (tolerance {tol})",
            r.n,
            r.est.name(),
            r.gauss.0,
            r.pred
        );
        // The photographs: the documented failure (section 4.1). From N = 256 the prediction
        // is significantly below the learned map's risk (more than 3 s.e.), by less than half
        // of the measured excess.
        if r.n >= 256 {
            assert!(
                r.pred < r.real.0 - 3.0 * r.real.1 && r.fraction(r.real) > -0.5,
                "N = {} {}: predicted {}, measured {} +- {}",
                r.n,
                r.est.name(),
                r.pred,
                r.real.0,
                r.real.1
            );
        }
    }
}
