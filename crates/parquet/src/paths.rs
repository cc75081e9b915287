//! The `paths` and `path_findings` tables: connections seen in two captures of the same traffic
//! (`analyze client.pcap server.pcap`), matched packet by packet: clock offset, what was lost
//! or made between the two capture points, and what only the two captures together prove.

use std::sync::Arc;

use arrow_array::builder::{
    ArrayBuilder, Float64Builder, Int64Builder, ListBuilder, StringBuilder,
};
use arrow_array::{ArrayRef, ListArray};
use arrow_schema::DataType::{Float64, Int64, Utf8};
use arrow_schema::{DataType, Field, Fields};
use tcpsleuth_correlate::{Correlation, FrameRef, PathDirection};

use crate::columns::{count, int_list, list_of, table, ListEnds};

table! {
    /// One row per direction of a matched connection.
    PathRows {
        capture_a: StringBuilder = StringBuilder::new(), Utf8, false;
        stream_a: Int64Builder = Int64Builder::new(), Int64, false;
        capture_b: StringBuilder = StringBuilder::new(), Utf8, false;
        stream_b: Int64Builder = Int64Builder::new(), Int64, false;
        clock_offset_s: Float64Builder = Float64Builder::new(), Float64, false;
        clock_uncertainty_s: Float64Builder = Float64Builder::new(), Float64, false;
        clock_drift_ppm: Float64Builder = Float64Builder::new(), Float64, true;
        matched: Int64Builder = Int64Builder::new(), Int64, false;
        direction: StringBuilder = StringBuilder::new(), Utf8, false;
        upstream: StringBuilder = StringBuilder::new(), Utf8, false;
        one_way_delay_s: Float64Builder = Float64Builder::new(), Float64, true;
        seen_upstream: Int64Builder = Int64Builder::new(), Int64, false;
        lost_between: Int64Builder = Int64Builder::new(), Int64, false;
        lost_frames: ListBuilder<Int64Builder> = int_list(), list_of(Int64), false;
        resegmented: Int64Builder = Int64Builder::new(), Int64, false;
        missed_downstream: Int64Builder = Int64Builder::new(), Int64, false;
        appeared: Int64Builder = Int64Builder::new(), Int64, false;
        appeared_frames: ListBuilder<Int64Builder> = int_list(), list_of(Int64), false;
        injected_rst_frames: ListBuilder<Int64Builder> = int_list(), list_of(Int64), false;
    }
}

table! {
    /// One row per finding that only the two captures together prove.
    PathFindingRows {
        capture_a: StringBuilder = StringBuilder::new(), Utf8, false;
        stream_a: Int64Builder = Int64Builder::new(), Int64, false;
        capture_b: StringBuilder = StringBuilder::new(), Utf8, false;
        stream_b: Int64Builder = Int64Builder::new(), Int64, false;
        id: StringBuilder = StringBuilder::new(), Utf8, false;
        actor: StringBuilder = StringBuilder::new(), Utf8, false;
        confidence: Float64Builder = Float64Builder::new(), Float64, false;
        summary: StringBuilder = StringBuilder::new(), Utf8, false;
        explanation: StringBuilder = StringBuilder::new(), Utf8, false;
        evidence: EvidenceBuilder = EvidenceBuilder::default(), evidence_type(), false;
    }
}

/// The name of capture `index` of the run; "" for an index out of range, which the correlation
/// never gives.
fn name(captures: &[String], index: usize) -> &str {
    captures.get(index).map_or("", String::as_str)
}

fn frames(list: &mut ListBuilder<Int64Builder>, refs: &[FrameRef]) {
    for r in refs {
        list.values().append_value(count(r.frame));
    }
    list.append(true);
}

impl PathRows {
    pub(crate) fn push(&mut self, c: &Correlation, d: &PathDirection, captures: &[String]) {
        self.gathered += 1;
        self.capture_a.append_value(name(captures, c.captures[0]));
        self.stream_a.append_value(i64::from(c.streams[0]));
        self.capture_b.append_value(name(captures, c.captures[1]));
        self.stream_b.append_value(i64::from(c.streams[1]));
        self.clock_offset_s.append_value(c.clock.offset);
        self.clock_uncertainty_s.append_value(c.clock.uncertainty);
        self.clock_drift_ppm.append_option(c.clock.drift_ppm);
        self.matched.append_value(count(c.clock.matched));
        self.direction.append_value(&d.direction);
        self.upstream.append_value(name(captures, d.upstream));
        self.one_way_delay_s.append_option(d.one_way_delay);
        self.seen_upstream.append_value(count(d.seen_upstream));
        self.lost_between.append_value(count(d.lost_between));
        frames(&mut self.lost_frames, &d.lost);
        self.resegmented.append_value(count(d.resegmented));
        self.missed_downstream
            .append_value(count(d.missed_downstream));
        self.appeared.append_value(count(d.appeared));
        frames(&mut self.appeared_frames, &d.appeared_frames);
        frames(&mut self.injected_rst_frames, &d.injected_rsts);
    }
}

impl PathFindingRows {
    pub(crate) fn push(&mut self, c: &Correlation, captures: &[String]) {
        for f in &c.findings {
            self.gathered += 1;
            self.capture_a.append_value(name(captures, c.captures[0]));
            self.stream_a.append_value(i64::from(c.streams[0]));
            self.capture_b.append_value(name(captures, c.captures[1]));
            self.stream_b.append_value(i64::from(c.streams[1]));
            self.id.append_value(f.id.as_str());
            self.actor.append_value(f.actor.as_str());
            self.confidence.append_value(f.confidence);
            self.summary.append_value(&f.summary);
            self.explanation.append_value(&f.explanation);
            self.evidence.push(&f.evidence, captures);
        }
    }
}

fn evidence_fields() -> Fields {
    Fields::from(vec![
        Field::new("capture", Utf8, false),
        Field::new("frame", Int64, false),
    ])
}

fn evidence_type() -> DataType {
    list_of(DataType::Struct(evidence_fields()))
}

/// Each finding's evidence: frames of either capture, so each names its capture.
#[derive(Default)]
struct EvidenceBuilder {
    capture: StringBuilder,
    frame: Int64Builder,
    ends: ListEnds,
}

impl EvidenceBuilder {
    fn push(&mut self, refs: &[FrameRef], captures: &[String]) {
        for r in refs {
            self.capture.append_value(name(captures, r.capture));
            self.frame.append_value(count(r.frame));
        }
        self.ends.close(self.frame.len());
    }

    fn finish(&mut self) -> ListArray {
        let children: Vec<ArrayRef> = vec![
            Arc::new(self.capture.finish()),
            Arc::new(self.frame.finish()),
        ];
        self.ends.finish(evidence_fields(), children)
    }
}
