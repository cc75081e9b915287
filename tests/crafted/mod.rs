//! Crafted captures for the hostile-input tests, and a runner for the binary that fails the
//! test on a panic, a signal or a hang.
#![allow(dead_code)] // each test file uses part of it

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The lab capture the frames come from: one Ethernet/IPv4 connection, handshake first.
pub const EXAMPLE: &str = "fixtures/captures/lab/receiver-drops-then-resets.pcap";
const TIMEOUT: Duration = Duration::from_secs(60);

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The `analyze --format json` document.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

/// Runs the binary from the workspace root. Panics (fails the test) if it panicked, was
/// killed by a signal or ran past the timeout.
pub fn run(args: &[&str]) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tcpsleuth"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn tcpsleuth");
    let deadline = Instant::now() + TIMEOUT;
    // Reading on threads: a full pipe must not stall the child.
    let out = child.stdout.take().expect("stdout");
    let err = child.stderr.take().expect("stderr");
    let read = |mut r: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = r.read_to_end(&mut v);
            v
        })
    };
    let (out, err) = (read(Box::new(out)), read(Box::new(err)));
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("tcpsleuth {args:?} ran for more than {TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let stdout = String::from_utf8(out.join().expect("stdout")).expect("stdout is UTF-8");
    let stderr = String::from_utf8_lossy(&err.join().expect("stderr")).into_owned();
    assert!(
        !stderr.contains("panicked"),
        "tcpsleuth {args:?} panicked:\n{stderr}"
    );
    let code = status
        .code()
        .unwrap_or_else(|| panic!("tcpsleuth {args:?} killed by a signal:\n{stderr}"));
    Run {
        code,
        stdout,
        stderr,
    }
}

/// A file in the temp dir, unique per test and process, removed on drop.
pub struct TempFile(pub PathBuf);

impl TempFile {
    pub fn new(name: &str, bytes: &[u8]) -> TempFile {
        let dir = std::env::temp_dir().join(format!("tcpsleuth-crafted-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join(name);
        std::fs::write(&path, bytes).expect("write temp file");
        TempFile(path)
    }

    pub fn path(&self) -> &str {
        self.0.to_str().expect("UTF-8 temp path")
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The example's frames: (seconds, microseconds, bytes).
pub fn example_frames() -> Vec<(u32, u32, Vec<u8>)> {
    let bytes = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join(EXAMPLE))
        .expect("read the example capture");
    assert_eq!(
        bytes[..4],
        [0xd4, 0xc3, 0xb2, 0xa1],
        "little-endian µs pcap"
    );
    let le = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
    let mut frames = Vec::new();
    let mut at = 24;
    while at < bytes.len() {
        let incl = le(at + 8) as usize;
        frames.push((le(at), le(at + 4), bytes[at + 16..at + 16 + incl].to_vec()));
        at += 16 + incl;
    }
    frames
}

/// A little-endian pcap being built; `records` holds each record's start offset.
pub struct Pcap {
    pub bytes: Vec<u8>,
    pub records: Vec<usize>,
}

impl Pcap {
    pub fn new(snaplen: u32, link_type: u32) -> Pcap {
        let mut bytes = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        bytes.extend_from_slice(&snaplen.to_le_bytes());
        bytes.extend_from_slice(&link_type.to_le_bytes());
        Pcap {
            bytes,
            records: Vec::new(),
        }
    }

    /// A record whose lengths are given as they are to be written (they may lie).
    pub fn raw(&mut self, sec: u32, usec: u32, incl: u32, orig: u32, data: &[u8]) -> &mut Self {
        self.records.push(self.bytes.len());
        for x in [sec, usec, incl, orig] {
            self.bytes.extend_from_slice(&x.to_le_bytes());
        }
        self.bytes.extend_from_slice(data);
        self
    }

    pub fn frame(&mut self, sec: u32, usec: u32, data: &[u8]) -> &mut Self {
        let n = data.len() as u32;
        self.raw(sec, usec, n, n, data)
    }
}

/// A little-endian pcapng being built; `blocks` holds each block's start offset.
#[derive(Default)]
pub struct Pcapng {
    pub bytes: Vec<u8>,
    pub blocks: Vec<usize>,
}

/// pcapng options: (code, value), ended by opt_endofopt when there are any.
pub fn options(opts: &[(u16, &[u8])]) -> Vec<u8> {
    let mut v = Vec::new();
    for (code, value) in opts {
        v.extend_from_slice(&code.to_le_bytes());
        v.extend_from_slice(&(value.len() as u16).to_le_bytes());
        v.extend_from_slice(value);
        v.resize((v.len() + 3) & !3, 0);
    }
    if !opts.is_empty() {
        v.extend_from_slice(&[0; 4]);
    }
    v
}

impl Pcapng {
    pub fn new() -> Pcapng {
        Pcapng::default()
    }

    /// Any block: type, total length, body padded to 4, total length again.
    pub fn block(&mut self, block_type: u32, body: &[u8]) -> &mut Self {
        self.blocks.push(self.bytes.len());
        let padded = (body.len() + 3) & !3;
        let total = (12 + padded) as u32;
        self.bytes.extend_from_slice(&block_type.to_le_bytes());
        self.bytes.extend_from_slice(&total.to_le_bytes());
        self.bytes.extend_from_slice(body);
        self.bytes.resize(self.bytes.len() + padded - body.len(), 0);
        self.bytes.extend_from_slice(&total.to_le_bytes());
        self
    }

    pub fn shb(&mut self, opts: &[(u16, &[u8])]) -> &mut Self {
        let mut body = vec![0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0];
        body.extend_from_slice(&[0xff; 8]);
        body.extend(options(opts));
        self.block(0x0a0d_0d0a, &body)
    }

    pub fn idb(&mut self, link_type: u16, snaplen: u32, opts: &[(u16, &[u8])]) -> &mut Self {
        let mut body = link_type.to_le_bytes().to_vec();
        body.extend_from_slice(&[0, 0]);
        body.extend_from_slice(&snaplen.to_le_bytes());
        body.extend(options(opts));
        self.block(1, &body)
    }

    /// An enhanced packet block, microsecond timestamp; `caplen` as written (it may lie).
    pub fn epb_raw(
        &mut self,
        if_id: u32,
        ts_us: u64,
        caplen: u32,
        orig: u32,
        data: &[u8],
        opts: &[(u16, &[u8])],
    ) -> &mut Self {
        let mut body = Vec::new();
        for x in [if_id, (ts_us >> 32) as u32, ts_us as u32, caplen, orig] {
            body.extend_from_slice(&x.to_le_bytes());
        }
        body.extend_from_slice(data);
        body.resize((body.len() + 3) & !3, 0);
        body.extend(options(opts));
        self.block(6, &body)
    }

    pub fn epb(&mut self, if_id: u32, ts_us: u64, data: &[u8]) -> &mut Self {
        let n = data.len() as u32;
        self.epb_raw(if_id, ts_us, n, n, data, &[])
    }
}

/// The first capture in an `analyze --format json` document: (frames, tcp, malformed).
pub fn counts(doc: &Value) -> (u64, u64, u64) {
    let c = &doc["captures"][0];
    let n = |k: &str| c[k].as_u64().unwrap_or_else(|| panic!("{k} in {c}"));
    (n("frames"), n("tcp_frames"), n("malformed_frames"))
}

pub fn connection_count(doc: &Value) -> usize {
    doc["connections"].as_array().expect("connections").len()
}
