//! The glue: capture → decode → analyze, one frame at a time, with bounded memory.

use std::path::Path;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
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

/// Frames between two looks for closed, quiet connections to retire (a look costs as much as
/// the number of connections waiting).
const RETIRE_EVERY_FRAMES: u64 = 16_384;

/// What a run does besides the per-packet analysis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stages {
    /// Gather diagnosis evidence.
    pub diagnose: bool,
    /// Record packets to match against other captures of the same traffic.
    pub correlate: bool,
    /// Show a progress bar on stderr if reading takes a while (the caller checked that stderr
    /// is a terminal nobody else is writing to).
    pub progress: bool,
}

/// A progress bar for one capture. It is fed from the start but drawn only once reading has
/// taken `DELAY`: short runs, the usual case, never flash one, and the time-left estimate has
/// the whole history behind it when it appears.
struct Progress {
    started: Instant,
    shown: bool,
    bar: ProgressBar,
}

impl Progress {
    const DELAY: Duration = Duration::from_secs(1);
    /// The reader is polled every this many frames (a power of two): the hot loop pays one
    /// mask test per frame and one clock read per 8192 frames. The bar itself redraws at most
    /// 20 times a second.
    const EVERY_FRAMES: u64 = 1 << 13;

    fn new(path: &Path, reader: &CaptureReader) -> Progress {
        // A file has a size to measure against; standard input only a running count.
        let bar = ProgressBar::hidden();
        let template = match reader.input_len() {
            Some(len) => {
                bar.set_length(len);
                "{prefix} [{bar:30}] {bytes}/{total_bytes} ({eta} left) {msg}"
            }
            None => "{prefix} {spinner} {bytes} read {msg}",
        };
        // The templates are constants; should one not parse, the default style will do.
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style.progress_chars("=> "));
        }
        // As the capture reader names it in its messages.
        bar.set_prefix(if path.as_os_str() == "-" {
            "<stdin>".to_owned()
        } else {
            path.display().to_string()
        });
        Progress {
            started: Instant::now(),
            shown: false,
            bar,
        }
    }

    fn update(&mut self, reader: &CaptureReader, frames: u64) {
        self.bar.set_position(reader.input_bytes_read());
        if !self.shown && self.started.elapsed() >= Self::DELAY {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
            self.shown = true;
        }
        if self.shown {
            self.bar.set_message(format!("{frames} frames"));
        }
    }
}

impl Drop for Progress {
    /// Erased however the run ends (done, damage, or a closed stdout), so that the report or
    /// an error message starts on a clean line.
    fn drop(&mut self) {
        if self.shown {
            self.bar.finish_and_clear();
        }
    }
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
    let mut progress = stages.progress.then(|| Progress::new(path, &reader));
    let damage = loop {
        // Before taking the next frame, which borrows the reader until the end of the turn.
        if counts.frames % Progress::EVERY_FRAMES == 0 {
            if let Some(p) = progress.as_mut() {
                p.update(&reader, counts.frames);
            }
        }
        let frame = match reader.next_frame() {
            Ok(Some(frame)) => frame,
            Ok(None) => break None,
            Err(err) => break Some(err),
        };
        counts.frames += 1;
        let first = *first_time_ns.get_or_insert(frame.timestamp_ns);
        if let Some(d) = diagnoser.as_mut() {
            d.capture_started(frame.timestamp_ns);
            // Now and then, diagnose and free the connections that closed a while ago.
            if counts.frames % RETIRE_EVERY_FRAMES == 0 {
                d.retire_idle(frame.timestamp_ns, |stream| analyzer.summary(stream));
            }
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

/// The same stages over frames pushed one at a time, for a live capture: between two frames
/// the caller may ask the diagnoser about a connection (`Diagnoser::diagnose_so_far`).
pub struct Incremental {
    pub analyzer: Analyzer,
    pub diagnoser: Diagnoser,
    pub counts: Counts,
}

/// A TCP segment `Incremental::push` analysed.
pub struct Pushed {
    pub stream: u32,
    pub segment: Segment,
    pub analysis: PacketAnalysis,
}

impl Incremental {
    pub fn new() -> Incremental {
        Incremental {
            analyzer: Analyzer::new(),
            diagnoser: Diagnoser::new(),
            counts: Counts::default(),
        }
    }

    pub fn push(&mut self, frame: &Frame<'_>) -> Option<Pushed> {
        self.counts.frames += 1;
        self.diagnoser.capture_started(frame.timestamp_ns);
        if self.counts.frames % RETIRE_EVERY_FRAMES == 0 {
            let analyzer = &self.analyzer;
            self.diagnoser
                .retire_idle(frame.timestamp_ns, |stream| analyzer.summary(stream));
        }
        match decode(frame.link_type.0, frame.data, frame.original_len) {
            Decoded::Tcp(segment) => {
                self.counts.tcp += 1;
                let analysis = self.analyzer.analyze(
                    frame.number,
                    frame.timestamp_ns,
                    frame.original_len,
                    &segment,
                );
                self.diagnoser
                    .observe(frame.number, frame.timestamp_ns, &segment, &analysis);
                return Some(Pushed {
                    stream: analysis.stream,
                    segment,
                    analysis,
                });
            }
            Decoded::TcpUnanalysed(segment) => {
                self.counts.tcp += 1;
                self.counts.malformed += 1;
                self.analyzer
                    .track_only(&segment, frame.timestamp_ns, frame.original_len);
            }
            Decoded::IcmpQuotedTcp(segment) => {
                self.counts.icmp_quotes += 1;
                self.analyzer.icmp_quote(&segment, frame.timestamp_ns);
            }
            Decoded::Fragment => self.counts.fragments += 1,
            Decoded::NotTcp => self.counts.not_tcp += 1,
            Decoded::Malformed(_) => self.counts.malformed += 1,
        }
        None
    }

    pub fn finish(self) -> Outcome {
        Outcome {
            analyzer: self.analyzer,
            diagnoser: Some(self.diagnoser),
            recorder: None,
            counts: self.counts,
            damage: None,
        }
    }
}
