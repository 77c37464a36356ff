//! One module per `plateau` subcommand; each exposes `Args` (clap) and `run`. `train` and
//! `bench-train` are the training binary's, run through [`external`].

pub mod curve_args;
pub mod external;
pub mod fit;
pub mod joint_args;
pub mod path;
pub mod plan;
pub mod reproduce;
pub mod scaling;
pub mod spectrum_run;
pub mod sweep;
pub mod theory;
pub mod validate;

/// The model flags shared by `plateau theory` and `plateau path`.
#[derive(Debug, clap::Args)]
pub struct ModelArgs {
    /// Subspace dimension d (>= 1).
    #[arg(long)]
    pub d: usize,
    /// Ambient dimension n (>= d).
    #[arg(long)]
    pub n: usize,
    /// Noise standard deviation sigma (finite, >= 0).
    #[arg(long, allow_negative_numbers = true)]
    pub sigma: f64,
}

/// The flags `plateau theory` and `plateau path` share beyond the model and the training-set
/// sizes: gradient descent, the spectrum engine, the analytic alternative, where the CSV goes,
/// and whether progress is shown.
#[derive(Debug, clap::Args)]
pub struct CommonArgs {
    /// Last gradient-descent iteration k, at most 10^9 (`theory`: the largest considered for
    /// early stopping, every iteration of every draw is evaluated; `path`: one CSV row, about 30
    /// bytes, per iteration, refused up front when the path would not fit in memory; the paper
    /// uses 5000).
    #[arg(long, default_value_t = plateau_theory::montecarlo::DEFAULT_ITERS)]
    pub iters: usize,
    /// Fixed gradient-descent step eta [default: the paper's rule].
    #[arg(long, allow_negative_numbers = true)]
    pub step: Option<f64>,
    /// How each draw's spectrum is computed (`path`: with `--method spectral`): structured (d
    /// secular rank-one updates, O(d^2 K^2) flops and O(d K) memory, K = min(n, N)), dense (one
    /// K x K eigendecomposition, the referee) or auto (the smaller estimated cost). All three
    /// see the same draws for a seed.
    #[arg(long, default_value = "auto")]
    pub engine: plateau_theory::engine::Engine,
    /// Print the analytic prediction (deterministic equivalents) of the expected risk instead of
    /// drawing (`path`: of every iterate; `theory`: `runs` is 0, `std` empty, and `mean` is
    /// `inf` where the expectation is infinite, least squares at N in {n-1, n, n+1}).
    #[arg(long)]
    pub analytic: bool,
    /// Write the CSV here instead of standard output (`-`): a regular file is replaced
    /// atomically keeping its mode (new files: 0666 minus the umask); a FIFO, device or link to
    /// one is written through.
    #[arg(long)]
    pub out: Option<std::path::PathBuf>,
    /// No progress on standard error (by default a bar on a terminal, else a line every 10 s).
    #[arg(long)]
    pub quiet: bool,
}

impl ModelArgs {
    /// The validated setup.
    ///
    /// # Errors
    /// When `d == 0`, `d > n` or `sigma` is negative or not finite.
    pub fn setup(&self) -> Result<plateau_theory::Setup, plateau_theory::TheoryError> {
        plateau_theory::Setup::new(self.d, self.n, self.sigma)
    }
}
