//! One module per `plateau` subcommand; each exposes `Args` (clap) and `run`. `train` and
//! `bench-train` are the training binary's, run through [`external`].

pub mod external;
pub mod fit;
pub mod path;
pub mod plan;
pub mod reproduce;
pub mod scaling;
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

impl ModelArgs {
    /// The validated setup.
    ///
    /// # Errors
    /// When `d == 0`, `d > n` or `sigma` is negative or not finite.
    pub fn setup(&self) -> Result<plateau_theory::Setup, plateau_theory::TheoryError> {
        plateau_theory::Setup::new(self.d, self.n, self.sigma)
    }
}
