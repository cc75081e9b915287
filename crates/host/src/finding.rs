//! What the live-host commands conclude. Not the capture diagnosis's `Finding`: there is no
//! frame to point at, the evidence is the kernel's own counters.

use serde::Serialize;
use tcpsleuth_diagnose::Severity;

#[derive(Debug, Clone, Serialize)]
pub struct HostFinding {
    /// A finding id of docs/findings.md: the capture vocabulary where it fits
    /// (`zero_window.not_reading`), else one of the host ids (`send_buffer.limited`, `host.*`).
    pub id: &'static str,
    pub severity: Severity,
    /// Who is to blame, in this host's terms: "local application", "peer", "network",
    /// "host settings", "capture".
    pub actor: &'static str,
    pub confidence: f32,
    /// The socket it is about, `LOCAL -> PEER`, when it is about one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub socket: Option<String>,
    pub summary: String,
    pub evidence: Vec<String>,
    pub next_steps: Vec<String>,
}

/// Ids of the host commands that the capture vocabulary has no word for.
pub mod ids {
    pub const SEND_BUFFER_LIMITED: &str = "send_buffer.limited";
    pub const HOST_BUFFER_MAX: &str = "host.buffer_max_low";
    pub const HOST_RETRIES2: &str = "host.retries2_long";
    pub const HOST_KEEPALIVE: &str = "host.keepalive_late";
    pub const HOST_TCP_OPTION_OFF: &str = "host.tcp_option_off";
    pub const HOST_OFFLOAD: &str = "host.offload_on";
}

impl HostFinding {
    pub fn severity_rank(&self) -> u8 {
        match self.severity {
            Severity::Failure => 0,
            Severity::Degraded => 1,
            Severity::Info => 2,
        }
    }
}

/// Sorted most severe first, then most certain.
pub fn sort(findings: &mut [HostFinding]) {
    findings.sort_by(|a, b| {
        a.severity_rank()
            .cmp(&b.severity_rank())
            .then(b.confidence.total_cmp(&a.confidence))
    });
}
