//! The graphs' data: a second, targeted pass over a capture file that records, for the
//! problem connections only, the points the HTML report plots. The first pass streams and
//! keeps no per-packet data; this one keeps a bounded number of points per connection.

use rustc_hash::FxHashMap;
use tcpsleuth_analyze::Analyzer;
use tcpsleuth_capture::{FileSequence, FileTable};
use tcpsleuth_decode::{decode, Decoded, Segment};
use tcpsleuth_html::{Ack, Sack, Segment as DataPoint, Series};

use crate::pipeline::Input;

/// Points recorded per connection and per kind before recording stops (the report thins
/// what it plots anyway; this only bounds memory on huge connections).
const MAX_RECORDED: usize = 200_000;

/// A connection to graph: its stream, its data sender ("ip", port) and a title.
pub struct Wanted {
    pub stream: u32,
    pub sender_ip: String,
    pub sender_port: u16,
    pub title: String,
}

#[derive(Default)]
struct State {
    series: Series,
    /// The sender's first sequence number seen: byte 0 of the graph.
    base: Option<u32>,
    /// The receiver's window edge and whether it is at zero since when.
    zero_since: Option<f64>,
    window: f64,
}

fn rel(seq: u32, base: u32) -> f64 {
    f64::from(seq.wrapping_sub(base))
}

/// Reads the input's files again and returns the series of each wanted stream.
pub fn collect(input: &Input, wanted: &[Wanted]) -> anyhow::Result<FxHashMap<u32, Series>> {
    // A table of its own: the first pass's is complete, and this one would only repeat it.
    let mut reader = FileSequence::open(input.files.clone(), FileTable::new())?;
    let mut analyzer = Analyzer::new();
    let mut states: FxHashMap<u32, (&Wanted, State)> = wanted
        .iter()
        .map(|w| {
            let state = State {
                series: Series {
                    title: w.title.clone(),
                    ..Series::default()
                },
                ..State::default()
            };
            (w.stream, (w, state))
        })
        .collect();
    let mut start: Option<i64> = None;
    // Damage was already reported by the first pass; the graphs use what is readable. The
    // sequence moves on to the next file after damage and ends after the last.
    loop {
        let frame = match reader.next_frame() {
            Ok(Some(frame)) => frame,
            Ok(None) => break,
            Err(_) => continue,
        };
        let first = *start.get_or_insert(frame.timestamp_ns);
        let Decoded::Tcp(seg) = decode(frame.link_type.0, frame.data, frame.original_len) else {
            continue;
        };
        let analysis = analyzer.analyze(frame.number, frame.timestamp_ns, frame.original_len, &seg);
        let Some((w, state)) = states.get_mut(&analysis.stream) else {
            continue;
        };
        let t = (frame.timestamp_ns - first) as f64 / 1e9;
        let from_sender = seg.src.to_string() == w.sender_ip && seg.src_port == w.sender_port;
        record(state, &seg, from_sender, t, &analysis);
    }
    Ok(states
        .into_iter()
        .map(|(stream, (_, mut state))| {
            if let Some(since) = state.zero_since.take() {
                let end = state.series.acks.last().map_or(since, |a| a.t);
                state.series.zero_windows.push((since, end.max(since)));
            }
            (stream, state.series)
        })
        .collect())
}

fn record(
    state: &mut State,
    seg: &Segment,
    from_sender: bool,
    t: f64,
    a: &tcpsleuth_analyze::PacketAnalysis,
) {
    let s = &mut state.series;
    if seg.flags.rst() {
        s.resets.push(t);
        return;
    }
    if from_sender {
        let base = *state.base.get_or_insert(seg.seq);
        if seg.payload_len > 0 && s.segments.len() < MAX_RECORDED {
            s.segments.push(DataPoint {
                t,
                seq: rel(seg.seq, base),
                len: f64::from(seg.payload_len),
                retransmission: a.flags.is_retransmission(),
            });
            if let Some(in_flight) = a.bytes_in_flight {
                s.in_flight.push((t, f64::from(in_flight), state.window));
            }
        }
        return;
    }
    // The receiver: its ACKs, window, SACK blocks and RTT samples about the sender's data.
    let Some(base) = state.base else { return };
    if !seg.flags.ack() || seg.flags.syn() {
        return;
    }
    let window = a.window as f64;
    state.window = window;
    let ack = rel(seg.ack, base);
    if s.acks.len() < MAX_RECORDED {
        s.acks.push(Ack {
            t,
            ack,
            edge: ack + window,
        });
        for &(l, r) in seg.options.sack.as_slice() {
            s.sacks.push(Sack {
                t,
                left: rel(l, base),
                right: rel(r, base),
            });
        }
        if let Some(rtt) = a.ack_rtt_ns {
            s.rtt.push((t, rtt as f64 / 1e9));
        }
    }
    match (seg.window == 0, state.zero_since) {
        (true, None) => state.zero_since = Some(t),
        (false, Some(since)) => {
            s.zero_windows.push((since, t));
            state.zero_since = None;
        }
        _ => {}
    }
}
