//! `tcpsleuth analyze`: the diagnosis a user gets, checked on the lab capture of the first seed's
//! failure and on every capture of the public corpus; the JSON output against its schema.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

mod captures;

const SEED_CASE: &str = "fixtures/captures/lab/receiver-drops-then-resets.pcap";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs the binary from the workspace root; returns (exit code, stdout, stderr).
fn tcpsleuth(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tcpsleuth"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("run tcpsleuth");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn analyze_json(captures: &[&str]) -> Value {
    let mut args = vec!["analyze", "--format", "json"];
    args.extend_from_slice(captures);
    let (code, stdout, stderr) = tcpsleuth(&args);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(code == 0 || code == 1, "exit {code}: {stderr}");
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
}

fn schema() -> jsonschema::Validator {
    let text = std::fs::read_to_string(root().join("docs/analyze.schema.json")).expect("schema");
    let schema: Value = serde_json::from_str(&text).expect("schema is JSON");
    jsonschema::validator_for(&schema).expect("schema compiles")
}

fn assert_valid(doc: &Value) {
    let validator = schema();
    let errors: Vec<String> = validator
        .iter_errors(doc)
        .take(10)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "schema violations:\n{}",
        errors.join("\n")
    );
}

fn findings(conn: &Value) -> Vec<(String, String)> {
    conn["findings"]
        .as_array()
        .map(|f| {
            f.iter()
                .map(|f| {
                    (
                        f["id"].as_str().unwrap_or_default().to_string(),
                        f["actor"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn corpus_files() -> Vec<PathBuf> {
    captures::files_under(&root().join("../shared/corpus/public"))
}

/// The public corpus, then the lab captures.
fn corpus_and_lab_files() -> Vec<PathBuf> {
    let mut files = corpus_files();
    for entry in std::fs::read_dir(root().join("fixtures/captures/lab"))
        .expect("lab captures")
        .flatten()
    {
        if entry.path().extension().is_some_and(|e| e == "pcap") {
            files.push(entry.path());
        }
    }
    files
}

/// The first seed: the server retransmits the same segment while the client's ACK is stuck,
/// and the client resets. The report must say so, with the frames.
#[test]
fn seed_case_reads_like_the_seeds_conclusion() {
    let doc = analyze_json(&[SEED_CASE]);
    assert_valid(&doc);
    let conns = doc["connections"].as_array().expect("connections");
    assert_eq!(conns.len(), 1);
    let found = findings(&conns[0]);
    assert!(
        found.contains(&("stall.retransmission_loop".into(), "network".into())),
        "{found:?}"
    );
    assert!(
        found.contains(&("reset.after_retransmissions".into(), "client".into())),
        "{found:?}"
    );
    let stall = &conns[0]["findings"][0];
    assert_eq!(
        stall["id"], "stall.retransmission_loop",
        "the cause comes first"
    );
    let frames: Vec<u64> = stall["frames"]
        .as_array()
        .expect("frames")
        .iter()
        .filter_map(Value::as_u64)
        .collect();
    // The original (50), its four retransmissions (55-58) and the client's RST (59).
    for f in [50, 55, 56, 57, 58, 59] {
        assert!(frames.contains(&f), "frame {f} missing from {frames:?}");
    }
    assert_eq!(conns[0]["severity"], "failure");
    let apps = conns[0]["application"].as_array().expect("application");
    assert!(
        apps.iter()
            .any(|a| a["endpoint"] == "server" && a["error"] == "ECONNRESET"),
        "the server sees 10054: {apps:?}"
    );

    let (code, text, _) = tcpsleuth(&[SEED_CASE]);
    assert_eq!(code, 0);
    let first_verdict = text.lines().nth(2).unwrap_or_default();
    assert!(
        first_verdict.starts_with("FAILURE") && first_verdict.contains("stall.retransmission_loop"),
        "{text}"
    );
    for needle in [
        "retransmitted seq 22001 4 times",
        "frame 50, t=1.105: server sends seq 22001, 1448 bytes; never acknowledged",
        "frames 55–58",
        "backoff 0.22, 0.42, 0.83, 1.66 s",
        "frame 59, t=5.017: client sends RST",
        "WSAECONNRESET (10054)",
        "Wireshark filter: tcp.stream eq 0",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
}

/// `tcpsleuth CAPTURE` is `tcpsleuth analyze CAPTURE`.
#[test]
fn analyze_is_the_default_command() {
    let (code_a, a, _) = tcpsleuth(&["analyze", SEED_CASE]);
    let (code_b, b, _) = tcpsleuth(&[SEED_CASE]);
    assert_eq!((code_a, &a), (code_b, &b));
    let (_, brief, _) = tcpsleuth(&["--brief", SEED_CASE]);
    assert!(brief.lines().count() == 3, "{brief}");
    let (code, json, _) = tcpsleuth(&["--format", "json", SEED_CASE]);
    assert_eq!(code, 0);
    assert!(serde_json::from_str::<Value>(&json).is_ok());
}

/// Every corpus capture is diagnosed without a panic, and the document validates.
#[test]
fn corpus_diagnoses_validate_against_the_schema() {
    let files = corpus_files();
    assert!(files.len() >= 40, "corpus not found beside the repo");
    let names: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
    let args: Vec<&str> = names.iter().map(String::as_str).collect();
    let doc = analyze_json(&args);
    assert_valid(&doc);
    assert_eq!(doc["captures"].as_array().map(Vec::len), Some(files.len()));
    let conns = doc["connections"].as_array().expect("connections");
    assert!(conns.len() > 2000);
    for conn in conns {
        let healthy = conn["findings"].as_array().is_some_and(Vec::is_empty);
        assert_eq!(healthy, conn["severity"].is_null(), "{conn}");
        for f in conn["findings"].as_array().into_iter().flatten() {
            let frames = f["frames"].as_array().expect("frames");
            let first = frames.first().and_then(Value::as_u64).unwrap_or(0);
            let capture = conn["capture"].as_u64().unwrap_or(0) as usize;
            let total = doc["captures"][capture]["frames"].as_u64().unwrap_or(0);
            assert!(
                first >= 1 && frames.iter().all(|n| n.as_u64() <= Some(total)),
                "{f}"
            );
        }
    }
}

/// A connection refused on a real capture from the corpus: RST/ACK to the SYN.
#[test]
fn corpus_refused_connection() {
    let capture =
        root().join("../shared/corpus/public/chrissanders-packets/tcp_refuseconnection.pcapng");
    let doc = analyze_json(&[&capture.display().to_string()]);
    let refused = doc["connections"]
        .as_array()
        .expect("connections")
        .iter()
        .filter(|c| findings(c).contains(&("handshake.refused".into(), "server".into())))
        .count();
    assert!(refused >= 1);
}

/// `analyze` retires connections as they end and forgets them, to keep memory flat; the
/// `connections` command keeps every one to the end. Both must describe the same connections
/// with the same numbers, on every corpus and lab capture.
#[test]
fn streaming_diagnosis_sees_the_same_connections_as_a_whole_capture_pass() {
    let names: Vec<String> = corpus_and_lab_files()
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    let mut args: Vec<&str> = vec!["connections", "--format", "json"];
    args.extend(names.iter().map(String::as_str));
    let (_, whole, _) = tcpsleuth(&args);
    let whole: Value = serde_json::from_str(&whole).expect("connections JSON");
    let streamed = analyze_json(&args[3..]);
    let key = |capture: &Value, stream: &Value| (capture.as_u64(), stream.as_u64());
    let mut expected: std::collections::BTreeMap<_, Value> = whole["connections"]
        .as_array()
        .expect("connections")
        .iter()
        .map(|row| {
            let mut summary = row.clone();
            let capture = summary
                .as_object_mut()
                .and_then(|o| o.remove("capture"))
                .unwrap_or_default();
            (key(&capture, &row["stream"]), summary)
        })
        .collect();
    let conns = streamed["connections"].as_array().expect("connections");
    assert_eq!(conns.len(), expected.len());
    let mut compared = 0;
    for conn in conns {
        let capture = conn["capture"].as_u64().unwrap_or(0) as usize;
        let summary = expected
            .remove(&key(&conn["capture"], &conn["stream"]))
            .unwrap_or_else(|| panic!("{} not in the whole pass", conn["stream"]));
        // Frames arriving after a connection was retired are counted apart, not in it.
        if streamed["captures"][capture]["late_frames"].is_null() {
            assert_eq!(conn["summary"], summary, "{}", names[capture]);
            compared += 1;
        }
    }
    assert!(compared > 2000, "{compared}");
}

/// `--shard I/N`: three runs, one per shard, report together exactly the connections of one
/// run, each once, with the same stream numbers, findings and frames.
#[test]
fn shards_add_up_to_one_run() {
    let names: Vec<String> = corpus_and_lab_files()
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    let args: Vec<&str> = names.iter().map(String::as_str).collect();
    let entries =
        |doc: &Value| -> Vec<Value> { doc["connections"].as_array().cloned().unwrap_or_default() };
    let key = |c: &Value| (c["capture"].as_u64(), c["stream"].as_u64());
    let whole = entries(&analyze_json(&args));
    let mut from_shards = Vec::new();
    for shard in ["0/3", "1/3", "2/3"] {
        let mut with_shard = vec!["--shard", shard];
        with_shard.extend(args.iter().copied());
        let part = entries(&analyze_json(&with_shard));
        assert!(
            !part.is_empty() && part.len() < whole.len(),
            "{shard}: {}",
            part.len()
        );
        from_shards.extend(part);
    }
    from_shards.sort_by_key(key);
    assert_eq!(from_shards.len(), whole.len());
    for (a, b) in from_shards.iter().zip(&whole) {
        assert_eq!(a, b);
    }
}

/// Packet comments someone wrote in Wireshark (pcapng `opt_comment`, here added by
/// `editcap -a`) are shown with the report, named by frame, and listed in the JSON.
#[test]
fn packet_comments_are_shown_with_their_frames() {
    let capture = "fixtures/captures/commented/receiver-drops-annotated.pcapng";
    let (code, text, stderr) = tcpsleuth(&["analyze", capture]);
    assert_eq!(code, 0, "{stderr}");
    assert!(text.contains("Packet comments in the capture:"), "{text}");
    assert!(
        text.contains("  frame 59: client app gave up here (ticket #4711)"),
        "{text}"
    );
    let doc = analyze_json(&[capture]);
    assert!(
        schema().is_valid(&doc),
        "the schema accepts packet comments"
    );
    let comments = doc["captures"][0]["packet_comments"]
        .as_array()
        .expect("packet_comments");
    let frames: Vec<u64> = comments
        .iter()
        .filter_map(|c| c["frame"].as_u64())
        .collect();
    assert_eq!(frames, [55, 59]);
    assert_eq!(
        comments[0]["text"].as_str(),
        Some("the server starts retransmitting seq 22001")
    );
    // The HTML report lists them under the capture (escaped: tests/injection.rs).
    let (code, html, stderr) = tcpsleuth(&["analyze", "--format", "html", capture]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        html.contains("<li>frame 59: client app gave up here (ticket #4711)</li>"),
        "no comments in the HTML report"
    );
    // The same capture without comments has no such key (the document is otherwise alike).
    let plain = analyze_json(&[SEED_CASE]);
    assert!(plain["captures"][0].get("packet_comments").is_none());
    assert_eq!(plain["connections"], doc["connections"]);
}
