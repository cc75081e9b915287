//! The `findings` table: one row per finding, with its evidence.

use std::sync::Arc;

use arrow_array::builder::{
    ArrayBuilder, Float64Builder, Int32Builder, Int64Builder, ListBuilder, StringBuilder,
    TimestampMicrosecondBuilder,
};
use arrow_array::{ArrayRef, ListArray};
use arrow_schema::DataType::{Float64, Int32, Int64, Utf8};
use arrow_schema::{DataType, Field, Fields};
use tcpsleuth_analyze::ConnectionSummary;
use tcpsleuth_diagnose::{Finding, TimelineEntry};

use crate::columns::{
    count, int_list, list_of, micros, string_list, table, timestamp_type, timestamps, ListEnds,
};

table! {
    /// Column by column as `docs/parquet.md` documents them.
    FindingRows {
        capture: StringBuilder = StringBuilder::new(), Utf8, false;
        stream: Int64Builder = Int64Builder::new(), Int64, false;
        client: StringBuilder = StringBuilder::new(), Utf8, false;
        server: StringBuilder = StringBuilder::new(), Utf8, false;
        connection_start: TimestampMicrosecondBuilder = timestamps(), timestamp_type(), false;
        rank: Int32Builder = Int32Builder::new(), Int32, false;
        id: StringBuilder = StringBuilder::new(), Utf8, false;
        actor: StringBuilder = StringBuilder::new(), Utf8, false;
        severity: StringBuilder = StringBuilder::new(), Utf8, false;
        confidence: Float64Builder = Float64Builder::new(), Float64, false;
        summary: StringBuilder = StringBuilder::new(), Utf8, false;
        explanation: StringBuilder = StringBuilder::new(), Utf8, false;
        first_frame: Int64Builder = Int64Builder::new(), Int64, true;
        file: StringBuilder = StringBuilder::new(), Utf8, true;
        file_frame: Int64Builder = Int64Builder::new(), Int64, true;
        first_time_s: Float64Builder = Float64Builder::new(), Float64, true;
        frames: ListBuilder<Int64Builder> = int_list(), list_of(Int64), false;
        timeline: TimelineBuilder = TimelineBuilder::default(), timeline_type(), false;
        display_filter: StringBuilder = StringBuilder::new(), Utf8, false;
        next_steps: ListBuilder<StringBuilder> = string_list(), list_of(Utf8), false;
    }
}

impl FindingRows {
    pub(crate) fn push(
        &mut self,
        capture: &str,
        s: &ConnectionSummary,
        rank: usize,
        f: &Finding,
        place: &crate::Locate<'_>,
    ) {
        self.gathered += 1;
        self.capture.append_value(capture);
        self.stream.append_value(i64::from(s.stream));
        self.client
            .append_value(format!("{}:{}", bracketed(&s.client.ip), s.client.port));
        self.server
            .append_value(format!("{}:{}", bracketed(&s.server.ip), s.server.port));
        self.connection_start.append_value(micros(s.start));
        self.rank
            .append_value(i32::try_from(rank).unwrap_or(i32::MAX));
        self.id.append_value(f.id.as_str());
        self.actor.append_value(f.actor.as_str());
        self.severity.append_value(f.severity.as_str());
        self.confidence.append_value(f.confidence);
        self.summary.append_value(&f.summary);
        self.explanation.append_value(&f.explanation);
        let first = f.timeline.first();
        let first_frame = first.map(|e| e.frame).or(f.frames.first().copied());
        self.first_frame.append_option(first_frame.map(count));
        let (file, file_frame) = first_frame.and_then(place).unzip();
        self.file.append_option(file);
        self.file_frame.append_option(file_frame.map(count));
        self.first_time_s.append_option(first.map(|e| e.time));
        for &frame in &f.frames {
            self.frames.values().append_value(count(frame));
        }
        self.frames.append(true);
        self.timeline.push(&f.timeline);
        self.display_filter.append_value(&f.display_filter);
        for step in &f.next_steps {
            self.next_steps.values().append_value(step);
        }
        self.next_steps.append(true);
    }
}

/// As in the JSON report's `client` and `server`: an IPv6 address in brackets.
fn bracketed(ip: &str) -> std::borrow::Cow<'_, str> {
    if ip.contains(':') {
        format!("[{ip}]").into()
    } else {
        ip.into()
    }
}

fn timeline_fields() -> Fields {
    Fields::from(vec![
        Field::new("frame", Int64, false),
        Field::new("last_frame", Int64, true),
        Field::new("time_s", Float64, false),
        Field::new("text", Utf8, false),
    ])
}

fn timeline_type() -> DataType {
    list_of(DataType::Struct(timeline_fields()))
}

/// A list of timeline steps per finding.
#[derive(Default)]
struct TimelineBuilder {
    frame: Int64Builder,
    last_frame: Int64Builder,
    time_s: Float64Builder,
    text: StringBuilder,
    ends: ListEnds,
}

impl TimelineBuilder {
    fn push(&mut self, steps: &[TimelineEntry]) {
        for step in steps {
            self.frame.append_value(count(step.frame));
            self.last_frame.append_option(step.last_frame.map(count));
            self.time_s.append_value(step.time);
            self.text.append_value(&step.text);
        }
        self.ends.close(self.frame.len());
    }

    fn finish(&mut self) -> ListArray {
        let children: Vec<ArrayRef> = vec![
            Arc::new(self.frame.finish()),
            Arc::new(self.last_frame.finish()),
            Arc::new(self.time_s.finish()),
            Arc::new(self.text.finish()),
        ];
        self.ends.finish(timeline_fields(), children)
    }
}
