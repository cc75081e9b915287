//! The `packets` table: one row per TCP frame, with Wireshark's analysis of it.

use std::net::IpAddr;

use arrow_array::builder::{
    BooleanBuilder, Float64Builder, Int32Builder, Int64Builder, ListBuilder, StringBuilder,
    TimestampMicrosecondBuilder,
};
use arrow_schema::DataType::{Boolean, Float64, Int32, Int64, Utf8};
use tcpsleuth_analyze::AnalysisFlags;

use crate::columns::{
    count, list_of, nanos_to_micros, string_list, table, timestamp_type, timestamps,
};

/// One TCP frame as the `packets` command sees it (see `docs/json.md` for each field's
/// meaning; the columns are those of `packets --format jsonl`).
#[derive(Debug, Clone, Copy)]
pub struct PacketRow<'a> {
    pub capture: &'a str,
    pub frame: u64,
    /// In a capture read from several files (a ring buffer): the file holding the frame, and
    /// the frame's number within it.
    pub file: Option<(&'a str, u64)>,
    pub timestamp_ns: i64,
    /// Seconds since the capture's first frame.
    pub time_s: f64,
    pub stream: u32,
    pub src: IpAddr,
    pub src_port: u16,
    pub dst: IpAddr,
    pub dst_port: u16,
    pub seq: u32,
    pub ack: u32,
    pub len: u32,
    pub window: u64,
    /// The TCP header's flags as text, "SYN,ACK" style.
    pub tcp_flags: &'a str,
    pub analysis: AnalysisFlags,
    pub dup_ack_num: Option<u32>,
    pub dup_ack_frame: Option<u64>,
    pub acks_frame: Option<u64>,
    pub ack_rtt_s: Option<f64>,
    pub initial_rtt_s: Option<f64>,
    pub bytes_in_flight: Option<u32>,
    pub push_bytes_sent: Option<u32>,
    pub rto_s: Option<f64>,
    pub rto_frame: Option<u64>,
    pub icmp_quote: bool,
    pub corrected: Option<&'static str>,
}

table! {
    /// Column by column as `docs/parquet.md` documents them.
    PacketRows {
        capture: StringBuilder = StringBuilder::new(), Utf8, false;
        frame: Int64Builder = Int64Builder::new(), Int64, false;
        file: StringBuilder = StringBuilder::new(), Utf8, true;
        file_frame: Int64Builder = Int64Builder::new(), Int64, true;
        timestamp: TimestampMicrosecondBuilder = timestamps(), timestamp_type(), false;
        timestamp_ns: Int64Builder = Int64Builder::new(), Int64, false;
        time_s: Float64Builder = Float64Builder::new(), Float64, false;
        stream: Int64Builder = Int64Builder::new(), Int64, false;
        src_ip: StringBuilder = StringBuilder::new(), Utf8, false;
        src_port: Int32Builder = Int32Builder::new(), Int32, false;
        dst_ip: StringBuilder = StringBuilder::new(), Utf8, false;
        dst_port: Int32Builder = Int32Builder::new(), Int32, false;
        seq: Int64Builder = Int64Builder::new(), Int64, false;
        ack: Int64Builder = Int64Builder::new(), Int64, false;
        len: Int32Builder = Int32Builder::new(), Int32, false;
        window: Int64Builder = Int64Builder::new(), Int64, false;
        tcp_flags: StringBuilder = StringBuilder::new(), Utf8, false;
        analysis: ListBuilder<StringBuilder> = string_list(), list_of(Utf8), false;
        dup_ack_num: Int64Builder = Int64Builder::new(), Int64, true;
        dup_ack_frame: Int64Builder = Int64Builder::new(), Int64, true;
        acks_frame: Int64Builder = Int64Builder::new(), Int64, true;
        ack_rtt_s: Float64Builder = Float64Builder::new(), Float64, true;
        initial_rtt_s: Float64Builder = Float64Builder::new(), Float64, true;
        bytes_in_flight: Int64Builder = Int64Builder::new(), Int64, true;
        push_bytes_sent: Int64Builder = Int64Builder::new(), Int64, true;
        rto_s: Float64Builder = Float64Builder::new(), Float64, true;
        rto_frame: Int64Builder = Int64Builder::new(), Int64, true;
        icmp_quote: BooleanBuilder = BooleanBuilder::new(), Boolean, false;
        corrected: StringBuilder = StringBuilder::new(), Utf8, true;
    }
}

impl PacketRows {
    pub(crate) fn push(&mut self, p: &PacketRow<'_>) {
        self.gathered += 1;
        self.capture.append_value(p.capture);
        self.frame.append_value(count(p.frame));
        self.file.append_option(p.file.map(|f| f.0));
        self.file_frame.append_option(p.file.map(|f| count(f.1)));
        self.timestamp.append_value(nanos_to_micros(p.timestamp_ns));
        self.timestamp_ns.append_value(p.timestamp_ns);
        self.time_s.append_value(p.time_s);
        self.stream.append_value(i64::from(p.stream));
        self.src_ip.append_value(p.src.to_string());
        self.src_port.append_value(i32::from(p.src_port));
        self.dst_ip.append_value(p.dst.to_string());
        self.dst_port.append_value(i32::from(p.dst_port));
        self.seq.append_value(i64::from(p.seq));
        self.ack.append_value(i64::from(p.ack));
        self.len
            .append_value(i32::try_from(p.len).unwrap_or(i32::MAX));
        self.window.append_value(count(p.window));
        self.tcp_flags.append_value(p.tcp_flags);
        for name in p.analysis.names() {
            self.analysis.values().append_value(name);
        }
        self.analysis.append(true);
        self.dup_ack_num.append_option(p.dup_ack_num.map(i64::from));
        self.dup_ack_frame.append_option(p.dup_ack_frame.map(count));
        self.acks_frame.append_option(p.acks_frame.map(count));
        self.ack_rtt_s.append_option(p.ack_rtt_s);
        self.initial_rtt_s.append_option(p.initial_rtt_s);
        self.bytes_in_flight
            .append_option(p.bytes_in_flight.map(i64::from));
        self.push_bytes_sent
            .append_option(p.push_bytes_sent.map(i64::from));
        self.rto_s.append_option(p.rto_s);
        self.rto_frame.append_option(p.rto_frame.map(count));
        self.icmp_quote.append_value(p.icmp_quote);
        self.corrected.append_option(p.corrected);
    }
}
