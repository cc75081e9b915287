//! Printers for the `packets` and `connections` commands, and what every printer shares about
//! the terminal: warnings, colour and width.

use std::collections::BTreeMap;
use std::io::{self, IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use anstyle::{AnsiColor, Style};
use serde::Serialize;
use tcpsleuth_analyze::ConnectionSummary;
use tcpsleuth_decode::TcpFlags;

use crate::args::{ColorWhen, PacketsFormat};
use crate::pipeline::{Outcome, TcpEvent, TcpKind};

/// `--quiet`: set once at start-up. A global because warnings come from deep in the printers,
/// and threading a flag through every one of them for a single `if` is noise.
static QUIET: AtomicBool = AtomicBool::new(false);

pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// A warning on stderr, unless `--quiet`. Errors always go out (`eprintln!` directly).
pub fn warn(message: std::fmt::Arguments<'_>) {
    if !QUIET.load(Ordering::Relaxed) {
        eprintln!("tcpsleuth: warning: {message}");
    }
}

/// What a command did, on stderr, unless `--quiet`: for commands whose output is files.
pub fn note(message: std::fmt::Arguments<'_>) {
    if !QUIET.load(Ordering::Relaxed) {
        eprintln!("tcpsleuth: {message}");
    }
}

/// Whether stdout gets colour. An explicit `--color` wins over NO_COLOR, as no-color.org asks;
/// otherwise colour needs a terminal that is not "dumb" and an unset or empty NO_COLOR.
pub fn use_color(when: ColorWhen) -> bool {
    match when {
        ColorWhen::Always => true,
        ColorWhen::Never => false,
        ColorWhen::Auto => {
            let set = |var| std::env::var_os(var).is_some_and(|v| !v.is_empty());
            io::stdout().is_terminal()
                && !set("NO_COLOR")
                && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
        }
    }
}

/// The column to wrap long prose at: the terminal's width, or None (never wrap) when stdout is
/// not a terminal, so that piped and redirected output stays byte-stable.
pub fn wrap_width() -> Option<usize> {
    const UNKNOWN: usize = 100;
    if !io::stdout().is_terminal() {
        return None;
    }
    Some(terminal_size::terminal_size().map_or(UNKNOWN, |(w, _)| usize::from(w.0)))
}

/// The few things the text report colours; everything else stays plain.
#[derive(Debug, Clone, Copy)]
pub enum Paint {
    Failure,
    Degraded,
    Info,
    /// A finding id.
    Id,
    /// A section rule (`── stream 3 · … ──`).
    Rule,
}

impl Paint {
    fn style(self) -> Style {
        match self {
            Paint::Failure => AnsiColor::Red.on_default().bold(),
            Paint::Degraded => AnsiColor::Yellow.on_default().bold(),
            Paint::Info => AnsiColor::Blue.on_default(),
            Paint::Id => Style::new().bold(),
            Paint::Rule => AnsiColor::Cyan.on_default(),
        }
    }

    /// `text` in this style when `on`, else `text` unchanged: the one place escapes are made.
    pub fn apply(self, on: bool, text: impl std::fmt::Display) -> String {
        if on {
            let style = self.style();
            format!("{}{text}{}", style.render(), style.render_reset())
        } else {
            text.to_string()
        }
    }
}

/// Writes `lead` then `text`; with a width, wraps `text` at spaces so that no line is longer
/// (unless one word is), continuation lines indented under the start of `text`.
pub fn write_wrapped(
    out: &mut impl Write,
    lead: &str,
    text: &str,
    width: Option<usize>,
) -> io::Result<()> {
    let indent = lead.chars().count();
    let Some(width) = width else {
        return writeln!(out, "{lead}{text}");
    };
    // A very narrow terminal would leave a word or two a line; wrapping wider reads better.
    let width = width.max(indent + 30);
    out.write_all(lead.as_bytes())?;
    let mut column = indent;
    let mut line_empty = true;
    for word in text.split_whitespace() {
        let len = word.chars().count();
        if !line_empty && column + 1 + len > width {
            write!(out, "\n{:indent$}", "")?;
            column = indent;
            line_empty = true;
        }
        if !line_empty {
            out.write_all(b" ")?;
            column += 1;
        }
        out.write_all(word.as_bytes())?;
        column += len;
        line_empty = false;
    }
    out.write_all(b"\n")
}

/// One line of `packets --format jsonl`. This is a contract (docs/json.md): fields are only
/// added, never renamed; optional fields are omitted where tshark shows nothing.
#[derive(Serialize)]
struct PacketLine<'a> {
    frame: u64,
    /// In a capture of several files: the file holding the frame, and its number there.
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    file_frame: Option<u64>,
    /// Seconds since the first frame of the capture.
    time: f64,
    stream: u32,
    src: SocketAddr,
    dst: SocketAddr,
    seq: u32,
    ack: u32,
    len: u32,
    window: u64,
    tcp_flags: &'a str,
    flags: Vec<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dup_ack_num: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dup_ack_frame: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    acks_frame: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ack_rtt: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    initial_rtt: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bytes_in_flight: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    push_bytes_sent: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rto: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rto_frame: Option<u64>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    icmp_quote: bool,
    /// tcpsleuth's verdict where tshark 4.0's flag is demonstrably wrong
    /// (docs/tshark-differences.md); absent when they agree.
    #[serde(skip_serializing_if = "Option::is_none")]
    corrected: Option<&'static str>,
}

pub struct PacketPrinter {
    format: PacketsFormat,
    header_done: bool,
    flag_text: String,
    /// The capture being printed, for the table's `capture` column.
    capture: String,
    /// Where its frames are, when it is several files: the table shows them as FILE#FRAME.
    names: crate::frames::FrameNames,
    /// The table's frame column: wide enough for FILE#FRAME in a capture of several files.
    frame_width: usize,
    /// With `--format parquet`.
    table: Option<tcpsleuth_parquet::PacketTable>,
}

impl PacketPrinter {
    /// A printer of table or JSON lines; `--format parquet` needs [`PacketPrinter::parquet`].
    pub fn new(format: PacketsFormat) -> PacketPrinter {
        PacketPrinter {
            format,
            header_done: false,
            flag_text: String::with_capacity(32),
            capture: String::new(),
            names: crate::frames::FrameNames::new(None),
            frame_width: 7,
            table: None,
        }
    }

    /// Rows into this run's part of the `packets` table under `dir`.
    pub fn parquet(
        dir: &std::path::Path,
        shard: Option<tcpsleuth_analyze::Shard>,
    ) -> anyhow::Result<PacketPrinter> {
        Ok(PacketPrinter {
            table: Some(tcpsleuth_parquet::PacketTable::create(dir, shard)?),
            ..PacketPrinter::new(PacketsFormat::Parquet)
        })
    }

    /// The capture whose frames follow (its name, and its files when it is several); the
    /// table's header is printed again for it.
    pub fn start_capture(&mut self, input: &crate::pipeline::Input) {
        self.capture = input.name.display().to_string();
        self.names = crate::frames::FrameNames::of(input);
        // A file's name, '#', and room for a frame number of up to 7 digits.
        self.frame_width = input
            .files
            .iter()
            .filter(|_| input.is_multi_file())
            .filter_map(|f| f.file_name())
            .map(|n| {
                tcpsleuth_capture::printable(&n.to_string_lossy())
                    .chars()
                    .count()
                    + 8
            })
            .max()
            .unwrap_or(7);
        self.header_done = false;
    }

    /// Completes the Parquet part, if this printer writes one.
    pub fn finish(self) -> anyhow::Result<Option<tcpsleuth_parquet::Written>> {
        Ok(match self.table {
            Some(table) => Some(table.finish()?),
            None => None,
        })
    }

    pub fn packet(&mut self, out: &mut impl Write, event: &TcpEvent<'_>) -> anyhow::Result<()> {
        let seg = event.segment;
        tcp_flag_text(seg.flags, &mut self.flag_text);
        let time = secs(event.frame.timestamp_ns.saturating_sub(event.first_time_ns));
        let src = SocketAddr::new(seg.src, seg.src_port);
        let dst = SocketAddr::new(seg.dst, seg.dst_port);
        match self.format {
            PacketsFormat::Parquet => {
                if let Some(table) = self.table.as_mut() {
                    let place = self.names.place(event.frame.number);
                    let file = place.as_ref().map(|(name, frame)| (name.as_str(), *frame));
                    table.add(&packet_row(&self.capture, file, event, &self.flag_text))?;
                }
            }
            PacketsFormat::Jsonl => {
                let place = self.names.place(event.frame.number);
                let file = place.as_ref().map(|(name, frame)| (name.as_str(), *frame));
                let row = packet_row("", file, event, &self.flag_text);
                let line = PacketLine {
                    frame: row.frame,
                    file: row.file.map(|f| f.0),
                    file_frame: row.file.map(|f| f.1),
                    time: row.time_s,
                    stream: row.stream,
                    src,
                    dst,
                    seq: row.seq,
                    ack: row.ack,
                    len: row.len,
                    window: row.window,
                    tcp_flags: row.tcp_flags,
                    flags: row.analysis.names().collect(),
                    dup_ack_num: row.dup_ack_num,
                    dup_ack_frame: row.dup_ack_frame,
                    acks_frame: row.acks_frame,
                    ack_rtt: row.ack_rtt_s,
                    initial_rtt: row.initial_rtt_s,
                    bytes_in_flight: row.bytes_in_flight,
                    push_bytes_sent: row.push_bytes_sent,
                    rto: row.rto_s,
                    rto_frame: row.rto_frame,
                    icmp_quote: row.icmp_quote,
                    corrected: row.corrected,
                };
                serde_json::to_writer(&mut *out, &line)?;
                out.write_all(b"\n")?;
            }
            PacketsFormat::Table => {
                if !self.header_done {
                    writeln!(
                        out,
                        "{:>w$} {:>12} {:>6}  {:<45} {:<9} {:>10} {:>10} {:>6} {:>8}  analysis",
                        "frame",
                        "time",
                        "stream",
                        "src -> dst",
                        "flags",
                        "seq",
                        "ack",
                        "len",
                        "win",
                        w = self.frame_width
                    )?;
                    self.header_done = true;
                }
                let endpoints = format!("{src} -> {dst}");
                let (seq, ack, win, analysis) = match event.analysis() {
                    Some(a) => (a.rel_seq, a.rel_ack, a.window, a.flags.to_string()),
                    None if event.kind == TcpKind::IcmpQuote => (
                        seg.seq,
                        seg.ack,
                        u64::from(seg.window),
                        "(quoted in ICMP error)".into(),
                    ),
                    None => (
                        seg.seq,
                        seg.ack,
                        u64::from(seg.window),
                        "(malformed header)".into(),
                    ),
                };
                let dup = event
                    .analysis()
                    .and_then(|a| a.dup_ack)
                    .map(|(n, f)| format!(" #{n} of {}", self.names.text(f)))
                    .unwrap_or_default();
                writeln!(
                    out,
                    "{:>w$} {:>12.6} {:>6}  {:<45} {:<9} {:>10} {:>10} {:>6} {:>8}  {}{}",
                    self.names.text(event.frame.number),
                    time,
                    event.stream,
                    endpoints,
                    self.flag_text,
                    seq,
                    ack,
                    seg.payload_len,
                    win,
                    analysis,
                    dup,
                    w = self.frame_width
                )?;
            }
        }
        Ok(())
    }
}

/// One TCP frame as `packets --format jsonl` and the Parquet `packets` table give it.
/// Sequence numbers are relative and the window scaled where the analysis ran; a frame it did
/// not run on (a damaged header, a header quoted in ICMP) keeps the raw values.
pub fn packet_row<'a>(
    capture: &'a str,
    file: Option<(&'a str, u64)>,
    event: &TcpEvent<'_>,
    tcp_flags: &'a str,
) -> tcpsleuth_parquet::PacketRow<'a> {
    let seg = event.segment;
    let a = event.analysis().copied();
    tcpsleuth_parquet::PacketRow {
        capture,
        frame: event.frame.number,
        file,
        timestamp_ns: event.frame.timestamp_ns,
        time_s: secs(event.frame.timestamp_ns.saturating_sub(event.first_time_ns)),
        stream: event.stream,
        src: seg.src,
        src_port: seg.src_port,
        dst: seg.dst,
        dst_port: seg.dst_port,
        seq: a.map_or(seg.seq, |a| a.rel_seq),
        ack: a.map_or(seg.ack, |a| a.rel_ack),
        len: seg.payload_len,
        window: a.map_or(u64::from(seg.window), |a| a.window),
        tcp_flags,
        analysis: a.map(|a| a.flags).unwrap_or_default(),
        dup_ack_num: a.and_then(|a| a.dup_ack).map(|d| d.0),
        dup_ack_frame: a.and_then(|a| a.dup_ack).map(|d| d.1),
        acks_frame: a.and_then(|a| a.acks_frame),
        ack_rtt_s: a.and_then(|a| a.ack_rtt_ns).map(secs),
        initial_rtt_s: a.and_then(|a| a.initial_rtt_ns).map(secs),
        bytes_in_flight: a.and_then(|a| a.bytes_in_flight),
        push_bytes_sent: a.and_then(|a| a.push_bytes_sent),
        rto_s: a.and_then(|a| a.rto).map(|r| secs(r.0)),
        rto_frame: a.and_then(|a| a.rto).map(|r| r.1),
        icmp_quote: event.kind == TcpKind::IcmpQuote,
        corrected: a.and_then(|a| a.corrected).map(|c| c.name()),
    }
}

/// Flag letters in Wireshark's order of importance: SYN, ACK, FIN, RST, PSH, URG, ECE, CWR.
pub fn tcp_flag_text(flags: TcpFlags, text: &mut String) {
    text.clear();
    for (bit, name) in [
        (TcpFlags::SYN, "SYN"),
        (TcpFlags::FIN, "FIN"),
        (TcpFlags::RST, "RST"),
        (TcpFlags::PSH, "PSH"),
        (TcpFlags::ACK, "ACK"),
        (TcpFlags::URG, "URG"),
        (TcpFlags::ECE, "ECE"),
        (TcpFlags::CWR, "CWR"),
    ] {
        if flags.has(bit) {
            if !text.is_empty() {
                text.push(',');
            }
            text.push_str(name);
        }
    }
}

fn secs(ns: i64) -> f64 {
    ns as f64 / 1e9
}

#[derive(Serialize)]
pub struct CaptureSummary {
    pub path: String,
    pub frames: u64,
    tcp_frames: u64,
    icmp_quoting_tcp: u64,
    ipv4_fragments_not_reassembled: u64,
    other_frames: u64,
    malformed_frames: u64,
    /// Frames on connections already diagnosed and retired (see docs/limits.md).
    #[serde(skip_serializing_if = "is_zero")]
    pub late_frames: u64,
    /// Connections diagnosed early because too many were open at once (see docs/limits.md).
    #[serde(skip_serializing_if = "is_zero")]
    pub evicted_connections: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub damage: Option<String>,
    /// The files of a capture read from several (a ring buffer), in reading order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub files: Option<Vec<FileEntry>>,
    /// pcapng packet comments, in frame order (bounded: see `PacketComments`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub packet_comments: Vec<PacketComment>,
    #[serde(skip_serializing_if = "is_zero")]
    pub packet_comments_not_kept: u64,
}

#[derive(Serialize)]
pub struct PacketComment {
    pub frame: u64,
    pub text: String,
}

/// One file of a capture read from several: its frames are global frames
/// `first_frame..first_frame + frames`.
#[derive(Serialize)]
pub struct FileEntry {
    pub path: String,
    pub first_frame: u64,
    pub frames: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl CaptureSummary {
    pub fn new(path: &std::path::Path, o: &Outcome) -> CaptureSummary {
        CaptureSummary {
            path: path.display().to_string(),
            frames: o.counts.frames,
            tcp_frames: o.counts.tcp,
            icmp_quoting_tcp: o.counts.icmp_quotes,
            ipv4_fragments_not_reassembled: o.counts.fragments,
            other_frames: o.counts.not_tcp,
            malformed_frames: o.counts.malformed,
            late_frames: o.retention.late_frames,
            evicted_connections: o.retention.evicted,
            // One message per damaged file (several only for a capture of several files).
            damage: (!o.damage.is_empty()).then(|| {
                let each: Vec<String> = o.damage.iter().map(ToString::to_string).collect();
                each.join("; ")
            }),
            files: o.files.as_ref().map(|table| {
                table
                    .files()
                    .into_iter()
                    .map(|f| FileEntry {
                        path: f.path.display().to_string(),
                        first_frame: f.first_frame,
                        frames: f.frames,
                    })
                    .collect()
            }),
            packet_comments: o
                .comments
                .kept
                .iter()
                .map(|(frame, text)| PacketComment {
                    frame: *frame,
                    text: text.clone(),
                })
                .collect(),
            packet_comments_not_kept: o.comments.more,
        }
    }
}

#[derive(Serialize)]
struct ConnectionsDocument {
    captures: Vec<CaptureSummary>,
    connections: Vec<ConnectionRow>,
}

#[derive(Serialize)]
struct ConnectionRow {
    /// Index of the capture in `captures` this connection comes from.
    capture: usize,
    #[serde(flatten)]
    summary: ConnectionSummary,
}

pub fn connections_json(out: &mut impl Write, all: &[(PathBuf, Outcome)]) -> anyhow::Result<()> {
    let captures = all
        .iter()
        .map(|(path, o)| CaptureSummary::new(path, o))
        .collect();
    let connections = all
        .iter()
        .enumerate()
        .flat_map(|(capture, (_, o))| {
            o.analyzer
                .summaries()
                .into_iter()
                .map(move |summary| ConnectionRow { capture, summary })
        })
        .collect();
    serde_json::to_writer_pretty(
        &mut *out,
        &ConnectionsDocument {
            captures,
            connections,
        },
    )?;
    out.write_all(b"\n")?;
    Ok(())
}

pub fn connections_table(out: &mut impl Write, all: &[(PathBuf, Outcome)]) -> anyhow::Result<()> {
    for (path, o) in all {
        let c = &o.counts;
        let names = crate::frames::FrameNames::new(o.files.clone());
        writeln!(
            out,
            "{}: {} frames, {} TCP, {} connections{}",
            tcpsleuth_capture::printable(&path.display().to_string()),
            c.frames,
            c.tcp,
            o.analyzer.stream_count(),
            if c.fragments > 0 {
                format!(", {} IPv4 fragments (not reassembled)", c.fragments)
            } else {
                String::new()
            }
        )?;
        writeln!(
            out,
            "{:>6}  {:<47} {:>13} {:>17} {:>9} {:>9}  {:<12} flags",
            "stream", "client -> server", "packets c/s", "payload c/s", "duration", "rtt", "end"
        )?;
        for s in o.analyzer.summaries() {
            let endpoints = format!("{} -> {}", s.client, s.server);
            let (packets, payload) = volumes(&s);
            let rtt = s
                .handshake
                .rtt
                .map(|r| format!("{:.3}ms", r * 1e3))
                .unwrap_or_else(|| "-".into());
            let end = how_it_ended(&s, &names);
            writeln!(
                out,
                "{:>6}  {:<47} {:>13} {:>17} {:>8.3}s {:>9}  {:<12} {}",
                s.stream,
                endpoints,
                packets,
                payload,
                s.duration,
                rtt,
                end,
                flag_counts(&s.flags)
            )?;
        }
    }
    Ok(())
}

/// `RST client #59` (`RST client trace3#12` in a capture of several files), `FIN server` or
/// `open`.
pub fn how_it_ended(s: &ConnectionSummary, names: &crate::frames::FrameNames) -> String {
    match (&s.close.rst, s.close.fin.first()) {
        (Some(rst), _) if names.is_multi_file() => {
            format!("RST {} {}", rst.from, names.text(rst.frame))
        }
        (Some(rst), _) => format!("RST {} #{}", rst.from, rst.frame),
        (None, Some(fin)) => format!("FIN {}", fin.from),
        (None, None) => "open".into(),
    }
}

fn flag_counts(flags: &BTreeMap<&'static str, u32>) -> String {
    flags
        .iter()
        .map(|(name, n)| format!("{name}={n}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// "packets c/s" and "payload c/s" as the connection tables show them.
pub fn volumes(s: &ConnectionSummary) -> (String, String) {
    (
        format!(
            "{}/{}",
            s.client_to_server.packets, s.server_to_client.packets
        ),
        format!(
            "{}/{}",
            human_bytes(s.client_to_server.payload_bytes),
            human_bytes(s.server_to_client.payload_bytes)
        ),
    )
}

fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["B", "kB", "MB", "GB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n}B")
    } else {
        format!("{value:.1}{}", UNITS[unit])
    }
}
