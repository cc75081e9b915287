//! The glue: capture → decode → analyze (→ diagnose), one frame at a time, with bounded memory.
//!
//! Every command reads and decodes on one thread and analyses on another; `analyze` adds a
//! third, which gathers diagnosis evidence, diagnoses each connection once the analyzer
//! retires it, and hands the result to the caller's sink. The threads pass batches through
//! bounded channels, so the stages overlap and memory stays flat.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tcpsleuth_analyze::{
    Analyzer, ConnectionSummary, Endpoint, PacketAnalysis, Retention, RetentionStats, Retired,
    Shard,
};
use tcpsleuth_capture::{CaptureError, FileSequence, FileTable, Frame};
use tcpsleuth_correlate::{Recorder, DEFAULT_PACKET_LIMIT};
use tcpsleuth_decode::{decode, Decoded, Segment};
use tcpsleuth_diagnose::{ConnectionDiagnosis, Diagnoser, Observation};

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

/// What one capture is read from: a file (or standard input), or the files of one sensor's
/// ring buffer, read in order as one capture (docs/rotating.md).
#[derive(Debug, Clone)]
pub struct Input {
    /// As given: the file, the directory, or the first file of a `--rotated` list.
    pub name: PathBuf,
    /// The files, in reading order.
    pub files: Vec<PathBuf>,
    /// Which global frame is in which file: filled in as the capture is read, so a report can
    /// name frames while connections are still being diagnosed. An input is read once.
    pub table: FileTable,
}

impl Input {
    pub fn file(path: &Path) -> Input {
        Input {
            name: path.to_owned(),
            files: vec![path.to_owned()],
            table: FileTable::new(),
        }
    }

    /// Read from several files: frames are then named `FILE#FRAME` for people, and display
    /// filters cannot rely on `tcp.stream`.
    pub fn is_multi_file(&self) -> bool {
        self.files.len() > 1
    }

    /// The table, for a capture read from several files.
    pub fn multi_file_table(&self) -> Option<FileTable> {
        self.is_multi_file().then(|| self.table.clone())
    }
}

pub struct Outcome {
    /// Holds every connection, except in a diagnosing run, which hands them out as it goes.
    pub analyzer: Analyzer,
    /// Present when the run records packets for matching against other captures.
    pub recorder: Option<Recorder>,
    pub counts: Counts,
    /// What a diagnosing run gave up to keep memory bounded.
    pub retention: RetentionStats,
    /// Damage that stopped reading a file, in file order; everything before it was analysed
    /// (and, for a capture of several files, the files after it).
    pub damage: Vec<CaptureError>,
    /// The files of a capture read from several, with the global frames in each.
    pub files: Option<FileTable>,
    /// pcapng packet comments (Wireshark's `frame.comment`): what whoever shared the capture
    /// wrote on its packets.
    pub comments: PacketComments,
}

impl Outcome {
    /// What reading `input` to the end gave.
    fn of(input: &Input, recorder: Option<Recorder>, (analyzer, counts, reading): Read) -> Outcome {
        Outcome {
            retention: analyzer.retention_stats(),
            analyzer,
            recorder,
            counts,
            damage: reading.damage,
            files: input.multi_file_table(),
            comments: reading.comments,
        }
    }
}

/// Packet comments, in frame order, bounded: a capture annotated by a person has a handful;
/// one written by a tool on every packet must not fill memory.
#[derive(Debug, Default, Clone)]
pub struct PacketComments {
    /// (frame, comment), at most [`PacketComments::MAX`], each at most
    /// [`PacketComments::MAX_LEN`] bytes (cut at a character boundary).
    pub kept: Vec<(u64, String)>,
    /// Comments past the first `MAX`.
    pub more: u64,
}

impl PacketComments {
    pub const MAX: usize = 1000;
    pub const MAX_LEN: usize = 1000;

    fn add(&mut self, frame: u64, comment: &str) {
        if self.kept.len() >= Self::MAX {
            self.more += 1;
            return;
        }
        let mut end = comment.len().min(Self::MAX_LEN);
        while !comment.is_char_boundary(end) {
            end -= 1;
        }
        self.kept.push((frame, comment[..end].to_owned()));
    }
}

/// What the analysis keeps of a captured frame.
#[derive(Debug, Clone, Copy)]
pub struct FrameInfo {
    /// Wireshark's frame number.
    pub number: u64,
    pub timestamp_ns: i64,
    /// Length on the wire.
    pub original_len: u32,
}

/// One TCP frame (or TCP header quoted in an ICMP error) and what the analysis made of it.
pub struct TcpEvent<'a> {
    pub frame: FrameInfo,
    pub segment: &'a Segment,
    /// The analysis that ran, shown or not (None for frames not analysed at all).
    pub ran: Option<&'a PacketAnalysis>,
    pub kind: TcpKind,
    pub stream: u32,
    pub first_time_ns: i64,
}

impl TcpEvent<'_> {
    /// The analysis as tshark shows it: none for a damaged header, whose analysis ran (the
    /// state moves on) but which tshark stops dissecting before showing it.
    pub fn analysis(&self) -> Option<&PacketAnalysis> {
        self.ran.filter(|_| self.segment.error.is_none())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpKind {
    Segment,
    /// A TCP header quoted inside an ICMP error.
    IcmpQuote,
}

/// Frames between two looks for connections to retire (a look costs as much as the number of
/// connections waiting).
const RETIRE_EVERY_FRAMES: u64 = 16_384;

/// What a run does besides the per-packet analysis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stages {
    /// Record packets to match against other captures of the same traffic.
    pub correlate: bool,
    /// Show a progress bar on stderr if reading takes a while (the caller checked that stderr
    /// is a terminal nobody else is writing to).
    pub progress: bool,
    /// Diagnose and report only the connections of this shard. Every frame is still analysed,
    /// so that stream numbers are those of a whole run.
    pub shard: Option<Shard>,
}

/// Whether a segment belongs to the shard (every segment does without one).
pub fn in_shard(shard: Option<Shard>, seg: &Segment) -> bool {
    shard.is_none_or(|shard| {
        let (src, dst) = Endpoint::pair_of(seg);
        shard.contains(src, dst)
    })
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

    fn new(path: &Path, reader: &FileSequence) -> Progress {
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
        // As the capture reader names it in its messages, control characters shown inert.
        bar.set_prefix(if path.as_os_str() == "-" {
            "<stdin>".to_owned()
        } else {
            tcpsleuth_capture::printable(&path.display().to_string()).into_owned()
        });
        Progress {
            started: Instant::now(),
            shown: false,
            bar,
        }
    }

    fn update(&mut self, reader: &FileSequence, frames: u64) {
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

/// One step of reading a capture, in file order.
enum Step<'a> {
    /// The capture's first frame (of any kind), with its time.
    Started(i64),
    Tcp(&'a TcpEvent<'a>),
    /// A connection whose analysis is over (streaming analyzers only).
    Retired(Box<Retired>),
}

/// Runs the per-packet analysis over one capture, keeping every connection, and calls `on_tcp`
/// for each TCP frame in file order. The inner error is a capture that cannot be opened at all
/// (damage later on is in the outcome); the outer one an error of `on_tcp`, such as a closed
/// stdout.
pub fn run(
    input: &Input,
    stages: Stages,
    mut on_tcp: impl FnMut(&TcpEvent<'_>) -> anyhow::Result<()>,
) -> anyhow::Result<Result<Outcome, CaptureError>> {
    let mut recorder = stages
        .correlate
        .then(|| Recorder::new(DEFAULT_PACKET_LIMIT));
    let read = read_capture(input, stages.progress, Analyzer::new(), |step| {
        if let Step::Tcp(event) = step {
            if let (Some(r), Some(a)) = (recorder.as_mut(), event.ran) {
                r.record(
                    event.frame.number,
                    event.frame.timestamp_ns,
                    event.segment,
                    a.stream,
                );
            }
            on_tcp(event)?;
        }
        Ok(())
    })?;
    Ok(read.map(|read| Outcome::of(input, recorder, read)))
}

/// A connection and its diagnosis, handed out as soon as its analysis is over.
pub type Sink<'s> =
    dyn FnMut(ConnectionSummary, ConnectionDiagnosis) -> anyhow::Result<()> + Send + 's;

/// What the reading thread sends the diagnosing thread.
// Nearly every event is a TCP frame: boxing that variant would allocate once per frame.
#[allow(clippy::large_enum_variant)]
enum Event {
    Started(i64),
    Tcp {
        frame: u64,
        time_ns: i64,
        segment: Segment,
        analysis: Observation,
    },
    /// Taken when handled.
    Retired(Option<Box<Retired>>),
}

/// Frames per batch, between any two threads: large enough that the channels cost nothing per
/// frame and that a stage rarely waits for the next, small enough that the batches in flight
/// stay a few megabytes (measured on the benchmark: 1,024 × 4 batches left the stages waiting
/// on each other, 1.74 s; 4,096 × 8, 1.45 s and 44 MB peak).
const BATCH: usize = 4096;
/// Batches in flight between the two threads.
const BATCHES_IN_FLIGHT: usize = 8;

/// Analyses and diagnoses one capture, handing each connection to `sink` once its analysis is
/// over (in no particular order), with memory bounded by the connections alive at once (see
/// [`Retention`]). Errors as in [`run`]; an error of `sink` stops the run.
pub fn diagnose(
    input: &Input,
    stages: Stages,
    retention: Retention,
    sink: &mut Sink<'_>,
) -> anyhow::Result<Result<Outcome, CaptureError>> {
    let (to_diagnosis, batches) = mpsc::sync_channel::<Vec<Event>>(BATCHES_IN_FLIGHT);
    let (recycle, recycled) = mpsc::channel::<Vec<Event>>();
    std::thread::scope(|scope| {
        let diagnosis = std::thread::Builder::new()
            .name("diagnose".into())
            .spawn_scoped(scope, move || -> anyhow::Result<Option<Recorder>> {
                let mut diagnoser = Diagnoser::new();
                if input.is_multi_file() {
                    diagnoser.filter_by_address();
                }
                let mut recorder = stages
                    .correlate
                    .then(|| Recorder::new(DEFAULT_PACKET_LIMIT));
                for mut batch in batches {
                    // By reference: moving each event out would copy it once more.
                    for event in &mut batch {
                        match event {
                            Event::Started(time_ns) => diagnoser.capture_started(*time_ns),
                            Event::Tcp {
                                frame,
                                time_ns,
                                segment,
                                analysis,
                            } => {
                                diagnoser.observe_compact(*frame, *time_ns, segment, analysis);
                                if let Some(r) = recorder.as_mut() {
                                    r.record(*frame, *time_ns, segment, analysis.stream);
                                }
                            }
                            Event::Retired(retired) => {
                                if let Some(retired) = retired.take() {
                                    let Retired { summary, .. } = *retired;
                                    let diagnosis = diagnoser.retire(&summary);
                                    sink(summary, diagnosis)?;
                                }
                            }
                        }
                    }
                    batch.clear();
                    // The reader may be gone already; then the batch is simply dropped.
                    let _ = recycle.send(batch);
                }
                Ok(recorder)
            })?;

        let mut batch = Vec::with_capacity(BATCH);
        // False once the diagnosing thread has stopped (an error of the sink): reading stops too.
        let send = |batch: &mut Vec<Event>| -> bool {
            let next = recycled
                .try_recv()
                .unwrap_or_else(|_| Vec::with_capacity(BATCH));
            to_diagnosis.send(std::mem::replace(batch, next)).is_ok()
        };
        let read = read_capture(
            input,
            stages.progress,
            Analyzer::streaming(retention),
            |step| {
                let event = match step {
                    Step::Started(time_ns) => Event::Started(time_ns),
                    Step::Tcp(e) => match e.ran {
                        Some(analysis) if in_shard(stages.shard, e.segment) => Event::Tcp {
                            frame: e.frame.number,
                            time_ns: e.frame.timestamp_ns,
                            segment: *e.segment,
                            analysis: Observation::from(analysis),
                        },
                        _ => return Ok(()),
                    },
                    Step::Retired(r)
                        if stages
                            .shard
                            .is_none_or(|s| s.contains(r.endpoints.0, r.endpoints.1)) =>
                    {
                        Event::Retired(Some(r))
                    }
                    Step::Retired(_) => return Ok(()),
                };
                batch.push(event);
                if batch.len() >= BATCH && !send(&mut batch) {
                    anyhow::bail!("diagnosis stopped");
                }
                Ok(())
            },
        );
        if !batch.is_empty() {
            send(&mut batch);
        }
        drop(to_diagnosis);
        // The diagnosing thread's error, if any, explains a stopped read better than its own.
        let recorder = match diagnosis.join() {
            Ok(result) => result?,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        Ok(read?.map(|read| Outcome::of(input, recorder, read)))
    })
}

type Read = (Analyzer, Counts, Reading);

/// What the reading thread gathers besides the frames.
#[derive(Default)]
struct Reading {
    /// Damage that stopped reading a file, in file order.
    damage: Vec<CaptureError>,
    comments: PacketComments,
}

/// A frame as the reading thread hands it over: decoded, its bytes left behind.
struct DecodedFrame {
    info: FrameInfo,
    decoded: Decoded,
}

/// Reads and decodes frames on a thread of its own (the copy out of the page cache, any
/// decompression, record parsing and header decoding), handing them over in batches.
/// Returns the damage that stopped reading a file, if any, in file order, and the packet
/// comments.
fn read_and_decode(
    mut reader: FileSequence,
    mut progress: Option<Progress>,
    frames: mpsc::SyncSender<Vec<DecodedFrame>>,
    recycled: mpsc::Receiver<Vec<DecodedFrame>>,
) -> Reading {
    let mut batch = Vec::with_capacity(BATCH);
    let mut read: u64 = 0;
    let mut reading = Reading::default();
    loop {
        // Before taking the next frame, which borrows the reader until the end of the turn.
        if read % Progress::EVERY_FRAMES == 0 {
            if let Some(p) = progress.as_mut() {
                p.update(&reader, read);
            }
        }
        // The sequence goes on with the next file after damage, and ends after the last: the
        // loop ends after at most one error per file.
        let frame = match reader.next_frame() {
            Ok(Some(frame)) => frame,
            Ok(None) => break,
            Err(err) => {
                reading.damage.push(err);
                continue;
            }
        };
        read += 1;
        if let Some(comment) = frame.comment {
            reading.comments.add(frame.number, comment);
        }
        batch.push(DecodedFrame {
            info: FrameInfo {
                number: frame.number,
                timestamp_ns: frame.timestamp_ns,
                original_len: frame.original_len,
            },
            decoded: decode(frame.link_type.0, frame.data, frame.original_len),
        });
        if batch.len() >= BATCH {
            let next = recycled
                .try_recv()
                .unwrap_or_else(|_| Vec::with_capacity(BATCH));
            if frames.send(std::mem::replace(&mut batch, next)).is_err() {
                // The analysis stopped (its output was closed): nothing more to read.
                return reading;
            }
        }
    }
    if !batch.is_empty() {
        // As above: if the analysis stopped, the last batch has no taker.
        let _ = frames.send(batch);
    }
    reading
}

/// Counts one decoded frame and runs the analysis its kind gets (the per-packet analysis, a
/// stream lookup only, or nothing). Returns the TCP segment with its kind, the analysis that
/// ran (kept in `analysis`) and its stream; None for frames without TCP.
fn analyse<'d>(
    analyzer: &mut Analyzer,
    counts: &mut Counts,
    info: FrameInfo,
    decoded: &'d Decoded,
    analysis: &'d mut Option<PacketAnalysis>,
) -> Option<(&'d Segment, TcpKind, Option<&'d PacketAnalysis>, u32)> {
    // Borrowed, not moved: segments and analyses are large enough for copies to show.
    match decoded {
        Decoded::Tcp(segment) => {
            counts.tcp += 1;
            let ran = analysis.insert(analyzer.analyze(
                info.number,
                info.timestamp_ns,
                info.original_len,
                segment,
            ));
            let stream = ran.stream;
            Some((segment, TcpKind::Segment, Some(&*ran), stream))
        }
        Decoded::TcpUnanalysed(segment) => {
            counts.tcp += 1;
            counts.malformed += 1;
            let stream = analyzer.track_only(segment, info.timestamp_ns, info.original_len);
            Some((segment, TcpKind::Segment, None, stream))
        }
        Decoded::IcmpQuotedTcp(segment) => {
            counts.icmp_quotes += 1;
            let stream = analyzer.icmp_quote(segment, info.timestamp_ns);
            Some((segment, TcpKind::IcmpQuote, None, stream))
        }
        Decoded::Fragment => {
            counts.fragments += 1;
            None
        }
        Decoded::NotTcp => {
            counts.not_tcp += 1;
            None
        }
        Decoded::Malformed(_) => {
            counts.malformed += 1;
            None
        }
    }
}

/// The frame loop shared by every command: a thread reads and decodes, this one analyses. A
/// streaming analyzer's retired connections, and at the end all it still holds, go to
/// `on_step` as well.
fn read_capture(
    input: &Input,
    progress: bool,
    mut analyzer: Analyzer,
    mut on_step: impl FnMut(Step<'_>) -> anyhow::Result<()>,
) -> anyhow::Result<Result<Read, CaptureError>> {
    let reader = match FileSequence::open(input.files.clone(), input.table.clone()) {
        Ok(reader) => reader,
        Err(err) => return Ok(Err(err)),
    };
    let progress = progress.then(|| Progress::new(&input.name, &reader));
    let (to_analysis, batches) = mpsc::sync_channel::<Vec<DecodedFrame>>(BATCHES_IN_FLIGHT);
    let (recycle, recycled) = mpsc::channel::<Vec<DecodedFrame>>();
    // If this function returns early (an error of `on_step`), the thread is detached and ends
    // at its next hand-over, which fails once `batches` is dropped.
    let reading = std::thread::Builder::new()
        .name("read".into())
        .spawn(move || read_and_decode(reader, progress, to_analysis, recycled))?;
    let mut counts = Counts::default();
    let mut first_time_ns = None;
    let mut retired = Vec::new();
    let mut analysis = None;
    for mut batch in batches.iter() {
        for DecodedFrame { info, decoded } in &batch {
            let info = *info;
            counts.frames += 1;
            let first = match first_time_ns {
                Some(first) => first,
                None => {
                    on_step(Step::Started(info.timestamp_ns))?;
                    *first_time_ns.insert(info.timestamp_ns)
                }
            };
            if counts.frames % RETIRE_EVERY_FRAMES == 0 || analyzer.over_limit() {
                analyzer.retire(info.timestamp_ns, |r| retired.push(r));
                for r in retired.drain(..) {
                    on_step(Step::Retired(Box::new(r)))?;
                }
            }
            let Some((segment, kind, ran, stream)) =
                analyse(&mut analyzer, &mut counts, info, decoded, &mut analysis)
            else {
                continue;
            };
            on_step(Step::Tcp(&TcpEvent {
                frame: info,
                segment,
                ran,
                kind,
                stream,
                first_time_ns: first,
            }))?;
        }
        batch.clear();
        // The reader may be done already; then the batch is simply freed.
        let _ = recycle.send(batch);
    }
    let reading = match reading.join() {
        Ok(reading) => reading,
        Err(panic) => std::panic::resume_unwind(panic),
    };
    analyzer.finish(|r| retired.push(r));
    for r in retired.drain(..) {
        on_step(Step::Retired(Box::new(r)))?;
    }
    Ok(Ok((analyzer, counts, reading)))
}

/// The same stages over frames pushed one at a time, for a live capture: a streaming analyzer
/// and a diagnoser on this thread, connections handed to the sink as they retire, and between
/// two frames the caller may ask the diagnoser about a connection still held
/// (`Diagnoser::diagnose_so_far`).
pub struct Incremental {
    pub analyzer: Analyzer,
    pub diagnoser: Diagnoser,
    pub counts: Counts,
    retired: Vec<Retired>,
}

/// A TCP segment `Incremental::push` analysed.
pub struct Pushed {
    pub segment: Segment,
    pub analysis: PacketAnalysis,
}

impl Incremental {
    pub fn new(retention: Retention) -> Incremental {
        Incremental {
            analyzer: Analyzer::streaming(retention),
            diagnoser: Diagnoser::new(),
            counts: Counts::default(),
            retired: Vec::new(),
        }
    }

    pub fn push(
        &mut self,
        frame: &Frame<'_>,
        sink: &mut Sink<'_>,
    ) -> anyhow::Result<Option<Pushed>> {
        self.counts.frames += 1;
        self.diagnoser.capture_started(frame.timestamp_ns);
        if self.counts.frames % RETIRE_EVERY_FRAMES == 0 || self.analyzer.over_limit() {
            let retired = &mut self.retired;
            self.analyzer
                .retire(frame.timestamp_ns, |r| retired.push(r));
            self.hand_out(sink)?;
        }
        let info = FrameInfo {
            number: frame.number,
            timestamp_ns: frame.timestamp_ns,
            original_len: frame.original_len,
        };
        let decoded = decode(frame.link_type.0, frame.data, frame.original_len);
        let mut analysis = None;
        if let Some((segment, TcpKind::Segment, Some(ran), _)) = analyse(
            &mut self.analyzer,
            &mut self.counts,
            info,
            &decoded,
            &mut analysis,
        ) {
            self.diagnoser
                .observe(frame.number, frame.timestamp_ns, segment, ran);
            return Ok(Some(Pushed {
                segment: *segment,
                analysis: *ran,
            }));
        }
        Ok(None)
    }

    fn hand_out(&mut self, sink: &mut Sink<'_>) -> anyhow::Result<()> {
        for Retired { summary, .. } in self.retired.drain(..) {
            let diagnosis = self.diagnoser.retire(&summary);
            sink(summary, diagnosis)?;
        }
        Ok(())
    }

    /// Hands every connection still held to the sink.
    pub fn finish(mut self, sink: &mut Sink<'_>) -> anyhow::Result<Outcome> {
        let retired = &mut self.retired;
        self.analyzer.finish(|r| retired.push(r));
        self.hand_out(sink)?;
        Ok(Outcome {
            retention: self.analyzer.retention_stats(),
            analyzer: self.analyzer,
            recorder: None,
            counts: self.counts,
            damage: Vec::new(),
            files: None,
            comments: PacketComments::default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::PacketComments;

    #[test]
    fn packet_comments_are_bounded_in_number_and_length() {
        let mut comments = PacketComments::default();
        // A multi-byte character straddling the cut is left out whole.
        let long = format!("{}é", "x".repeat(PacketComments::MAX_LEN - 1));
        comments.add(1, &long);
        assert_eq!(comments.kept[0].1.len(), PacketComments::MAX_LEN - 1);
        for frame in 2..=(PacketComments::MAX as u64 + 5) {
            comments.add(frame, "note");
        }
        assert_eq!(comments.kept.len(), PacketComments::MAX);
        assert_eq!(comments.more, 5);
    }
}
