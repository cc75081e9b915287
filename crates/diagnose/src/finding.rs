//! What a diagnosis says: findings with their actor, confidence, evidence and advice.

use std::fmt;

use serde::Serialize;

/// The finding ids of `shared/findings.md`. They are public API: never rename one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum FindingId {
    #[serde(rename = "handshake.refused")]
    HandshakeRefused,
    #[serde(rename = "handshake.no_response")]
    HandshakeNoResponse,
    #[serde(rename = "handshake.syn_retransmitted")]
    HandshakeSynRetransmitted,
    #[serde(rename = "reset.abort")]
    ResetAbort,
    #[serde(rename = "reset.after_retransmissions")]
    ResetAfterRetransmissions,
    #[serde(rename = "reset.injected")]
    ResetInjected,
    #[serde(rename = "reset.stale_syn")]
    ResetStaleSyn,
    #[serde(rename = "stall.retransmission_loop")]
    StallRetransmissionLoop,
    #[serde(rename = "loss.retransmissions")]
    LossRetransmissions,
    #[serde(rename = "loss.segment_rejected")]
    LossSegmentRejected,
    #[serde(rename = "retransmission.spurious_delayed_ack")]
    SpuriousDelayedAck,
    #[serde(rename = "retransmission.spurious_rto")]
    SpuriousRto,
    #[serde(rename = "reordering")]
    Reordering,
    #[serde(rename = "zero_window.slow_reader")]
    ZeroWindowSlowReader,
    #[serde(rename = "zero_window.not_reading")]
    ZeroWindowNotReading,
    #[serde(rename = "receive_window.limited")]
    ReceiveWindowLimited,
    #[serde(rename = "capture.missed_packets")]
    CaptureMissedPackets,
    #[serde(rename = "capture.offload")]
    CaptureOffload,
}

impl FindingId {
    pub const ALL: [FindingId; 18] = [
        FindingId::HandshakeRefused,
        FindingId::HandshakeNoResponse,
        FindingId::HandshakeSynRetransmitted,
        FindingId::ResetAbort,
        FindingId::ResetAfterRetransmissions,
        FindingId::ResetInjected,
        FindingId::ResetStaleSyn,
        FindingId::StallRetransmissionLoop,
        FindingId::LossRetransmissions,
        FindingId::LossSegmentRejected,
        FindingId::SpuriousDelayedAck,
        FindingId::SpuriousRto,
        FindingId::Reordering,
        FindingId::ZeroWindowSlowReader,
        FindingId::ZeroWindowNotReading,
        FindingId::ReceiveWindowLimited,
        FindingId::CaptureMissedPackets,
        FindingId::CaptureOffload,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FindingId::HandshakeRefused => "handshake.refused",
            FindingId::HandshakeNoResponse => "handshake.no_response",
            FindingId::HandshakeSynRetransmitted => "handshake.syn_retransmitted",
            FindingId::ResetAbort => "reset.abort",
            FindingId::ResetAfterRetransmissions => "reset.after_retransmissions",
            FindingId::ResetInjected => "reset.injected",
            FindingId::ResetStaleSyn => "reset.stale_syn",
            FindingId::StallRetransmissionLoop => "stall.retransmission_loop",
            FindingId::LossRetransmissions => "loss.retransmissions",
            FindingId::LossSegmentRejected => "loss.segment_rejected",
            FindingId::SpuriousDelayedAck => "retransmission.spurious_delayed_ack",
            FindingId::SpuriousRto => "retransmission.spurious_rto",
            FindingId::Reordering => "reordering",
            FindingId::ZeroWindowSlowReader => "zero_window.slow_reader",
            FindingId::ZeroWindowNotReading => "zero_window.not_reading",
            FindingId::ReceiveWindowLimited => "receive_window.limited",
            FindingId::CaptureMissedPackets => "capture.missed_packets",
            FindingId::CaptureOffload => "capture.offload",
        }
    }

    pub fn from_name(name: &str) -> Option<FindingId> {
        FindingId::ALL.into_iter().find(|id| id.as_str() == name)
    }
}

impl fmt::Display for FindingId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who a finding blames (shared/findings.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Actor {
    Client,
    Server,
    Middlebox,
    Network,
    Capture,
}

impl Actor {
    pub fn as_str(self) -> &'static str {
        match self {
            Actor::Client => "client",
            Actor::Server => "server",
            Actor::Middlebox => "middlebox",
            Actor::Network => "network",
            Actor::Capture => "capture",
        }
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How much a finding matters to the application, most severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The connection failed, was reset or hung.
    Failure,
    /// The connection worked, slower or less reliably than it should.
    Degraded,
    /// Nothing the application noticed: a fact about the capture or a harmless close.
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Failure => "failure",
            Severity::Degraded => "degraded",
            Severity::Info => "info",
        }
    }
}

/// One step of a finding's timeline. `time` is seconds since the capture's first frame, as
/// Wireshark's `frame.time_relative`.
#[derive(Debug, Clone, Serialize)]
pub struct TimelineEntry {
    /// The first frame of the step (the only one, when `last_frame` is absent).
    pub frame: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_frame: Option<u64>,
    pub time: f64,
    pub text: String,
}

/// One diagnosed cause.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub id: FindingId,
    pub actor: Actor,
    pub severity: Severity,
    /// 0..1: how sure the rule is that this finding, with this actor, holds.
    pub confidence: f64,
    /// Frame numbers (Wireshark's) that prove it, ascending.
    pub frames: Vec<u64>,
    /// One sentence.
    pub summary: String,
    /// Plain-language reasoning from the evidence to the conclusion.
    pub explanation: String,
    pub timeline: Vec<TimelineEntry>,
    /// A Wireshark display filter that shows the evidence.
    pub display_filter: String,
    pub next_steps: Vec<String>,
    /// The endpoint whose data, RST or window the finding concerns, when that is not the
    /// actor (the claimed sender of an injected RST, the sender of stalled data).
    #[serde(skip)]
    pub about: Option<Actor>,
    /// The finding's packets came before the connection was established (a RST to a SYN).
    #[serde(skip)]
    pub in_handshake: bool,
}
