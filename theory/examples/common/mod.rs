//! What the timing examples share: positional command-line arguments with defaults.

use std::fmt::Debug;
use std::str::FromStr;

use plateau_theory::Setup;

/// The positional command-line arguments (after the program name).
pub struct Positional(pub Vec<String>);

impl Positional {
    /// This process's arguments.
    pub fn from_env() -> Self {
        Positional(std::env::args().skip(1).collect())
    }

    /// Argument `i` parsed as `T`, or `default` when there are fewer arguments; panics naming
    /// `what` when it does not parse.
    pub fn get<T: FromStr>(&self, i: usize, default: &str, what: &str) -> T
    where
        T::Err: Debug,
    {
        let s = self.0.get(i).map_or(default, String::as_str);
        s.parse().unwrap_or_else(|e| panic!("{what}: {e:?}"))
    }

    /// The setup of arguments 0, 1 and 2 (`d n sigma`), defaulting to `defaults`.
    pub fn setup(&self, [d, n, sigma]: [&str; 3]) -> Setup {
        Setup::new(
            self.get(0, d, "d"),
            self.get(1, n, "n"),
            self.get(2, sigma, "sigma"),
        )
        .expect("valid setup")
    }
}
