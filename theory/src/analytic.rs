//! Deterministic equivalents for the expected risk (work in progress).
