//! Connection tracking and per-packet TCP analysis, identical to tshark 4.0's `tcp.analysis.*`.
//!
//! Feed decoded segments in file order to an [`Analyzer`]; each call returns the frame's
//! [`PacketAnalysis`]. The rules follow `shared/reference/wireshark-tcp-analysis.md`; each
//! rule-bearing branch cites its section.

mod analyzer;
mod conversation;
mod flags;
mod flow;
mod judgement;
pub mod seq;
mod sequence;
mod shard;
mod summary;

pub use analyzer::{Analyzer, PacketAnalysis, Retention, RetentionStats, RetireReason, Retired};
pub use conversation::Endpoint;
pub use flags::AnalysisFlags;
pub use judgement::Correction;
pub use shard::{connection_hash, Shard};
pub use summary::{
    CloseSummary, ConnectionSummary, DirectionSummary, EndpointSummary, HandshakeSummary,
    OptionsSummary, RoleBasis, RttSummary,
};
