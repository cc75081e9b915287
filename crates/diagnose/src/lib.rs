//! Root-cause diagnosis: from per-packet analysis to findings a person can act on.
//!
//! Feed every analysed TCP frame to a [`Diagnoser`] in file order, then call
//! [`Diagnoser::finish`] with the analyzer's connection summaries. Evidence is gathered as the
//! frames stream by ([`evidence`], bounded per connection); the rules ([`rules`]) run once per
//! connection at the end. The finding ids are those of `shared/findings.md`; each rule is
//! documented in `docs/findings.md`.

mod advice;
mod evidence;
mod finding;
mod rules;
mod vantage;

use rustc_hash::FxHashMap;
use serde::Serialize;
use tcpsleuth_analyze::{AnalysisFlags, ConnectionSummary, Correction, Endpoint, PacketAnalysis};
use tcpsleuth_decode::Segment;

pub use advice::AppOutcome;
pub use finding::{Actor, Finding, FindingId, Severity, TimelineEntry};
pub use vantage::{Vantage, VantagePoint};

use evidence::Evidence;

/// The diagnosis of one connection.
#[derive(Debug, Clone, Serialize)]
pub struct ConnectionDiagnosis {
    pub stream: u32,
    pub vantage: Vantage,
    /// What the applications most likely saw; empty when nothing went wrong.
    pub application: Vec<AppOutcome>,
    /// Most severe first; empty for a healthy connection.
    pub findings: Vec<Finding>,
}

impl ConnectionDiagnosis {
    /// The most severe finding's severity, if any.
    pub fn severity(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).min()
    }
}

/// What the diagnosis reads of a frame's [`PacketAnalysis`]: a third of its size, for
/// passing frames between threads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Observation {
    pub stream: u32,
    pub flags: AnalysisFlags,
    pub corrected: Option<Correction>,
    pub rel_seq: u32,
    pub rel_ack: u32,
    pub window: u64,
    pub bytes_in_flight: Option<u32>,
    pub retired: bool,
}

impl From<&PacketAnalysis> for Observation {
    fn from(a: &PacketAnalysis) -> Observation {
        Observation {
            stream: a.stream,
            flags: a.flags,
            corrected: a.corrected,
            rel_seq: a.rel_seq,
            rel_ack: a.rel_ack,
            window: a.window,
            bytes_in_flight: a.bytes_in_flight,
            retired: a.retired,
        }
    }
}

/// Streaming diagnosis of one capture.
#[derive(Default)]
pub struct Diagnoser {
    /// The evidence of the connections still held, by `tcp.stream`.
    live: FxHashMap<u32, Box<Evidence>>,
    capture_start_ns: Option<i64>,
    /// Display filters select a connection by its addresses and ports, not `tcp.stream`.
    address_filters: bool,
}

impl Diagnoser {
    pub fn new() -> Diagnoser {
        Diagnoser::default()
    }

    /// Makes the display filters select each connection by its addresses and ports instead of
    /// `tcp.stream`: for a capture read from several files (a ring buffer), where each file
    /// opened alone in Wireshark numbers its streams from 0.
    pub fn filter_by_address(&mut self) {
        self.address_filters = true;
    }

    /// The capture's first frame time, for relative times in timelines (any frame, TCP or not).
    pub fn capture_started(&mut self, time_ns: i64) {
        self.capture_start_ns.get_or_insert(time_ns);
    }

    /// Adds one analysed TCP frame. Frames of retired connections change nothing.
    pub fn observe(&mut self, frame: u64, time_ns: i64, seg: &Segment, analysis: &PacketAnalysis) {
        self.observe_compact(frame, time_ns, seg, &Observation::from(analysis));
    }

    /// Same, with only what the diagnosis reads of the analysis.
    pub fn observe_compact(
        &mut self,
        frame: u64,
        time_ns: i64,
        seg: &Segment,
        analysis: &Observation,
    ) {
        self.capture_started(time_ns);
        if analysis.retired {
            return;
        }
        let stream = analysis.stream;
        self.live
            .entry(stream)
            .or_insert_with(|| Box::new(Evidence::new(stream, seg, (frame, time_ns))))
            .observe(frame, time_ns, seg, analysis);
    }

    /// Connections whose evidence is held.
    pub fn live_connections(&self) -> usize {
        self.live.len()
    }

    /// Diagnoses a connection whose analysis is over (`summary` is the analyzer's final one)
    /// and frees its evidence.
    pub fn retire(&mut self, summary: &ConnectionSummary) -> ConnectionDiagnosis {
        let start = self.capture_start_ns.unwrap_or_default();
        match self.live.remove(&summary.stream) {
            Some(ev) => diagnose(&ev, summary, start, self.address_filters),
            None => ConnectionDiagnosis {
                stream: summary.stream,
                vantage: Vantage {
                    point: VantagePoint::Unknown,
                    basis: "no analysed TCP frame".into(),
                },
                application: Vec::new(),
                findings: Vec::new(),
            },
        }
    }

    /// Runs the rules on one connection's evidence so far, keeping it: a live capture reports a
    /// connection's findings as soon as they are certain (its RST has arrived, its zero window
    /// has lasted) instead of at the end. None for a stream whose evidence is not held.
    pub fn diagnose_so_far(&self, summary: &ConnectionSummary) -> Option<ConnectionDiagnosis> {
        let start = self.capture_start_ns.unwrap_or_default();
        self.live
            .get(&summary.stream)
            .map(|ev| diagnose(ev, summary, start, self.address_filters))
    }

    /// Diagnoses every connection, given the analyzer's final summaries in any order.
    pub fn finish(
        mut self,
        summaries: impl IntoIterator<Item = ConnectionSummary>,
    ) -> Vec<(ConnectionSummary, ConnectionDiagnosis)> {
        summaries
            .into_iter()
            .map(|summary| {
                let diagnosis = self.retire(&summary);
                (summary, diagnosis)
            })
            .collect()
    }
}

fn diagnose(
    ev: &Evidence,
    summary: &ConnectionSummary,
    start: i64,
    address_filters: bool,
) -> ConnectionDiagnosis {
    let client_ep = ev.sides.iter().position(|s| is(s.endpoint, summary));
    let client = client_ep.unwrap_or(0);
    let vantage = vantage::infer(ev, client);
    let cx = rules::Ctx {
        ev,
        summary,
        client,
        vantage: &vantage,
        capture_start_ns: start,
        address_filters,
    };
    let findings = rules::diagnose(&cx);
    let application = advice::application_outcomes(&findings);
    ConnectionDiagnosis {
        stream: ev.stream,
        vantage,
        application,
        findings,
    }
}

fn is(ep: Endpoint, summary: &ConnectionSummary) -> bool {
    ep.port == summary.client.port && ep.ip.to_string() == summary.client.ip
}
