//! The `analyze` command's output: a text report for people and one JSON document for scripts.

use std::io::Write;
use std::path::PathBuf;

use serde::Serialize;
use tcpsleuth_analyze::ConnectionSummary;
use tcpsleuth_correlate::{Correlation, FrameRef, Recording};
use tcpsleuth_diagnose::{ConnectionDiagnosis, Finding, VantagePoint};

use crate::output::{endpoint, CaptureSummary};
use crate::pipeline::Outcome;

/// One capture's diagnosis, connections in stream order.
pub struct Diagnosed {
    pub capture: CaptureSummary,
    pub connections: Vec<(ConnectionSummary, ConnectionDiagnosis)>,
    /// Packets recorded for matching against the other captures (several captures only).
    recording: Option<Recording>,
}

impl Diagnosed {
    pub fn new(path: PathBuf, mut outcome: Outcome) -> Diagnosed {
        let capture = CaptureSummary::new(&path, &outcome);
        let summaries: Vec<ConnectionSummary> = outcome.analyzer.summaries().collect();
        let connections = match outcome.diagnoser.take() {
            Some(d) => d.finish(summaries),
            None => Vec::new(),
        };
        Diagnosed {
            capture,
            connections,
            recording: outcome.recorder.take().map(|r| r.finish()),
        }
    }
}

/// Connections seen in several of the captures, matched packet by packet.
pub fn paths(all: &mut [Diagnosed]) -> Vec<Correlation> {
    if all.len() < 2 {
        return Vec::new();
    }
    let recordings: Vec<Recording> = all.iter_mut().filter_map(|d| d.recording.take()).collect();
    if recordings.len() != all.len() {
        return Vec::new();
    }
    for (d, r) in all.iter().zip(&recordings) {
        if let Some(frame) = r.truncated_at {
            eprintln!(
                "tcpsleuth: warning: {}: only the frames before {frame} are matched against the other captures",
                d.capture.path
            );
        }
    }
    tcpsleuth_correlate::correlate(&recordings)
}

#[derive(Serialize)]
struct Document<'a> {
    tcpsleuth: Version,
    captures: Vec<&'a CaptureSummary>,
    connections: Vec<ConnectionEntry<'a>>,
    /// Connections seen in two captures; only when several captures were given.
    #[serde(skip_serializing_if = "<[Correlation]>::is_empty")]
    paths: &'a [Correlation],
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

pub fn json(out: &mut impl Write, all: &[Diagnosed], paths: &[Correlation]) -> anyhow::Result<()> {
    let doc = Document {
        tcpsleuth: Version {
            version: env!("CARGO_PKG_VERSION"),
        },
        captures: all.iter().map(|d| &d.capture).collect(),
        connections: all
            .iter()
            .enumerate()
            .flat_map(|(capture, d)| {
                d.connections.iter().map(move |(s, diag)| ConnectionEntry {
                    capture,
                    stream: s.stream,
                    client: endpoint(&s.client.ip, s.client.port),
                    server: endpoint(&s.server.ip, s.server.port),
                    severity: diag.severity().map(|s| s.as_str()),
                    vantage: &diag.vantage,
                    application: &diag.application,
                    summary: s,
                    findings: &diag.findings,
                })
            })
            .collect(),
        paths,
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    out.write_all(b"\n")?;
    Ok(())
}

pub fn text(
    out: &mut impl Write,
    all: &[Diagnosed],
    paths: &[Correlation],
    brief: bool,
) -> anyhow::Result<()> {
    for (i, d) in all.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        let mut problems: Vec<&(ConnectionSummary, ConnectionDiagnosis)> = d
            .connections
            .iter()
            .filter(|(_, diag)| !diag.findings.is_empty())
            .collect();
        problems.sort_by_key(|(s, diag)| (diag.severity(), s.stream));
        let healthy = d.connections.len() - problems.len();
        writeln!(
            out,
            "{}: {} frames, {} TCP connection{}: {} with findings, {} healthy",
            d.capture.path,
            d.capture.frames,
            d.connections.len(),
            if d.connections.len() == 1 { "" } else { "s" },
            problems.len(),
            healthy
        )?;
        if problems.is_empty() {
            continue;
        }
        writeln!(out)?;
        for (s, diag) in &problems {
            let Some(top) = diag.findings.first() else {
                continue;
            };
            writeln!(
                out,
                "{:<8} stream {:<4} {}  {} ({}, {:.2}): {}",
                top.severity.as_str().to_uppercase(),
                s.stream,
                endpoints(s),
                top.id,
                top.actor,
                top.confidence,
                top.summary
            )?;
        }
        if brief {
            continue;
        }
        for (s, diag) in &problems {
            connection_detail(out, s, diag)?;
        }
    }
    paths_text(out, all, paths)
}

/// The section on connections seen at two capture points.
fn paths_text(
    out: &mut impl Write,
    all: &[Diagnosed],
    paths: &[Correlation],
) -> anyhow::Result<()> {
    if paths.is_empty() {
        return Ok(());
    }
    // Captures are named by number after a legend: paths are long and repeat on every line.
    let name = |capture: usize| format!("capture {capture}");
    let at = |r: &FrameRef| format!("{} frame {}", name(r.capture), r.frame);
    writeln!(out)?;
    writeln!(
        out,
        "── Across captures: the same connections seen at two points ──"
    )?;
    for (n, d) in all.iter().enumerate() {
        writeln!(out, "capture {n} = {}", d.capture.path)?;
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
                let frames: Vec<String> = d.lost.iter().map(|r| r.frame.to_string()).collect();
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
                f.id, f.actor, f.confidence, f.summary
            )?;
            writeln!(out, "    Why: {}", f.explanation)?;
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
                    e.text
                )?;
            }
        }
    }
    Ok(())
}

fn endpoints(s: &ConnectionSummary) -> String {
    format!(
        "{} → {}",
        endpoint(&s.client.ip, s.client.port),
        endpoint(&s.server.ip, s.server.port)
    )
}

fn connection_detail(
    out: &mut impl Write,
    s: &ConnectionSummary,
    diag: &ConnectionDiagnosis,
) -> anyhow::Result<()> {
    writeln!(out)?;
    writeln!(out, "── stream {} · {} ──", s.stream, endpoints(s))?;
    let place = match diag.vantage.point {
        VantagePoint::NearClient => "near the client",
        VantagePoint::NearServer => "near the server",
        VantagePoint::Middle => "on the path between them",
        VantagePoint::Unknown => "unknown",
    };
    writeln!(out, "Captured: {place} ({})", diag.vantage.basis)?;
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
            f.id,
            f.actor,
            f.confidence,
            f.severity.as_str()
        )?;
        writeln!(out, "   {}", f.summary)?;
        writeln!(out, "   Why: {}", f.explanation)?;
        if !f.timeline.is_empty() {
            writeln!(out, "   Timeline:")?;
            for e in &f.timeline {
                let frames = match e.last_frame {
                    Some(last) => format!("frames {}–{last}", e.frame),
                    None => format!("frame {}", e.frame),
                };
                writeln!(out, "     {frames}, t={:.3}: {}", e.time, e.text)?;
            }
        }
        writeln!(out, "   Evidence frames: {}", frame_list(&f.frames))?;
        writeln!(out, "   Wireshark filter: {}", f.display_filter)?;
        writeln!(out, "   Next steps:")?;
        for step in &f.next_steps {
            writeln!(out, "     - {step}")?;
        }
    }
    Ok(())
}

fn frame_list(frames: &[u64]) -> String {
    let shown: Vec<String> = frames.iter().take(24).map(u64::to_string).collect();
    let more = frames.len().saturating_sub(24);
    if more > 0 {
        format!("{} … (+{more})", shown.join(", "))
    } else {
        shown.join(", ")
    }
}
