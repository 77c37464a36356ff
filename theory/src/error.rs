//! Errors of the theory crate.

/// What can go wrong when asking the theory engine a question.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum TheoryError {
    /// The model parameters are out of range.
    #[error("invalid setup: {0}")]
    InvalidSetup(String),
    /// Another argument (training-set size, number of runs, step size, ...) is out of range.
    #[error("{0}")]
    InvalidArgument(String),
    /// Matrices supplied by the caller do not fit together.
    #[error("shape mismatch: {0}")]
    Shape(String),
}
