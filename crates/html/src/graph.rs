//! SVG graphs of one connection direction: time-sequence (tcptrace style), throughput and
//! goodput, RTT samples, and bytes in flight against the advertised window.

use std::fmt::Write as _;

use crate::{esc, MAX_POINTS};

/// A data segment: time (s since the capture's first frame), first byte and length, relative
/// to the sender's first byte seen.
#[derive(Debug, Clone, Copy)]
pub struct Segment {
    pub t: f64,
    pub seq: f64,
    pub len: f64,
    pub retransmission: bool,
}

/// An ACK from the receiver: what it acknowledged and the right edge of the window it offered.
#[derive(Debug, Clone, Copy)]
pub struct Ack {
    pub t: f64,
    pub ack: f64,
    pub edge: f64,
}

#[derive(Debug, Clone, Copy)]
pub struct Sack {
    pub t: f64,
    pub left: f64,
    pub right: f64,
}

/// One direction of a connection, as the graphs need it.
#[derive(Debug, Clone, Default)]
pub struct Series {
    /// "server 10.0.0.2:443 → client 10.0.0.1:51234"
    pub title: String,
    pub segments: Vec<Segment>,
    pub acks: Vec<Ack>,
    pub sacks: Vec<Sack>,
    /// Periods the receiver advertised a zero window (start, end).
    pub zero_windows: Vec<(f64, f64)>,
    /// ACK RTT samples (time, seconds).
    pub rtt: Vec<(f64, f64)>,
    /// Bytes in flight and the advertised window, at each data segment (time, in flight, window).
    pub in_flight: Vec<(f64, f64, f64)>,
    /// Times of RSTs in the connection.
    pub resets: Vec<f64>,
}

const W: f64 = 1000.0;
const H: f64 = 360.0;

/// Maps data coordinates onto the plot box.
struct Frame {
    x0: f64,
    x1: f64,
    y0: f64,
    y1: f64,
}

impl Frame {
    fn new(x0: f64, x1: f64, y0: f64, y1: f64) -> Frame {
        let widen = |a: f64, b: f64| if b > a { (a, b) } else { (a - 0.5, a + 0.5) };
        let (x0, x1) = widen(x0, x1);
        let (y0, y1) = widen(y0, y1);
        Frame { x0, x1, y0, y1 }
    }
    fn x(&self, v: f64) -> f64 {
        (v - self.x0) / (self.x1 - self.x0) * W
    }
    fn y(&self, v: f64) -> f64 {
        H - (v - self.y0) / (self.y1 - self.y0) * H
    }
}

/// Every n-th item so that at most `MAX_POINTS` remain, always keeping those `keep` selects.
fn thin<T: Copy>(items: &[T], keep: impl Fn(&T) -> bool) -> (Vec<T>, bool) {
    if items.len() <= MAX_POINTS {
        return (items.to_vec(), false);
    }
    let step = items.len().div_ceil(MAX_POINTS);
    let out = items
        .iter()
        .enumerate()
        .filter(|(i, item)| i % step == 0 || keep(item))
        .map(|(_, item)| *item)
        .collect();
    (out, true)
}

fn min_max(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    values.fold(None, |acc, v| match acc {
        None => Some((v, v)),
        Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
    })
}

/// One graph: a figure with the plot (zoomable), its axis ranges for the ticks, a legend.
struct Figure {
    id: String,
    title: String,
    y_unit: &'static str,
    frame: Frame,
    body: String,
    legend: Vec<(&'static str, &'static str)>,
    note: Option<String>,
    series_count: usize,
}

impl Figure {
    fn html(&self) -> String {
        let legend: String = self
            .legend
            .iter()
            .map(|(class, label)| format!("<span class=\"key {class}\">{}</span>", esc(label)))
            .collect();
        format!(
            concat!(
                "<figure class=\"graph\" id=\"{id}\" data-x0=\"{x0}\" data-x1=\"{x1}\" data-y0=\"{y0}\" data-y1=\"{y1}\" data-yunit=\"{yu}\" data-series=\"{n}\">",
                "<figcaption>{title}</figcaption>",
                "<div class=\"plotarea\"><div class=\"yticks\"></div>",
                "<svg class=\"plot\" viewBox=\"0 0 {w} {h}\" preserveAspectRatio=\"none\" role=\"img\" aria-label=\"{title}\">{body}</svg>",
                "<div class=\"xticks\"></div></div>",
                "<div class=\"legend\">{legend}{note}</div>",
                "</figure>"
            ),
            id = esc(&self.id),
            x0 = self.frame.x0,
            x1 = self.frame.x1,
            y0 = self.frame.y0,
            y1 = self.frame.y1,
            yu = self.y_unit,
            n = self.series_count,
            title = esc(&self.title),
            w = W,
            h = H,
            body = self.body,
            legend = legend,
            note = self
                .note
                .as_ref()
                .map_or(String::new(), |n| format!("<span class=\"note\">{}</span>", esc(n))),
        )
    }
}

/// A polyline path ("M x y L x y ...") through the points, as one series element.
fn polyline(class: &str, points: impl Iterator<Item = (f64, f64)>, f: &Frame) -> Option<String> {
    let mut d = String::new();
    for (i, (x, y)) in points.enumerate() {
        let _ = write!(
            d,
            "{}{:.1} {:.1} ",
            if i == 0 { "M" } else { "L" },
            f.x(x),
            f.y(y)
        );
    }
    (!d.is_empty()).then(|| format!("<path class=\"series {class}\" d=\"{}\"/>", d.trim_end()))
}

/// Vertical bars (one "M x y1 V y2" per item) as one series element.
fn bars(class: &str, items: impl Iterator<Item = (f64, f64, f64)>, f: &Frame) -> Option<String> {
    let mut d = String::new();
    for (x, lo, hi) in items {
        let _ = write!(d, "M{:.1} {:.1}V{:.1}", f.x(x), f.y(lo), f.y(hi));
    }
    (!d.is_empty()).then(|| format!("<path class=\"series {class}\" d=\"{d}\"/>"))
}

/// Appends the series that have points; returns how many did.
fn append(body: &mut String, parts: impl IntoIterator<Item = Option<String>>) -> usize {
    let mut count = 0;
    for part in parts.into_iter().flatten() {
        body.push_str(&part);
        count += 1;
    }
    count
}

fn shade(periods: &[(f64, f64)], f: &Frame) -> String {
    periods
        .iter()
        .map(|(a, b)| {
            let (x, w) = (f.x(*a), (f.x(*b) - f.x(*a)).max(1.0));
            format!("<rect class=\"zero-window\" x=\"{x:.1}\" y=\"0\" width=\"{w:.1}\" height=\"{H}\"/>")
        })
        .collect()
}

fn reset_marks(resets: &[f64], f: &Frame) -> String {
    resets
        .iter()
        .map(|t| {
            format!(
                "<line class=\"reset\" x1=\"{0:.1}\" x2=\"{0:.1}\" y1=\"0\" y2=\"{H}\"/>",
                f.x(*t)
            )
        })
        .collect()
}

/// The four graphs of one direction, as HTML; `id` prefixes the figure ids.
pub(crate) fn graphs(id: &str, s: &Series) -> String {
    let mut out = String::new();
    for fig in [
        time_sequence(id, s),
        throughput(id, s),
        rtt(id, s),
        in_flight(id, s),
    ]
    .into_iter()
    .flatten()
    {
        out.push_str(&fig.html());
    }
    out
}

fn time_span(s: &Series) -> Option<(f64, f64)> {
    min_max(
        s.segments
            .iter()
            .map(|p| p.t)
            .chain(s.acks.iter().map(|a| a.t))
            .chain(s.resets.iter().copied()),
    )
}

fn time_sequence(id: &str, s: &Series) -> Option<Figure> {
    let (t0, t1) = time_span(s)?;
    let (y0, y1) = min_max(
        s.segments
            .iter()
            .flat_map(|p| [p.seq, p.seq + p.len])
            .chain(s.acks.iter().flat_map(|a| [a.ack, a.edge])),
    )?;
    let f = Frame::new(t0, t1, y0, y1);
    let (segments, thinned_s) = thin(&s.segments, |p| p.retransmission);
    let (acks, thinned_a) = thin(&s.acks, |_| false);
    let (sacks, _) = thin(&s.sacks, |_| true);
    let mut body = shade(&s.zero_windows, &f);
    let bar = |p: &Segment| (p.t, p.seq, p.seq + p.len);
    let count = append(
        &mut body,
        [
            bars(
                "data",
                segments.iter().filter(|p| !p.retransmission).map(bar),
                &f,
            ),
            bars(
                "retransmission",
                segments.iter().filter(|p| p.retransmission).map(bar),
                &f,
            ),
            polyline("ack", step(acks.iter().map(|a| (a.t, a.ack))), &f),
            polyline("window", step(acks.iter().map(|a| (a.t, a.edge))), &f),
            bars("sack", sacks.iter().map(|k| (k.t, k.left, k.right)), &f),
        ],
    );
    body.push_str(&reset_marks(&s.resets, &f));
    Some(Figure {
        id: format!("{id}-tseq"),
        title: format!("Time-sequence (tcptrace): {}", s.title),
        y_unit: "bytes",
        frame: f,
        body,
        legend: vec![
            ("data", "data segments"),
            ("retransmission", "retransmissions"),
            ("ack", "ACK"),
            ("window", "receive window edge"),
            ("sack", "SACK blocks"),
            ("zero-window", "zero window"),
            ("reset", "RST"),
        ],
        note: (thinned_s || thinned_a).then(|| {
            format!("thinned to about {MAX_POINTS} points per series; retransmissions all shown")
        }),
        series_count: count,
    })
}

/// Points of a step line: each value holds until the next sample.
fn step(points: impl Iterator<Item = (f64, f64)>) -> impl Iterator<Item = (f64, f64)> {
    let mut last: Option<f64> = None;
    points.flat_map(move |(t, v)| {
        let before = last.map(|prev| (t, prev));
        last = Some(v);
        before.into_iter().chain(std::iter::once((t, v)))
    })
}

fn throughput(id: &str, s: &Series) -> Option<Figure> {
    let (t0, t1) = min_max(s.segments.iter().map(|p| p.t))?;
    const BINS: usize = 100;
    let width = ((t1 - t0) / BINS as f64).max(1e-6);
    let mut all = vec![0.0; BINS];
    let mut good = vec![0.0; BINS];
    for p in &s.segments {
        let bin = (((p.t - t0) / width) as usize).min(BINS - 1);
        all[bin] += p.len;
        if !p.retransmission {
            good[bin] += p.len;
        }
    }
    let rate = |v: &[f64]| -> Vec<(f64, f64)> {
        v.iter()
            .enumerate()
            .map(|(i, b)| (t0 + (i as f64 + 0.5) * width, b * 8.0 / width / 1e6))
            .collect()
    };
    let (all, good) = (rate(&all), rate(&good));
    let (_, hi) = min_max(all.iter().map(|p| p.1))?;
    let f = Frame::new(t0, t1, 0.0, hi);
    let mut body = String::new();
    let count = append(
        &mut body,
        [
            polyline("throughput", all.into_iter(), &f),
            polyline("goodput", good.into_iter(), &f),
        ],
    );
    Some(Figure {
        id: format!("{id}-rate"),
        title: format!("Throughput and goodput (Mbit/s): {}", s.title),
        y_unit: "Mbit/s",
        frame: f,
        body,
        legend: vec![
            ("throughput", "throughput (all data)"),
            ("goodput", "goodput (first copies)"),
        ],
        note: None,
        series_count: count,
    })
}

fn rtt(id: &str, s: &Series) -> Option<Figure> {
    let (t0, t1) = time_span(s)?;
    let (points, thinned) = thin(&s.rtt, |_| false);
    let (_, hi) = min_max(points.iter().map(|p| p.1 * 1e3))?;
    let f = Frame::new(t0, t1, 0.0, hi);
    let mut d = String::new();
    for (t, r) in &points {
        let _ = write!(d, "M{:.1} {:.1}h0", f.x(*t), f.y(r * 1e3));
    }
    Some(Figure {
        id: format!("{id}-rtt"),
        title: format!("RTT samples (ms): {}", s.title),
        y_unit: "ms",
        frame: f,
        body: format!("<path class=\"series rtt\" d=\"{d}\"/>"),
        legend: vec![("rtt", "ACK RTT sample")],
        note: thinned.then(|| format!("thinned to about {MAX_POINTS} samples")),
        series_count: 1,
    })
}

fn in_flight(id: &str, s: &Series) -> Option<Figure> {
    let (t0, t1) = time_span(s)?;
    let (points, thinned) = thin(&s.in_flight, |_| false);
    let (_, hi) = min_max(points.iter().flat_map(|p| [p.1, p.2]))?;
    let f = Frame::new(t0, t1, 0.0, hi);
    let mut body = shade(&s.zero_windows, &f);
    let count = append(
        &mut body,
        [
            polyline("in-flight", points.iter().map(|p| (p.0, p.1)), &f),
            polyline("window", step(points.iter().map(|p| (p.0, p.2))), &f),
        ],
    );
    Some(Figure {
        id: format!("{id}-flight"),
        title: format!("Bytes in flight and advertised window (bytes): {}", s.title),
        y_unit: "bytes",
        frame: f,
        body,
        legend: vec![
            ("in-flight", "bytes in flight"),
            ("window", "advertised window"),
            ("zero-window", "zero window"),
        ],
        note: thinned.then(|| format!("thinned to about {MAX_POINTS} points")),
        series_count: count,
    })
}
