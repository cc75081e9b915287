//! Resource bounds of the reader on hostile files (docs/limits.md): memory and time with a
//! huge number of pcapng interfaces, and what happens past the cap.

// The allocator below is the only way to measure the heap exactly and deterministically.
#![allow(unsafe_code)]
#![allow(clippy::unwrap_used)] // tests may panic on unexpected results

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use common::*;
use tcpsleuth_capture::{CaptureReader, MAX_INTERFACES};

/// The system allocator, counting the bytes in use and their peak.
struct Counting;

static IN_USE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every method forwards to `System` with the caller's own pointer and layout, so
// `System`'s guarantees are passed on unchanged; the counters are plain atomics and allocate
// nothing.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is (see the impl).
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = IN_USE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded as is (see the impl).
        unsafe { System.dealloc(ptr, layout) };
        IN_USE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// The counters are process-wide: the tests here take turns.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// One section with `n` interfaces (alternating link types and timestamp resolutions) and a
/// packet on the first, the middle and the last.
fn many_interfaces(n: u32) -> Cap {
    let mut c = pcapng(false);
    c.shb(&[]);
    for i in 0..n {
        if i % 2 == 0 {
            c.idb(1, 0, &[]);
        } else {
            c.idb(101, 0, &[(9, &[9])]);
        }
    }
    for (i, id) in [0, n / 2 + 1, n - 1].into_iter().enumerate() {
        c.epb(id, 1_000_000_000 + i as u64, b"frame", 5, &[]);
    }
    c
}

/// Reads the file at `path`; returns the frames' (interface, link type, timestamp) and the
/// heap's peak above what was in use before, in bytes.
fn read_measured(path: &std::path::Path) -> (Vec<(u32, u32, i64)>, usize) {
    let base = IN_USE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let mut r = CaptureReader::open(path).unwrap();
    let mut frames = Vec::new();
    while let Some(f) = r.next_frame().unwrap() {
        frames.push((f.interface, f.link_type.0, f.timestamp_ns));
    }
    drop(r);
    (frames, PEAK.load(Ordering::Relaxed) - base)
}

fn temp(name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let p = std::env::temp_dir().join(format!("tcpsleuth-limits-{}-{name}", std::process::id()));
    std::fs::write(&p, bytes).unwrap();
    p
}

fn best_of_3(path: &std::path::Path) -> Duration {
    (0..3)
        .map(|_| {
            let t = Instant::now();
            read_measured(path);
            t.elapsed()
        })
        .min()
        .unwrap()
}

/// 100 000 interfaces: every packet gets its own interface's link type and resolution, the
/// heap stays within the documented 32 bytes per interface (plus the reader's 1 MiB buffer and
/// the growth of the table), and eight times the interfaces take about eight times the time
/// (less than 24 times: caches and a busy machine blur it; a quadratic cost would be 64).
#[test]
fn hundred_thousand_interfaces() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let n = 100_000;
    let path = temp("100k.pcapng", &many_interfaces(n).bytes);
    let (frames, peak) = read_measured(&path);
    // Odd interfaces are raw IP with nanosecond timestamps, even ones Ethernet with µs.
    assert_eq!(
        frames,
        vec![
            (0, 1, 1_000_000_000_000),
            (n / 2 + 1, 101, 1_000_000_001),
            (n - 1, 101, 1_000_000_002),
        ]
    );
    // 32 bytes per interface; while the table doubles, the old and the new one (3x at most);
    // the reader's 1 MiB buffer; 64 KiB for everything else.
    let table = n as usize * 32;
    assert!(
        peak < table * 3 + (1 << 20) + (64 << 10),
        "peak heap {peak} bytes for {n} interfaces"
    );

    let big = temp("800k.pcapng", &many_interfaces(8 * n).bytes);
    let (t1, t8) = (best_of_3(&path), best_of_3(&big));
    eprintln!(
        "{n} interfaces: peak heap {peak} bytes, read in {t1:?}; {} in {t8:?}",
        8 * n
    );
    assert!(
        t8 < t1 * 24,
        "not linear: {n} interfaces in {t1:?}, {} in {t8:?}",
        8 * n
    );
    let _ = std::fs::remove_file(&path);
    let _ = std::fs::remove_file(&big);
}

/// One interface past the cap: an error at that block, after the frames before it.
#[test]
fn past_the_interface_cap() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let mut c = pcapng(false);
    c.shb(&[]);
    c.idb(1, 0, &[]);
    c.epb(0, 7, b"before", 6, &[]);
    for _ in 1..MAX_INTERFACES {
        c.idb(1, 0, &[]);
    }
    let at = c.bytes.len();
    c.idb(1, 0, &[]);
    c.epb(0, 8, b"after", 5, &[]);
    let (frames, err) = read_bytes(&c.bytes);
    assert_eq!(frames.len(), 1);
    let err = err.expect("an error past the cap");
    assert_eq!(err.offset, at as u64);
    assert_eq!(
        err.to_string(),
        format!(
            "test.cap: byte {at} (after frame 1): interface description block: more than {MAX_INTERFACES} interfaces in one section"
        )
    );
}
