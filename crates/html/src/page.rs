//! The page: overview, problem connections with their graphs, healthy connections.

use std::fmt::Write as _;

use tcpsleuth_analyze::ConnectionSummary;
use tcpsleuth_correlate::{Correlation, FrameRef};
use tcpsleuth_diagnose::{ConnectionDiagnosis, Severity, VantagePoint};

use crate::esc;
use crate::graph::{graphs, Series};

pub struct CaptureInfo {
    pub path: String,
    pub frames: u64,
    pub damage: Option<String>,
    /// How a person finds a frame of this capture, for a capture read from several files
    /// (`FILE#FRAME`); None shows the frame number itself.
    pub frame_name: Option<Box<dyn Fn(u64) -> String>>,
    /// The capture's pcapng packet comments: (frame, text), in frame order.
    pub comments: Vec<(u64, String)>,
}

/// One connection and, for problem connections, the series of its main data direction.
pub struct ConnectionView<'a> {
    pub capture: usize,
    pub summary: &'a ConnectionSummary,
    pub diagnosis: &'a ConnectionDiagnosis,
    pub series: Option<Series>,
}

pub struct Report<'a> {
    pub version: &'a str,
    pub captures: Vec<CaptureInfo>,
    pub connections: Vec<ConnectionView<'a>>,
    /// Why some connections have no graphs (e.g. the capture came from standard input).
    pub graph_note: Option<String>,
    /// Connections seen in two of the captures (several captures only).
    pub paths: &'a [Correlation],
}

const STYLE: &str = include_str!("report.css");
const SCRIPT: &str = include_str!("report.js");

fn severity_class(s: Option<Severity>) -> &'static str {
    match s {
        Some(Severity::Failure) => "failure",
        Some(Severity::Degraded) => "degraded",
        Some(Severity::Info) => "info",
        None => "healthy",
    }
}

/// The whole report as one HTML document.
pub fn render(report: &Report<'_>) -> String {
    let mut problems: Vec<&ConnectionView<'_>> = report
        .connections
        .iter()
        .filter(|c| !c.diagnosis.findings.is_empty())
        .collect();
    problems.sort_by_key(|c| (c.diagnosis.severity(), c.capture, c.summary.stream));
    let healthy: Vec<&ConnectionView<'_>> = report
        .connections
        .iter()
        .filter(|c| c.diagnosis.findings.is_empty())
        .collect();

    let mut html = String::with_capacity(64 * 1024);
    let _ = write!(
        html,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>tcpsleuth report</title><style>{STYLE}</style></head><body data-errors=\"0\"><script>window.onerror=function(){{document.body.dataset.errors=String(Number(document.body.dataset.errors)+1);}};</script>"
    );
    let _ = write!(
        html,
        "<header><h1>tcpsleuth report</h1><p class=\"version\">tcpsleuth {}</p></header>",
        esc(report.version)
    );
    overview(&mut html, report, &problems, healthy.len());
    for (n, c) in problems.iter().enumerate() {
        connection(&mut html, report, n, c);
    }
    paths(&mut html, report);
    healthy_table(&mut html, report, &healthy);
    let _ = writeln!(html, "<script>{SCRIPT}</script></body></html>");
    html
}

/// A frame of a capture as a person looks it up (not escaped).
fn frame_name(report: &Report<'_>, capture: usize, frame: u64) -> String {
    match report
        .captures
        .get(capture)
        .and_then(|c| c.frame_name.as_ref())
    {
        Some(name) => name(frame),
        None => frame.to_string(),
    }
}

fn capture_name(report: &Report<'_>, capture: usize) -> String {
    report
        .captures
        .get(capture)
        .map_or("?".into(), |c| c.path.clone())
}

fn overview(
    html: &mut String,
    report: &Report<'_>,
    problems: &[&ConnectionView<'_>],
    healthy: usize,
) {
    let count = |s: Severity| {
        report
            .connections
            .iter()
            .flat_map(|c| &c.diagnosis.findings)
            .filter(|f| f.severity == s)
            .count()
    };
    let _ = write!(html, "<section class=\"overview\"><h2>Overview</h2><table class=\"captures\"><thead><tr><th>capture</th><th>frames</th><th>connections</th><th>with findings</th></tr></thead><tbody>");
    for (i, cap) in report.captures.iter().enumerate() {
        let conns = report.connections.iter().filter(|c| c.capture == i).count();
        let with = problems.iter().filter(|c| c.capture == i).count();
        let _ = write!(
            html,
            "<tr><td>{}{}</td><td>{}</td><td>{conns}</td><td>{with}</td></tr>",
            esc(&cap.path),
            cap.damage.as_ref().map_or(String::new(), |d| format!(
                "<div class=\"damage\">{}</div>",
                esc(d)
            )),
            cap.frames
        );
        if !cap.comments.is_empty() {
            let name = |frame: u64| {
                cap.frame_name
                    .as_ref()
                    .map_or(frame.to_string(), |f| f(frame))
            };
            let _ = write!(html, "<tr><td colspan=\"4\"><ul class=\"comments\">");
            for (frame, text) in &cap.comments {
                let _ = write!(html, "<li>frame {}: {}</li>", esc(&name(*frame)), esc(text));
            }
            let _ = write!(html, "</ul></td></tr>");
        }
    }
    let _ = write!(
        html,
        "</tbody></table><p class=\"counts\"><span class=\"badge failure\">{} failure</span> <span class=\"badge degraded\">{} degraded</span> <span class=\"badge info\">{} info</span> findings · {} healthy connection{}</p>",
        count(Severity::Failure),
        count(Severity::Degraded),
        count(Severity::Info),
        healthy,
        if healthy == 1 { "" } else { "s" }
    );
    if !problems.is_empty() {
        let _ = write!(html, "<ol class=\"verdicts\">");
        for (n, c) in problems.iter().enumerate() {
            if let Some(top) = c.diagnosis.findings.first() {
                let _ = write!(
                    html,
                    "<li><a href=\"#conn-{n}\"><span class=\"badge {}\">{}</span> stream {} · {} · <b>{}</b> ({}, {:.2}): {}</a></li>",
                    severity_class(Some(top.severity)),
                    top.severity.as_str(),
                    c.summary.stream,
                    esc(&c.summary.endpoints()),
                    top.id,
                    top.actor,
                    top.confidence,
                    esc(&top.summary)
                );
            }
        }
        let _ = write!(html, "</ol>");
    }
    if let Some(note) = &report.graph_note {
        let _ = write!(html, "<p class=\"note\">{}</p>", esc(note));
    }
    let _ = write!(html, "</section>");
}

fn connection(html: &mut String, report: &Report<'_>, n: usize, c: &ConnectionView<'_>) {
    let d = c.diagnosis;
    let place = match d.vantage.point {
        VantagePoint::NearClient => "near the client",
        VantagePoint::NearServer => "near the server",
        VantagePoint::Middle => "on the path",
        VantagePoint::Unknown => "at an unknown vantage point",
    };
    let _ = write!(
        html,
        "<section class=\"connection {}\" id=\"conn-{n}\"><h2>stream {} · {}</h2><p class=\"meta\">{} · captured {place} ({})</p>",
        severity_class(d.severity()),
        c.summary.stream,
        esc(&c.summary.endpoints()),
        esc(&capture_name(report, c.capture)),
        esc(&d.vantage.basis)
    );
    if !d.application.is_empty() {
        let _ = write!(html, "<ul class=\"application\">");
        for a in &d.application {
            let error = if a.error == "hang" {
                "a hang".to_string()
            } else {
                format!("{} / {}", a.error, a.windows)
            };
            let _ = write!(
                html,
                "<li><b>{}</b>: {}: {}</li>",
                a.endpoint,
                esc(&error),
                esc(&a.detail)
            );
        }
        let _ = write!(html, "</ul>");
    }
    for f in &d.findings {
        let _ = write!(
            html,
            "<article class=\"finding\"><h3><span class=\"badge {}\">{}</span> {} · actor {} · confidence {:.2}</h3><p class=\"summary\">{}</p><p>{}</p>",
            severity_class(Some(f.severity)),
            f.severity.as_str(),
            f.id,
            f.actor,
            f.confidence,
            esc(&f.summary),
            esc(&f.explanation)
        );
        if !f.timeline.is_empty() {
            let _ = write!(html, "<table class=\"timeline\"><thead><tr><th>frames</th><th>t (s)</th><th>what happened</th></tr></thead><tbody>");
            for e in &f.timeline {
                let name = |f| frame_name(report, c.capture, f);
                let frames = e
                    .last_frame
                    .map_or(name(e.frame), |l| format!("{}–{}", name(e.frame), name(l)));
                let _ = write!(
                    html,
                    "<tr><td>{}</td><td>{:.3}</td><td>{}</td></tr>",
                    esc(&frames),
                    e.time,
                    esc(&e.text)
                );
            }
            let _ = write!(html, "</tbody></table>");
        }
        let frames: Vec<String> = f
            .frames
            .iter()
            .map(|&n| frame_name(report, c.capture, n))
            .collect();
        let _ = write!(
            html,
            "<p class=\"evidence\">Evidence frames: {}</p><p class=\"filter\">Wireshark filter: <code>{}</code></p>",
            esc(&frames.join(", ")),
            esc(&f.display_filter)
        );
        if !f.next_steps.is_empty() {
            let _ = write!(html, "<details><summary>Next steps</summary><ul>");
            for step in &f.next_steps {
                let _ = write!(html, "<li>{}</li>", esc(step));
            }
            let _ = write!(html, "</ul></details>");
        }
        let _ = write!(html, "</article>");
    }
    if let Some(series) = &c.series {
        let _ = write!(
            html,
            "<div class=\"graphs\">{}</div>",
            graphs(&format!("conn-{n}"), series)
        );
    }
    let _ = write!(html, "</section>");
}

fn paths(html: &mut String, report: &Report<'_>) {
    if report.paths.is_empty() {
        return;
    }
    let name = |capture: usize| capture_name(report, capture);
    let at = |r: &FrameRef| {
        format!(
            "{} frame {}",
            name(r.capture),
            frame_name(report, r.capture, r.frame)
        )
    };
    let _ = write!(
        html,
        "<section class=\"paths\"><h2>Across captures: the same connections at two points</h2>"
    );
    for c in report.paths {
        let _ = write!(
            html,
            "<article class=\"finding\"><h3>stream {} of {} = stream {} of {}</h3><p class=\"meta\">clock offset {:+.6} s ± {:.3} ms{} · {} packets seen at both</p><table><thead><tr><th>direction</th><th>passes first</th><th>one-way delay</th><th>lost between</th><th>resegmented</th><th>missed downstream</th><th>injected RSTs</th></tr></thead><tbody>",
            c.streams[0],
            esc(&name(c.captures[0])),
            c.streams[1],
            esc(&name(c.captures[1])),
            c.clock.offset,
            c.clock.uncertainty * 1e3,
            c.clock.drift_ppm.map_or(String::new(), |d| format!(", drift {d:+.1} ppm")),
            c.clock.matched
        );
        for d in &c.directions {
            let _ = write!(
                html,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{} of {}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&d.direction),
                esc(&name(d.upstream)),
                d.one_way_delay.map_or("?".to_string(), |s| format!("{:.3} ms", s * 1e3)),
                d.lost_between,
                d.seen_upstream,
                d.resegmented,
                d.missed_downstream,
                esc(&d.injected_rsts.iter().map(&at).collect::<Vec<_>>().join(", "))
            );
        }
        let _ = write!(html, "</tbody></table>");
        for f in &c.findings {
            let _ = write!(
                html,
                "<p><b>{} · actor {} · confidence {:.2}</b>: {}<br>{}<br><span class=\"evidence\">Evidence: {}</span></p>",
                f.id,
                f.actor,
                f.confidence,
                esc(&f.summary),
                esc(&f.explanation),
                esc(&f.evidence.iter().take(12).map(&at).collect::<Vec<_>>().join(", "))
            );
        }
        if !c.timeline.is_empty() {
            let _ = write!(html, "<table class=\"timeline\"><thead><tr><th>t (s)</th><th>seen at</th><th>what happened</th></tr></thead><tbody>");
            for e in &c.timeline {
                let _ = write!(
                    html,
                    "<tr><td>{:.3}</td><td>{}</td><td>{}</td></tr>",
                    e.time,
                    esc(&e.at.iter().map(&at).collect::<Vec<_>>().join(" = ")),
                    esc(&e.text)
                );
            }
            let _ = write!(html, "</tbody></table>");
        }
        let _ = write!(html, "</article>");
    }
    let _ = write!(html, "</section>");
}

fn healthy_table(html: &mut String, report: &Report<'_>, healthy: &[&ConnectionView<'_>]) {
    if healthy.is_empty() {
        return;
    }
    let _ = write!(html, "<section class=\"healthy\"><h2>Healthy connections ({})</h2><table class=\"sortable\"><thead><tr><th>capture</th><th>stream</th><th>client → server</th><th>packets</th><th>bytes c→s</th><th>bytes s→c</th><th>duration (s)</th><th>RTT (ms)</th><th>end</th></tr></thead><tbody>", healthy.len());
    for c in healthy {
        let s = c.summary;
        let _ = write!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.3}</td><td>{}</td><td>{}</td></tr>",
            esc(&capture_name(report, c.capture)),
            s.stream,
            esc(&s.endpoints()),
            s.client_to_server.packets + s.server_to_client.packets,
            s.client_to_server.payload_bytes,
            s.server_to_client.payload_bytes,
            s.duration,
            s.handshake.rtt.map_or(String::new(), |r| format!("{:.3}", r * 1e3)),
            s.close.ended_by
        );
    }
    let _ = write!(html, "</tbody></table></section>");
}
