//! What the unit tests share: seeded random image batches.

use tch::{Device, Kind, Tensor};

/// A `[B, C, H, W]` `f32` CPU batch of independent standard normal values, drawn from `tch`'s
/// global generator after seeding it with `seed`.
pub fn randn(seed: i64, shape: [i64; 4]) -> Tensor {
    tch::manual_seed(seed);
    Tensor::randn(shape, (Kind::Float, Device::Cpu))
}

/// The same with values uniform on `[0, 1)`.
pub fn rand(seed: i64, shape: [i64; 4]) -> Tensor {
    tch::manual_seed(seed);
    Tensor::rand(shape, (Kind::Float, Device::Cpu))
}
