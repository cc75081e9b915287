//! The HTML report: one self-contained file (styles, script and data inline; nothing fetched
//! when it is opened) with, for each problem connection, its verdict, findings, timeline,
//! evidence and the graphs people otherwise draw in Wireshark.
//!
//! The graphs are SVG written here, not a charting library: four plot types over at most a
//! few thousand points each need no more, the file stays small, and it works offline. Zoom
//! and pan are a short inline script that moves the plot's viewBox and redraws the ticks.

mod graph;
mod page;

pub use graph::{Ack, Sack, Segment, Series};
pub use page::{render, CaptureInfo, ConnectionView, Report};

/// Points kept per plotted series; past this a series is thinned evenly (retransmissions,
/// resets and zero-window periods are always kept) and the graph says so.
pub const MAX_POINTS: usize = 4000;

/// Escapes text for HTML element content and attribute values. Control characters (from
/// capture comments or file names) are shown as `\u{..}` escapes: raw, they are invisible in a
/// browser and act on a terminal that the file is printed to.
pub(crate) fn esc(text: &str) -> String {
    let text = tcpsleuth_capture::printable(text);
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
