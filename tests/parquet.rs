//! `--format parquet`: the tables hold what the JSON report holds, and the N shards of a run
//! hold together exactly the rows of the whole run.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;

use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::{Array, RecordBatch};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::Value;

mod captures;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn tcpsleuth(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tcpsleuth"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("run tcpsleuth");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr,
    )
}

/// The public corpus and every lab capture, as paths relative to the workspace root (the
/// `capture` column keeps the path as given).
fn captures() -> Vec<String> {
    let mut files = captures::files_under(&root().join("../shared/corpus/public"));
    files.extend(captures::files_under(&root().join("fixtures/captures/lab")));
    files.sort();
    assert!(files.len() > 40, "corpus and lab captures: {}", files.len());
    files
        .iter()
        .map(|p| p.strip_prefix(root()).unwrap_or(p).display().to_string())
        .collect()
}

/// Every row of one table in `dir` (all its parts), keyed by the columns that identify it.
fn rows(dir: &Path, table: &str, key: &[&str]) -> BTreeMap<Vec<String>, RecordBatch> {
    let mut out = BTreeMap::new();
    let parts = std::fs::read_dir(dir.join(table)).expect("table directory");
    for part in parts.flatten() {
        let name = part.file_name().to_string_lossy().into_owned();
        assert!(
            name.starts_with("part-") && name.ends_with(".parquet"),
            "{table}: stray file {name}"
        );
        let file = File::open(part.path()).expect("part");
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)
            .expect("a Parquet file")
            .build()
            .expect("reader");
        for batch in reader {
            let batch = batch.expect("batch");
            for i in 0..batch.num_rows() {
                let row = batch.slice(i, 1);
                let id: Vec<String> = key.iter().map(|k| cell(&row, k)).collect();
                assert!(
                    out.insert(id.clone(), row).is_none(),
                    "{table}: {id:?} twice"
                );
            }
        }
    }
    out
}

const PATH_KEY: &[&str] = &[
    "capture_a",
    "stream_a",
    "capture_b",
    "stream_b",
    "direction",
];
const PATH_FINDING_KEY: &[&str] = &[
    "capture_a",
    "stream_a",
    "capture_b",
    "stream_b",
    "id",
    "summary",
];

/// A list<int64> cell of a one-row batch.
fn int_list(row: &RecordBatch, column: &str) -> Vec<u64> {
    let list = row.column_by_name(column).expect(column).as_list::<i32>();
    let values = list.value(0);
    let values = values.as_primitive::<Int64Type>();
    values.values().iter().map(|&v| v as u64).collect()
}

fn cell(row: &RecordBatch, column: &str) -> String {
    let c = row.column_by_name(column).expect(column);
    if let Some(s) = c.as_string_opt::<i32>() {
        s.value(0).to_owned()
    } else if let Some(n) = c.as_primitive_opt::<Int64Type>() {
        format!("{:020}", n.value(0))
    } else if let Some(n) = c.as_primitive_opt::<arrow_array::types::Int32Type>() {
        format!("{:010}", n.value(0))
    } else {
        panic!("{column}: not a key column")
    }
}

#[test]
fn shards_add_up_to_the_whole_run_and_match_the_json_report() {
    let captures = captures();
    let args = |extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        v.extend(captures.iter().cloned());
        v
    };
    let run = |args: Vec<String>| {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, stdout, stderr) = tcpsleuth(&refs);
        assert!(code == 0 || code == 1, "exit {code}: {stderr}");
        stdout
    };
    let dir = tempfile::tempdir().expect("temporary directory");
    let whole = dir.path().join("whole");
    let sharded = dir.path().join("sharded");
    let whole_s = whole.display().to_string();
    let sharded_s = sharded.display().to_string();
    let out = run(args(&["analyze", "--format", "parquet", "-o", &whole_s]));
    assert!(out.is_empty(), "parquet prints nothing on stdout: {out}");
    for shard in ["0/3", "1/3", "2/3"] {
        run(args(&[
            "analyze", "--format", "parquet", "-o", &sharded_s, "--shard", shard,
        ]));
    }

    let connections = rows(&whole, "connections", &["capture", "stream"]);
    let findings = rows(&whole, "findings", &["capture", "stream", "rank"]);
    assert_eq!(
        connections,
        rows(&sharded, "connections", &["capture", "stream"])
    );
    assert_eq!(
        findings,
        rows(&sharded, "findings", &["capture", "stream", "rank"])
    );
    // Connections matched across the lab's two capture points: no NAT between them, so both
    // halves hash to the same shard.
    for (table, key) in [("paths", PATH_KEY), ("path_findings", PATH_FINDING_KEY)] {
        let whole = rows(&whole, table, key);
        assert!(!whole.is_empty(), "{table}");
        assert_eq!(whole, rows(&sharded, table, key), "{table}");
    }
    for (table, parts) in [("connections", 3), ("findings", 3)] {
        assert_eq!(
            std::fs::read_dir(sharded.join(table))
                .expect("parts")
                .count(),
            parts,
            "{table}"
        );
    }

    // The same connections and findings as the JSON report, capture by capture.
    let report: Value =
        serde_json::from_str(&run(args(&["analyze", "--format", "json"]))).expect("JSON report");
    let paths: Vec<&str> = report["captures"]
        .as_array()
        .expect("captures")
        .iter()
        .map(|c| c["path"].as_str().expect("path"))
        .collect();
    let entries = report["connections"].as_array().expect("connections");
    assert_eq!(entries.len(), connections.len());
    let mut with_findings = 0;
    for c in entries {
        let capture = paths[c["capture"].as_u64().expect("capture") as usize];
        let stream = c["stream"].as_i64().expect("stream");
        let key = vec![capture.to_owned(), format!("{stream:020}")];
        let row = connections
            .get(&key)
            .unwrap_or_else(|| panic!("{key:?} missing"));
        let expected = c["findings"].as_array().expect("findings");
        let root = expected.first().map(|f| f["id"].as_str().expect("id"));
        let got = row
            .column_by_name("root_cause")
            .expect("root_cause")
            .as_string::<i32>();
        assert_eq!(got.is_valid(0).then(|| got.value(0)), root, "{key:?}");
        for (rank, f) in expected.iter().enumerate() {
            let mut fkey = key.clone();
            fkey.push(format!("{rank:010}"));
            let row = findings
                .get(&fkey)
                .unwrap_or_else(|| panic!("{fkey:?} missing"));
            assert_eq!(cell(row, "id"), f["id"].as_str().expect("id"));
            assert_eq!(cell(row, "actor"), f["actor"].as_str().expect("actor"));
            let want: Vec<u64> = f["frames"]
                .as_array()
                .expect("frames")
                .iter()
                .filter_map(Value::as_u64)
                .collect();
            assert_eq!(int_list(row, "frames"), want, "{fkey:?}");
            with_findings += 1;
        }
    }
    assert_eq!(with_findings, findings.len());
    assert!(with_findings > 50, "{with_findings} findings");
}

#[test]
fn packets_table_matches_the_json_lines() {
    let capture = "fixtures/captures/lab/stall-then-reset/server.pcap";
    let dir = tempfile::tempdir().expect("temporary directory");
    let out = dir.path().display().to_string();
    let (code, _, stderr) = tcpsleuth(&["packets", "--format", "parquet", "-o", &out, capture]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("packets/part-00000-of-00001.parquet"),
        "{stderr}"
    );
    let (_, jsonl, _) = tcpsleuth(&["packets", "--format", "jsonl", capture]);
    let lines: Vec<Value> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    let table = rows(dir.path(), "packets", &["frame"]);
    assert_eq!(table.len(), lines.len());
    let mut flagged = 0;
    for line in &lines {
        let frame = line["frame"].as_i64().expect("frame");
        let row = &table[&vec![format!("{frame:020}")]];
        assert_eq!(
            cell(row, "stream"),
            format!("{:020}", line["stream"].as_i64().expect("stream"))
        );
        assert_eq!(
            cell(row, "seq"),
            format!("{:020}", line["seq"].as_i64().expect("seq"))
        );
        assert_eq!(
            cell(row, "tcp_flags"),
            line["tcp_flags"].as_str().expect("tcp_flags")
        );
        let analysis = row
            .column_by_name("analysis")
            .expect("analysis")
            .as_list::<i32>();
        let names = analysis.value(0);
        let names: Vec<&str> = names.as_string::<i32>().iter().flatten().collect();
        let want: Vec<&str> = line["flags"]
            .as_array()
            .expect("flags")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(names, want, "frame {frame}");
        flagged += usize::from(!want.is_empty());
    }
    assert!(flagged > 10, "{flagged} frames with flags");
}

#[test]
fn parquet_needs_a_directory() {
    let (code, _, stderr) = tcpsleuth(&[
        "analyze",
        "--format",
        "parquet",
        "fixtures/captures/lab/receiver-drops-then-resets.pcap",
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--output"), "{stderr}");
}

/// Whether an external tool the test needs is there. CI installs them and sets the variable,
/// so there the test can only pass by running; elsewhere it says it was skipped.
fn available(variable: &str, probe: &mut Command, install: &str) -> bool {
    let ok = probe
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var_os(variable).is_none(),
            "{variable} is set but the tool is missing ({install})"
        );
        eprintln!("skipped: {install}");
    }
    ok
}

/// The whole run's tables and JSON report of these captures.
fn whole_run(dir: &Path, captures: &[String]) -> Value {
    let mut args = vec![
        "analyze".to_owned(),
        "--format".to_owned(),
        "parquet".to_owned(),
        "-o".to_owned(),
        dir.display().to_string(),
    ];
    args.extend(captures.iter().cloned());
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, _, stderr) = tcpsleuth(&refs);
    assert!(code == 0 || code == 1, "exit {code}: {stderr}");
    let mut json = vec!["analyze", "--format", "json"];
    json.extend(captures.iter().map(String::as_str));
    let (_, stdout, _) = tcpsleuth(&json);
    serde_json::from_str(&stdout).expect("JSON report")
}

fn findings_of(report: &Value) -> impl Iterator<Item = &Value> {
    report["connections"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|c| c["findings"].as_array().into_iter().flatten())
}

#[test]
fn query_answers_from_duckdb() {
    let duckdb = std::env::var("TCPSLEUTH_DUCKDB").unwrap_or_else(|_| "duckdb".to_owned());
    if !available(
        "TCPSLEUTH_REQUIRE_DUCKDB",
        Command::new(&duckdb).arg("--version"),
        "no duckdb on PATH (pip install duckdb-cli)",
    ) {
        return;
    }
    let dir = tempfile::tempdir().expect("temporary directory");
    // One level down, as a fleet would lay results out by sensor.
    let results = dir.path().join("sensor-a");
    let report = whole_run(&results, &captures());
    let top = dir.path().display().to_string();

    // Findings by id and actor: the counts of the JSON report.
    let mut expected: BTreeMap<(String, String), u64> = BTreeMap::new();
    for f in findings_of(&report) {
        let key = (
            f["id"].as_str().expect("id").to_owned(),
            f["actor"].as_str().expect("actor").to_owned(),
        );
        *expected.entry(key).or_default() += 1;
    }
    let (code, stdout, stderr) = tcpsleuth(&[
        "query",
        &top,
        "--format",
        "json",
        "SELECT id, actor, count(*) AS n FROM findings GROUP BY ALL ORDER BY id, actor",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let rows: Vec<Value> = serde_json::from_str(&stdout).expect("DuckDB's JSON");
    let got: BTreeMap<(String, String), u64> = rows
        .iter()
        .map(|r| {
            (
                (
                    r["id"].as_str().expect("id").to_owned(),
                    r["actor"].as_str().expect("actor").to_owned(),
                ),
                r["n"].as_u64().expect("n"),
            )
        })
        .collect();
    assert_eq!(got, expected);

    // Resets by actor over time (docs/parquet.md): every reset finding lands in some hour.
    let resets = findings_of(&report)
        .filter(|f| f["id"].as_str().is_some_and(|id| id.starts_with("reset.")))
        .count() as u64;
    assert!(resets > 5, "{resets} resets");
    let (code, stdout, stderr) = tcpsleuth(&[
        "query",
        &top,
        "--format",
        "json",
        "SELECT date_trunc('hour', connection_start) AS hour, actor, count(*) AS resets \
         FROM findings WHERE id LIKE 'reset.%' GROUP BY ALL ORDER BY hour, actor",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let rows: Vec<Value> = serde_json::from_str(&stdout).expect("DuckDB's JSON");
    let total: u64 = rows.iter().filter_map(|r| r["resets"].as_u64()).sum();
    assert_eq!(total, resets);

    // A mistake in the SQL is DuckDB's message and a failing exit code.
    let (code, _, stderr) = tcpsleuth(&["query", &top, "SELEC 1"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("syntax error"), "{stderr}");
}

/// The check: the shards run as tasks of a real Spark (local mode, PySpark from PyPI),
/// one analysis per capture (`--each`) with two shards each, write exactly the tables of one
/// run, and Spark SQL reads every column type we write.
#[test]
fn spark_local_mode_shards_equal_a_single_run() {
    if !available(
        "TCPSLEUTH_REQUIRE_SPARK",
        Command::new("python3").args(["-c", "import pyspark"]),
        "no PySpark (pip install pyspark; it needs Java 17)",
    ) {
        return;
    }
    let dir = tempfile::tempdir().expect("temporary directory");
    let single = dir.path().join("single");
    // Absolute paths, as the recipe hands them to its tasks (the `capture` column); a sensor's
    // ring buffer is one of them.
    let mut captures = captures();
    captures.push("fixtures/captures/rotated/dumpcap".to_owned());
    let captures: Vec<String> = captures
        .iter()
        .map(|c| {
            let path = root().join(c).canonicalize().expect("capture exists");
            path.display().to_string()
        })
        .collect();
    whole_run(&single, &captures);
    let spark_out = dir.path().join("spark");
    let steps_sql = "SELECT count(*) AS timeline_steps FROM findings \
                     LATERAL VIEW explode(timeline) t AS step WHERE step.text <> ''";
    let frames_sql = "SELECT sum(size(frames)) AS evidence_frames FROM findings";
    let out = Command::new("python3")
        .arg(root().join("scripts/spark/tcpsleuth_spark.py"))
        .args([
            "--each",
            "--shards",
            "2",
            "--master",
            "local[2]",
            "--tcpsleuth",
        ])
        .arg(env!("CARGO_BIN_EXE_tcpsleuth"))
        .arg("--out")
        .arg(&spark_out)
        .args(["--sql", steps_sql, "--sql", frames_sql])
        .args(&captures)
        .current_dir(root())
        .output()
        .expect("run the Spark recipe");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");

    for (table, key) in [
        ("connections", &["capture", "stream"][..]),
        ("findings", &["capture", "stream", "rank"][..]),
    ] {
        let whole = rows(&single, table, key);
        // --each: one directory per capture, each with its shards' parts.
        let mut sharded = BTreeMap::new();
        let mut outputs = 0;
        for capture in std::fs::read_dir(&spark_out)
            .expect("Spark's output")
            .flatten()
        {
            sharded.extend(rows(&capture.path(), table, key));
            outputs += 1;
        }
        assert_eq!(outputs, captures.len(), "{table}: one output per capture");
        assert!(!whole.is_empty(), "{table}");
        assert_eq!(
            sharded.keys().collect::<Vec<_>>(),
            whole.keys().collect::<Vec<_>>(),
            "{table}"
        );
        for (key, row) in &whole {
            assert!(sharded[key] == *row, "{table} {key:?} differs");
        }
    }

    // Spark SQL reads the nested columns: the numbers are those of the single run.
    let findings = rows(&single, "findings", &["capture", "stream", "rank"]);
    let steps: usize = findings
        .values()
        .map(|r| {
            r.column_by_name("timeline")
                .expect("timeline")
                .as_list::<i32>()
                .value(0)
                .len()
        })
        .sum();
    let frames: usize = findings
        .values()
        .map(|r| {
            r.column_by_name("frames")
                .expect("frames")
                .as_list::<i32>()
                .value(0)
                .len()
        })
        .sum();
    let shown = |name: &str| -> usize {
        // show() prints a header row |name| and then the value row |value|.
        let mut lines = stdout
            .lines()
            .skip_while(|l| !l.contains(&format!("|{name}")));
        lines.next();
        lines
            .nth(1)
            .and_then(|l| l.trim_matches('|').trim().parse().ok())
            .unwrap_or_else(|| panic!("{name} not in Spark's output:\n{stdout}"))
    };
    assert_eq!(shown("timeline_steps"), steps);
    assert_eq!(shown("evidence_frames"), frames);
}

/// A ring buffer's directory gives the tables of the capture its files were cut from (the
/// `capture` column aside), and its `file`/`file_frame` columns and `files` table place each
/// frame in the file to open.
#[test]
fn a_ring_buffer_gives_the_tables_of_the_joined_capture() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let ring_dir = dir.path().join("ring");
    let joined_dir = dir.path().join("joined");
    let ring = "fixtures/captures/rotated/dumpcap";
    let joined = "fixtures/captures/rotated/joined.pcap";
    for (out, capture) in [(&ring_dir, ring), (&joined_dir, joined)] {
        let out = out.display().to_string();
        for command in ["analyze", "packets"] {
            let (code, _, stderr) =
                tcpsleuth(&[command, "--format", "parquet", "-o", &out, capture]);
            assert_eq!(code, 0, "{command} {capture}: {stderr}");
        }
    }
    // Columns that differ by design: the capture's name, the file columns, and the display
    // filters, which select a ring's connection by address and port (tcp.stream numbers
    // differ when each file is opened alone).
    let without = |rows: BTreeMap<Vec<String>, RecordBatch>, skip: &[&str]| {
        rows.into_iter()
            .map(|(key, row)| {
                let keep: Vec<usize> = (0..row.num_columns())
                    .filter(|&i| !skip.contains(&row.schema().field(i).name().as_str()))
                    .collect();
                (key[1..].to_vec(), row.project(&keep).expect("projection"))
            })
            .collect::<BTreeMap<_, _>>()
    };
    let skip = ["capture", "file", "file_frame", "display_filter"];
    for (table, key) in [
        ("connections", &["capture", "stream"][..]),
        ("findings", &["capture", "stream", "rank"][..]),
        ("packets", &["capture", "frame"][..]),
    ] {
        let from_ring = without(rows(&ring_dir, table, key), &skip);
        let from_joined = without(rows(&joined_dir, table, key), &skip);
        assert!(!from_ring.is_empty(), "{table}");
        assert!(
            from_ring == from_joined,
            "{table}: the ring differs from the joined capture"
        );
    }

    // The files table lists the ring's files in reading order, numbered as mergecap -a does.
    let files = rows(&ring_dir, "files", &["capture", "first_frame"]);
    let spans: Vec<(String, i64, i64)> = files
        .values()
        .map(|r| {
            let n = |c: &str| {
                r.column_by_name(c)
                    .expect(c)
                    .as_primitive::<Int64Type>()
                    .value(0)
            };
            (cell(r, "path"), n("first_frame"), n("frames"))
        })
        .collect();
    assert_eq!(spans.len(), 9, "{spans:?}");
    let mut next = 1;
    for (path, first, frames) in &spans {
        assert_eq!(*first, next, "{path}");
        next += frames;
    }

    // Every packet's file and file frame agree with the files table.
    let packets = rows(&ring_dir, "packets", &["capture", "frame"]);
    let mut seen_files = std::collections::BTreeSet::new();
    for row in packets.values() {
        let frame = row
            .column_by_name("frame")
            .expect("frame")
            .as_primitive::<Int64Type>()
            .value(0);
        let file = cell(row, "file");
        let in_file = row
            .column_by_name("file_frame")
            .expect("file_frame")
            .as_primitive::<Int64Type>()
            .value(0);
        let (path, first, _) = spans
            .iter()
            .rev()
            .find(|(_, first, _)| *first <= frame)
            .expect("a file holds the frame");
        assert!(path.ends_with(&file), "frame {frame}: {file} is not {path}");
        assert_eq!(in_file, frame - first + 1, "frame {frame}");
        seen_files.insert(file);
    }
    assert!(seen_files.len() > 5, "{seen_files:?}");
    // And findings name the file of their first frame.
    let findings = rows(&ring_dir, "findings", &["capture", "stream", "rank"]);
    assert!(findings.values().all(|r| !cell(r, "file").is_empty()));
}

/// docs/parquet.md names every column of every table, so that the documented schema is the
/// written one.
#[test]
fn every_column_is_documented() {
    let doc = std::fs::read_to_string(root().join("docs/parquet.md")).expect("docs/parquet.md");
    let dir = tempfile::tempdir().expect("temporary directory");
    let out = dir.path().display().to_string();
    let capture = "fixtures/captures/lab/receiver-drops-then-resets.pcap";
    for command in ["analyze", "packets"] {
        let (code, _, stderr) = tcpsleuth(&[command, "--format", "parquet", "-o", &out, capture]);
        assert_eq!(code, 0, "{stderr}");
    }
    let mut columns = 0;
    for table in [
        "connections",
        "findings",
        "files",
        "paths",
        "path_findings",
        "packets",
    ] {
        assert!(
            doc.contains(&format!("### `{table}`")),
            "{table} has no section"
        );
        let part = dir.path().join(table).join("part-00000-of-00001.parquet");
        let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(&part).expect("part"))
            .expect("a Parquet file");
        for field in reader.schema().fields() {
            assert!(
                doc.contains(&format!("`{}`", field.name())),
                "{table}.{} is not in docs/parquet.md",
                field.name()
            );
            columns += 1;
        }
    }
    assert!(columns > 100, "{columns} columns");
}

/// Two captures of the same traffic: the `paths` and `path_findings` tables hold what the JSON
/// report's `paths` holds, for every lab scenario captured at both ends.
#[test]
fn paths_tables_match_the_json_report() {
    let lab = root().join("fixtures/captures/lab");
    let mut scenarios: Vec<PathBuf> = std::fs::read_dir(&lab)
        .expect("lab")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("client.pcap").exists() && p.join("server.pcap").exists())
        .collect();
    scenarios.sort();
    assert!(scenarios.len() > 10, "{scenarios:?}");
    let mut lost_total = 0;
    let mut path_findings_total = 0;
    for scenario in scenarios {
        let client = scenario.join("client.pcap").display().to_string();
        let server = scenario.join("server.pcap").display().to_string();
        let dir = tempfile::tempdir().expect("temporary directory");
        let out = dir.path().display().to_string();
        let (code, _, stderr) = tcpsleuth(&[
            "analyze", "--format", "parquet", "-o", &out, &client, &server,
        ]);
        assert!(code == 0 || code == 1, "{stderr}");
        let (_, json, _) = tcpsleuth(&["analyze", "--format", "json", &client, &server]);
        let report: Value = serde_json::from_str(&json).expect("JSON report");
        let names = [client.as_str(), server.as_str()];
        let paths = rows(dir.path(), "paths", PATH_KEY);
        let path_findings = rows(dir.path(), "path_findings", PATH_FINDING_KEY);
        let mut expected_rows = 0;
        let mut expected_findings = 0;
        for p in report["paths"].as_array().into_iter().flatten() {
            let index = |v: &Value| v.as_u64().expect("index") as usize;
            let pair = vec![
                names[index(&p["captures"][0])].to_owned(),
                format!("{:020}", p["streams"][0].as_u64().expect("stream")),
                names[index(&p["captures"][1])].to_owned(),
                format!("{:020}", p["streams"][1].as_u64().expect("stream")),
            ];
            for d in p["directions"].as_array().expect("directions") {
                let mut k = pair.clone();
                k.push(d["direction"].as_str().expect("direction").to_owned());
                let row = paths.get(&k).unwrap_or_else(|| panic!("{k:?} missing"));
                assert_eq!(cell(row, "upstream"), names[index(&d["upstream"])], "{k:?}");
                let lost = int_list(row, "lost_frames");
                let want: Vec<u64> = d["lost"]
                    .as_array()
                    .expect("lost")
                    .iter()
                    .filter_map(|r| r["frame"].as_u64())
                    .collect();
                assert_eq!(lost, want, "{k:?}");
                lost_total += lost.len();
                expected_rows += 1;
            }
            for f in p["findings"].as_array().expect("findings") {
                let mut k = pair.clone();
                k.push(f["id"].as_str().expect("id").to_owned());
                k.push(f["summary"].as_str().expect("summary").to_owned());
                let row = path_findings
                    .get(&k)
                    .unwrap_or_else(|| panic!("{k:?} missing"));
                assert_eq!(cell(row, "actor"), f["actor"].as_str().expect("actor"));
                let evidence = row
                    .column_by_name("evidence")
                    .expect("evidence")
                    .as_list::<i32>();
                assert_eq!(
                    evidence.value(0).len(),
                    f["evidence"].as_array().expect("evidence").len(),
                    "{k:?}"
                );
                expected_findings += 1;
            }
        }
        assert_eq!(paths.len(), expected_rows, "{}", scenario.display());
        assert_eq!(
            path_findings.len(),
            expected_findings,
            "{}",
            scenario.display()
        );
        path_findings_total += expected_findings;
    }
    assert!(lost_total > 20, "{lost_total} lost frames");
    assert!(
        path_findings_total > 5,
        "{path_findings_total} path findings"
    );
}
