//! Rotating captures: the files of one sensor's ring buffer, analysed as one capture, must give
//! what the capture they were cut from gives. The fixtures (fixtures/captures/rotated/make.sh)
//! are `joined.pcap`, three lab connections overlapping in time, cut by editcap into a
//! dumpcap-named ring (`dumpcap/`, mixed pcapng, pcap and gzip) and a tcpdump-named one
//! (`tcpdump/`: trace, trace1, ..., trace10); and one connection seen at two points, each
//! side cut into a ring (`two-points/`).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use tcpsleuth_capture::CaptureReader;

const DIR: &str = "fixtures/captures/rotated";

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_tcpsleuth"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("spawn tcpsleuth");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{args:?} panicked:\n{stderr}");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).expect("utf-8 stdout"),
        stderr,
    }
}

fn fixture(rel: &str) -> String {
    format!("{DIR}/{rel}")
}

/// `analyze --format json`, checked against docs/analyze.schema.json.
fn json(args: &[&str]) -> Value {
    let mut all = vec!["analyze", "--format", "json"];
    all.extend_from_slice(args);
    let r = run(&all);
    assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
    let doc: Value = serde_json::from_str(&r.stdout).expect("the report is JSON");
    assert_valid(&doc);
    doc
}

fn assert_valid(doc: &Value) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/analyze.schema.json");
    let text = std::fs::read_to_string(path).expect("schema");
    let schema: Value = serde_json::from_str(&text).expect("schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let errors: Vec<String> = validator.iter_errors(doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
}

/// The files of a ring, sorted as a person numbers them (tests the order independently of the
/// program's own sort: by the number in the name).
fn ring_files(dir: &str) -> Vec<String> {
    let mut files: Vec<(u64, String)> = std::fs::read_dir(fixture(dir))
        .expect("fixture directory")
        .map(|e| e.expect("directory entry").path())
        .map(|p| {
            let name = p.file_name().map(|n| n.to_string_lossy().into_owned());
            let name = name.unwrap_or_default();
            let digits: String = name
                .trim_start_matches(|c: char| !c.is_ascii_digit())
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            (digits.parse().unwrap_or(0), p.display().to_string())
        })
        .collect();
    files.sort();
    files.into_iter().map(|(_, p)| p).collect()
}

/// A finding's filter for a multi-file capture selects by address and port; the rest of it is
/// what the single capture's filter says after its `tcp.stream eq N`.
fn filter_rest(filter: &str) -> &str {
    if let Some(rest) = filter.strip_prefix("tcp.stream eq ") {
        return rest.trim_start_matches(|c: char| c.is_ascii_digit());
    }
    assert!(filter.starts_with("(ip"), "an address filter: {filter}");
    assert!(!filter.contains("tcp.stream"), "{filter}");
    let end = filter.find(')').expect("the address part is parenthesised");
    &filter[end + 1..]
}

/// The report without what names the input: the captures' paths and file lists, and each
/// finding's filter reduced to the part after the connection's selection.
fn without_input(mut v: Value) -> Value {
    for c in v["captures"].as_array_mut().expect("captures").iter_mut() {
        let c = c.as_object_mut().expect("capture object");
        c.remove("path");
        c.remove("files");
    }
    for conn in v["connections"].as_array_mut().expect("connections") {
        for f in conn["findings"].as_array_mut().expect("findings") {
            let rest = filter_rest(f["display_filter"].as_str().expect("filter")).to_owned();
            f["display_filter"] = Value::String(rest);
        }
    }
    v
}

fn files_of(v: &Value, capture: usize) -> Vec<(String, u64, u64)> {
    v["captures"][capture]["files"]
        .as_array()
        .expect("a files array for a multi-file capture")
        .iter()
        .map(|f| {
            (
                f["path"].as_str().expect("path").to_owned(),
                f["first_frame"].as_u64().expect("first_frame"),
                f["frames"].as_u64().expect("frames"),
            )
        })
        .collect()
}

#[test]
fn a_ring_directory_gives_what_the_joined_capture_gives() {
    let joined = json(&[&fixture("joined.pcap")]);
    assert!(joined["captures"][0].get("files").is_none());
    let connections = joined["connections"].as_array().expect("connections");
    assert_eq!(connections.len(), 3);
    assert!(connections
        .iter()
        .all(|c| !c["findings"].as_array().expect("findings").is_empty()));
    for ring in ["dumpcap", "tcpdump"] {
        let v = json(&[&fixture(ring)]);
        assert_eq!(
            without_input(v.clone()),
            without_input(joined.clone()),
            "{ring}"
        );
        // The files in the order they were cut, numbered back to back.
        let files = files_of(&v, 0);
        let names: Vec<&str> = files.iter().map(|f| f.0.as_str()).collect();
        assert_eq!(names, ring_files(ring), "{ring}");
        let mut next = 1;
        for (path, first, frames) in &files {
            assert_eq!(*first, next, "{path}");
            assert!(*frames > 0, "{path}");
            next += frames;
        }
        assert_eq!(
            next - 1,
            joined["captures"][0]["frames"].as_u64().unwrap_or(0)
        );
        assert_eq!(v["captures"][0]["path"], fixture(ring));
    }
}

#[test]
fn tcpdump_ring_files_are_listed_in_their_order() {
    let v = json(&[&fixture("tcpdump")]);
    let names: Vec<String> = files_of(&v, 0)
        .into_iter()
        .map(|f| f.0.rsplit('/').next().unwrap_or_default().to_owned())
        .collect();
    let expected: Vec<String> = std::iter::once("trace".to_owned())
        .chain((1..=10).map(|n| format!("trace{n}")))
        .collect();
    assert_eq!(names, expected);
}

#[test]
fn rotated_list_is_the_directory() {
    let dir = json(&[&fixture("dumpcap")]);
    let files = ring_files("dumpcap");
    let mut args: Vec<&str> = vec!["--rotated"];
    args.extend(files.iter().map(String::as_str));
    let list = json(&args);
    assert_eq!(files_of(&list, 0), files_of(&dir, 0));
    assert_eq!(
        list["captures"][0]["path"].as_str(),
        Some(files[0].as_str())
    );
    assert_eq!(without_input(list), without_input(dir));
    // Without the flag the same files are captures of their own.
    let separate = json(&files.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(
        separate["captures"].as_array().map(Vec::len),
        Some(files.len())
    );
}

#[test]
fn packets_and_connections_read_the_ring_as_one_capture() {
    let packets = |input: &str| {
        let r = run(&["packets", "--format", "jsonl", input]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        r.stdout
    };
    let joined = packets(&fixture("joined.pcap"));
    // The same lines, plus where each frame is in the ring: file and frame within it.
    let ring = packets(&fixture("tcpdump"));
    let mut seen = 0;
    for (ring_line, joined_line) in ring.lines().zip(joined.lines()) {
        let mut line: Value = serde_json::from_str(ring_line).expect("JSON line");
        let file = line["file"].as_str().expect("file").to_owned();
        let in_file = line["file_frame"].as_u64().expect("file_frame");
        let frame = line["frame"].as_u64().expect("frame");
        // 31 frames per file in this ring: trace, trace1, ... trace10.
        let index = (frame - 1) / 31;
        let expected = if index == 0 {
            "trace".to_owned()
        } else {
            format!("trace{index}")
        };
        assert_eq!(
            (file.as_str(), in_file),
            (expected.as_str(), (frame - 1) % 31 + 1)
        );
        let object = line.as_object_mut().expect("object");
        object.remove("file");
        object.remove("file_frame");
        let joined: Value = serde_json::from_str(joined_line).expect("JSON line");
        assert_eq!(line, joined);
        seen += 1;
    }
    assert_eq!(seen, joined.lines().count());
    assert_eq!(ring.lines().count(), seen);
    assert!(joined.lines().count() > 300);
    let connections = |input: &str| {
        let r = run(&["connections", "--format", "json", input]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let v: Value = serde_json::from_str(&r.stdout).expect("JSON");
        v["connections"].clone()
    };
    assert_eq!(
        connections(&fixture("dumpcap")),
        connections(&fixture("joined.pcap"))
    );
    // The table names the closing RST by file: global frame 339 is the 29th of trace10
    // (31 frames per file).
    let r = run(&["connections", &fixture("tcpdump")]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("RST client trace10#29"), "{}", r.stdout);
    let r = run(&["connections", &fixture("joined.pcap")]);
    assert!(r.stdout.contains("RST client #339"), "{}", r.stdout);
    // The packets table names every frame by file too, in the frame column.
    let r = run(&["packets", &fixture("tcpdump")]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let frames: Vec<&str> = r
        .stdout
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(frames.len(), joined.lines().count());
    assert_eq!(frames[0], "trace#1");
    assert_eq!(frames[338], "trace10#29");
}

/// Frame `n` (1-based) of a capture file: time and bytes.
fn frame_of(path: &Path, n: u64) -> (i64, Vec<u8>) {
    let mut reader = CaptureReader::open(path).expect("the fixture opens");
    while let Some(f) = reader.next_frame().expect("the fixture is intact") {
        if f.number == n {
            return (f.timestamp_ns, f.data.to_vec());
        }
    }
    panic!("{} has no frame {n}", path.display());
}

#[test]
fn the_text_report_names_file_and_frame_that_hold_the_evidence() {
    let r = run(&["analyze", &fixture("dumpcap")]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let joined = json(&[&fixture("joined.pcap")]);
    let mut evidence_lines = r
        .stdout
        .lines()
        .filter_map(|l| l.trim().strip_prefix("Evidence frames: "));
    let mut checked = 0;
    for conn in joined["connections"].as_array().expect("connections") {
        for f in conn["findings"].as_array().expect("findings") {
            let global: Vec<u64> = f["frames"]
                .as_array()
                .expect("frames")
                .iter()
                .filter_map(Value::as_u64)
                .collect();
            // Text lists findings by severity, then stream: find this finding's line by content.
            let line = evidence_lines
                .next()
                .expect("one evidence line per finding");
            let named: Vec<&str> = line.split(", ").collect();
            assert_eq!(named.len(), global.len().min(24), "{line}");
            for (label, g) in named.iter().zip(&global) {
                let (file, n) = label.rsplit_once('#').expect("FILE#FRAME");
                assert!(
                    !file.contains('/'),
                    "the file without its directory: {file}"
                );
                let n: u64 = n.parse().expect("a frame number");
                let path = PathBuf::from(fixture("dumpcap")).join(file);
                assert_eq!(
                    frame_of(&path, n),
                    frame_of(Path::new(&fixture("joined.pcap")), *g),
                    "{label} is frame {g} of joined.pcap"
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 10, "only {checked} evidence frames checked");
    // Sentences too: the RST of stream 1 is frame 338 of joined.pcap (see its JSON summary).
    let rst = joined["connections"][1]["findings"][0]["summary"]
        .as_str()
        .unwrap_or_default();
    assert!(rst.contains("(frame 338)"), "{rst}");
    assert!(
        r.stdout
            .contains("RST (frame ring_00008_20261122044954.pcapng#18)"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("(frame 338)"));
    // Filters that work in each file opened alone.
    let filters: Vec<&str> = r
        .stdout
        .lines()
        .filter_map(|l| l.trim().strip_prefix("Wireshark filter: "))
        .collect();
    assert!(!filters.is_empty());
    for f in filters {
        assert!(f.starts_with("(ip.addr == "), "{f}");
    }
}

/// The same order in both reports: the text report lists problem connections by severity then
/// stream, which for these fixtures is the JSON order (checked here, so that the test above
/// pairs the right lines).
#[test]
fn fixture_connections_are_listed_in_the_same_order() {
    let joined = json(&[&fixture("joined.pcap")]);
    let severities: Vec<&str> = joined["connections"]
        .as_array()
        .expect("connections")
        .iter()
        .filter_map(|c| c["severity"].as_str())
        .collect();
    assert_eq!(severities, ["failure", "failure", "degraded"]);
}

fn copy_dir(from: &Path, to: &Path, rename: impl Fn(&str) -> String) {
    std::fs::create_dir_all(to).expect("temporary directory");
    for e in std::fs::read_dir(from).expect("fixture directory") {
        let p = e.expect("entry").path();
        let name = p.file_name().map(|n| n.to_string_lossy().into_owned());
        let name = name.unwrap_or_default();
        std::fs::copy(&p, to.join(rename(&name))).expect("copy a fixture");
    }
}

#[test]
fn a_damaged_file_in_the_middle_is_named_and_the_rest_is_read() {
    let tmp = tempfile::tempdir().expect("temporary directory");
    let ring = tmp.path().join("ring");
    copy_dir(Path::new(&fixture("tcpdump")), &ring, str::to_owned);
    // trace5: the fourth record's length becomes impossible.
    let damaged = ring.join("trace5");
    let mut bytes = std::fs::read(&damaged).expect("read");
    let mut at = 24;
    for _ in 0..3 {
        let caplen = u32::from_le_bytes(bytes[at + 8..at + 12].try_into().expect("4 bytes"));
        at += 16 + caplen as usize;
    }
    bytes[at + 8..at + 12].copy_from_slice(&u32::MAX.to_le_bytes());
    std::fs::write(&damaged, &bytes).expect("write");

    let ring_arg = ring.display().to_string();
    let r = run(&["analyze", "--format", "json", &ring_arg]);
    assert_eq!(r.code, 1, "damage is an error: {}", r.stderr);
    let errors: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(errors.len(), 1, "{}", r.stderr);
    assert!(
        errors[0].contains(&format!("{}: byte {at} (after frame 3)", damaged.display())),
        "{}",
        errors[0]
    );
    let v: Value = serde_json::from_str(&r.stdout).expect("JSON despite the damage");
    assert_valid(&v);
    let files = files_of(&v, 0);
    assert_eq!(files.len(), 11);
    assert_eq!(files[5].2, 3, "the frames before the damage");
    let joined = json(&[&fixture("joined.pcap")]);
    let lost = files_of(&json(&[&fixture("tcpdump")]), 0)[5].2 - 3;
    assert_eq!(
        v["captures"][0]["frames"].as_u64(),
        joined["captures"][0]["frames"].as_u64().map(|n| n - lost),
        "every other file is read"
    );
    assert!(v["captures"][0]["damage"]
        .as_str()
        .is_some_and(|d| d.contains("trace5")));
    // The connections are still one each across the files.
    assert_eq!(v["connections"].as_array().map(Vec::len), Some(3));
}

#[test]
fn timestamps_order_the_files_not_names() {
    let tmp = tempfile::tempdir().expect("temporary directory");
    let ring = tmp.path().join("ring");
    // Names that sort backwards: trace -> part-20, trace1 -> part-19, ..., trace10 -> part-10.
    copy_dir(Path::new(&fixture("tcpdump")), &ring, |name| {
        let n: u32 = name.trim_start_matches("trace").parse().unwrap_or(0);
        format!("part-{:02}", 20 - n)
    });
    // And a file that is no capture, which is skipped with a warning.
    std::fs::write(ring.join("README"), "not a capture").expect("write");
    let ring_arg = ring.display().to_string();
    let r = run(&["analyze", "--format", "json", &ring_arg]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("README") && r.stderr.contains("skipped"),
        "{}",
        r.stderr
    );
    let v: Value = serde_json::from_str(&r.stdout).expect("JSON");
    let names: Vec<String> = files_of(&v, 0)
        .into_iter()
        .map(|f| f.0.rsplit('/').next().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(names.first().map(String::as_str), Some("part-20"));
    assert_eq!(names.last().map(String::as_str), Some("part-10"));
    assert_eq!(
        without_input(v),
        without_input(json(&[&fixture("joined.pcap")]))
    );
}

#[test]
fn two_rotating_vantage_points_are_matched() {
    let lab = "fixtures/captures/lab/reset-injected";
    let single = json(&[&format!("{lab}/client.pcap"), &format!("{lab}/server.pcap")]);
    let rings = json(&[&fixture("two-points/client"), &fixture("two-points/server")]);
    assert_eq!(without_input(rings.clone()), without_input(single));
    assert!(rings["paths"].as_array().is_some_and(|p| !p.is_empty()));
    let r = run(&[
        "analyze",
        &fixture("two-points/client"),
        &fixture("two-points/server"),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // The injected RST, global frame 64 of the server side: the ring's third file, frame 14
    // (25 frames per file).
    assert!(
        r.stdout
            .contains("Evidence: capture 1 frame server_00002_20261122044942.pcap#14"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("The RST at capture 1 frame server_00002_20261122044942.pcap#14 claims"),
        "{}",
        r.stdout
    );
}

#[test]
fn the_html_report_graphs_a_ring_and_names_its_frames() {
    let html = |input: &str| {
        let r = run(&["analyze", "--format", "html", input]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        r.stdout
    };
    let joined = html(&fixture("joined.pcap"));
    let ring = html(&fixture("dumpcap"));
    assert!(ring.contains("ring_00003_20261122044952.pcapng#38"));
    assert!(ring.contains("RST (frame ring_00008_20261122044954.pcapng#18)"));
    // The second pass over the files draws the same graphs.
    let graphs = |h: &str| h.matches("<svg").count();
    assert!(graphs(&joined) > 0);
    assert_eq!(graphs(&ring), graphs(&joined));
}

#[test]
fn rotated_refuses_directories_and_stdin() {
    let r = run(&["analyze", "--rotated", &fixture("dumpcap")]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("--rotated"), "{}", r.stderr);
    let r = run(&["analyze", "--rotated", "-", &fixture("joined.pcap")]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("standard input"), "{}", r.stderr);
}

/// A little-endian pcap of Ethernet frames rewritten as Linux cooked captures (LINKTYPE_LINUX_SLL,
/// what `tcpdump -i any` writes): the same packets behind another link-layer header.
fn ethernet_to_sll(pcap: &[u8]) -> Vec<u8> {
    assert_eq!(pcap[..4], [0xd4, 0xc3, 0xb2, 0xa1], "a little-endian pcap");
    let le = |at: usize| u32::from_le_bytes(pcap[at..at + 4].try_into().expect("4 bytes"));
    let mut out = pcap[..24].to_vec();
    out[20..24].copy_from_slice(&113u32.to_le_bytes());
    let mut at = 24;
    while at + 16 <= pcap.len() {
        let (caplen, len) = (le(at + 8) as usize, le(at + 12));
        let frame = &pcap[at + 16..at + 16 + caplen];
        out.extend_from_slice(&pcap[at..at + 8]);
        out.extend_from_slice(&(caplen as u32 + 2).to_le_bytes());
        out.extend_from_slice(&(len + 2).to_le_bytes());
        // Packet type 0 (to us), ARPHRD_ETHER, the sender's 6-byte address padded to 8, the
        // EtherType; then the IP packet.
        out.extend_from_slice(&[0, 0, 0, 1, 0, 6]);
        out.extend_from_slice(&frame[6..12]);
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(&frame[12..]);
        at += 16 + caplen;
    }
    assert_eq!(at, pcap.len(), "whole records");
    out
}

/// What a diagnosis says about each connection, without byte counts (which count link headers).
fn verdicts(v: &Value) -> Vec<Value> {
    v["connections"]
        .as_array()
        .expect("connections")
        .iter()
        .map(|c| {
            let findings: Vec<Value> = c["findings"]
                .as_array()
                .expect("findings")
                .iter()
                .map(|f| {
                    serde_json::json!([
                        f["id"],
                        f["actor"],
                        f["confidence"],
                        f["frames"],
                        f["timeline"]
                    ])
                })
                .collect();
            serde_json::json!([
                c["stream"],
                c["client"],
                c["server"],
                c["severity"],
                findings
            ])
        })
        .collect()
}

#[test]
fn files_may_differ_in_link_type() {
    let tmp = tempfile::tempdir().expect("temporary directory");
    let ring = tmp.path().join("ring");
    copy_dir(Path::new(&fixture("dumpcap")), &ring, str::to_owned);
    let ethernet = ring.join("ring_00002_20261122044952.pcap");
    let sll = ethernet_to_sll(&std::fs::read(&ethernet).expect("read"));
    std::fs::write(&ethernet, sll).expect("write");
    let v = json(&[&ring.display().to_string()]);
    let joined = json(&[&fixture("joined.pcap")]);
    assert_eq!(
        v["captures"][0]["tcp_frames"],
        joined["captures"][0]["tcp_frames"]
    );
    assert_eq!(verdicts(&v), verdicts(&joined));
    assert!(!verdicts(&v).is_empty());
}

/// A ring's display filters select the connection by addresses, ports and its time span, so
/// that a connection reusing the ports in another file is left out; the span holds the
/// connection's first and last frame.
#[test]
fn ring_filters_are_bounded_by_the_connection_s_time() {
    let doc = json(&[&fixture("dumpcap")]);
    let mut checked = 0;
    for c in doc["connections"].as_array().expect("connections") {
        let (start, end) = (
            c["summary"]["start"].as_f64().expect("start"),
            c["summary"]["end"].as_f64().expect("end"),
        );
        for f in c["findings"].as_array().expect("findings") {
            let filter = f["display_filter"].as_str().expect("filter");
            let bound = |op: &str| -> f64 {
                let at = filter.find(&format!("frame.time_epoch {op} ")).expect(op) + 20;
                filter[at..]
                    .split([' ', ')'])
                    .next()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or_else(|| panic!("{filter}"))
            };
            let (from, to) = (bound(">="), bound("<="));
            assert!(
                from <= start && start - from < 1e-5,
                "{from} vs {start}: {filter}"
            );
            assert!(to >= end && to - end < 1e-5, "{to} vs {end}: {filter}");
            checked += 1;
        }
    }
    assert!(checked > 3, "{checked} filters");
}

/// A directory with no capture in it is an error naming it, as an unreadable file is, and the
/// other captures are still analysed.
#[test]
fn an_empty_directory_is_named_and_the_others_are_analysed() {
    let empty = tempfile::tempdir().expect("temporary directory");
    std::fs::write(empty.path().join("notes.txt"), "not a capture").expect("write");
    let shown = empty.path().display().to_string();
    let r = run(&[
        "analyze",
        "--format",
        "json",
        &shown,
        &fixture("joined.pcap"),
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!(
            "{shown}: no pcap or pcapng capture in this directory"
        )),
        "{}",
        r.stderr
    );
    let doc: Value = serde_json::from_str(&r.stdout).expect("the report is JSON");
    assert_valid(&doc);
    assert_eq!(doc["captures"].as_array().map(Vec::len), Some(1));
    assert!(!doc["connections"]
        .as_array()
        .expect("connections")
        .is_empty());
}
