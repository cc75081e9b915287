//! `tcpsleuth sockets` against real sockets of the Linux stack: a server that never reads, a
//! slow reader and a blackholed peer, in network namespaces joined by a veth pair. Needs root;
//! without it each test says it was skipped.

mod netns;

use std::time::Duration;

use netns::{Pair, CLIENT, SERVER};
use serde_json::Value;

/// The JSON documents of `sockets --format json` (one per look).
fn parse_looks(out: &std::process::Output) -> Vec<Value> {
    assert!(
        out.status.success(),
        "tcpsleuth sockets failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn findings<'a>(look: &'a Value, id: &str) -> Vec<&'a Value> {
    look["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["id"] == id)
        .collect()
}

/// Starts the server, then the client sending to it, and waits until they are connected.
/// Starts the server (MODE, RCVBUF) and the client (CLIENT_ARGS after host and port) and waits
/// for the connection; returns the server's pid.
fn connected(pair: &mut Pair, port: &str, mode: &str, rcvbuf: &str, client_args: &[&str]) -> u32 {
    let server_ns = pair.server.clone();
    let client_ns = pair.client.clone();
    let server_ip = pair.server_ip.clone();
    let server = pair.python(&server_ns, SERVER, &[port, mode, rcvbuf]);
    pair.wait_for(
        &server_ns,
        &["state", "listening", &format!("sport = :{port}")],
        "the listener",
    );
    let mut args = vec![server_ip.as_str(), port];
    args.extend_from_slice(client_args);
    pair.python(&client_ns, CLIENT, &args);
    pair.wait_for(
        &server_ns,
        &["state", "established", &format!("sport = :{port}")],
        "the connection",
    );
    server
}

#[test]
fn a_server_that_never_reads_is_named_with_its_process_and_so_is_its_peer() {
    if netns::skip_unless_root("a_server_that_never_reads") {
        return;
    }
    let mut pair = Pair::new();
    let server = connected(&mut pair, "7001", "never", "0", &[]);
    // Let the buffers fill and the window close.
    std::thread::sleep(Duration::from_millis(1500));

    let out = pair.tcpsleuth(
        &pair.server,
        &[
            "sockets", "--port", "7001", "--watch", "1", "--count", "2", "--format", "json",
        ],
    );
    let docs = parse_looks(&out);
    assert_eq!(docs.len(), 2);
    let last = &docs[1];
    let found = findings(last, "zero_window.not_reading");
    assert_eq!(found.len(), 1, "{last:#}");
    let f = found[0];
    assert_eq!(f["actor"], "local application");
    assert!(f["confidence"].as_f64().unwrap_or(0.0) >= 0.9, "{f:#}");
    assert!(
        f["summary"]
            .as_str()
            .unwrap_or("")
            .contains(&format!("pid {server}")),
        "{f:#}"
    );
    assert!(
        f["next_steps"][0].as_str().unwrap_or("").contains(&format!(
            "strace -f -tt -e trace=read,recvfrom,recvmsg -p {server}"
        )),
        "{f:#}"
    );
    // The socket row: data waits unread, the window we advertise is closed.
    let row = last["sockets"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| {
            s["state"] == "ESTAB" && s["local"].as_str().is_some_and(|l| l.ends_with(":7001"))
        })
        .expect("the server's socket");
    assert!(row["recv_q"].as_u64().unwrap_or(0) > 0, "{row:#}");
    assert_eq!(row["info"]["rcv_wnd"], 0, "{row:#}");
    assert_eq!(row["owners"][0]["pid"], server, "{row:#}");

    // The client's side of the same connection: its peer is the one not reading.
    let out = pair.tcpsleuth(
        &pair.client,
        &[
            "sockets", "--port", "7001", "--watch", "1", "--count", "2", "--format", "json",
        ],
    );
    let docs = parse_looks(&out);
    let found = findings(&docs[1], "zero_window.not_reading");
    assert_eq!(found.len(), 1, "{:#}", docs[1]);
    assert_eq!(found[0]["actor"], "peer");

    // --pid keeps only that process's sockets: the client holds none of the server's.
    let out = pair.tcpsleuth(
        &pair.server,
        &[
            "sockets",
            "--pid",
            &server.to_string(),
            "--all",
            "--format",
            "json",
        ],
    );
    let look = &parse_looks(&out)[0];
    let sockets = look["sockets"].as_array().expect("sockets");
    assert!(!sockets.is_empty());
    assert!(
        sockets.iter().all(|s| s["owners"][0]["pid"] == server),
        "{look:#}"
    );
}

#[test]
fn a_slow_reader_is_told_from_one_that_does_not_read() {
    if netns::skip_unless_root("a_slow_reader") {
        return;
    }
    let mut pair = Pair::new();
    // A 64 KiB buffer read 16 KiB at a time every 100 ms: the window keeps closing.
    connected(&mut pair, "7002", "slow", "65536", &[]);
    std::thread::sleep(Duration::from_millis(1000));
    let out = pair.tcpsleuth(
        &pair.server,
        &[
            "sockets", "--port", "7002", "--watch", "0.5", "--count", "5", "--format", "json",
        ],
    );
    let docs = parse_looks(&out);
    let later = &docs[1..];
    // Comparing with a previous look, it is never taken for an application that does not read;
    // and at least one look catches the window closed.
    assert!(
        later
            .iter()
            .all(|l| findings(l, "zero_window.not_reading").is_empty()),
        "{later:#?}"
    );
    let slow: Vec<_> = later
        .iter()
        .flat_map(|l| findings(l, "zero_window.slow_reader"))
        .collect();
    assert!(!slow.is_empty(), "no look saw the slow reader: {later:#?}");
    assert_eq!(slow[0]["actor"], "local application");
}

#[test]
fn a_blackholed_peer_shows_the_retransmission_backoff_and_the_time_left() {
    if netns::skip_unless_root("a_blackholed_peer") {
        return;
    }
    let mut pair = Pair::new();
    // A trickle, not a bulk send: with a bulk send a loaded machine can leave the window
    // closed when the peer vanishes, and the kernel then probes instead of retransmitting.
    connected(&mut pair, "7003", "fast", "0", &["0.05"]);
    std::thread::sleep(Duration::from_millis(300));
    // The server's host stops owning its address: whatever the client sends is dropped there,
    // and nothing comes back.
    let cidr = format!("{}/24", pair.server_ip);
    pair.exec(
        &pair.server,
        &["ip", "addr", "del", &cidr, "dev", &pair.server_if],
    );
    // RTOs of 200, 400, 800 ms: three timeouts of the same segment within about 1.5 s.
    std::thread::sleep(Duration::from_millis(2500));

    let out = pair.tcpsleuth(
        &pair.client,
        &["sockets", "--port", "7003", "--format", "json"],
    );
    let look = &parse_looks(&out)[0];
    let found = findings(look, "stall.retransmission_loop");
    assert_eq!(found.len(), 1, "{look:#}");
    let f = found[0];
    assert_eq!(f["actor"], "network");
    // With tcp_retries2 = 15 the kernel gives up after 924.6 s of retransmissions; a few
    // seconds of them have passed.
    let summary = f["summary"].as_str().unwrap_or("");
    let left: f64 = summary
        .split("in about ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no time left in {summary:?}"));
    // A new namespace starts with the kernel's default, whatever the host has.
    assert!((900.0..=924.0).contains(&left), "{summary}");
    let row = look["sockets"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["peer"].as_str().is_some_and(|p| p.ends_with(":7003")))
        .expect("the client's socket");
    assert!(
        row["info"]["retransmits"].as_u64().unwrap_or(0) >= 2,
        "{row:#}"
    );
    assert!(row["info"]["backoff"].as_u64().unwrap_or(0) >= 2, "{row:#}");
}
