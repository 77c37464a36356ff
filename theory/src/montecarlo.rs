//! Monte Carlo over independent training sets, in parallel and reproducible.
//!
//! Draw `j` at training-set size `N` uses the ChaCha8 stream `(N << 32) | j` of the generator
//! keyed by `(seed, d, n, sigma)` (see [`draw_rng`]): its value depends on `(seed, setup, N, j)`
//! only, not on the other sizes asked for nor on the number of threads, and two setups never
//! share draws (so their errors are independent, which pooled statistics over setups assume). Every draw runs its linear algebra sequentially (`Par::Seq`) and
//! the draws are spread over the rayon pool, so the output is bit-identical for any pool size.

use faer::Par;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::engine::Engine;
use crate::spectrum::Spectrum;
use crate::{Estimator, Setup, StepSize, TheoryError};

/// Largest iteration considered by `gd_early_stopped`, as in the paper.
pub const DEFAULT_ITERS: usize = 5000;

/// Bound on the gradient-descent iterations of `theory --iters` and `path --iters`: 10^9.
/// Every iteration is evaluated (`O(K min(d^2, K / 2))` flops each, `K = min(n, N)`) and `path`
/// writes one CSV row per iteration (about 30 bytes, so 10^9 rows are ~30 GB); the paper uses
/// 5000. The bound also keeps `iters + 1` and every count derived from it far from overflow.
pub const MAX_ITERS: usize = 1_000_000_000;

/// Bytes that the results of one draw hold until the summaries are made: its task entry and
/// [`Draw`] (with its vector of `(estimator, risk, k_opt)`) per estimator.
fn draw_result_bytes(estimators: usize) -> usize {
    16 + std::mem::size_of::<Draw>()
        + estimators * std::mem::size_of::<(Estimator, f64, Option<usize>)>()
}

/// Checks `iters` against [`MAX_ITERS`].
///
/// # Errors
/// [`TheoryError::InvalidArgument`] naming the bound.
pub fn check_iters(iters: usize) -> Result<(), TheoryError> {
    if iters > MAX_ITERS {
        return Err(TheoryError::InvalidArgument(format!(
            "--iters {iters} is above the bound {MAX_ITERS} (every iteration is evaluated and \
             the paper uses 5000)"
        )));
    }
    Ok(())
}

/// `bytes` as GiB for messages.
pub fn gib(bytes: usize) -> f64 {
    bytes as f64 / (1u64 << 30) as f64
}

/// Default bound on the memory that concurrent draws may hold together: 16 GiB, which leaves
/// room on a 24 GiB machine.
pub const DEFAULT_MEMORY_BUDGET: usize = 16 << 30;

/// Estimated peak bytes of one draw at size `n_train` with `engine`: the decomposition
/// ([`Engine::memory_bytes`]: `O(d K)` structured, about `6 K^2` doubles dense, measured 5.2 GB
/// at `K = 10000`) and the gradient-descent path kernels, `K = min(n, N)`.
/// Also the `d x d` matrix of a spectral filter's risk ([`crate::spectrum::Spectrum::filter_risk`],
/// least squares: 80 GB at `d = 100000`, which faer failed to allocate). Saturates at
/// `usize::MAX` instead of overflowing.
pub fn draw_memory_bytes(setup: &Setup, n_train: usize, engine: Engine) -> usize {
    let k = setup.n().min(n_train);
    let d2 = setup.d().saturating_mul(setup.d());
    let paths = k
        .saturating_mul(d2.min(k).saturating_add(256))
        .saturating_mul(8);
    let filter = d2.saturating_mul(8);
    engine
        .memory_bytes(setup, n_train)
        .saturating_add(paths)
        .saturating_add(filter)
}

/// Physical memory of this machine in bytes (`MemTotal` of `/proc/meminfo`), if known.
pub fn machine_memory_bytes() -> Option<usize> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: usize = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// A Monte Carlo experiment: `runs` draws at each training-set size.
#[derive(Clone, Debug)]
pub struct MonteCarlo {
    setup: Setup,
    train_sizes: Vec<usize>,
    runs: usize,
    seed: u64,
    step: StepSize,
    iters: usize,
    estimators: Vec<Estimator>,
    memory_budget: usize,
    engine: Engine,
    noise_averaged: bool,
}

/// The risks of one draw.
#[derive(Clone, Debug, PartialEq)]
pub struct Draw {
    /// Training-set size `N`.
    pub n_train: usize,
    /// Index of the draw at this size, `0..runs`.
    pub draw: usize,
    /// `(estimator, risk, k_opt)` for each requested estimator, in request order; `k_opt` is set
    /// for gradient descent only.
    pub risks: Vec<(Estimator, f64, Option<usize>)>,
}

/// Mean and spread of one estimator's risk at one training-set size.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    /// Training-set size `N`.
    pub n_train: usize,
    /// The estimator.
    pub estimator: Estimator,
    /// Mean risk over the draws.
    pub mean: f64,
    /// Sample standard deviation (`runs - 1` in the denominator); `None` for one draw.
    pub std: Option<f64>,
    /// Standard error of the mean, `std / sqrt(runs)`; `None` for one draw.
    pub stderr: Option<f64>,
    /// Number of draws.
    pub runs: usize,
    /// Mean early-stopping iteration (gradient descent only).
    pub k_opt_mean: Option<f64>,
}

impl MonteCarlo {
    /// `runs` draws at each of `train_sizes`, all four estimators, the paper's step size and
    /// `k <= 5000`.
    pub fn new(setup: Setup, train_sizes: Vec<usize>, runs: usize, seed: u64) -> Self {
        Self {
            setup,
            train_sizes,
            runs,
            seed,
            step: StepSize::Paper,
            iters: DEFAULT_ITERS,
            estimators: Estimator::ALL.to_vec(),
            memory_budget: DEFAULT_MEMORY_BUDGET,
            engine: Engine::Auto,
            noise_averaged: false,
        }
    }

    /// Bounds the memory that concurrent draws may hold together (bytes): fewer draws run at once
    /// when the largest would not fit `threads` times. At least one always runs.
    pub fn memory_budget(mut self, bytes: usize) -> Self {
        self.memory_budget = bytes;
        self
    }

    /// Chooses how each draw's spectrum is computed (default [`Engine::Auto`]). The draws
    /// themselves do not depend on the engine, so `Structured` and `Dense` see the same
    /// training sets.
    pub fn engine(mut self, engine: Engine) -> Self {
        self.engine = engine;
        self
    }

    /// Reports for least squares the risk averaged over the label noise given each draw's
    /// spectrum ([`Spectrum::least_squares_risk_noise_averaged`]) instead of the draw's own risk
    /// (default `false`). The mean estimates the same expected risk with a smaller standard
    /// error (variance 35 to 1900 times smaller at `d = 10, n = 1000` away from `N = n`, 2 to 4
    /// times near it); `std` is then the spread of that conditional mean, not of the risk.
    pub fn noise_averaged(mut self, yes: bool) -> Self {
        self.noise_averaged = yes;
        self
    }

    /// Restricts the estimators computed (and reported, in this order).
    pub fn estimators(mut self, estimators: Vec<Estimator>) -> Self {
        self.estimators = estimators;
        self
    }

    /// Sets the gradient-descent step.
    pub fn step(mut self, step: StepSize) -> Self {
        self.step = step;
        self
    }

    /// Sets the largest iteration considered for early stopping.
    pub fn iters(mut self, iters: usize) -> Self {
        self.iters = iters;
        self
    }

    /// The model.
    pub fn setup(&self) -> &Setup {
        &self.setup
    }

    /// Checks the configuration without running it.
    ///
    /// # Errors
    /// [`TheoryError::InvalidArgument`] for no sizes, a size of 0, `runs == 0`, no estimator,
    /// a step that is not finite and positive, or a draw whose estimated memory exceeds the
    /// machine's.
    pub fn validate(&self) -> Result<(), TheoryError> {
        let bad = |m: &str| Err(TheoryError::InvalidArgument(m.into()));
        if self.train_sizes.is_empty() {
            return bad("at least one training-set size is needed");
        }
        for &n in &self.train_sizes {
            crate::setup::check_train_size(n)?;
        }
        if let Some(n) = first_duplicate(&self.train_sizes) {
            // Summaries are keyed by N: a repeated N would pool the same draws twice.
            return Err(TheoryError::InvalidArgument(format!(
                "training-set size N = {n} is listed twice"
            )));
        }
        if self.runs == 0 {
            return bad("runs must be at least 1");
        }
        if self.estimators.is_empty() {
            return bad("at least one estimator is needed");
        }
        self.step.validate()?;
        check_iters(self.iters)?;
        if let Some(total) = machine_memory_bytes() {
            let draws = self.train_sizes.len().saturating_mul(self.runs);
            let results = draws.saturating_mul(draw_result_bytes(self.estimators.len()));
            if results > total {
                return Err(TheoryError::InvalidArgument(format!(
                    "{draws} draws ({} sizes x {} runs) hold an estimated {:.1} GiB of results, \
                     more than this machine's {:.1} GiB",
                    self.train_sizes.len(),
                    self.runs,
                    gib(results),
                    gib(total)
                )));
            }
            for &n_train in &self.train_sizes {
                let need = draw_memory_bytes(&self.setup, n_train, self.engine);
                if need > total {
                    return Err(TheoryError::InvalidArgument(format!(
                        "one draw at N = {n_train} with the {} engine needs an estimated {:.1} GiB, more than this machine's {:.1} GiB",
                        self.engine.resolve(&self.setup, n_train),
                        gib(need),
                        gib(total)
                    )));
                }
            }
        }
        Ok(())
    }

    /// Estimated CPU time of the whole experiment (seconds of one core), as a range: `runs`
    /// draws at each size, each by [`Engine::estimated_cpu_seconds`] (within a factor of about
    /// 2), plus, with `gd_early_stopped`, the early-stopping search over [`Self::iters`]
    /// iterations ([`crate::spectrum::search_cpu_seconds`]: from the coarse evaluations alone to
    /// every iterate). Without gradient descent both ends are equal. The wall time is about this
    /// divided by the cores in use.
    pub fn estimated_cpu_seconds(&self) -> [f64; 2] {
        let gd = self.estimators.contains(&Estimator::GdEarlyStopped);
        let mut total = [0.0, 0.0];
        for &n in &self.train_sizes {
            let draw = self.engine.estimated_cpu_seconds(&self.setup, n);
            let search = if gd {
                let rank = self.setup.n().min(n);
                crate::spectrum::search_cpu_seconds(self.setup.d(), rank, self.iters)
            } else {
                [0.0, 0.0]
            };
            for (t, s) in total.iter_mut().zip(search) {
                *t += self.runs as f64 * (draw + s);
            }
        }
        total
    }

    /// The generator of draw `draw` at size `n_train` ([`draw_rng`] of this experiment).
    pub fn rng(&self, n_train: usize, draw: usize) -> ChaCha8Rng {
        draw_rng(self.seed, &self.setup, n_train, draw)
    }

    /// The spectrum of draw `draw` at size `n_train` by this experiment's engine (sequential
    /// linear algebra): what every estimator's risk of that draw is computed from. Cost as the
    /// engine's ([`Engine`]).
    ///
    /// # Errors
    /// [`TheoryError::InvalidArgument`] when `n_train == 0`.
    pub fn spectrum(&self, n_train: usize, draw: usize) -> Result<Spectrum, TheoryError> {
        self.engine
            .spectrum(&self.setup, n_train, &mut self.rng(n_train, draw), Par::Seq)
    }

    /// How many draws may run at once within the memory budget, given the current pool size.
    pub fn concurrency(&self) -> usize {
        let largest = self
            .train_sizes
            .iter()
            .map(|&n| draw_memory_bytes(&self.setup, n, self.engine))
            .max()
            .unwrap_or(1);
        (self.memory_budget / largest.max(1)).clamp(1, rayon::current_num_threads())
    }

    /// Every draw's risks, ordered by size (as given) then draw index. `on_draw` is called once
    /// per finished draw, from any thread.
    pub fn draws(&self, on_draw: impl Fn() + Sync) -> Result<Vec<Draw>, TheoryError> {
        self.validate()?;
        let threads = self.concurrency();
        if threads < rayon::current_num_threads() {
            // Results do not depend on the pool size, so a smaller pool only trades time for memory.
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .map_err(|e| TheoryError::InvalidArgument(format!("cannot start threads: {e}")))?;
            return pool.install(|| self.draws_on_pool(&on_draw));
        }
        self.draws_on_pool(&on_draw)
    }

    fn draws_on_pool(&self, on_draw: &(impl Fn() + Sync)) -> Result<Vec<Draw>, TheoryError> {
        let tasks: Vec<(usize, usize)> = self
            .train_sizes
            .iter()
            .flat_map(|&n| (0..self.runs).map(move |j| (n, j)))
            .collect();
        tasks
            .par_iter()
            .map(|&(n_train, draw)| {
                let result = self.one_draw(n_train, draw);
                on_draw();
                result
            })
            .collect()
    }

    fn one_draw(&self, n_train: usize, draw: usize) -> Result<Draw, TheoryError> {
        let spectrum = self.spectrum(n_train, draw)?;
        let risks = self
            .estimators
            .iter()
            .map(|&e| match e {
                Estimator::Optimal => (e, self.setup.floor(), None),
                Estimator::Pca => (e, spectrum.pca_risk(), None),
                Estimator::LeastSquares if self.noise_averaged => {
                    (e, spectrum.least_squares_risk_noise_averaged(), None)
                }
                Estimator::LeastSquares => (e, spectrum.least_squares_risk(), None),
                Estimator::GdEarlyStopped => {
                    let eta = self.step.eta(&self.setup, n_train);
                    let (risk, k) = spectrum.gd_early_stopped(eta, self.iters, Par::Seq);
                    (e, risk, Some(k))
                }
            })
            .collect();
        Ok(Draw {
            n_train,
            draw,
            risks,
        })
    }

    /// Mean, standard deviation and standard error per `(N, estimator)`, ordered by size then
    /// estimator (as requested).
    pub fn run(&self, on_draw: impl Fn() + Sync) -> Result<Vec<Summary>, TheoryError> {
        let draws = self.draws(on_draw)?;
        Ok(summarise(&draws, &self.train_sizes, &self.estimators))
    }
}

/// The generator of draw `draw` at size `n_train` for `setup` under `seed`: ChaCha8 keyed by the
/// 32 bytes `(seed, d, n, sigma.to_bits())` (little-endian `u64`s), stream `(N << 32) | draw`.
/// Distinct setups have distinct keys, hence independent streams; `draw < 2^32`.
pub fn draw_rng(seed: u64, setup: &Setup, n_train: usize, draw: usize) -> ChaCha8Rng {
    let mut key = [0u8; 32];
    let words = [
        seed,
        setup.d() as u64,
        setup.n() as u64,
        setup.sigma().to_bits(),
    ];
    for (chunk, w) in key.chunks_exact_mut(8).zip(words) {
        chunk.copy_from_slice(&w.to_le_bytes());
    }
    let mut rng = ChaCha8Rng::from_seed(key);
    rng.set_stream(((n_train as u64) << 32) | draw as u64);
    rng
}

/// Aggregates draws into summaries, in the order of `train_sizes` and `estimators`.
pub fn summarise(draws: &[Draw], train_sizes: &[usize], estimators: &[Estimator]) -> Vec<Summary> {
    let mut out = Vec::with_capacity(train_sizes.len() * estimators.len());
    for &n_train in train_sizes {
        let at_size: Vec<&Draw> = draws.iter().filter(|d| d.n_train == n_train).collect();
        for (slot, &estimator) in estimators.iter().enumerate() {
            let risks: Vec<f64> = at_size.iter().map(|d| d.risks[slot].1).collect();
            let ks: Vec<f64> = at_size
                .iter()
                .filter_map(|d| d.risks[slot].2.map(|k| k as f64))
                .collect();
            let (mean, std) = mean_std(&risks);
            out.push(Summary {
                n_train,
                estimator,
                mean,
                std,
                stderr: mean_stderr(&risks).1,
                runs: risks.len(),
                k_opt_mean: (!ks.is_empty()).then(|| mean_std(&ks).0),
            });
        }
    }
    out
}

/// Mean and sample standard deviation (two-pass, `len - 1` denominator; `None` for one value).
pub fn mean_std(xs: &[f64]) -> (f64, Option<f64>) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let std = (xs.len() > 1).then(|| {
        let ss: f64 = xs.iter().map(|x| (x - mean) * (x - mean)).sum();
        (ss / (n - 1.0)).sqrt()
    });
    (mean, std)
}

/// Mean and standard error of the mean, `std / sqrt(len)` ([`mean_std`]; `None` for one value).
pub fn mean_stderr(xs: &[f64]) -> (f64, Option<f64>) {
    let (mean, std) = mean_std(xs);
    (mean, std.map(|s| s / (xs.len() as f64).sqrt()))
}

/// The first value of `sizes` that appears again later, if any (`O(len log len)`).
pub fn first_duplicate(sizes: &[usize]) -> Option<usize> {
    let mut seen = std::collections::BTreeSet::new();
    sizes.iter().copied().find(|&n| !seen.insert(n))
}
