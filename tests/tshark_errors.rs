//! The documented tshark 4.0.17 errors (docs/tshark-differences.md): tcpsleuth keeps tshark's
//! flag in `flags` and gives its own verdict in `corrected`. Each test checks both, on the
//! capture that proves the case.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn packets(capture: &Path) -> Vec<Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_tcpsleuth"))
        .args(["packets", "--format", "jsonl"])
        .arg(capture)
        .output()
        .expect("run tcpsleuth");
    assert!(
        out.status.success(),
        "tcpsleuth failed on {}",
        capture.display()
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect()
}

fn frame(lines: &[Value], number: u64) -> &Value {
    lines
        .iter()
        .find(|l| l["frame"] == number)
        .unwrap_or_else(|| panic!("frame {number} missing"))
}

fn flags(line: &Value) -> Vec<&str> {
    line["flags"]
        .as_array()
        .expect("flags array")
        .iter()
        .filter_map(Value::as_str)
        .collect()
}

/// Corpus captures are used where present; CI runs with ../shared beside the repo.
fn corpus(path: &str) -> Option<PathBuf> {
    let p = repo().join("../shared/corpus/public").join(path);
    if p.exists() {
        Some(p)
    } else {
        eprintln!("skipped: {} not found", p.display());
        None
    }
}

#[test]
fn out_of_order_that_resends_captured_bytes_is_a_retransmission() {
    let Some(capture) = corpus("zeek/206_example_a.pcap") else {
        return;
    };
    let lines = packets(&capture);
    let original = frame(&lines, 172);
    let resent = frame(&lines, 188);
    assert_eq!(
        (original["seq"].clone(), original["len"].clone()),
        (resent["seq"].clone(), resent["len"].clone())
    );
    assert_eq!(flags(resent), ["out_of_order"], "tshark's flag is kept");
    assert_eq!(resent["corrected"], "retransmission");
    assert!(original.get("corrected").is_none());
}

#[test]
fn retransmission_of_sacked_bytes_is_spurious() {
    let lines = packets(
        &repo().join("fixtures/captures/tshark-differences/retransmission-of-sacked-data.pcap"),
    );
    let needed = frame(&lines, 8);
    let sacked = frame(&lines, 9);
    // tshark 4.0.17 flags both frames as plain retransmissions.
    assert_eq!(flags(needed), ["retransmission"]);
    assert_eq!(flags(sacked), ["retransmission"]);
    assert!(
        needed.get("corrected").is_none(),
        "the unSACKed segment was needed"
    );
    assert_eq!(sacked["corrected"], "spurious_retransmission");
}

#[test]
fn first_copy_captured_after_its_ack_is_not_a_retransmission() {
    let lines =
        packets(&repo().join("fixtures/captures/tshark-differences/ack-captured-before-data.pcap"));
    let late = frame(&lines, 7);
    assert_eq!(flags(late), ["retransmission", "spurious_retransmission"]);
    assert_eq!(late["corrected"], "first_seen_after_ack");
}

#[test]
fn first_copy_captured_after_its_ack_in_a_real_capture() {
    let Some(capture) = corpus("pcapplusplus/tls2.pcap") else {
        return;
    };
    let lines = packets(&capture);
    let late = frame(&lines, 3750);
    assert_eq!(flags(late), ["retransmission", "spurious_retransmission"]);
    assert_eq!(late["corrected"], "first_seen_after_ack");
}

#[test]
fn no_correction_on_the_lab_capture_where_tshark_is_right() {
    let lines = packets(&repo().join("fixtures/captures/lab/receiver-drops-then-resets.pcap"));
    let retransmissions = lines
        .iter()
        .filter(|l| flags(l).contains(&"retransmission"))
        .count();
    assert!(retransmissions >= 4);
    assert!(lines.iter().all(|l| l.get("corrected").is_none()));
}
