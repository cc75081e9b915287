//! Makes the seed corpora: `seeds OUT_DIR CAPTURE_DIR...`. Each capture found (any file the
//! reader opens) seeds the reader targets (by format) and the pipeline target, cut to the
//! fuzzers' 64 KiB input limit; each distinct frame seeds the decoder target.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use tcpsleuth_capture::{CaptureFormat, CaptureReader, Compression};
use tcpsleuth_fuzz::decode_input;

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
        eprintln!("usage: seeds OUT_DIR CAPTURE_DIR...");
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
            if let Some(input) = decode_input(f.link_type.0, f.original_len, f.data) {
                save(&decode, &input)?;
                kept += 1;
            }
        }
        frames += kept;
    }
    println!("{captures} captures, {frames} frames");
    Ok(())
}
