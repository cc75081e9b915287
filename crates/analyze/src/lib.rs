//! Connection tracking and per-packet TCP analysis.
