//! Two vantage points: the same connections in a client-side and a server-side capture, matched
//! packet by packet with the clocks aligned (lab captures, and copies with shifted clocks).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn lab(scenario: &str, side: &str) -> String {
    format!("fixtures/captures/lab/{scenario}/{side}.pcap")
}

fn analyze(captures: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_tcpsleuth"))
        .args(["analyze", "--format", "json"])
        .args(captures)
        .current_dir(root())
        .output()
        .expect("run tcpsleuth");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let doc: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("docs/analyze.schema.json")).expect("schema"),
    )
    .expect("schema JSON");
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    doc
}

/// The only path of a two-capture run, and its direction sent by `from` ("ip:port").
fn path(doc: &Value) -> &Value {
    let paths = doc["paths"].as_array().expect("paths");
    assert_eq!(paths.len(), 1, "{paths:?}");
    &paths[0]
}

fn direction<'a>(path: &'a Value, from: &str) -> &'a Value {
    path["directions"]
        .as_array()
        .expect("directions")
        .iter()
        .find(|d| d["direction"].as_str().is_some_and(|s| s.starts_with(from)))
        .unwrap_or_else(|| panic!("no direction from {from}: {path}"))
}

const SERVER: &str = "10.88.2.2:8080";

/// A copy of a pcap with every timestamp moved by `shift_s` seconds (what `editcap -t` does).
fn shifted_copy(src: &str, shift_s: u32, name: &str) -> PathBuf {
    let bytes = std::fs::read(root().join(src)).expect("read capture");
    assert_eq!(
        &bytes[..4],
        &[0xd4, 0xc3, 0xb2, 0xa1],
        "little-endian µs pcap expected"
    );
    let mut out = bytes[..24].to_vec();
    let mut off = 24;
    while off + 16 <= bytes.len() {
        let word = |at: usize| {
            u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
        };
        let incl = word(off + 8) as usize;
        out.extend_from_slice(&(word(off) + shift_s).to_le_bytes());
        out.extend_from_slice(&bytes[off + 4..off + 16 + incl]);
        off += 16 + incl;
    }
    let path = std::env::temp_dir().join(format!("tcpsleuth-paths-{}-{name}", std::process::id()));
    std::fs::write(&path, out).expect("write shifted copy");
    path
}

#[test]
fn the_same_capture_twice_aligns_at_zero_with_nothing_lost() {
    let capture = lab("loss-random", "server");
    let doc = analyze(&[&capture, &capture]);
    let p = path(&doc);
    assert_eq!(p["clock"]["offset"].as_f64(), Some(0.0));
    for d in p["directions"].as_array().expect("directions") {
        assert_eq!(d["lost_between"], 0, "{d}");
        assert_eq!(d["appeared"], 0, "{d}");
    }
}

#[test]
fn a_shifted_clock_is_recovered_within_a_millisecond() {
    let capture = lab("loss-random", "client");
    let shifted = shifted_copy(&lab("loss-random", "server"), 7, "shifted.pcap");
    let doc = analyze(&[&capture, shifted.to_str().expect("utf-8")]);
    let clock = &path(&doc)["clock"];
    let offset = clock["offset"].as_f64().expect("offset");
    assert!((offset - 7.0).abs() < 0.001, "offset {offset}");
    assert!(
        clock["uncertainty"].as_f64().is_some_and(|u| u < 0.001),
        "{clock}"
    );
    let _ = std::fs::remove_file(shifted);
}

/// The seed's question, answered: the server's copies of the stuck segment never reached the
/// client's capture point (lost on the way), versus the receiver-rejects case where they did.
#[test]
fn loss_between_the_points_is_told_from_rejection_at_the_receiver() {
    let doc = analyze(&[
        &lab("stall-then-reset", "client"),
        &lab("stall-then-reset", "server"),
    ]);
    let p = path(&doc);
    let down = direction(p, SERVER);
    assert_eq!(
        down["upstream"], 1,
        "the server's packets pass server.pcap first"
    );
    let lost = down["lost_between"].as_u64().expect("count");
    assert!(
        lost >= 10,
        "the stuck segment and its copies are lost between: {down}"
    );
    assert!(down["lost"]
        .as_array()
        .is_some_and(|l| l.iter().all(|f| f["capture"] == 1)));
    let up = direction(p, "10.88.1.2");
    assert_eq!(up["lost_between"], 0, "{up}");
    let finding = &p["findings"][0];
    assert_eq!(finding["id"], "stall.retransmission_loop");
    assert_eq!(
        finding["actor"], "network",
        "proved lost on the path: {finding}"
    );
    assert!(finding["confidence"].as_f64().is_some_and(|c| c >= 0.9));
    let timeline = p["timeline"].as_array().expect("timeline");
    assert!(
        timeline.iter().any(|e| e["text"]
            .as_str()
            .is_some_and(|t| t.contains("never reaches capture 0") && t.contains("23 copies"))),
        "{timeline:?}"
    );

    let doc = analyze(&[
        &lab("receiver-rejects-then-resets", "client"),
        &lab("receiver-rejects-then-resets", "server"),
    ]);
    let down = direction(path(&doc), SERVER);
    assert_eq!(
        down["lost_between"], 0,
        "every copy reached the client's capture: {down}"
    );
}

#[test]
fn a_reset_the_claimed_sender_never_sent_is_located() {
    let doc = analyze(&[
        &lab("reset-injected", "client"),
        &lab("reset-injected", "server"),
    ]);
    let from_client = direction(path(&doc), "10.88.1.2");
    let injected = from_client["injected_rsts"].as_array().expect("injected");
    assert_eq!(injected.len(), 1, "{from_client}");
    assert_eq!(injected[0]["capture"], 1);
    assert_eq!(injected[0]["frame"], 64);
    let p = path(&doc);
    let finding = p["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["id"] == "reset.injected")
        .expect("reset.injected from the two captures");
    assert_eq!(finding["actor"], "middlebox");
    assert_eq!(
        finding["evidence"][0],
        serde_json::json!({"capture": 1, "frame": 64})
    );
}

/// Every lab scenario analysed with both captures: no failure, and healthy scenarios lose
/// nothing between the points.
#[test]
fn every_lab_scenario_correlates() {
    let dir = root().join("fixtures/captures/lab");
    let mut scenarios: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("lab dir")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("client.pcap").exists() && p.join("server.pcap").exists())
        .collect();
    scenarios.sort();
    assert!(scenarios.len() >= 20);
    for s in &scenarios {
        let rel = |side: &str| {
            s.join(side)
                .strip_prefix(root())
                .map(Path::to_path_buf)
                .expect("rel")
        };
        let (c, sv) = (rel("client.pcap"), rel("server.pcap"));
        let doc = analyze(&[c.to_str().expect("utf-8"), sv.to_str().expect("utf-8")]);
        let name = s.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if name.starts_with("healthy") || name == "fwd-healthy-long-path" {
            for p in doc["paths"].as_array().into_iter().flatten() {
                for d in p["directions"].as_array().into_iter().flatten() {
                    assert_eq!(d["lost_between"], 0, "{name}: {d}");
                    assert!(
                        d["injected_rsts"].as_array().is_some_and(Vec::is_empty),
                        "{name}"
                    );
                }
            }
        }
    }
}

/// Every lab scenario with both captures: the findings only the two together prove, with their
/// actors, and where packets went missing. (capture.missed_packets: frames deleted from the
/// client's capture; capture.offload: TSO super-segments in the server's.)
#[test]
fn lab_scenarios_locate_loss_and_tell_causes_apart() {
    let expected: &[(&str, &[(&str, &str)])] = &[
        ("capture-missed", &[("capture.missed_packets", "capture")]),
        ("capture-offload", &[("capture.offload", "capture")]),
        ("fwd-loss-long-path", &[("loss.retransmissions", "network")]),
        ("loss-random", &[("loss.retransmissions", "network")]),
        (
            "receiver-rejects-then-resets",
            &[("loss.segment_rejected", "client")],
        ),
        (
            "reset-injected",
            &[
                ("reset.injected", "middlebox"),
                ("loss.retransmissions", "network"),
            ],
        ),
        (
            "stall-then-reset",
            &[("stall.retransmission_loop", "network")],
        ),
    ];
    let dir = root().join("fixtures/captures/lab");
    let mut problems = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("lab dir").flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !entry.path().join("server.pcap").exists() || !entry.path().join("client.pcap").exists()
        {
            continue;
        }
        let doc = analyze(&[&lab(&name, "client"), &lab(&name, "server")]);
        let mut found: Vec<(String, String)> = Vec::new();
        for p in doc["paths"].as_array().into_iter().flatten() {
            for f in p["findings"].as_array().into_iter().flatten() {
                found.push((
                    f["id"].as_str().unwrap_or_default().into(),
                    f["actor"].as_str().unwrap_or_default().into(),
                ));
            }
        }
        found.sort();
        let mut want: Vec<(String, String)> = expected
            .iter()
            .find(|e| e.0 == name)
            .map(|e| {
                e.1.iter()
                    .map(|(i, a)| (i.to_string(), a.to_string()))
                    .collect()
            })
            .unwrap_or_default();
        want.sort();
        if found != want {
            problems.push(format!("{name}: found {found:?}, expected {want:?}"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A copy of an Ethernet pcap as seen behind a NAT: the client's address becomes 192.0.2.77
/// and its port 61000 (checksums are left stale, as they do not matter here).
fn natted_copy(src: &str, client_ip: [u8; 4], name: &str) -> PathBuf {
    let bytes = std::fs::read(root().join(src)).expect("read capture");
    let mut out = bytes.clone();
    let mut off = 24;
    while off + 16 <= bytes.len() {
        let incl = u32::from_le_bytes([
            bytes[off + 8],
            bytes[off + 9],
            bytes[off + 10],
            bytes[off + 11],
        ]) as usize;
        let frame = off + 16;
        let is_ipv4 = bytes.get(frame + 12..frame + 14) == Some(&[0x08, 0x00][..]);
        if is_ipv4 && incl >= 14 + 20 + 4 {
            let ip = frame + 14;
            let ihl = usize::from(bytes[ip] & 0x0f) * 4;
            for addr in [ip + 12, ip + 16] {
                if bytes[addr..addr + 4] == client_ip {
                    out[addr..addr + 4].copy_from_slice(&[192, 0, 2, 77]);
                }
            }
            for port in [ip + ihl, ip + ihl + 2] {
                if bytes[port..port + 2] != 8080u16.to_be_bytes() {
                    out[port..port + 2].copy_from_slice(&61000u16.to_be_bytes());
                }
            }
        }
        off = frame + incl;
    }
    let path = std::env::temp_dir().join(format!("tcpsleuth-paths-{}-{name}", std::process::id()));
    std::fs::write(&path, out).expect("write NAT copy");
    path
}

/// Behind a NAT the endpoints differ; the ISNs still identify the connection.
#[test]
fn a_connection_behind_a_nat_is_matched_by_its_isns() {
    let natted = natted_copy(
        &lab("stall-then-reset", "server"),
        [10, 88, 1, 2],
        "natted.pcap",
    );
    let doc = analyze(&[
        &lab("stall-then-reset", "client"),
        natted.to_str().expect("utf-8"),
    ]);
    let p = path(&doc);
    assert!(
        p["clock"]["matched"].as_u64().is_some_and(|m| m > 100),
        "{p}"
    );
    let down = direction(p, SERVER);
    assert!(
        down["lost_between"].as_u64().is_some_and(|l| l >= 10),
        "{down}"
    );
    let _ = std::fs::remove_file(natted);
}
