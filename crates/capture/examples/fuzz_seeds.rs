//! Makes the fuzzers' seed corpora (fuzz/README.md): `fuzz_seeds OUT_DIR CAPTURE_DIR...`.
//! Each capture found (any file the reader opens) seeds the reader targets (by format) and the
//! pipeline target, cut to the fuzzers' 64 KiB input limit; frames seed the decoder target.
//!
//! An example of this crate rather than part of fuzz/, so that CI runs it from the debug build
//! its tests already made instead of building the capture stack a third time.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use tcpsleuth_capture::{CaptureFormat, CaptureReader, Compression};

const MAX_LEN: usize = 64 * 1024;
/// Frames kept per capture for the decoder: its corpus stays quick to load and merge.
const FRAMES_PER_CAPTURE: usize = 60;

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn save(dir: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut h = DefaultHasher::new();
    bytes.hash(&mut h);
    std::fs::write(dir.join(format!("{:016x}", h.finish())), bytes)
}

fn main() -> std::io::Result<()> {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let Some((out, dirs)) = args.split_first() else {
        eprintln!("usage: fuzz_seeds OUT_DIR CAPTURE_DIR...");
        std::process::exit(2);
    };
    let target = |t: &str| -> std::io::Result<PathBuf> {
        let d = out.join(t);
        std::fs::create_dir_all(&d)?;
        Ok(d)
    };
    let (pcap, pcapng, decode, pipeline) = (
        target("pcap")?,
        target("pcapng")?,
        target("decode")?,
        target("pipeline")?,
    );
    let mut all = Vec::new();
    for d in dirs {
        files(d, &mut all);
    }
    all.sort();
    let mut seen = HashSet::new();
    let (mut captures, mut frames) = (0, 0);
    for path in all {
        let Ok(mut reader) = CaptureReader::open(&path) else {
            continue;
        };
        captures += 1;
        let bytes = std::fs::read(&path)?;
        let head = bytes.get(..MAX_LEN).unwrap_or(&bytes);
        save(&pipeline, head)?;
        if reader.compression() == Compression::None {
            match reader.format() {
                CaptureFormat::Pcap => save(&pcap, head)?,
                CaptureFormat::PcapNg => save(&pcapng, head)?,
            }
        }
        let mut kept = 0;
        while let Ok(Some(f)) = reader.next_frame() {
            if kept == FRAMES_PER_CAPTURE {
                break;
            }
            // Frames that differ only in payload teach the decoder nothing new.
            let key = (f.link_type.0, f.data.get(..80).unwrap_or(f.data).to_vec());
            if !seen.insert(key) {
                continue;
            }
            // The decoder target's input: link type (u16), on-wire length (u32), the frame; both
            // little-endian (fuzz/src/lib.rs, `split_decode_input`).
            let Ok(link_type) = u16::try_from(f.link_type.0) else {
                continue;
            };
            let mut input = link_type.to_le_bytes().to_vec();
            input.extend_from_slice(&f.original_len.to_le_bytes());
            input.extend_from_slice(f.data);
            save(&decode, &input)?;
            kept += 1;
        }
        frames += kept;
    }
    println!("{captures} captures, {frames} frames");
    Ok(())
}
