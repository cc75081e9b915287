//! `tcpsleuth live` capturing on a real veth in a network namespace while real connections
//! misbehave: findings must be printed while the capture is still running, the final report
//! must hold them, and the packets written with --write must give the same diagnosis offline.
//! Needs root; without it each test says it was skipped.

mod netns;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use netns::{Pair, CLIENT, SERVER};

/// A running `tcpsleuth live`, killed if the test fails before it ends.
struct Live {
    child: Child,
    lines: mpsc::Receiver<(Instant, String)>,
}

impl Live {
    fn start(ns: &str, args: &[&str]) -> Live {
        let mut child = Command::new("ip")
            .args(["netns", "exec", ns, env!("CARGO_BIN_EXE_tcpsleuth"), "live"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start tcpsleuth live");
        let stdout = child.stdout.take().expect("piped");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send((Instant::now(), line)).is_err() {
                    break;
                }
            }
        });
        // The capture must be open before the traffic starts: wait for its first status word.
        let stderr = child.stderr.take().expect("piped");
        let mut stderr = BufReader::new(stderr);
        let mut first = String::new();
        let _ = stderr.read_line(&mut first);
        assert!(first.contains("capturing on"), "tcpsleuth live: {first}");
        std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                assert!(!line.contains("panicked"), "{line}");
            }
        });
        Live { child, lines }
    }

    /// Waits for the end (bounded) and returns every stdout line with when it came, and when
    /// the process ended.
    fn finish(mut self, within: Duration) -> (Vec<(Instant, String)>, Instant, bool) {
        let deadline = Instant::now() + within;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "tcpsleuth live did not stop by itself"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        let ended = Instant::now();
        // The reader thread ends with the pipe.
        let mut lines = Vec::new();
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(5)) {
            lines.push(line);
        }
        (lines, ended, status.success())
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_pair(pair: &mut Pair, port: &str, mode: &str) {
    let server_ns = pair.server.clone();
    let client_ns = pair.client.clone();
    let server_ip = pair.server_ip.clone();
    pair.python(&server_ns, SERVER, &[port, mode, "0"]);
    pair.wait_for(
        &server_ns,
        &["state", "listening", &format!("sport = :{port}")],
        "listener",
    );
    pair.python(&client_ns, CLIENT, &[&server_ip, port]);
}

/// The line announcing `id` with `actor`, printed before the final report, and how long before
/// the process ended it came.
fn announced(
    lines: &[(Instant, String)],
    ended: Instant,
    id: &str,
    actor: &str,
) -> Option<(Duration, String)> {
    let report = lines.iter().position(|(_, l)| l.starts_with("== report"))?;
    lines[..report]
        .iter()
        .find(|(_, l)| l.contains(&format!(" {id} ")) && l.contains(&format!("] {actor}")))
        .map(|(at, l)| (ended.duration_since(*at), l.clone()))
}

#[test]
fn a_receiver_that_stops_reading_is_announced_during_the_capture_and_written_out() {
    if netns::skip_unless_root("a_receiver_that_stops_reading") {
        return;
    }
    let mut pair = Pair::new();
    let file = std::env::temp_dir().join(format!("tcpsleuth-live-{}.pcapng", pair.server));
    let file_arg = file.to_string_lossy().into_owned();
    let iface = pair.server_if.clone();
    let live = Live::start(
        &pair.server,
        &[
            "-i",
            &iface,
            "--duration",
            "7",
            "--stall-after",
            "1",
            "-w",
            &file_arg,
        ],
    );
    start_pair(&mut pair, "7101", "never");
    let (lines, ended, ok) = live.finish(Duration::from_secs(20));
    assert!(ok, "{lines:?}");
    let text: Vec<&str> = lines.iter().map(|(_, l)| l.as_str()).collect();

    // Announced while the capture still ran: the window closes within a second of the start,
    // and after --stall-after it is reported, seconds before the 7 s end.
    let (before_end, line) = announced(&lines, ended, "zero_window.not_reading", "server")
        .unwrap_or_else(|| panic!("not announced during the capture: {text:#?}"));
    assert!(
        before_end >= Duration::from_secs(2),
        "{line} came {before_end:?} before the end"
    );
    assert!(line.contains(":7101"), "{line}");
    // The final report diagnoses it too.
    let report = text
        .iter()
        .position(|l| l.starts_with("== report"))
        .expect("report");
    assert!(
        text[report..]
            .iter()
            .any(|l| l.contains("zero_window.not_reading (server")),
        "{text:#?}"
    );

    // The written packets, analysed offline, give the same diagnosis.
    let out = Command::new(env!("CARGO_BIN_EXE_tcpsleuth"))
        .args(["analyze", "--format", "json"])
        .arg(&file)
        .output()
        .expect("analyze");
    let _ = std::fs::remove_file(&file);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let found = doc["connections"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|c| c["findings"].as_array().into_iter().flatten())
        .any(|f| f["id"] == "zero_window.not_reading" && f["actor"] == "server");
    assert!(found, "{doc:#}");
}

#[test]
fn a_reset_is_explained_when_it_arrives() {
    if netns::skip_unless_root("a_reset_is_explained_when_it_arrives") {
        return;
    }
    let mut pair = Pair::new();
    let iface = pair.client_if.clone();
    let live = Live::start(
        &pair.client,
        &["-i", &iface, "-f", "tcp port 7102", "--duration", "6"],
    );
    // Another connection, which the filter leaves out.
    start_pair(&mut pair, "7103", "fast");
    start_pair(&mut pair, "7102", "abort");
    let (lines, ended, ok) = live.finish(Duration::from_secs(20));
    assert!(ok, "{lines:?}");
    let text: Vec<&str> = lines.iter().map(|(_, l)| l.as_str()).collect();
    // The server aborts about 0.5 s after the start: the line comes seconds before the end.
    let (before_end, line) = announced(&lines, ended, "reset.abort", "server")
        .unwrap_or_else(|| panic!("the RST was not announced: {text:#?}"));
    assert!(
        before_end >= Duration::from_secs(3),
        "{line} came {before_end:?} before the end"
    );
    // Only the filtered port was captured.
    assert!(!text.iter().any(|l| l.contains(":7103")), "{text:#?}");
    assert!(
        text.iter().any(|l| l.contains("1 TCP connection")),
        "{text:#?}"
    );
}

#[test]
fn a_bad_interface_or_filter_is_a_clear_error() {
    if netns::skip_unless_root("a_bad_interface_or_filter_is_a_clear_error") {
        return;
    }
    let pair = Pair::new();
    let out = pair.tcpsleuth(
        &pair.client,
        &["live", "-i", "nosuchif0", "--duration", "1"],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot capture on nosuchif0"), "{err}");

    let out = pair.tcpsleuth(
        &pair.client,
        &[
            "live",
            "-i",
            &pair.client_if,
            "-f",
            "tcp port banana",
            "--duration",
            "1",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("the filter \"tcp port banana\""), "{err}");
}

#[test]
fn ctrl_c_ends_the_capture_with_the_report() {
    if netns::skip_unless_root("ctrl_c_ends_the_capture_with_the_report") {
        return;
    }
    let mut pair = Pair::new();
    let iface = pair.server_if.clone();
    // No --duration: only Ctrl-C (SIGINT) ends it.
    let live = Live::start(&pair.server, &["-i", &iface]);
    start_pair(&mut pair, "7104", "fast");
    std::thread::sleep(Duration::from_secs(1));
    let status = Command::new("kill")
        .args(["-INT", &live.child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let (lines, _, ok) = live.finish(Duration::from_secs(10));
    assert!(ok, "{lines:?}");
    let text: Vec<&str> = lines.iter().map(|(_, l)| l.as_str()).collect();
    let report = text
        .iter()
        .find(|l| l.starts_with("== report"))
        .unwrap_or_else(|| panic!("no report after Ctrl-C: {text:#?}"));
    // The transfer ran for a second: thousands of packets were seen and reported on.
    let packets: u64 = report
        .split_whitespace()
        .nth(2)
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(packets > 10, "{report}");
    assert!(
        text.iter().any(|l| l.contains("1 TCP connection")),
        "{text:#?}"
    );
}

#[test]
fn kernel_drops_are_shown_and_lower_every_confidence() {
    if netns::skip_unless_root("kernel_drops_are_shown_and_lower_every_confidence") {
        return;
    }
    let mut pair = Pair::new();
    // A transfer as fast as the veth goes, into the smallest capture buffer (1 MiB): the
    // kernel drops what the capture cannot take in time.
    start_pair(&mut pair, "7105", "fast");
    pair.wait_for(
        &pair.server.clone(),
        &["state", "established", "sport = :7105"],
        "the transfer",
    );
    let out = pair.tcpsleuth(
        &pair.server,
        &[
            "live",
            "-i",
            &pair.server_if,
            "--duration",
            "3",
            "--buffer",
            "1",
            "--status-every",
            "1",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let report = text
        .lines()
        .find(|l| l.starts_with("== report"))
        .unwrap_or_else(|| panic!("no report: {text}"));
    let dropped: u64 = report
        .split(", ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no drop count in {report:?}"));
    assert!(dropped > 0, "no drops provoked: {report}");
    assert!(
        stderr.contains(&format!("the kernel dropped {dropped} packets")),
        "{stderr}"
    );
    // The status lines show them as they happen.
    assert!(stderr.contains("dropped by the kernel"), "{stderr}");
    // What was missed is itself a finding, and no confidence survives above 0.8 (×0.8).
    assert!(text.contains("capture.missed_packets"), "{text}");
    let confidences: Vec<f64> = text
        .split("confidence ")
        .skip(1)
        .filter_map(|s| s.split_whitespace().next()?.parse().ok())
        .collect();
    assert!(!confidences.is_empty(), "{text}");
    assert!(confidences.iter().all(|c| *c <= 0.8), "{confidences:?}");
}
