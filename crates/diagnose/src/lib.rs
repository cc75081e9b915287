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

use std::collections::VecDeque;

use rustc_hash::FxHashMap;
use serde::Serialize;
use tcpsleuth_analyze::{ConnectionSummary, Endpoint, PacketAnalysis};
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

/// A connection closed (FIN both ways, or a RST) and silent for this long is diagnosed and its
/// evidence freed: memory then grows with the connections alive at once, not with the file.
/// Packets arriving later on it no longer change its diagnosis (its summary still counts
/// them). Ten seconds covers retransmitted FINs and the RSTs that answer late segments.
pub const RETIRE_AFTER_NS: i64 = 10_000_000_000;

/// Streaming diagnosis of one capture.
#[derive(Default)]
pub struct Diagnoser {
    /// Indexed by `tcp.stream`: the evidence of connections still held.
    slots: Vec<Slot>,
    /// Connections whose evidence is held.
    live: usize,
    /// Streams seen closing, in order, waiting to go quiet.
    closing: VecDeque<u32>,
    /// Diagnoses of connections retired early, by stream.
    retired: FxHashMap<u32, ConnectionDiagnosis>,
    capture_start_ns: Option<i64>,
}

/// One stream's place in the diagnoser.
#[derive(Default)]
enum Slot {
    /// No analysed frame yet (or only ICMP quotes).
    #[default]
    Unseen,
    Live(Box<Evidence>),
    /// Diagnosed early; later packets are ignored.
    Retired,
}

impl Diagnoser {
    pub fn new() -> Diagnoser {
        Diagnoser::default()
    }

    /// The capture's first frame time, for relative times in timelines (any frame, TCP or not).
    pub fn capture_started(&mut self, time_ns: i64) {
        self.capture_start_ns.get_or_insert(time_ns);
    }

    /// Adds one analysed TCP frame.
    pub fn observe(&mut self, frame: u64, time_ns: i64, seg: &Segment, analysis: &PacketAnalysis) {
        self.capture_started(time_ns);
        let stream = analysis.stream;
        let index = stream as usize;
        if self.slots.len() <= index {
            self.slots.resize_with(index + 1, Slot::default);
        }
        let Some(slot) = self.slots.get_mut(index) else {
            return;
        };
        if matches!(slot, Slot::Unseen) {
            *slot = Slot::Live(Box::new(Evidence::new(stream, seg, (frame, time_ns))));
            self.live += 1;
        }
        let Slot::Live(ev) = slot else { return };
        ev.observe(frame, time_ns, seg, analysis);
        if !ev.queued_for_retirement && ev.closed() {
            ev.queued_for_retirement = true;
            self.closing.push_back(stream);
        }
    }

    /// Connections whose evidence is held.
    pub fn live_connections(&self) -> usize {
        self.live
    }

    fn evidence(&self, stream: u32) -> Option<&Evidence> {
        match self.slots.get(stream as usize) {
            Some(Slot::Live(ev)) => Some(ev),
            _ => None,
        }
    }

    /// Diagnoses the connections that closed and have been silent for [`RETIRE_AFTER_NS`] at
    /// `now_ns`, and frees their evidence. `summary_of` gives the analyzer's summary of a stream.
    pub fn retire_idle(
        &mut self,
        now_ns: i64,
        summary_of: impl Fn(u32) -> Option<ConnectionSummary>,
    ) {
        let start = self.capture_start_ns.unwrap_or_default();
        for _ in 0..self.closing.len() {
            let Some(stream) = self.closing.pop_front() else {
                break;
            };
            let Some(ev) = self.evidence(stream) else {
                continue;
            };
            let summary = (now_ns.saturating_sub(ev.last.1) >= RETIRE_AFTER_NS)
                .then(|| summary_of(stream))
                .flatten();
            let Some(summary) = summary else {
                self.closing.push_back(stream);
                continue;
            };
            let diagnosis = diagnose(ev, &summary, start);
            self.retired.insert(stream, diagnosis);
            if let Some(slot) = self.slots.get_mut(stream as usize) {
                *slot = Slot::Retired;
                self.live -= 1;
            }
        }
    }

    /// Runs the rules on one connection's evidence so far, keeping it: a live capture reports a
    /// connection's findings as soon as they are certain (its RST has arrived, its zero window
    /// has lasted) instead of at the end. None for a stream never analysed.
    pub fn diagnose_so_far(&self, summary: &ConnectionSummary) -> Option<ConnectionDiagnosis> {
        let start = self.capture_start_ns.unwrap_or_default();
        match self.evidence(summary.stream) {
            Some(ev) => Some(diagnose(ev, summary, start)),
            None => self.retired.get(&summary.stream).cloned(),
        }
    }

    /// Runs the rules on every connection still held, and returns all diagnoses. `summaries`
    /// are the analyzer's (final) summaries, in any order.
    pub fn finish(
        mut self,
        summaries: impl IntoIterator<Item = ConnectionSummary>,
    ) -> Vec<(ConnectionSummary, ConnectionDiagnosis)> {
        let start = self.capture_start_ns.unwrap_or_default();
        let mut out = Vec::new();
        for summary in summaries {
            let diagnosis = if let Some(done) = self.retired.remove(&summary.stream) {
                done
            } else if let Some(ev) = self.evidence(summary.stream) {
                diagnose(ev, &summary, start)
            } else {
                ConnectionDiagnosis {
                    stream: summary.stream,
                    vantage: Vantage {
                        point: VantagePoint::Unknown,
                        basis: "no analysed TCP frame".into(),
                    },
                    application: Vec::new(),
                    findings: Vec::new(),
                }
            };
            out.push((summary, diagnosis));
        }
        out
    }
}

fn diagnose(ev: &Evidence, summary: &ConnectionSummary, start: i64) -> ConnectionDiagnosis {
    let client_ep = ev.sides.iter().position(|s| is(s.endpoint, summary));
    let client = client_ep.unwrap_or(0);
    let vantage = vantage::infer(ev, client);
    let cx = rules::Ctx {
        ev,
        summary,
        client,
        vantage: &vantage,
        capture_start_ns: start,
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
