//! Builders for pcap and pcapng bytes, and helpers to read captures into owned frames.
#![allow(dead_code)]

use std::io::{Read, Write};

use tcpsleuth_capture::{CaptureError, CaptureReader};

/// A frame, owned, for comparisons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owned {
    pub number: u64,
    pub timestamp_ns: i64,
    pub link_type: u32,
    pub original_len: u32,
    pub data: Vec<u8>,
    pub offset: u64,
    pub interface: u32,
    pub comment: Option<String>,
}

/// Reads every frame; returns them and the error that stopped the reading, if any.
/// Also checks that after the end (or an error) `next_frame` keeps returning `Ok(None)`.
pub fn read_all(mut r: CaptureReader) -> (Vec<Owned>, Option<CaptureError>) {
    let mut frames = Vec::new();
    let mut err = None;
    loop {
        match r.next_frame() {
            Ok(Some(f)) => frames.push(Owned {
                number: f.number,
                timestamp_ns: f.timestamp_ns,
                link_type: f.link_type.0,
                original_len: f.original_len,
                data: f.data.to_vec(),
                offset: f.offset,
                interface: f.interface,
                comment: f.comment.map(str::to_owned),
            }),
            Ok(None) => break,
            Err(e) => {
                err = Some(e);
                break;
            }
        }
        assert!(frames.len() < 1_000_000, "reader loops");
    }
    for _ in 0..3 {
        assert!(
            matches!(r.next_frame(), Ok(None)),
            "no Ok(None) after the end"
        );
    }
    (frames, err)
}

/// Opens `bytes` with `from_read` and reads all frames. An error from `from_read` is returned
/// with no frames.
pub fn read_bytes(bytes: &[u8]) -> (Vec<Owned>, Option<CaptureError>) {
    match CaptureReader::from_read(
        "test.cap".into(),
        Box::new(std::io::Cursor::new(bytes.to_vec())),
    ) {
        Ok(r) => read_all(r),
        Err(e) => (Vec::new(), Some(e)),
    }
}

/// A reader that returns at most `chunk` bytes per call, like a pipe.
pub struct Trickle {
    pub data: Vec<u8>,
    pub pos: usize,
    pub chunk: usize,
}

impl Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let rest = self.data.get(self.pos..).unwrap_or(&[]);
        let n = rest.len().min(buf.len()).min(self.chunk);
        buf[..n].copy_from_slice(&rest[..n]);
        self.pos += n;
        Ok(n)
    }
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// Gzip as several members (as pigz or `cat a.gz b.gz` produce).
pub fn gzip_multi(data: &[u8], parts: usize) -> Vec<u8> {
    let step = data.len().div_ceil(parts).max(1);
    data.chunks(step).flat_map(gzip).collect()
}

pub fn zstd(data: &[u8]) -> Vec<u8> {
    zstd::stream::encode_all(data, 3).unwrap()
}

/// Zstd as several concatenated frames.
pub fn zstd_multi(data: &[u8], parts: usize) -> Vec<u8> {
    let step = data.len().div_ceil(parts).max(1);
    data.chunks(step).flat_map(zstd).collect()
}

/// Byte writer with a byte order, recording record/block boundaries.
#[derive(Debug, Clone, Default)]
pub struct Cap {
    pub be: bool,
    pub bytes: Vec<u8>,
    /// Offsets at which a cut leaves a clean end (end of file header, of each record or block).
    pub boundaries: Vec<usize>,
    /// (offset, end) of each packet record, in order.
    pub packets: Vec<(usize, usize)>,
}

impl Cap {
    pub fn u16(&mut self, v: u16) {
        let b = if self.be {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        };
        self.bytes.extend_from_slice(&b);
    }
    pub fn u32(&mut self, v: u32) {
        let b = if self.be {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        };
        self.bytes.extend_from_slice(&b);
    }
    pub fn u64(&mut self, v: u64) {
        let b = if self.be {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        };
        self.bytes.extend_from_slice(&b);
    }
    fn pad(&mut self) {
        while self.bytes.len() % 4 != 0 {
            self.bytes.push(0);
        }
    }

    // ---- pcap ----

    /// pcap file header; `nano` selects the nanosecond magic.
    pub fn pcap(be: bool, nano: bool, linktype: u32, snaplen: u32) -> Cap {
        let mut c = Cap {
            be,
            ..Cap::default()
        };
        c.u32(if nano { 0xa1b2_3c4d } else { 0xa1b2_c3d4 });
        c.u16(2);
        c.u16(4);
        c.u32(0);
        c.u32(0);
        c.u32(snaplen);
        c.u32(linktype);
        c.boundaries.push(c.bytes.len());
        c
    }

    pub fn record(&mut self, sec: u32, frac: u32, data: &[u8], orig_len: u32) -> &mut Self {
        let start = self.bytes.len();
        self.u32(sec);
        self.u32(frac);
        self.u32(data.len() as u32);
        self.u32(orig_len);
        self.bytes.extend_from_slice(data);
        self.boundaries.push(self.bytes.len());
        self.packets.push((start, self.bytes.len()));
        self
    }

    // ---- pcapng ----

    /// Appends a block of `block_type` with `body` (padded to 4 bytes).
    pub fn block(&mut self, block_type: u32, body: &[u8]) -> &mut Self {
        let padded = body.len().div_ceil(4) * 4;
        let len = (12 + padded) as u32;
        self.u32(block_type);
        self.u32(len);
        self.bytes.extend_from_slice(body);
        self.pad();
        self.u32(len);
        self.boundaries.push(self.bytes.len());
        self
    }

    /// Encodes options (code, value) followed by opt_endofopt, in this writer's byte order.
    pub fn options(&self, opts: &[(u16, &[u8])]) -> Vec<u8> {
        let mut o = Cap {
            be: self.be,
            ..Cap::default()
        };
        if opts.is_empty() {
            return Vec::new();
        }
        for (code, value) in opts {
            o.u16(*code);
            o.u16(value.len() as u16);
            o.bytes.extend_from_slice(value);
            o.pad();
        }
        o.u32(0);
        o.bytes
    }

    fn body(&self) -> Cap {
        Cap {
            be: self.be,
            ..Cap::default()
        }
    }

    /// Starts a pcapng section (a new writer, or appends a section to `self`).
    pub fn shb(&mut self, opts: &[(u16, &[u8])]) -> &mut Self {
        let mut b = self.body();
        b.u32(0x1a2b_3c4d);
        b.u16(1);
        b.u16(0);
        b.u64(u64::MAX);
        let o = self.options(opts);
        b.bytes.extend_from_slice(&o);
        self.block(0x0a0d_0d0a, &b.bytes)
    }

    pub fn idb(&mut self, linktype: u16, snaplen: u32, opts: &[(u16, &[u8])]) -> &mut Self {
        let mut b = self.body();
        b.u16(linktype);
        b.u16(0);
        b.u32(snaplen);
        let o = self.options(opts);
        b.bytes.extend_from_slice(&o);
        self.block(1, &b.bytes)
    }

    pub fn epb(
        &mut self,
        if_id: u32,
        ts: u64,
        data: &[u8],
        orig_len: u32,
        opts: &[(u16, &[u8])],
    ) -> &mut Self {
        let start = self.bytes.len();
        let mut b = self.body();
        b.u32(if_id);
        b.u32((ts >> 32) as u32);
        b.u32(ts as u32);
        b.u32(data.len() as u32);
        b.u32(orig_len);
        b.bytes.extend_from_slice(data);
        b.pad();
        let o = self.options(opts);
        b.bytes.extend_from_slice(&o);
        self.block(6, &b.bytes);
        self.packets.push((start, self.bytes.len()));
        self
    }

    /// Obsolete Packet Block (type 2).
    pub fn opb(&mut self, if_id: u16, ts: u64, data: &[u8], orig_len: u32) -> &mut Self {
        let start = self.bytes.len();
        let mut b = self.body();
        b.u16(if_id);
        b.u16(0);
        b.u32((ts >> 32) as u32);
        b.u32(ts as u32);
        b.u32(data.len() as u32);
        b.u32(orig_len);
        b.bytes.extend_from_slice(data);
        self.block(2, &b.bytes);
        self.packets.push((start, self.bytes.len()));
        self
    }

    pub fn spb(&mut self, data: &[u8], orig_len: u32) -> &mut Self {
        let start = self.bytes.len();
        let mut b = self.body();
        b.u32(orig_len);
        b.bytes.extend_from_slice(data);
        self.block(3, &b.bytes);
        self.packets.push((start, self.bytes.len()));
        self
    }
}

pub fn pcapng(be: bool) -> Cap {
    Cap {
        be,
        ..Cap::default()
    }
}

/// Deterministic pseudo-random numbers (xorshift).
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}
