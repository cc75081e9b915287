//! Two network namespaces joined by a veth pair, with real sockets in them, for the live-host
//! tests. Everything is torn down on drop (processes killed, namespaces deleted), also when a
//! test fails; names carry the test process's id and a counter, so parallel tests and
//! concurrent runs never collide.

#![allow(dead_code)]

use std::io::Write;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// True (and says so) when the test must be skipped: not root. Said on the real stderr, which
/// the test harness does not capture, so that a skip shows even when the test "passes". CI
/// sets TCPSLEUTH_REQUIRE_NETNS=1: there a skip is a failure.
pub fn skip_unless_root(test: &str) -> bool {
    let uid = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(1).map(str::to_owned))
        })
        .unwrap_or_default();
    if uid == "0" {
        return false;
    }
    assert!(
        std::env::var_os("TCPSLEUTH_REQUIRE_NETNS").is_none(),
        "TCPSLEUTH_REQUIRE_NETNS is set but {test} cannot run: it needs root"
    );
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED {test}: needs root (network namespaces and veth); CI runs it as root"
    );
    true
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

pub struct Pair {
    /// Namespace names; client side first.
    pub client: String,
    pub server: String,
    pub client_if: String,
    pub server_if: String,
    pub client_ip: String,
    pub server_ip: String,
    children: Vec<Child>,
}

fn run(args: &[&str]) -> Output {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .unwrap_or_else(|e| panic!("{args:?}: {e}"));
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

impl Pair {
    pub fn new() -> Pair {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let tag = format!("{}x{n}", std::process::id());
        // 10.(200+n).x: the subnet only has to be unique inside these namespaces.
        let net = format!("10.{}.{}", 200 + n % 50, std::process::id() % 250);
        let pair = Pair {
            client: format!("tsl-c-{tag}"),
            server: format!("tsl-s-{tag}"),
            // Interface names are at most 15 bytes.
            client_if: format!("tc{}", tag.chars().rev().take(12).collect::<String>()),
            server_if: format!("ts{}", tag.chars().rev().take(12).collect::<String>()),
            client_ip: format!("{net}.1"),
            server_ip: format!("{net}.2"),
            children: Vec::new(),
        };
        run(&["ip", "netns", "add", &pair.client]);
        run(&["ip", "netns", "add", &pair.server]);
        run(&[
            "ip",
            "link",
            "add",
            &pair.client_if,
            "netns",
            &pair.client,
            "type",
            "veth",
            "peer",
            "name",
            &pair.server_if,
            "netns",
            &pair.server,
        ]);
        for (ns, dev, ip) in [
            (&pair.client, &pair.client_if, &pair.client_ip),
            (&pair.server, &pair.server_if, &pair.server_ip),
        ] {
            run(&[
                "ip",
                "-n",
                ns,
                "addr",
                "add",
                &format!("{ip}/24"),
                "dev",
                dev,
            ]);
            run(&["ip", "-n", ns, "link", "set", dev, "up"]);
            run(&["ip", "-n", ns, "link", "set", "lo", "up"]);
        }
        pair
    }

    /// Starts a program inside a namespace; it is killed when the pair is dropped.
    pub fn spawn(&mut self, ns: &str, program: &[&str]) -> u32 {
        let child = Command::new("ip")
            .args(["netns", "exec", ns])
            .args(program)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("{program:?}: {e}"));
        // `ip netns exec` execs the program: the pid is the program's.
        let pid = child.id();
        self.children.push(child);
        pid
    }

    /// A Python program (standard library only) given as text, inside a namespace.
    pub fn python(&mut self, ns: &str, script: &str, args: &[&str]) -> u32 {
        let mut program = vec!["python3", "-c", script];
        program.extend_from_slice(args);
        self.spawn(ns, &program)
    }

    /// tcpsleuth inside a namespace.
    pub fn tcpsleuth(&self, ns: &str, args: &[&str]) -> Output {
        let out = Command::new("ip")
            .args(["netns", "exec", ns, env!("CARGO_BIN_EXE_tcpsleuth")])
            .args(args)
            .output()
            .expect("run tcpsleuth");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "tcpsleuth panicked: {stderr}");
        out
    }

    /// A shell command inside a namespace, which must succeed.
    pub fn exec(&self, ns: &str, args: &[&str]) -> Output {
        let mut full = vec!["ip", "netns", "exec", ns];
        full.extend_from_slice(args);
        run(&full)
    }

    /// Waits until `ss` in the namespace shows a socket matching the filter (bounded).
    pub fn wait_for(&self, ns: &str, ss_filter: &[&str], what: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let mut args = vec!["ip", "netns", "exec", ns, "ss", "-Htn"];
            args.extend_from_slice(ss_filter);
            let out = Command::new(args[0]).args(&args[1..]).output().expect("ss");
            if !String::from_utf8_lossy(&out.stdout).trim().is_empty() {
                return;
            }
            assert!(Instant::now() < deadline, "gave up waiting for {what}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Pair {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        for ns in [&self.client, &self.server] {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}

/// A server on PORT that accepts one connection and then, by MODE: `never` reads, `slow` reads
/// 16 KiB every 100 ms, `fast` reads as fast as it can, `abort` reads once, waits 0.5 s and
/// aborts the connection (SO_LINGER {1, 0}: a RST). RCVBUF (bytes, 0 = the default) keeps the window small. Exits by itself
/// after 60 s, should the test not kill it.
pub const SERVER: &str = r#"
import socket, struct, sys, time
port, mode, rcvbuf = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
if rcvbuf:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
s.bind(("0.0.0.0", port))
s.listen(1)
c, _ = s.accept()
if mode == "abort":
    c.recv(1000)
    time.sleep(0.5)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()
    time.sleep(60)
end = time.time() + 60
while time.time() < end:
    if mode in ("slow", "fast"):
        if not c.recv(16384):
            break
        if mode == "slow":
            time.sleep(0.1)
    else:
        time.sleep(0.2)
"#;

/// A client that connects to HOST:PORT and sends as fast as the connection takes it, for at
/// most 60 s; with a third argument, 1 KiB every that many seconds instead (the receiver's
/// window then never closes, however loaded the machine).
pub const CLIENT: &str = r#"
import socket, sys, time
c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
c.settimeout(None)
pause = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0
chunk = b"x" * (1024 if pause else 65536)
end = time.time() + 60
while time.time() < end:
    c.sendall(chunk)
    time.sleep(pause)
"#;
