//! Scaling-law fits (work in progress).
