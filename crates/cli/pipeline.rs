//! The glue: capture → decode → analyze, one frame at a time, with bounded memory.

use std::path::Path;

use tcpsleuth_analyze::{Analyzer, PacketAnalysis};
use tcpsleuth_capture::{CaptureError, CaptureReader, Frame};
use tcpsleuth_correlate::{Recorder, DEFAULT_PACKET_LIMIT};
use tcpsleuth_decode::{decode, Decoded, Segment};
use tcpsleuth_diagnose::Diagnoser;

/// How the frames of one capture were classified.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    pub frames: u64,
    pub tcp: u64,
    pub icmp_quotes: u64,
    pub fragments: u64,
    pub not_tcp: u64,
    pub malformed: u64,
}

pub struct Outcome {
    pub analyzer: Analyzer,
    /// Present when the run was asked to diagnose.
    pub diagnoser: Option<Diagnoser>,
    /// Present when the run records packets for matching against other captures.
    pub recorder: Option<Recorder>,
    pub counts: Counts,
    /// Damage that stopped reading; everything before it was analysed.
    pub damage: Option<CaptureError>,
}

/// One TCP frame (or TCP header quoted in an ICMP error) and what the analysis made of it.
pub struct TcpEvent<'a> {
    pub frame: &'a Frame<'a>,
    pub segment: &'a Segment,
    /// None where tshark shows no analysis for the frame.
    pub analysis: Option<PacketAnalysis>,
    pub kind: TcpKind,
    pub stream: u32,
    pub first_time_ns: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpKind {
    Segment,
    /// A TCP header quoted inside an ICMP error.
    IcmpQuote,
}

/// What a run does besides the per-packet analysis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stages {
    /// Gather diagnosis evidence.
    pub diagnose: bool,
    /// Record packets to match against other captures of the same traffic.
    pub correlate: bool,
}

/// Runs the pipeline over one capture, calling `on_tcp` for each TCP frame in file order.
/// The inner error is a capture that cannot be opened at all (damage later on is in the
/// outcome); the outer one an error of `on_tcp`, such as a closed stdout.
pub fn run(
    path: &Path,
    stages: Stages,
    mut on_tcp: impl FnMut(&TcpEvent<'_>) -> anyhow::Result<()>,
) -> anyhow::Result<Result<Outcome, CaptureError>> {
    let mut reader = match CaptureReader::open(path) {
        Ok(reader) => reader,
        Err(err) => return Ok(Err(err)),
    };
    let mut analyzer = Analyzer::new();
    let mut diagnoser = stages.diagnose.then(Diagnoser::new);
    let mut recorder = stages
        .correlate
        .then(|| Recorder::new(DEFAULT_PACKET_LIMIT));
    let mut counts = Counts::default();
    let mut first_time_ns = None;
    let damage = loop {
        let frame = match reader.next_frame() {
            Ok(Some(frame)) => frame,
            Ok(None) => break None,
            Err(err) => break Some(err),
        };
        counts.frames += 1;
        let first = *first_time_ns.get_or_insert(frame.timestamp_ns);
        if let Some(d) = diagnoser.as_mut() {
            d.capture_started(frame.timestamp_ns);
        }
        match decode(frame.link_type.0, frame.data, frame.original_len) {
            Decoded::Tcp(segment) => {
                counts.tcp += 1;
                let analysis = analyzer.analyze(
                    frame.number,
                    frame.timestamp_ns,
                    frame.original_len,
                    &segment,
                );
                if let Some(d) = diagnoser.as_mut() {
                    d.observe(frame.number, frame.timestamp_ns, &segment, &analysis);
                }
                if let Some(r) = recorder.as_mut() {
                    r.record(frame.number, frame.timestamp_ns, &segment, analysis.stream);
                }
                // tshark stops dissecting a damaged header after its analysis ran: the state
                // moves on, but the frame shows no analysis.
                let shown = segment.error.is_none().then_some(analysis);
                on_tcp(&TcpEvent {
                    frame: &frame,
                    segment: &segment,
                    analysis: shown,
                    kind: TcpKind::Segment,
                    stream: analysis.stream,
                    first_time_ns: first,
                })?;
            }
            Decoded::TcpUnanalysed(segment) => {
                counts.tcp += 1;
                counts.malformed += 1;
                let stream = analyzer.track_only(&segment, frame.timestamp_ns, frame.original_len);
                on_tcp(&TcpEvent {
                    frame: &frame,
                    segment: &segment,
                    analysis: None,
                    kind: TcpKind::Segment,
                    stream,
                    first_time_ns: first,
                })?;
            }
            Decoded::IcmpQuotedTcp(segment) => {
                counts.icmp_quotes += 1;
                let stream = analyzer.icmp_quote(&segment, frame.timestamp_ns);
                on_tcp(&TcpEvent {
                    frame: &frame,
                    segment: &segment,
                    analysis: None,
                    kind: TcpKind::IcmpQuote,
                    stream,
                    first_time_ns: first,
                })?;
            }
            Decoded::Fragment => counts.fragments += 1,
            Decoded::NotTcp => counts.not_tcp += 1,
            Decoded::Malformed(_) => counts.malformed += 1,
        }
    };
    Ok(Ok(Outcome {
        analyzer,
        diagnoser,
        recorder,
        counts,
        damage,
    }))
}
