//! Numbers with their 95% intervals, shared by the plans and the capacity analysis: the
//! [`Estimate`] every report prints, how its intervals were obtained ([`BootstrapSummary`]),
//! and how a training-set size is written for people ([`fmt_n`]).

use serde::{Deserialize, Serialize};

use crate::fit::bootstrap::{BootstrapSamples, Method};
use crate::fit::identified::{self, Unidentified};
use crate::fit::nullable;

/// A number with its 95% interval; infinite ends (open intervals) serialise as `null`, which
/// reads back as NaN. A number the data do not identify ([`crate::fit::identified`]) keeps its
/// raw value and serialises `"identified": false` with the `reason` beside it; the text prints
/// `not identified (reason)` instead of it.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
pub struct Estimate {
    /// Point estimate (from the fit itself).
    #[serde(deserialize_with = "nullable::f64")]
    pub value: f64,
    /// 95% bootstrap percentile interval (`[null, null]` without bootstrap).
    #[serde(deserialize_with = "nullable::pair")]
    pub ci95: [f64; 2],
    /// Why the data do not identify it (`None`: identified).
    #[serde(skip)]
    pub unidentified: Option<Unidentified>,
}

impl Estimate {
    /// An identified estimate.
    pub fn new(value: f64, ci95: [f64; 2]) -> Self {
        Estimate {
            value,
            ci95,
            unidentified: None,
        }
    }

    /// The same estimate, not identified for `why` unless already flagged.
    #[must_use]
    pub fn flag(mut self, why: Option<Unidentified>) -> Self {
        self.unidentified = self.unidentified.or(why);
        self
    }

    /// Flags a derived size by [`identified::size`].
    #[must_use]
    pub fn as_size(self) -> Self {
        let why = identified::size(self.value, self.ci95);
        self.flag(why)
    }

    /// Flags a positive quantity whose interval is too wide ([`identified::wide`]).
    #[must_use]
    pub fn as_positive(self) -> Self {
        let why = identified::wide(self.ci95);
        self.flag(why)
    }

    /// Whether the data identify it.
    pub fn identified(&self) -> bool {
        self.unidentified.is_none()
    }

    /// `value (95% interval lo to hi)` with `f`, or `not identified (reason)`.
    pub fn text(&self, f: &dyn Fn(f64) -> String) -> String {
        match &self.unidentified {
            Some(why) => format!("not identified ({why})"),
            None => format!(
                "{} (95% interval {} to {})",
                f(self.value),
                f(self.ci95[0]),
                f(self.ci95[1])
            ),
        }
    }
}

impl Serialize for Estimate {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        let mut st = s.serialize_struct("Estimate", 4)?;
        st.serialize_field("value", &self.value)?;
        st.serialize_field("ci95", &self.ci95)?;
        st.serialize_field("identified", &self.identified())?;
        if let Some(why) = &self.unidentified {
            st.serialize_field("reason", &why.to_string())?;
        }
        st.end()
    }
}

/// How the intervals were obtained.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct BootstrapSummary {
    /// Method used.
    pub method: Method,
    /// Replicates used.
    pub reps: usize,
    /// Replicates that failed.
    pub failed: usize,
    /// Seed.
    pub seed: u64,
}

impl BootstrapSummary {
    /// The summary of the replicates `boot` of a curve's fit drawn with `seed`.
    pub fn of(boot: &BootstrapSamples, seed: u64) -> Self {
        BootstrapSummary {
            method: boot.method,
            reps: boot.params.len(),
            failed: boot.failed,
            seed,
        }
    }
}

/// Formats a training-set size for people (`1.2e5`, `3400`), `never` when infinite.
pub fn fmt_n(n: f64) -> String {
    if !n.is_finite() {
        "no finite N".into()
    } else if n < 1e5 {
        format!("{:.0}", n.ceil())
    } else {
        format!("{n:.2e}")
    }
}
