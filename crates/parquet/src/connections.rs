//! The `connections` table: one row per TCP connection, healthy or not.

use arrow_array::builder::{
    BooleanBuilder, Float64Builder, Int32Builder, Int64Builder, StringBuilder,
    TimestampMicrosecondBuilder,
};
use arrow_schema::DataType::{Boolean, Float64, Int32, Int64, Utf8};
use tcpsleuth_analyze::{ConnectionSummary, DirectionSummary, OptionsSummary};
use tcpsleuth_diagnose::ConnectionDiagnosis;

use crate::columns::{count, micros, table, timestamp_type, timestamps};

table! {
    /// Column by column as `docs/parquet.md` documents them.
    ConnectionRows {
        capture: StringBuilder = StringBuilder::new(), Utf8, false;
        stream: Int64Builder = Int64Builder::new(), Int64, false;
        client_ip: StringBuilder = StringBuilder::new(), Utf8, false;
        client_port: Int32Builder = Int32Builder::new(), Int32, false;
        server_ip: StringBuilder = StringBuilder::new(), Utf8, false;
        server_port: Int32Builder = Int32Builder::new(), Int32, false;
        role_basis: StringBuilder = StringBuilder::new(), Utf8, false;
        severity: StringBuilder = StringBuilder::new(), Utf8, true;
        root_cause: StringBuilder = StringBuilder::new(), Utf8, true;
        root_cause_actor: StringBuilder = StringBuilder::new(), Utf8, true;
        findings: Int32Builder = Int32Builder::new(), Int32, false;
        vantage: StringBuilder = StringBuilder::new(), Utf8, false;
        client_error: StringBuilder = StringBuilder::new(), Utf8, true;
        server_error: StringBuilder = StringBuilder::new(), Utf8, true;
        start: TimestampMicrosecondBuilder = timestamps(), timestamp_type(), false;
        end: TimestampMicrosecondBuilder = timestamps(), timestamp_type(), false;
        duration_s: Float64Builder = Float64Builder::new(), Float64, false;
        syn_frame: Int64Builder = Int64Builder::new(), Int64, true;
        syn_ack_frame: Int64Builder = Int64Builder::new(), Int64, true;
        handshake_complete: BooleanBuilder = BooleanBuilder::new(), Boolean, false;
        handshake_rtt_s: Float64Builder = Float64Builder::new(), Float64, true;
        client_mss: Int32Builder = Int32Builder::new(), Int32, true;
        client_window_scale: Int32Builder = Int32Builder::new(), Int32, true;
        client_sack_permitted: BooleanBuilder = BooleanBuilder::new(), Boolean, true;
        client_timestamps: BooleanBuilder = BooleanBuilder::new(), Boolean, true;
        server_mss: Int32Builder = Int32Builder::new(), Int32, true;
        server_window_scale: Int32Builder = Int32Builder::new(), Int32, true;
        server_sack_permitted: BooleanBuilder = BooleanBuilder::new(), Boolean, true;
        server_timestamps: BooleanBuilder = BooleanBuilder::new(), Boolean, true;
        c2s_packets: Int64Builder = Int64Builder::new(), Int64, false;
        c2s_frame_bytes: Int64Builder = Int64Builder::new(), Int64, false;
        c2s_payload_bytes: Int64Builder = Int64Builder::new(), Int64, false;
        c2s_unique_payload_bytes: Int64Builder = Int64Builder::new(), Int64, false;
        c2s_retransmitted_payload_bytes: Int64Builder = Int64Builder::new(), Int64, false;
        c2s_zero_window_s: Float64Builder = Float64Builder::new(), Float64, false;
        s2c_packets: Int64Builder = Int64Builder::new(), Int64, false;
        s2c_frame_bytes: Int64Builder = Int64Builder::new(), Int64, false;
        s2c_payload_bytes: Int64Builder = Int64Builder::new(), Int64, false;
        s2c_unique_payload_bytes: Int64Builder = Int64Builder::new(), Int64, false;
        s2c_retransmitted_payload_bytes: Int64Builder = Int64Builder::new(), Int64, false;
        s2c_zero_window_s: Float64Builder = Float64Builder::new(), Float64, false;
        rtt_samples: Int64Builder = Int64Builder::new(), Int64, false;
        rtt_min_s: Float64Builder = Float64Builder::new(), Float64, true;
        rtt_median_s: Float64Builder = Float64Builder::new(), Float64, true;
        rtt_p95_s: Float64Builder = Float64Builder::new(), Float64, true;
        rtt_max_s: Float64Builder = Float64Builder::new(), Float64, true;
        flag_retransmission: Int64Builder = Int64Builder::new(), Int64, false;
        flag_fast_retransmission: Int64Builder = Int64Builder::new(), Int64, false;
        flag_spurious_retransmission: Int64Builder = Int64Builder::new(), Int64, false;
        flag_out_of_order: Int64Builder = Int64Builder::new(), Int64, false;
        flag_lost_segment: Int64Builder = Int64Builder::new(), Int64, false;
        flag_ack_lost_segment: Int64Builder = Int64Builder::new(), Int64, false;
        flag_duplicate_ack: Int64Builder = Int64Builder::new(), Int64, false;
        flag_zero_window: Int64Builder = Int64Builder::new(), Int64, false;
        flag_zero_window_probe: Int64Builder = Int64Builder::new(), Int64, false;
        flag_zero_window_probe_ack: Int64Builder = Int64Builder::new(), Int64, false;
        flag_window_full: Int64Builder = Int64Builder::new(), Int64, false;
        flag_window_update: Int64Builder = Int64Builder::new(), Int64, false;
        flag_keep_alive: Int64Builder = Int64Builder::new(), Int64, false;
        flag_keep_alive_ack: Int64Builder = Int64Builder::new(), Int64, false;
        flag_reused_ports: Int64Builder = Int64Builder::new(), Int64, false;
        ended_by: StringBuilder = StringBuilder::new(), Utf8, false;
        first_fin_from: StringBuilder = StringBuilder::new(), Utf8, true;
        first_fin_frame: Int64Builder = Int64Builder::new(), Int64, true;
        rst_from: StringBuilder = StringBuilder::new(), Utf8, true;
        rst_frame: Int64Builder = Int64Builder::new(), Int64, true;
    }
}

impl ConnectionRows {
    pub(crate) fn push(&mut self, capture: &str, s: &ConnectionSummary, d: &ConnectionDiagnosis) {
        self.gathered += 1;
        self.capture.append_value(capture);
        self.stream.append_value(i64::from(s.stream));
        self.client_ip.append_value(&s.client.ip);
        self.client_port.append_value(i32::from(s.client.port));
        self.server_ip.append_value(&s.server.ip);
        self.server_port.append_value(i32::from(s.server.port));
        self.role_basis.append_value(s.role_basis.as_str());
        self.severity
            .append_option(d.severity().map(|v| v.as_str()));
        let root = d.findings.first();
        self.root_cause.append_option(root.map(|f| f.id.as_str()));
        self.root_cause_actor
            .append_option(root.map(|f| f.actor.as_str()));
        self.findings
            .append_value(i32::try_from(d.findings.len()).unwrap_or(i32::MAX));
        self.vantage.append_value(d.vantage.point.as_str());
        let error_of = |endpoint: &str| {
            d.application
                .iter()
                .find(|o| o.endpoint == endpoint)
                .map(|o| o.error)
        };
        self.client_error.append_option(error_of("client"));
        self.server_error.append_option(error_of("server"));
        self.start.append_value(micros(s.start));
        self.end.append_value(micros(s.end));
        self.duration_s.append_value(s.duration);
        self.syn_frame
            .append_option(s.handshake.syn_frame.map(count));
        self.syn_ack_frame
            .append_option(s.handshake.syn_ack_frame.map(count));
        self.handshake_complete.append_value(s.handshake.complete);
        self.handshake_rtt_s.append_option(s.handshake.rtt);
        let options = |o: Option<&OptionsSummary>,
                       mss: &mut Int32Builder,
                       scale: &mut Int32Builder,
                       sack: &mut BooleanBuilder,
                       stamps: &mut BooleanBuilder| {
            mss.append_option(o.and_then(|o| o.mss).map(i32::from));
            scale.append_option(o.and_then(|o| o.window_scale).map(i32::from));
            sack.append_option(o.map(|o| o.sack_permitted));
            stamps.append_option(o.map(|o| o.timestamps));
        };
        options(
            s.client_options.as_ref(),
            &mut self.client_mss,
            &mut self.client_window_scale,
            &mut self.client_sack_permitted,
            &mut self.client_timestamps,
        );
        options(
            s.server_options.as_ref(),
            &mut self.server_mss,
            &mut self.server_window_scale,
            &mut self.server_sack_permitted,
            &mut self.server_timestamps,
        );
        let direction =
            |v: &DirectionSummary, columns: [&mut Int64Builder; 5], zero: &mut Float64Builder| {
                let [packets, frame_bytes, payload, unique, retransmitted] = columns;
                packets.append_value(count(v.packets));
                frame_bytes.append_value(count(v.frame_bytes));
                payload.append_value(count(v.payload_bytes));
                unique.append_value(count(v.unique_payload_bytes));
                retransmitted.append_value(count(v.retransmitted_payload_bytes));
                zero.append_value(v.zero_window_seconds);
            };
        direction(
            &s.client_to_server,
            [
                &mut self.c2s_packets,
                &mut self.c2s_frame_bytes,
                &mut self.c2s_payload_bytes,
                &mut self.c2s_unique_payload_bytes,
                &mut self.c2s_retransmitted_payload_bytes,
            ],
            &mut self.c2s_zero_window_s,
        );
        direction(
            &s.server_to_client,
            [
                &mut self.s2c_packets,
                &mut self.s2c_frame_bytes,
                &mut self.s2c_payload_bytes,
                &mut self.s2c_unique_payload_bytes,
                &mut self.s2c_retransmitted_payload_bytes,
            ],
            &mut self.s2c_zero_window_s,
        );
        let rtt = s.ack_rtt.as_ref();
        self.rtt_samples
            .append_value(rtt.map_or(0, |r| count(r.samples)));
        self.rtt_min_s.append_option(rtt.map(|r| r.min));
        self.rtt_median_s.append_option(rtt.map(|r| r.median));
        self.rtt_p95_s.append_option(rtt.map(|r| r.p95));
        self.rtt_max_s.append_option(rtt.map(|r| r.max));
        for (name, column) in self.flag_columns() {
            column.append_value(s.flags.get(name).map_or(0, |&n| i64::from(n)));
        }
        self.ended_by.append_value(s.close.ended_by);
        let fin = s.close.fin.first();
        self.first_fin_from.append_option(fin.map(|f| f.from));
        self.first_fin_frame
            .append_option(fin.map(|f| count(f.frame)));
        let rst = s.close.rst.as_ref();
        self.rst_from.append_option(rst.map(|r| r.from));
        self.rst_frame.append_option(rst.map(|r| count(r.frame)));
    }

    /// Each `flag_` column with the analysis flag it counts (`tcp.analysis.<name>`).
    fn flag_columns(&mut self) -> [(&'static str, &mut Int64Builder); 15] {
        [
            ("retransmission", &mut self.flag_retransmission),
            ("fast_retransmission", &mut self.flag_fast_retransmission),
            (
                "spurious_retransmission",
                &mut self.flag_spurious_retransmission,
            ),
            ("out_of_order", &mut self.flag_out_of_order),
            ("lost_segment", &mut self.flag_lost_segment),
            ("ack_lost_segment", &mut self.flag_ack_lost_segment),
            ("duplicate_ack", &mut self.flag_duplicate_ack),
            ("zero_window", &mut self.flag_zero_window),
            ("zero_window_probe", &mut self.flag_zero_window_probe),
            (
                "zero_window_probe_ack",
                &mut self.flag_zero_window_probe_ack,
            ),
            ("window_full", &mut self.flag_window_full),
            ("window_update", &mut self.flag_window_update),
            ("keep_alive", &mut self.flag_keep_alive),
            ("keep_alive_ack", &mut self.flag_keep_alive_ack),
            ("reused_ports", &mut self.flag_reused_ports),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_analysis_flag_has_its_column() {
        let mut rows = ConnectionRows::default();
        let names: Vec<&str> = rows.flag_columns().iter().map(|(n, _)| *n).collect();
        let all: Vec<&str> = tcpsleuth_analyze::AnalysisFlags::ALL
            .iter()
            .map(|(_, n)| *n)
            .collect();
        assert_eq!(names, all);
        let schema = <ConnectionRows as crate::columns::Rows>::schema();
        for name in all {
            assert!(
                schema.field_with_name(&format!("flag_{name}")).is_ok(),
                "no column flag_{name}"
            );
        }
    }
}
