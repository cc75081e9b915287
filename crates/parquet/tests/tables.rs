//! Writes the tables of real lab captures and reads them back with the Parquet crate's own
//! reader: what a query engine will see.

use std::fs::File;
use std::path::{Path, PathBuf};

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type};
use arrow_array::{Array, RecordBatch};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use tcpsleuth_analyze::{AnalysisFlags, Analyzer, ConnectionSummary, Shard};
use tcpsleuth_capture::CaptureReader;
use tcpsleuth_decode::{decode, Decoded};
use tcpsleuth_diagnose::{ConnectionDiagnosis, Diagnoser};
use tcpsleuth_parquet::{AnalysisTables, FileRow, PacketRow, PacketTable, SCHEMA_VERSION};

fn lab(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/captures/lab")
        .join(name)
}

struct Analysed {
    connections: Vec<(ConnectionSummary, ConnectionDiagnosis)>,
    packets: Vec<(
        u64,
        i64,
        tcpsleuth_decode::Segment,
        tcpsleuth_analyze::PacketAnalysis,
    )>,
}

fn analyse(path: &Path) -> Analysed {
    let mut reader = CaptureReader::open(path).expect("lab capture opens");
    let mut analyzer = Analyzer::new();
    let mut diagnoser = Diagnoser::new();
    let mut packets = Vec::new();
    let mut started = false;
    while let Some(frame) = reader.next_frame().expect("lab capture reads") {
        if !started {
            diagnoser.capture_started(frame.timestamp_ns);
            started = true;
        }
        if let Decoded::Tcp(seg) = decode(frame.link_type.0, frame.data, frame.original_len) {
            let a = analyzer.analyze(frame.number, frame.timestamp_ns, frame.original_len, &seg);
            diagnoser.observe(frame.number, frame.timestamp_ns, &seg, &a);
            packets.push((frame.number, frame.timestamp_ns, seg, a));
        }
    }
    Analysed {
        connections: diagnoser.finish(analyzer.summaries()),
        packets,
    }
}

fn read(path: &Path) -> (Vec<RecordBatch>, std::collections::HashMap<String, String>) {
    let builder = ParquetRecordBatchReaderBuilder::try_new(File::open(path).expect("part exists"))
        .expect("a Parquet file");
    let metadata = builder
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .map(|kv| {
            kv.iter()
                .map(|kv| (kv.key.clone(), kv.value.clone().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default();
    let batches = builder
        .build()
        .expect("reader")
        .collect::<Result<Vec<_>, _>>()
        .expect("batches");
    (batches, metadata)
}

fn column_i64(batch: &RecordBatch, name: &str) -> Vec<Option<i64>> {
    let column = batch.column_by_name(name).expect(name);
    let values = column.as_primitive::<Int64Type>();
    (0..values.len())
        .map(|i| values.is_valid(i).then(|| values.value(i)))
        .collect()
}

fn column_str(batch: &RecordBatch, name: &str) -> Vec<Option<String>> {
    let column = batch.column_by_name(name).expect(name);
    let values = column.as_string::<i32>();
    (0..values.len())
        .map(|i| values.is_valid(i).then(|| values.value(i).to_owned()))
        .collect()
}

#[test]
fn connections_and_findings_read_back_as_analysed() {
    let capture = lab("receiver-drops-then-resets.pcap");
    let analysed = analyse(&capture);
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut tables = AnalysisTables::create(dir.path(), None).expect("create");
    for (s, d) in &analysed.connections {
        tables.add("drops.pcap", s, d, &|_| None).expect("add");
    }
    tables
        .add_file(&FileRow {
            capture: "drops.pcap",
            path: "drops.pcap",
            first_frame: 1,
            frames: 59,
        })
        .expect("add file");
    let written = tables.finish().expect("finish");
    assert_eq!(
        written.iter().map(|w| w.path.clone()).collect::<Vec<_>>(),
        vec![
            dir.path().join("connections/part-00000-of-00001.parquet"),
            dir.path().join("findings/part-00000-of-00001.parquet"),
            dir.path().join("files/part-00000-of-00001.parquet"),
            dir.path().join("paths/part-00000-of-00001.parquet"),
            dir.path().join("path_findings/part-00000-of-00001.parquet"),
        ]
    );
    // One capture: nothing to match across captures, but the tables exist for queries.
    assert_eq!((written[3].rows, written[4].rows), (0, 0));
    assert_eq!(written[2].rows, 1);
    // Nothing but the parts: the temporary names are gone.
    for table in ["connections", "findings", "files"] {
        let names: Vec<_> = std::fs::read_dir(dir.path().join(table))
            .expect("table directory")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names.len(), 1, "{table}: {names:?}");
    }

    let (batches, metadata) = read(&written[0].path);
    assert_eq!(
        metadata.get("tcpsleuth.schema_version"),
        Some(&SCHEMA_VERSION.to_string())
    );
    assert_eq!(
        metadata.get("tcpsleuth.table").map(String::as_str),
        Some("connections")
    );
    let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
    assert_eq!(rows, analysed.connections.len());
    let batch = &batches[0];
    let (s, d) = &analysed.connections[0];
    assert_eq!(column_i64(batch, "stream")[0], Some(i64::from(s.stream)));
    assert_eq!(
        column_str(batch, "client_ip")[0].as_deref(),
        Some(s.client.ip.as_str())
    );
    assert_eq!(
        column_str(batch, "root_cause")[0].as_deref(),
        Some(d.findings[0].id.as_str())
    );
    assert_eq!(column_str(batch, "rst_from")[0].as_deref(), Some("client"));
    assert_eq!(column_i64(batch, "rst_frame")[0], Some(59));
    assert_eq!(
        column_i64(batch, "flag_retransmission")[0],
        s.flags.get("retransmission").map(|&n| i64::from(n))
    );
    assert_eq!(
        column_i64(batch, "s2c_retransmitted_payload_bytes")[0],
        Some(s.server_to_client.retransmitted_payload_bytes as i64)
    );

    let (batches, _) = read(&written[1].path);
    let findings: usize = analysed
        .connections
        .iter()
        .map(|(_, d)| d.findings.len())
        .sum();
    assert_eq!(
        batches.iter().map(RecordBatch::num_rows).sum::<usize>(),
        findings
    );
    let batch = &batches[0];
    let ids = column_str(batch, "id");
    let expected: Vec<_> = d
        .findings
        .iter()
        .map(|f| Some(f.id.as_str().to_owned()))
        .collect();
    assert_eq!(ids, expected);
    let frames = batch
        .column_by_name("frames")
        .expect("frames")
        .as_list::<i32>();
    let first: Vec<i64> = frames
        .value(0)
        .as_primitive::<Int64Type>()
        .values()
        .to_vec();
    let want: Vec<i64> = d.findings[0].frames.iter().map(|&f| f as i64).collect();
    assert_eq!(first, want);
    let timeline = batch
        .column_by_name("timeline")
        .expect("timeline")
        .as_list::<i32>();
    let steps = timeline.value(0);
    let steps = steps.as_struct();
    assert_eq!(steps.len(), d.findings[0].timeline.len());
    let times = steps.column_by_name("time_s").expect("time_s");
    assert_eq!(
        times.as_primitive::<Float64Type>().value(0),
        d.findings[0].timeline[0].time
    );
}

#[test]
fn packets_table_has_a_row_per_tcp_frame_with_its_flags() {
    let capture = lab("receiver-drops-then-resets.pcap");
    let analysed = analyse(&capture);
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut table =
        PacketTable::create(dir.path(), Some(Shard { index: 2, count: 4 })).expect("create");
    let first_ns = analysed.packets[0].1;
    for (frame, ts, seg, a) in &analysed.packets {
        table
            .add(&PacketRow {
                capture: "drops.pcap",
                frame: *frame,
                file: None,
                timestamp_ns: *ts,
                time_s: (ts - first_ns) as f64 / 1e9,
                stream: a.stream,
                src: seg.src,
                src_port: seg.src_port,
                dst: seg.dst,
                dst_port: seg.dst_port,
                seq: a.rel_seq,
                ack: a.rel_ack,
                len: seg.payload_len,
                window: a.window,
                tcp_flags: "",
                analysis: a.flags,
                dup_ack_num: a.dup_ack.map(|d| d.0),
                dup_ack_frame: a.dup_ack.map(|d| d.1),
                acks_frame: a.acks_frame,
                ack_rtt_s: None,
                initial_rtt_s: None,
                bytes_in_flight: a.bytes_in_flight,
                push_bytes_sent: a.push_bytes_sent,
                rto_s: None,
                rto_frame: None,
                icmp_quote: false,
                corrected: None,
            })
            .expect("add");
    }
    let written = table.finish().expect("finish");
    assert_eq!(
        written.path,
        dir.path().join("packets/part-00002-of-00004.parquet")
    );
    assert_eq!(written.rows, analysed.packets.len() as u64);
    let (batches, _) = read(&written.path);
    let batch = &batches[0];
    let analysis = batch
        .column_by_name("analysis")
        .expect("analysis")
        .as_list::<i32>();
    let mut retransmissions = 0;
    for (i, (frame, _, _, a)) in analysed.packets.iter().enumerate() {
        assert_eq!(column_i64(batch, "frame")[i], Some(*frame as i64));
        let names = analysis.value(i);
        let names: Vec<&str> = names.as_string::<i32>().iter().flatten().collect();
        assert_eq!(names, a.flags.names().collect::<Vec<_>>());
        retransmissions += usize::from(a.flags.has(AnalysisFlags::RETRANSMISSION));
    }
    // The capture's stuck segment: the table must carry the flags, not just empty lists.
    assert!(retransmissions >= 4, "{retransmissions} retransmissions");
}
