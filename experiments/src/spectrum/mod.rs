//! The second-moment spectrum of a data source's training images, and what the linear Gaussian
//! theory predicts from it (`plateau spectrum`, `theory/gaussian.md` section 4).
//!
//! - [`moments`]: `sum_i x_i x_i^T` of the pool's images, one sum per bootstrap block (a block
//!   holds whole files or photographs, never part of one), the pooled matrix, its eigenvalues and
//!   the bootstrap over blocks.
//! - [`predict`]: the LMMSE floor, tuned ridge and early-stopped gradient descent of
//!   `plateau_theory::gaussian::DiagonalModel` for the spectrum, with bands from the bootstrap,
//!   and a power law fitted to the spectrum.
//! - [`learned`]: the learned linear map itself (tuned ridge and the whole gradient-descent
//!   path from one eigendecomposition, exact in `f64`), trained on real images, for the check of
//!   the Gaussian theory on non-Gaussian data.
//!
//! The matrix is the **uncentred** second moment `E[x x^T]`: plateau's linear model `W y` has no
//! intercept, and on `y = x + sigma z` its risk depends on the clean images only through
//! `E[x x^T]` (`theory/gaussian.md` section 4). Nothing here uses LibTorch.

pub mod learned;
pub mod moments;
pub mod predict;
