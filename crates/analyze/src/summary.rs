//! Per-connection summary: roles, handshake, options, volumes, RTT, flags and how it ended.

use std::collections::BTreeMap;

use serde::Serialize;
use tcpsleuth_decode::Segment;

use crate::analyzer::PacketAnalysis;
use crate::conversation::Endpoint;
use crate::flags::AnalysisFlags;

/// RTT samples kept per connection for percentiles. Past this, a deterministic reservoir
/// keeps a uniform sample, so memory per connection stays bounded on long transfers.
const MAX_RTT_SAMPLES: usize = 2048;

#[derive(Debug, Clone, Copy, Default)]
struct SideOptions {
    mss: Option<u16>,
    window_scale: Option<u8>,
    sack_permitted: bool,
    timestamps: bool,
    /// True once this side's SYN or SYN-ACK was seen (the options above come from it).
    seen: bool,
}

#[derive(Debug, Clone, Copy, Default)]
struct DirectionCounters {
    packets: u64,
    frame_bytes: u64,
    payload_bytes: u64,
    retransmitted_bytes: u64,
    flags: [u32; 15],
    first_fin: Option<u64>,
    first_rst: Option<u64>,
    zero_window_since: Option<i64>,
    zero_window_ns: i64,
}

/// Accumulates one connection's summary as its frames stream by. Flow indices (0, 1) are the
/// analyzer's; roles are resolved at the end from the handshake or the ports.
#[derive(Debug, Clone)]
pub struct ConnectionStats {
    stream: u32,
    /// Endpoint of flow 0 and flow 1 (the sender of each flow).
    senders: [Endpoint; 2],
    first_flow: usize,
    syn_sender: Option<usize>,
    syn_ack_sender: Option<usize>,
    syn_frame: Option<u64>,
    syn_ack_frame: Option<u64>,
    options: [SideOptions; 2],
    dir: [DirectionCounters; 2],
    start_ns: i64,
    end_ns: i64,
    handshake_rtt_ns: i64,
    rtt_samples: Vec<i64>,
    rtt_seen: u64,
    rtt_min: Option<i64>,
    rtt_max: Option<i64>,
    completeness: u8,
}

impl ConnectionStats {
    pub fn new(stream: u32, src: Endpoint, dst: Endpoint, time_ns: i64) -> ConnectionStats {
        let first_flow = crate::conversation::flow_index(src, dst);
        let mut senders = [src, dst];
        if first_flow == 1 {
            senders.swap(0, 1);
        }
        ConnectionStats {
            stream,
            senders,
            first_flow,
            syn_sender: None,
            syn_ack_sender: None,
            syn_frame: None,
            syn_ack_frame: None,
            options: [SideOptions::default(); 2],
            dir: [DirectionCounters::default(); 2],
            start_ns: time_ns,
            end_ns: time_ns,
            handshake_rtt_ns: 0,
            rtt_samples: Vec::new(),
            rtt_seen: 0,
            rtt_min: None,
            rtt_max: None,
            completeness: 0,
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub fn record(
        &mut self,
        frame: u64,
        time_ns: i64,
        frame_len: u32,
        seg: &Segment,
        flow: usize,
        analysis: &PacketAnalysis,
        irtt_ns: i64,
    ) {
        let flags = seg.flags;
        self.handshake_rtt_ns = irtt_ns;

        if flags.syn() {
            let (sender, frame_slot) = if flags.ack() {
                (&mut self.syn_ack_sender, &mut self.syn_ack_frame)
            } else {
                (&mut self.syn_sender, &mut self.syn_frame)
            };
            if sender.is_none() {
                *sender = Some(flow);
                *frame_slot = Some(frame);
                self.options[flow] = SideOptions {
                    mss: seg.options.mss,
                    window_scale: seg.options.window_scale,
                    sack_permitted: seg.options.sack_permitted,
                    timestamps: seg.options.timestamps.is_some(),
                    seen: true,
                };
            }
        }

        self.count_frame(time_ns, frame_len, flow);
        let d = &mut self.dir[flow];
        d.payload_bytes += u64::from(seg.payload_len);
        if analysis.flags.is_retransmission() {
            d.retransmitted_bytes += u64::from(seg.payload_len);
        }
        for (i, (bit, _)) in AnalysisFlags::ALL.iter().enumerate() {
            let shown = analysis.flags.has(*bit)
                || (*bit == AnalysisFlags::RETRANSMISSION && analysis.flags.is_retransmission());
            if shown {
                d.flags[i] += 1;
            }
        }
        if flags.fin() && d.first_fin.is_none() {
            d.first_fin = Some(frame);
        }
        if flags.rst() && d.first_rst.is_none() {
            d.first_rst = Some(frame);
        }
        // Time at zero window: from the first zero-window advertisement of this direction to
        // its next nonzero window (RSTs, SYNs and FINs carry no window information here).
        if !flags.rst() && !flags.syn() {
            if seg.window == 0 {
                d.zero_window_since.get_or_insert(time_ns);
            } else if let Some(since) = d.zero_window_since.take() {
                d.zero_window_ns += time_ns.saturating_sub(since).max(0);
            }
        }

        if let Some(rtt) = analysis.ack_rtt_ns {
            self.add_rtt_sample(rtt);
        }
    }

    /// The connection's completeness bits after its latest frame (the per-frame value tshark
    /// shows is the one before the frame, so the summary needs the updated one).
    pub fn set_completeness(&mut self, bits: u8) {
        self.completeness = bits;
    }

    /// Both sides sent a FIN, or either sent a RST: no more data can flow.
    pub(crate) fn closed(&self) -> bool {
        self.dir.iter().all(|d| d.first_fin.is_some())
            || self.dir.iter().any(|d| d.first_rst.is_some())
    }

    pub(crate) fn stream(&self) -> u32 {
        self.stream
    }

    /// The sender of flow 0 and of flow 1.
    pub(crate) fn senders(&self) -> [Endpoint; 2] {
        self.senders
    }

    /// Time of the latest frame.
    pub(crate) fn last_ns(&self) -> i64 {
        self.end_ns
    }

    /// Counts a frame in this connection's volumes and time span.
    pub fn count_frame(&mut self, time_ns: i64, frame_len: u32, flow: usize) {
        self.end_ns = self.end_ns.max(time_ns);
        self.start_ns = self.start_ns.min(time_ns);
        let d = &mut self.dir[flow];
        d.packets += 1;
        d.frame_bytes += u64::from(frame_len);
    }

    fn add_rtt_sample(&mut self, rtt: i64) {
        self.rtt_seen += 1;
        self.rtt_min = Some(self.rtt_min.map_or(rtt, |m| m.min(rtt)));
        self.rtt_max = Some(self.rtt_max.map_or(rtt, |m| m.max(rtt)));
        if self.rtt_samples.len() < MAX_RTT_SAMPLES {
            self.rtt_samples.push(rtt);
        } else {
            // Reservoir sampling (Algorithm R) with a fixed LCG: same input, same summary.
            let pick = self
                .rtt_seen
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407)
                % self.rtt_seen;
            if let Some(slot) = usize::try_from(pick)
                .ok()
                .and_then(|i| self.rtt_samples.get_mut(i))
            {
                *slot = rtt;
            }
        }
    }

    /// Client flow: the SYN sender; else the side the SYN-ACK went to; else the side with the
    /// ephemeral-looking port (the higher one, a registered port losing to a well-known one).
    fn client_flow(&self) -> (usize, RoleBasis) {
        if let Some(flow) = self.syn_sender {
            return (flow, RoleBasis::Syn);
        }
        if let Some(flow) = self.syn_ack_sender {
            return (1 - flow, RoleBasis::SynAck);
        }
        let [p0, p1] = [self.senders[0].port, self.senders[1].port];
        let flow = match p0.cmp(&p1) {
            std::cmp::Ordering::Greater => 0,
            std::cmp::Ordering::Less => 1,
            std::cmp::Ordering::Equal => self.first_flow,
        };
        (flow, RoleBasis::Ports)
    }

    pub fn summary(&self) -> ConnectionSummary {
        let (client, role_basis) = self.client_flow();
        let server = 1 - client;
        let direction = |flow: usize| {
            let d = &self.dir[flow];
            let still_zero = d
                .zero_window_since
                .map_or(0, |since| self.end_ns.saturating_sub(since).max(0));
            DirectionSummary {
                packets: d.packets,
                frame_bytes: d.frame_bytes,
                payload_bytes: d.payload_bytes,
                unique_payload_bytes: d.payload_bytes.saturating_sub(d.retransmitted_bytes),
                retransmitted_payload_bytes: d.retransmitted_bytes,
                zero_window_seconds: secs(d.zero_window_ns.saturating_add(still_zero)),
            }
        };
        let side_options = |flow: usize| {
            let o = self.options[flow];
            o.seen.then_some(OptionsSummary {
                mss: o.mss,
                window_scale: o.window_scale,
                sack_permitted: o.sack_permitted,
                timestamps: o.timestamps,
            })
        };
        let mut flags = BTreeMap::new();
        for (i, (_, name)) in AnalysisFlags::ALL.iter().enumerate() {
            let n = self.dir[0].flags[i] + self.dir[1].flags[i];
            if n > 0 {
                flags.insert(*name, n);
            }
        }
        let role = |flow: usize| if flow == client { "client" } else { "server" };
        let first_rst = [0, 1]
            .into_iter()
            .filter_map(|f| self.dir[f].first_rst.map(|frame| (frame, f)))
            .min();
        let fins: Vec<FinSummary> = [client, server]
            .into_iter()
            .filter_map(|f| {
                self.dir[f].first_fin.map(|frame| FinSummary {
                    from: role(f),
                    frame,
                })
            })
            .collect();
        let ended_by = match (first_rst, fins.is_empty()) {
            (Some(_), _) => "rst",
            (None, false) => "fin",
            (None, true) => "open",
        };
        let mut sorted = self.rtt_samples.clone();
        sorted.sort_unstable();
        let ack_rtt = (!sorted.is_empty()).then(|| RttSummary {
            samples: self.rtt_seen,
            min: secs(self.rtt_min.unwrap_or_default()),
            median: secs(percentile(&sorted, 50)),
            p95: secs(percentile(&sorted, 95)),
            max: secs(self.rtt_max.unwrap_or_default()),
        });
        ConnectionSummary {
            stream: self.stream,
            client: self.senders[client].into(),
            server: self.senders[server].into(),
            role_basis,
            handshake: HandshakeSummary {
                syn_frame: self.syn_frame,
                syn_ack_frame: self.syn_ack_frame,
                complete: self.completeness & 7 == 7,
                rtt: (self.handshake_rtt_ns != 0).then(|| secs(self.handshake_rtt_ns)),
            },
            client_options: side_options(client),
            server_options: side_options(server),
            start: secs(self.start_ns),
            end: secs(self.end_ns),
            duration: secs(self.end_ns.saturating_sub(self.start_ns)),
            client_to_server: direction(client),
            server_to_client: direction(server),
            ack_rtt,
            flags,
            close: CloseSummary {
                ended_by,
                fin: fins,
                rst: first_rst.map(|(frame, f)| RstSummary {
                    from: role(f),
                    frame,
                }),
            },
        }
    }
}

fn percentile(sorted: &[i64], pct: usize) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    // Nearest-rank method.
    let rank = (pct * sorted.len()).div_ceil(100).max(1);
    sorted.get(rank - 1).copied().unwrap_or_default()
}

fn secs(ns: i64) -> f64 {
    ns as f64 / 1e9
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RoleBasis {
    /// The client sent the SYN.
    Syn,
    /// No SYN captured; the client received the SYN-ACK.
    SynAck,
    /// No handshake captured; the client is the side with the higher (ephemeral) port.
    Ports,
}

impl RoleBasis {
    /// As the JSON report spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            RoleBasis::Syn => "syn",
            RoleBasis::SynAck => "syn_ack",
            RoleBasis::Ports => "ports",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct EndpointSummary {
    pub ip: String,
    pub port: u16,
}

/// `ip:port`, IPv6 in brackets (`[2001:db8::1]:443`), as a socket address is written.
impl std::fmt::Display for EndpointSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.ip.contains(':') {
            write!(f, "[{}]:{}", self.ip, self.port)
        } else {
            write!(f, "{}:{}", self.ip, self.port)
        }
    }
}

impl From<Endpoint> for EndpointSummary {
    fn from(e: Endpoint) -> Self {
        EndpointSummary {
            ip: e.ip.to_string(),
            port: e.port,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct HandshakeSummary {
    pub syn_frame: Option<u64>,
    pub syn_ack_frame: Option<u64>,
    /// SYN, SYN-ACK and ACK all seen (tshark's completeness bits 1, 2 and 4).
    pub complete: bool,
    /// Initial RTT in seconds (tshark's `tcp.analysis.initial_rtt`).
    pub rtt: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OptionsSummary {
    pub mss: Option<u16>,
    pub window_scale: Option<u8>,
    pub sack_permitted: bool,
    pub timestamps: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct DirectionSummary {
    pub packets: u64,
    /// Sum of on-wire frame lengths, as tshark's conversation table counts bytes.
    pub frame_bytes: u64,
    pub payload_bytes: u64,
    pub unique_payload_bytes: u64,
    pub retransmitted_payload_bytes: u64,
    /// Time this direction's sender advertised a zero window.
    pub zero_window_seconds: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct RttSummary {
    pub samples: u64,
    pub min: f64,
    pub median: f64,
    pub p95: f64,
    pub max: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct FinSummary {
    pub from: &'static str,
    pub frame: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct RstSummary {
    pub from: &'static str,
    pub frame: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct CloseSummary {
    /// "rst", "fin" or "open".
    pub ended_by: &'static str,
    pub fin: Vec<FinSummary>,
    pub rst: Option<RstSummary>,
}

/// One connection (one `tcp.stream`), oriented client → server.
#[derive(Debug, Clone, Serialize)]
pub struct ConnectionSummary {
    pub stream: u32,
    pub client: EndpointSummary,
    pub server: EndpointSummary,
    pub role_basis: RoleBasis,
    pub handshake: HandshakeSummary,
    pub client_options: Option<OptionsSummary>,
    pub server_options: Option<OptionsSummary>,
    /// Seconds since the Unix epoch.
    pub start: f64,
    pub end: f64,
    pub duration: f64,
    pub client_to_server: DirectionSummary,
    pub server_to_client: DirectionSummary,
    pub ack_rtt: Option<RttSummary>,
    /// Count of frames carrying each `tcp.analysis` flag (as tshark shows them).
    pub flags: BTreeMap<&'static str, u32>,
    pub close: CloseSummary,
}

impl ConnectionSummary {
    /// "client → server".
    pub fn endpoints(&self) -> String {
        format!("{} → {}", self.client, self.server)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<i64> = (1..=100).collect();
        assert_eq!(percentile(&v, 50), 50);
        assert_eq!(percentile(&v, 95), 95);
        assert_eq!(percentile(&[7], 95), 7);
    }
}
