//! Reading back floats that JSON wrote as `null`: serde_json writes a NaN or an infinite `f64`
//! as `null` (an interval that does not exist, a size never reached), which `f64` itself does
//! not accept. With `#[serde(deserialize_with = "crate::fit::nullable::f64")]` (or `pair`) such
//! a field reads `null` back as NaN, so the report types round-trip.

use serde::{Deserialize, Deserializer};

/// An `f64` that may be `null` (read as NaN).
///
/// # Errors
/// Anything but a number or `null`.
pub fn f64<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// An `[f64; 2]` whose ends may be `null` (read as NaN).
///
/// # Errors
/// Anything but two numbers or `null`s.
pub fn pair<'de, D: Deserializer<'de>>(d: D) -> Result<[f64; 2], D::Error> {
    let [lo, hi] = <[Option<f64>; 2]>::deserialize(d)?;
    Ok([lo.unwrap_or(f64::NAN), hi.unwrap_or(f64::NAN)])
}
