//! The `analyze` command's output: a text report for people and one JSON document for scripts.

use std::io::Write;

use serde::Serialize;
use tcpsleuth_analyze::ConnectionSummary;
use tcpsleuth_capture::printable;
use tcpsleuth_correlate::{Correlation, FrameRef, Recording};
use tcpsleuth_diagnose::{ConnectionDiagnosis, Finding, Severity, VantagePoint};

use crate::frames::{frames_in_prose, FrameNames};
use crate::output::{how_it_ended, write_wrapped, CaptureSummary, Paint};
use crate::pipeline::{Input, Outcome};
use crate::results::{Entry, Kept};

/// One capture's diagnosis, connections in stream order.
pub struct Diagnosed {
    pub capture: CaptureSummary,
    pub connections: Kept,
    /// What it was read from (the graphs read it again).
    pub input: Input,
    pub names: FrameNames,
    /// Packets recorded for matching against the other captures (several captures only).
    recording: Option<Recording>,
}

impl Diagnosed {
    pub fn new(input: &Input, mut outcome: Outcome, connections: Kept) -> Diagnosed {
        Diagnosed {
            capture: CaptureSummary::new(&input.name, &outcome),
            connections,
            input: input.clone(),
            names: FrameNames::of(input),
            recording: outcome.recorder.take().map(|r| r.finish()),
        }
    }
}

/// The HTML report: the same diagnosis, with graphs of each problem connection drawn from a
/// second pass over its capture file (standard input cannot be read twice: no graphs).
pub fn html(out: &mut impl Write, all: &[Diagnosed], paths: &[Correlation]) -> anyhow::Result<()> {
    use tcpsleuth_html::{CaptureInfo, ConnectionView, Report};
    let mut series_of = Vec::with_capacity(all.len());
    let mut stdin = false;
    for d in all {
        let wanted: Vec<crate::series::Wanted> = d
            .connections
            .memory
            .iter()
            .filter(|(_, diag)| !diag.findings.is_empty())
            .map(|(s, _)| {
                // Graph the direction that carried the data.
                let server_sends =
                    s.server_to_client.payload_bytes >= s.client_to_server.payload_bytes;
                let (from, to, from_name, to_name) = if server_sends {
                    (&s.server, &s.client, "server", "client")
                } else {
                    (&s.client, &s.server, "client", "server")
                };
                crate::series::Wanted {
                    stream: s.stream,
                    sender_ip: from.ip.clone(),
                    sender_port: from.port,
                    title: format!("{from_name} {} → {to_name} {}", from, to),
                }
            })
            .collect();
        let series = if wanted.is_empty() {
            Default::default()
        } else if d.input.files.iter().any(|f| f.as_os_str() == "-") {
            stdin = true;
            Default::default()
        } else {
            crate::series::collect(&d.input, &wanted)?
        };
        series_of.push(series);
    }
    // Sentences name frames as the rest of the page does; JSON keeps global numbers.
    let rewritten: Vec<Vec<ConnectionDiagnosis>> = all
        .iter()
        .map(|d| {
            if !d.names.is_multi_file() {
                return Vec::new();
            }
            let names = &d.names;
            d.connections
                .memory
                .iter()
                .map(|(_, diag)| {
                    let mut diag = diag.clone();
                    for f in &mut diag.findings {
                        f.summary = names.prose(&f.summary);
                        f.explanation = names.prose(&f.explanation);
                        for e in &mut f.timeline {
                            e.text = names.prose(&e.text);
                        }
                    }
                    diag
                })
                .collect()
        })
        .collect();
    let paths_named: Vec<Correlation>;
    let paths = if all.iter().any(|d| d.names.is_multi_file()) {
        let frame = |capture: Option<usize>, n: u64| {
            capture
                .and_then(|c| all.get(c))
                .map_or_else(|| n.to_string(), |d| d.names.text(n))
        };
        paths_named = paths
            .iter()
            .map(|c| {
                let mut c = c.clone();
                for f in &mut c.findings {
                    f.summary = frames_in_prose(&f.summary, frame);
                    f.explanation = frames_in_prose(&f.explanation, frame);
                }
                for e in &mut c.timeline {
                    e.text = frames_in_prose(&e.text, frame);
                }
                c
            })
            .collect();
        &paths_named
    } else {
        paths
    };
    let report = Report {
        version: env!("CARGO_PKG_VERSION"),
        captures: all
            .iter()
            .map(|d| CaptureInfo {
                path: d.capture.path.clone(),
                frames: d.capture.frames,
                damage: d.capture.damage.clone(),
                frame_name: d.names.is_multi_file().then(|| {
                    let names = d.names.clone();
                    Box::new(move |frame| names.label(frame)) as Box<dyn Fn(u64) -> String>
                }),
                comments: d
                    .capture
                    .packet_comments
                    .iter()
                    .map(|c| (c.frame, c.text.clone()))
                    .collect(),
            })
            .collect(),
        connections: all
            .iter()
            .enumerate()
            .flat_map(|(capture, d)| {
                let series = &series_of[capture];
                let named = &rewritten[capture];
                d.connections
                    .memory
                    .iter()
                    .enumerate()
                    .map(move |(i, (summary, diagnosis))| ConnectionView {
                        capture,
                        summary,
                        diagnosis: named.get(i).unwrap_or(diagnosis),
                        series: series.get(&summary.stream).cloned(),
                    })
            })
            .collect(),
        paths,
        graph_note: stdin.then(|| {
            "A capture read from standard input has no graphs: they need a second pass over the file.".to_string()
        }),
    };
    out.write_all(tcpsleuth_html::render(&report).as_bytes())?;
    Ok(())
}

/// Connections seen in several of the captures, matched packet by packet.
pub fn paths(all: &mut [Diagnosed]) -> Vec<Correlation> {
    let recordings = all
        .iter_mut()
        .map(|d| (d.capture.path.clone(), d.recording.take()))
        .collect();
    correlate(recordings)
}

/// Matches the connections the captures have in common, given each capture's name and
/// recording; nothing unless every capture was recorded.
pub fn correlate(captures: Vec<(String, Option<Recording>)>) -> Vec<Correlation> {
    if captures.len() < 2 {
        return Vec::new();
    }
    let mut recordings = Vec::with_capacity(captures.len());
    for (name, recording) in captures {
        let Some(recording) = recording else {
            return Vec::new();
        };
        if let Some(frame) = recording.truncated_at {
            crate::output::warn(format_args!(
                "{}: only the frames before {frame} are matched against the other captures",
                printable(&name)
            ));
        }
        recordings.push(recording);
    }
    tcpsleuth_correlate::correlate(&recordings)
}

#[derive(Serialize)]
struct Version {
    version: &'static str,
}

#[derive(Serialize)]
struct ConnectionEntry<'a> {
    /// Index into `captures`.
    capture: usize,
    stream: u32,
    client: String,
    server: String,
    /// The most severe finding's severity; null for a healthy connection.
    severity: Option<&'static str>,
    vantage: &'a tcpsleuth_diagnose::Vantage,
    application: &'a [tcpsleuth_diagnose::AppOutcome],
    summary: &'a ConnectionSummary,
    findings: &'a [Finding],
}

/// Indentation of a connection in the document: an element of the top object's array.
const ENTRY_INDENT: &[u8] = b"    ";

/// Renders one connection's entry of the JSON document, indented to its place in it.
pub fn json_entry(
    out: &mut Vec<u8>,
    capture: usize,
    s: &ConnectionSummary,
    diag: &ConnectionDiagnosis,
) -> anyhow::Result<()> {
    let entry = ConnectionEntry {
        capture,
        stream: s.stream,
        client: s.client.to_string(),
        server: s.server.to_string(),
        severity: diag.severity().map(|s| s.as_str()),
        vantage: &diag.vantage,
        application: &diag.application,
        summary: s,
        findings: &diag.findings,
    };
    pretty_at(out, &entry, ENTRY_INDENT)
}

/// Pretty JSON as `serde_json::to_writer_pretty` writes it, every line after the first
/// indented by `indent`: the document is written piece by piece, identical to one written
/// whole.
fn pretty_at(out: &mut Vec<u8>, value: &impl Serialize, indent: &[u8]) -> anyhow::Result<()> {
    let text = serde_json::to_vec_pretty(value)?;
    out.reserve(text.len() + text.len() / 16);
    for (i, line) in text.split(|&b| b == b'\n').enumerate() {
        if i > 0 {
            out.push(b'\n');
            out.extend_from_slice(indent);
        }
        out.extend_from_slice(line);
    }
    Ok(())
}

/// The JSON document: `{tcpsleuth, captures, connections, paths}`, connections by capture
/// then stream.
pub fn json(
    out: &mut impl Write,
    all: &mut [Diagnosed],
    paths: &[Correlation],
) -> anyhow::Result<()> {
    let mut piece = Vec::new();
    out.write_all(b"{\n  \"tcpsleuth\": ")?;
    pretty_at(
        &mut piece,
        &Version {
            version: env!("CARGO_PKG_VERSION"),
        },
        b"  ",
    )?;
    out.write_all(&piece)?;
    out.write_all(b",\n  \"captures\": ")?;
    piece.clear();
    let captures: Vec<&CaptureSummary> = all.iter().map(|d| &d.capture).collect();
    pretty_at(&mut piece, &captures, b"  ")?;
    out.write_all(&piece)?;
    out.write_all(b",\n  \"connections\": [")?;
    let mut first = true;
    for d in all.iter_mut() {
        let kept = &mut d.connections;
        let entries = std::mem::take(&mut kept.entries);
        for e in &entries {
            out.write_all(if first { b"\n    " } else { b",\n    " })?;
            first = false;
            kept.copy_first(e, out)?;
        }
        kept.entries = entries;
    }
    out.write_all(if first { b"]" } else { b"\n  ]" })?;
    if !paths.is_empty() {
        out.write_all(b",\n  \"paths\": ")?;
        piece.clear();
        pretty_at(&mut piece, &paths, b"  ")?;
        out.write_all(&piece)?;
    }
    out.write_all(b"\n}\n")?;
    Ok(())
}

/// How the text report is laid out for where it goes.
#[derive(Debug, Clone, Copy, Default)]
pub struct TextOptions {
    /// Only the one-line verdicts.
    pub brief: bool,
    /// Also the healthy connections, and where every capture was taken.
    pub verbose: bool,
    /// Colour severity words, finding ids and section rules (see `output::Paint`).
    pub color: bool,
    /// Wrap explanations and next steps at this column; None never wraps.
    pub width: Option<usize>,
}

impl TextOptions {
    fn paint(&self, paint: Paint, text: impl std::fmt::Display) -> String {
        paint.apply(self.color, text)
    }

    fn severity(&self, severity: Severity, text: &str) -> String {
        let paint = match severity {
            Severity::Failure => Paint::Failure,
            Severity::Degraded => Paint::Degraded,
            Severity::Info => Paint::Info,
        };
        self.paint(paint, text)
    }

    fn rule(&self, out: &mut impl Write, title: &str) -> std::io::Result<()> {
        writeln!(
            out,
            "{}",
            self.paint(Paint::Rule, format_args!("── {title} ──"))
        )
    }
}

/// One problem connection's verdict line (and where it was captured, with `--brief --verbose`).
pub fn verdict(
    out: &mut impl Write,
    s: &ConnectionSummary,
    diag: &ConnectionDiagnosis,
    opts: &TextOptions,
    names: &FrameNames,
) -> anyhow::Result<()> {
    let Some(top) = diag.findings.first() else {
        return Ok(());
    };
    // Padded outside the colour, so that escapes do not count towards the width.
    let word = top.severity.as_str().to_uppercase();
    writeln!(
        out,
        "{}{:pad$} stream {:<4} {}  {} ({}, {:.2}): {}",
        opts.severity(top.severity, &word),
        "",
        s.stream,
        s.endpoints(),
        opts.paint(Paint::Id, top.id),
        top.actor,
        top.confidence,
        names.prose(&top.summary),
        pad = 8usize.saturating_sub(word.len()),
    )?;
    if opts.brief && opts.verbose {
        writeln!(out, "{:9}Captured: {}", "", captured(diag))?;
    }
    Ok(())
}

pub fn text(
    out: &mut impl Write,
    all: &mut [Diagnosed],
    paths: &[Correlation],
    opts: &TextOptions,
) -> anyhow::Result<()> {
    for (i, d) in all.iter_mut().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        let kept = &mut d.connections;
        let entries = std::mem::take(&mut kept.entries);
        let mut problems: Vec<&Entry> = entries.iter().filter(|e| e.severity.is_some()).collect();
        problems.sort_by_key(|e| (e.severity, e.stream));
        let healthy = kept.connections - kept.problems;
        let in_files = d
            .capture
            .files
            .as_ref()
            .map_or(String::new(), |f| format!(" in {} files", f.len()));
        writeln!(
            out,
            "{}: {} frames{in_files}, {} TCP connection{}: {} with findings, {} healthy",
            printable(&d.capture.path),
            d.capture.frames,
            kept.connections,
            if kept.connections == 1 { "" } else { "s" },
            kept.problems,
            healthy
        )?;
        retention_note(out, &d.capture)?;
        packet_comments(out, &d.capture, &d.names)?;
        if !problems.is_empty() {
            writeln!(out)?;
        }
        for e in &problems {
            kept.copy_first(e, out)?;
        }
        if !opts.brief {
            for e in &problems {
                kept.copy_second(e, out)?;
            }
        }
        if opts.verbose && healthy > 0 {
            writeln!(out)?;
            opts.rule(out, "healthy connections")?;
            writeln!(
                out,
                "{:>6}  {:<47} {:>13} {:>17} {:>9}  {:<12} captured",
                "stream", "client → server", "packets c/s", "payload c/s", "duration", "end"
            )?;
            for e in entries.iter().filter(|e| e.severity.is_none()) {
                kept.copy_first(e, out)?;
            }
        }
        kept.entries = entries;
    }
    paths_text(out, all, paths, opts)
}

/// The comments someone wrote on the capture's packets (pcapng), often the very question
/// ("the client hangs here"): the first few, with where the rest are.
fn packet_comments(
    out: &mut impl Write,
    capture: &CaptureSummary,
    names: &FrameNames,
) -> anyhow::Result<()> {
    const SHOWN: usize = 10;
    let all = &capture.packet_comments;
    if all.is_empty() {
        return Ok(());
    }
    writeln!(out, "Packet comments in the capture:")?;
    for c in all.iter().take(SHOWN) {
        // Written by whoever made the capture: control characters shown inert.
        writeln!(
            out,
            "  frame {}: {}",
            names.text(c.frame),
            printable(&c.text)
        )?;
    }
    let more = (all.len() - all.len().min(SHOWN)) as u64 + capture.packet_comments_not_kept;
    if more > 0 {
        writeln!(out, "  … and {more} more (--format json lists up to 1000)")?;
    }
    Ok(())
}

/// What a run gave up to keep its memory bounded, if anything.
fn retention_note(out: &mut impl Write, capture: &CaptureSummary) -> anyhow::Result<()> {
    if capture.evicted_connections > 0 {
        writeln!(
            out,
            "note: {} connections were diagnosed before they ended: more were open at once than \
             the tracked-connection cap (--max-connections); their analysis stops at that point",
            capture.evicted_connections,
        )?;
    }
    if capture.late_frames > 0 {
        writeln!(
            out,
            "note: {} frames arrived on connections already closed and diagnosed, and were not analysed",
            capture.late_frames
        )?;
    }
    Ok(())
}

/// `--verbose`: a connection without findings, one row, with where it was captured.
pub fn healthy_row(
    out: &mut impl Write,
    s: &ConnectionSummary,
    diag: &ConnectionDiagnosis,
    names: &FrameNames,
) -> anyhow::Result<()> {
    let (packets, payload) = crate::output::volumes(s);
    writeln!(
        out,
        "{:>6}  {:<47} {:>13} {:>17} {:>8.3}s  {:<12} {}",
        s.stream,
        s.endpoints(),
        packets,
        payload,
        s.duration,
        how_it_ended(s, names),
        captured(diag)
    )?;
    Ok(())
}

/// Where the capture was taken relative to the connection, and why we think so.
fn captured(diag: &ConnectionDiagnosis) -> String {
    let place = match diag.vantage.point {
        VantagePoint::NearClient => "near the client",
        VantagePoint::NearServer => "near the server",
        VantagePoint::Middle => "on the path between them",
        VantagePoint::Unknown => "unknown",
    };
    format!("{place} ({})", diag.vantage.basis)
}

/// The section on connections seen at two capture points.
fn paths_text(
    out: &mut impl Write,
    all: &[Diagnosed],
    paths: &[Correlation],
    opts: &TextOptions,
) -> anyhow::Result<()> {
    if paths.is_empty() {
        return Ok(());
    }
    // Captures are named by number after a legend: paths are long and repeat on every line.
    let name = |capture: usize| format!("capture {capture}");
    let frame = |capture: usize, n: u64| {
        all.get(capture)
            .map_or_else(|| n.to_string(), |d| d.names.text(n))
    };
    let at = |r: &FrameRef| format!("{} frame {}", name(r.capture), frame(r.capture, r.frame));
    // Sentences name frames as "capture K frame N".
    let multi = all.iter().any(|d| d.names.is_multi_file());
    let prose = |text: &str| {
        if multi {
            frames_in_prose(text, |capture, n| {
                capture.map_or_else(|| n.to_string(), |c| frame(c, n))
            })
        } else {
            text.to_owned()
        }
    };
    writeln!(out)?;
    opts.rule(
        out,
        "Across captures: the same connections seen at two points",
    )?;
    for (n, d) in all.iter().enumerate() {
        writeln!(out, "capture {n} = {}", printable(&d.capture.path))?;
    }
    for c in paths {
        writeln!(out)?;
        let clock = &c.clock;
        writeln!(
            out,
            "stream {} of {} = stream {} of {}: clock offset {:+.6} s ± {:.3} ms{}, {} packets seen at both",
            c.streams[0],
            name(c.captures[0]),
            c.streams[1],
            name(c.captures[1]),
            clock.offset,
            clock.uncertainty * 1e3,
            clock
                .drift_ppm
                .map_or(String::new(), |d| format!(", drift {d:+.1} ppm")),
            clock.matched
        )?;
        for d in &c.directions {
            let lost = if d.lost_between == 0 {
                "none lost between the captures".to_string()
            } else {
                let frames: Vec<String> =
                    d.lost.iter().map(|r| frame(r.capture, r.frame)).collect();
                format!(
                    "{} of {} lost between the captures ({} frames {}{})",
                    d.lost_between,
                    d.seen_upstream,
                    name(d.upstream),
                    frames.join(", "),
                    if d.lost_between as usize > d.lost.len() {
                        ", …"
                    } else {
                        ""
                    }
                )
            };
            writeln!(
                out,
                "  {}: passes {} first; one-way delay {}; {}",
                d.direction,
                name(d.upstream),
                d.one_way_delay
                    .map_or("?".to_string(), |s| format!("{:.3} ms", s * 1e3)),
                lost
            )?;
            for rst in &d.injected_rsts {
                writeln!(
                    out,
                    "    RST at {} never passed {}, nearer its claimed sender: it was made between the two points (injected)",
                    at(rst),
                    name(d.upstream)
                )?;
            }
            let others = d.appeared as usize - d.injected_rsts.len().min(d.appeared as usize);
            if others > 0 {
                writeln!(
                    out,
                    "    {others} other packet(s) seen downstream only (the upstream capture missed them, or they were made between the points)"
                )?;
            }
        }
        for f in &c.findings {
            let evidence: Vec<String> = f.evidence.iter().take(12).map(&at).collect();
            writeln!(
                out,
                "  ● {} · actor {} · confidence {:.2}: {}",
                opts.paint(Paint::Id, f.id),
                f.actor,
                f.confidence,
                prose(&f.summary)
            )?;
            write_wrapped(out, "    Why: ", &prose(&f.explanation), opts.width)?;
            writeln!(out, "    Evidence: {}", evidence.join(", "))?;
        }
        if !c.timeline.is_empty() {
            writeln!(out, "  Timeline (one clock, the first capture's):")?;
            for e in &c.timeline {
                let seen: Vec<String> = e.at.iter().map(&at).collect();
                writeln!(
                    out,
                    "    t={:.3} [{}]: {}",
                    e.time,
                    seen.join(" = "),
                    prose(&e.text)
                )?;
            }
        }
    }
    Ok(())
}

pub fn connection_detail(
    out: &mut impl Write,
    s: &ConnectionSummary,
    diag: &ConnectionDiagnosis,
    opts: &TextOptions,
    names: &FrameNames,
) -> anyhow::Result<()> {
    writeln!(out)?;
    opts.rule(out, &format!("stream {} · {}", s.stream, s.endpoints()))?;
    writeln!(out, "Captured: {}", captured(diag))?;
    if !diag.application.is_empty() {
        writeln!(out, "What the applications most likely saw:")?;
        for a in &diag.application {
            let error = if a.error == "hang" {
                "a hang".to_string()
            } else {
                format!("{} / {}", a.error, a.windows)
            };
            writeln!(out, "  {}: {error}: {}", a.endpoint, a.detail)?;
        }
    }
    for (n, f) in diag.findings.iter().enumerate() {
        writeln!(out)?;
        writeln!(
            out,
            "{}. {} · actor {} · confidence {:.2} · {}",
            n + 1,
            opts.paint(Paint::Id, f.id),
            f.actor,
            f.confidence,
            opts.severity(f.severity, f.severity.as_str())
        )?;
        writeln!(out, "   {}", names.prose(&f.summary))?;
        write_wrapped(out, "   Why: ", &names.prose(&f.explanation), opts.width)?;
        if !f.timeline.is_empty() {
            writeln!(out, "   Timeline:")?;
            for e in &f.timeline {
                let frames = match e.last_frame {
                    Some(last) => format!("frames {}–{}", names.text(e.frame), names.text(last)),
                    None => format!("frame {}", names.text(e.frame)),
                };
                writeln!(
                    out,
                    "     {frames}, t={:.3}: {}",
                    e.time,
                    names.prose(&e.text)
                )?;
            }
        }
        writeln!(out, "   Evidence frames: {}", frame_list(&f.frames, names))?;
        writeln!(out, "   Wireshark filter: {}", f.display_filter)?;
        writeln!(out, "   Next steps:")?;
        for step in &f.next_steps {
            write_wrapped(out, "     - ", step, opts.width)?;
        }
    }
    Ok(())
}

fn frame_list(frames: &[u64], names: &FrameNames) -> String {
    let shown: Vec<String> = frames.iter().take(24).map(|&n| names.text(n)).collect();
    let more = frames.len().saturating_sub(24);
    if more > 0 {
        format!("{} … (+{more})", shown.join(", "))
    } else {
        shown.join(", ")
    }
}
