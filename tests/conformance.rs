//! Conformance of tcpsleuth's per-packet TCP analysis with tshark 4.0.17.
//!
//! The goldens in `fixtures/tshark/` are produced by `scripts/tshark-golden.sh` (single-pass
//! tshark, preferences of wireshark-tcp-analysis.md §14.1). For every capture of the corpus
//! (`$CARGO_MANIFEST_DIR/../shared/corpus/public`, recursive) that has a golden, the tests run
//!
//! * `tcpsleuth packets --format jsonl CAPTURE` and compare, frame by frame, presence (tshark
//!   gives the frame a tcp.stream ⇔ we print it), stream index, the set of analysis flags and
//!   the analysis values (exact integers; times to 1 ns);
//! * `tcpsleuth connections --format json CAPTURE` and compare, stream by stream, endpoints and
//!   per-direction packet / on-wire byte counts with sums derived from the per-frame golden.
//!
//! A third test (`golden_tsv_agrees_with_conv_tables`) needs neither the corpus nor the binary:
//! it checks that the per-frame goldens add up to tshark's own `-z conv,tcp` tables.
//!
//! Run: `cargo test --test conformance -- --nocapture` (debug build is fine).
//!
//! Environment variables:
//! * `CONFORMANCE_FILE=substring` — only captures whose corpus-relative path contains it.
//! * `CONFORMANCE_OURS_DIR=dir` — do not run the binary; read precomputed outputs
//!   `dir/<golden name>.packets.jsonl` and `dir/<golden name>.connections.json` instead
//!   (golden name = corpus-relative path with `/` → `__`, e.g. `zeek__ssh-dups.pcap`).
//!   Useful to debug the comparison itself, or to diff outputs of another build.
//! * `CONFORMANCE_CORPUS_DIR`, `CONFORMANCE_GOLDEN_DIR` — other corpus / golden directories
//!   (e.g. a private capture set with goldens made by the same script).
//! * `CONFORMANCE_TIMEOUT_SECS` — per-run timeout of the binary (default 300).
//!
//! Disagreements that are tshark bugs (not ours to reproduce) go into [`KNOWN_TSHARK_ERRORS`].

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::io::Read;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use flate2::read::GzDecoder;

mod captures;
use serde_json::Value;

/// Frame-level disagreements accepted because tshark 4.0.17 is wrong there:
/// (corpus-relative capture path, frame number, field name as in the agreement table, why).
/// Field names: presence, stream, flags, dup_ack_num, dup_ack_frame, acks_frame, ack_rtt,
/// initial_rtt, bytes_in_flight, push_bytes_sent, rto, rto_frame.
const KNOWN_TSHARK_ERRORS: &[(&str, u64, &str, &str)] = &[];

/// Frames that have a tcp.stream but that tshark's `-z conv,tcp` table does not count, because
/// the TCP dissector threw (or returned) before queueing its tap. Only used by the golden
/// cross-check; `connections` is expected to count every frame of the stream.
const CONV_TAP_EXCLUDED: &[(&str, u64, &str)] = &[
    (
        "zeek/truncated-header.pcap",
        1,
        "SYN whose TCP options are cut by the snaplen: exception while parsing options",
    ),
    (
        "ndpi/reasm_crash_anon.pcapng",
        87,
        "short segment: reported length smaller than a TCP header (no tcp.len)",
    ),
    (
        "ndpi/reasm_crash_anon.pcapng",
        95,
        "bogus TCP header length 0 (no tcp.flags, not analysed)",
    ),
    (
        "pcapplusplus/tcp-malformed.pcap",
        1,
        "short segment: reported length smaller than a TCP header",
    ),
    (
        "pcapplusplus/tcp-malformed.pcap",
        2,
        "short segment: reported length smaller than a TCP header",
    ),
];

/// Flag names: the JSON names, and the suffixes of the tshark fields `tcp.analysis.<name>`.
const FLAGS: [&str; 15] = [
    "retransmission",
    "fast_retransmission",
    "spurious_retransmission",
    "out_of_order",
    "lost_segment",
    "ack_lost_segment",
    "duplicate_ack",
    "zero_window",
    "zero_window_probe",
    "zero_window_probe_ack",
    "window_full",
    "window_update",
    "keep_alive",
    "keep_alive_ack",
    "reused_ports",
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Int,
    Time,
}

/// Value fields: (JSON key, tshark column, kind).
const VALUE_FIELDS: [(&str, &str, Kind); 9] = [
    ("dup_ack_num", "tcp.analysis.duplicate_ack_num", Kind::Int),
    (
        "dup_ack_frame",
        "tcp.analysis.duplicate_ack_frame",
        Kind::Int,
    ),
    ("acks_frame", "tcp.analysis.acks_frame", Kind::Int),
    ("ack_rtt", "tcp.analysis.ack_rtt", Kind::Time),
    ("initial_rtt", "tcp.analysis.initial_rtt", Kind::Time),
    ("bytes_in_flight", "tcp.analysis.bytes_in_flight", Kind::Int),
    ("push_bytes_sent", "tcp.analysis.push_bytes_sent", Kind::Int),
    ("rto", "tcp.analysis.rto", Kind::Time),
    ("rto_frame", "tcp.analysis.rto_frame", Kind::Int),
];

/// Rows of the per-frame agreement table: presence, stream, flags, then VALUE_FIELDS.
fn packet_field_names() -> Vec<&'static str> {
    let mut v = vec!["presence", "stream", "flags"];
    v.extend(VALUE_FIELDS.iter().map(|f| f.0));
    v
}

const MAX_EXAMPLES: usize = 5;

// ---------------------------------------------------------------------------------------------
// Locations and case selection

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// (capture directory, golden directory) pairs: the public corpus, and the repo's own captures
/// (lab reproductions and hand-made cases) in fixtures/captures with goldens in
/// fixtures/tshark-own. `CONFORMANCE_CORPUS_DIR`/`CONFORMANCE_GOLDEN_DIR` replace both.
fn corpus_sets() -> Vec<(PathBuf, PathBuf)> {
    if let Some(corpus) = std::env::var_os("CONFORMANCE_CORPUS_DIR") {
        let golden = std::env::var_os("CONFORMANCE_GOLDEN_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| manifest_dir().join("fixtures/tshark"));
        return vec![(PathBuf::from(corpus), golden)];
    }
    vec![
        (
            manifest_dir().join("../shared/corpus/public"),
            manifest_dir().join("fixtures/tshark"),
        ),
        (
            manifest_dir().join("fixtures/captures"),
            manifest_dir().join("fixtures/tshark-own"),
        ),
    ]
}

fn golden_dir() -> PathBuf {
    std::env::var_os("CONFORMANCE_GOLDEN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest_dir().join("fixtures/tshark"))
}

fn file_filter() -> Option<String> {
    std::env::var("CONFORMANCE_FILE")
        .ok()
        .filter(|s| !s.is_empty())
}

/// Golden name of a corpus-relative path: `/` → `__`.
fn golden_name(rel: &str) -> String {
    rel.replace('/', "__")
}

/// One line of fixtures/tshark/INDEX.tsv.
#[derive(Clone, Debug)]
struct IndexEntry {
    rel: String,
    size: Option<u64>,
    tshark_status: i32,
    tshark_stderr: String,
}

fn read_index(dir: &Path) -> HashMap<String, IndexEntry> {
    let mut out = HashMap::new();
    let Ok(text) = std::fs::read_to_string(dir.join("INDEX.tsv")) else {
        return out;
    };
    let mut lines = text.lines();
    let Some(header) = lines.next() else {
        return out;
    };
    let cols: Vec<&str> = header.split('\t').collect();
    let col = |name: &str| cols.iter().position(|c| *c == name);
    let (Some(c_name), Some(c_path)) = (col("name"), col("path")) else {
        return out;
    };
    let (c_size, c_status, c_err) = (col("size"), col("tshark_status"), col("tshark_stderr"));
    for line in lines {
        let f: Vec<&str> = line.split('\t').collect();
        let get = |c: Option<usize>| c.and_then(|c| f.get(c)).copied().unwrap_or("");
        let Some(name) = f.get(c_name) else { continue };
        out.insert(
            name.to_string(),
            IndexEntry {
                rel: get(Some(c_path)).to_string(),
                size: get(c_size).parse().ok(),
                tshark_status: get(c_status).parse().unwrap_or(0),
                tshark_stderr: get(c_err).to_string(),
            },
        );
    }
    out
}

#[derive(Clone, Debug)]
struct Case {
    /// Corpus-relative path, `/`-separated.
    rel: String,
    /// Golden name (no extension).
    name: String,
    capture: PathBuf,
    goldens: PathBuf,
    tshark_status: i32,
    tshark_stderr: String,
}

/// Captures to test, after printing the skipped ones. None: no corpus, skip the whole test.
fn select_cases(test: &str, needed_ext: &str) -> Option<Vec<Case>> {
    let mut all = Vec::new();
    let mut any = false;
    for (corpus, goldens) in corpus_sets() {
        if let Some(cases) = select_cases_in(test, needed_ext, corpus, goldens) {
            any = true;
            all.extend(cases);
        }
    }
    any.then_some(all)
}

fn select_cases_in(
    test: &str,
    needed_ext: &str,
    corpus: PathBuf,
    goldens: PathBuf,
) -> Option<Vec<Case>> {
    if !corpus.is_dir() {
        println!(
            "[{test}] SKIPPED: corpus directory {} is absent (set CONFORMANCE_CORPUS_DIR); nothing compared",
            corpus.display()
        );
        return None;
    }
    let index = read_index(&goldens);
    let filter = file_filter();
    let files = captures::files_under(&corpus);
    let mut cases = Vec::new();
    let mut skipped: Vec<(String, String)> = Vec::new();
    let mut seen_names = BTreeSet::new();
    for path in files {
        let Ok(rel) = path.strip_prefix(&corpus) else {
            continue;
        };
        let rel = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        let name = golden_name(&rel);
        seen_names.insert(name.clone());
        if let Some(f) = &filter {
            if !rel.contains(f.as_str()) {
                skipped.push((rel, format!("CONFORMANCE_FILE={f} does not match")));
                continue;
            }
        }
        if !goldens.join(format!("{name}{needed_ext}")).is_file() {
            skipped.push((rel, format!("no golden {name}{needed_ext}")));
            continue;
        }
        let entry = index.get(&name);
        if let (Some(e), Ok(md)) = (entry, std::fs::metadata(&path)) {
            if e.size.is_some_and(|s| s != md.len()) {
                skipped.push((
                    rel,
                    format!(
                        "capture is {} bytes but the golden was made from {} bytes: rerun scripts/tshark-golden.sh",
                        md.len(),
                        e.size.unwrap_or(0)
                    ),
                ));
                continue;
            }
        }
        cases.push(Case {
            rel,
            name,
            capture: path,
            goldens: goldens.clone(),
            tshark_status: entry.map_or(0, |e| e.tshark_status),
            tshark_stderr: entry.map(|e| e.tshark_stderr.clone()).unwrap_or_default(),
        });
    }
    let mut orphans: Vec<&IndexEntry> = index
        .iter()
        .filter(|(n, _)| !seen_names.contains(*n))
        .map(|(_, e)| e)
        .collect();
    orphans.sort_by(|a, b| a.rel.cmp(&b.rel));
    for o in orphans {
        skipped.push((
            o.rel.clone(),
            "golden exists but the capture is not in the corpus".into(),
        ));
    }
    println!(
        "[{test}] corpus {}, goldens {}: {} capture(s) to compare, {} skipped",
        corpus.display(),
        goldens.display(),
        cases.len(),
        skipped.len()
    );
    let (filtered, other): (Vec<_>, Vec<_>) = skipped
        .iter()
        .partition(|(_, why)| why.starts_with("CONFORMANCE_FILE"));
    if let (Some(f), false) = (&filter, filtered.is_empty()) {
        println!(
            "[{test}]   skipped {} capture(s) not matching CONFORMANCE_FILE={f}",
            filtered.len()
        );
    }
    for (rel, why) in other {
        println!("[{test}]   skipped {rel}: {why}");
    }
    Some(cases)
}

// ---------------------------------------------------------------------------------------------
// Running tcpsleuth (or reading precomputed outputs)

struct RunOutput {
    stdout: String,
    /// None: the outputs were precomputed (CONFORMANCE_OURS_DIR).
    status: Option<i32>,
    stderr: String,
}

fn run_tcpsleuth(
    subcommand: &str,
    format: &str,
    case: &Case,
    ext: &str,
) -> Result<RunOutput, String> {
    if let Some(dir) = std::env::var_os("CONFORMANCE_OURS_DIR") {
        let p = Path::new(&dir).join(format!("{}{ext}", case.name));
        return std::fs::read_to_string(&p)
            .map(|stdout| RunOutput {
                stdout,
                status: None,
                stderr: String::new(),
            })
            .map_err(|e| format!("CONFORMANCE_OURS_DIR: cannot read {}: {e}", p.display()));
    }
    let timeout = Duration::from_secs(
        std::env::var("CONFORMANCE_TIMEOUT_SECS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(300),
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_tcpsleuth"))
        .args([subcommand, "--format", format])
        .arg(&case.capture)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start tcpsleuth: {e}"))?;
    let mut out_pipe = child.stdout.take().ok_or("no stdout pipe")?;
    let mut err_pipe = child.stderr.take().ok_or("no stderr pipe")?;
    let out_t = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = out_pipe.read_to_end(&mut b);
        b
    });
    let err_t = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = err_pipe.read_to_end(&mut b);
        b
    });
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) if start.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "tcpsleuth {subcommand} timed out after {}s",
                    timeout.as_secs()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(format!("waiting for tcpsleuth: {e}")),
        }
    };
    let stdout = out_t.join().unwrap_or_default();
    let stderr = err_t.join().unwrap_or_default();
    Ok(RunOutput {
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        status: Some(status.code().unwrap_or(-1)),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    })
}

/// Runs `job` over all cases on a few threads; results in case order.
fn par_map<T: Send>(cases: &[Case], job: impl Fn(&Case) -> T + Sync) -> Vec<T> {
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(1, 4);
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<T>>> = Mutex::new((0..cases.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(case) = cases.get(i) else { break };
                let r = job(case);
                if let Ok(mut v) = results.lock() {
                    v[i] = Some(r);
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_default()
        .into_iter()
        .map(|r| r.expect("every case was processed"))
        .collect()
}

/// Checks the exit status; returns a file-level error, if any. A nonzero status is accepted
/// when tshark itself stopped with an error on that capture (damaged file).
/// The golden of `case` and our output for it, or None when either is missing (the reason is
/// recorded in `report`). A bad exit status is recorded but the output is still compared.
fn comparable<G>(
    report: &mut Report,
    case: &Case,
    out: Result<RunOutput, String>,
    subcommand: &str,
    parse: impl FnOnce(&Tsv) -> Result<G, String>,
) -> Option<(G, RunOutput)> {
    let file = case.rel.as_str();
    let golden = match read_tsv(&case.goldens.join(format!("{}.tsv.gz", case.name)))
        .and_then(|t| parse(&t))
    {
        Ok(g) => g,
        Err(e) => {
            report.file_error(file, format!("golden: {e}"));
            return None;
        }
    };
    let out = match out {
        Ok(o) => o,
        Err(e) => {
            report.file_error(file, e);
            return None;
        }
    };
    if let Some(e) = check_status(&out, case, subcommand) {
        report.file_error(file, e);
    }
    Some((golden, out))
}

fn check_status(run: &RunOutput, case: &Case, subcommand: &str) -> Option<String> {
    let code = run.status?;
    if code == 0 {
        return None;
    }
    let first_err = run.stderr.lines().next().unwrap_or("").to_string();
    if case.tshark_status != 0 {
        println!(
            "  note: {}: tcpsleuth {subcommand} exited {code} ({first_err}); tshark also failed ({})",
            case.rel, case.tshark_stderr
        );
        None
    } else {
        Some(format!("tcpsleuth {subcommand} exited {code}: {first_err}"))
    }
}

// ---------------------------------------------------------------------------------------------
// Golden TSV

struct Tsv {
    cols: HashMap<String, usize>,
    rows: Vec<Vec<String>>,
}

impl Tsv {
    fn get<'a>(&self, row: &'a [String], col: &str) -> &'a str {
        self.cols
            .get(col)
            .and_then(|&i| row.get(i))
            .map_or("", |s| s.as_str())
    }
}

fn read_tsv(path: &Path) -> Result<Tsv, String> {
    let f = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut text = String::new();
    GzDecoder::new(f)
        .read_to_string(&mut text)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let mut lines = text.lines();
    let header = lines
        .next()
        .ok_or_else(|| format!("{}: empty", path.display()))?;
    let cols: HashMap<String, usize> = header
        .split('\t')
        .enumerate()
        .map(|(i, c)| (c.to_string(), i))
        .collect();
    let required = ["frame.number", "tcp.stream", "frame.len"]
        .iter()
        .map(|c| c.to_string())
        .chain(VALUE_FIELDS.iter().map(|f| f.1.to_string()))
        .chain(FLAGS.iter().map(|f| format!("tcp.analysis.{f}")));
    for c in required {
        if !cols.contains_key(&c) {
            return Err(format!("{}: column {c} missing", path.display()));
        }
    }
    let rows = lines
        .filter(|l| !l.is_empty())
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect();
    Ok(Tsv { cols, rows })
}

// ---------------------------------------------------------------------------------------------
// Values

#[derive(Clone, Debug, PartialEq)]
enum Val {
    Absent,
    Int(i64),
    /// Ours: seconds as f64.
    Secs(f64),
    /// tshark: nanoseconds, parsed from its 9-decimal text.
    Ns(i64),
    Bad(String),
}

/// Parses tshark's FT_RELATIVE_TIME text ("0.011000000", "-668322441.995528000") to ns.
fn parse_tshark_time(s: &str) -> Option<i64> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    if int.is_empty()
        || frac.len() > 9
        || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let mut ns: i64 = int.parse::<i64>().ok()?.checked_mul(1_000_000_000)?;
    let mut f: i64 = if frac.is_empty() {
        0
    } else {
        frac.parse().ok()?
    };
    for _ in frac.len()..9 {
        f *= 10;
    }
    ns = ns.checked_add(f)?;
    Some(if neg { -ns } else { ns })
}

fn fmt_ns(ns: i64) -> String {
    let sign = if ns < 0 { "-" } else { "" };
    let a = ns.unsigned_abs();
    format!("{sign}{}.{:09}", a / 1_000_000_000, a % 1_000_000_000)
}

/// Equality of our f64 seconds and tshark's ns: round(x·1e9) = ns. Beyond ~26 days an f64 no
/// longer resolves 1 ns, so there the tolerance is two ulps of x (in ns).
fn time_eq(secs: f64, ns: i64) -> bool {
    if !secs.is_finite() {
        return false;
    }
    let ours = (secs * 1e9).round();
    let tol = (2.0 * secs.abs() * f64::EPSILON * 1e9).floor();
    (ours - ns as f64).abs() <= tol
}

fn val_eq(ours: &Val, golden: &Val) -> bool {
    match (ours, golden) {
        (Val::Absent, Val::Absent) => true,
        (Val::Int(a), Val::Int(b)) => a == b,
        (Val::Secs(x), Val::Ns(n)) => time_eq(*x, *n),
        _ => false,
    }
}

fn val_str(v: &Val) -> String {
    match v {
        Val::Absent => "(absent)".into(),
        Val::Int(n) => n.to_string(),
        Val::Secs(x) => {
            if x.is_finite() {
                format!("{} (raw {x})", fmt_ns((x * 1e9).round() as i64))
            } else {
                format!("{x}")
            }
        }
        Val::Ns(n) => fmt_ns(*n),
        Val::Bad(s) => format!("INVALID {s}"),
    }
}

fn golden_val(s: &str, kind: Kind) -> Val {
    if s.is_empty() {
        return Val::Absent;
    }
    match kind {
        Kind::Int => s.parse().map_or_else(|_| Val::Bad(s.into()), Val::Int),
        Kind::Time => parse_tshark_time(s).map_or_else(|| Val::Bad(s.into()), Val::Ns),
    }
}

fn json_val(v: Option<&Value>, kind: Kind) -> Val {
    let Some(v) = v else { return Val::Absent };
    match kind {
        Kind::Int => v.as_i64().map_or_else(|| Val::Bad(v.to_string()), Val::Int),
        Kind::Time => v
            .as_f64()
            .map_or_else(|| Val::Bad(v.to_string()), Val::Secs),
    }
}

// ---------------------------------------------------------------------------------------------
// Per-frame records

#[derive(Debug)]
struct Frame {
    stream: Val,
    flags: Result<BTreeSet<String>, String>,
    vals: Vec<Val>,
}

fn golden_frames(tsv: &Tsv) -> Result<BTreeMap<u64, Frame>, String> {
    let mut out = BTreeMap::new();
    for row in &tsv.rows {
        let stream = tsv.get(row, "tcp.stream");
        if stream.is_empty() {
            continue; // not a TCP frame for tshark
        }
        let num_s = tsv.get(row, "frame.number");
        let num: u64 = num_s
            .parse()
            .map_err(|_| format!("bad frame.number {num_s:?}"))?;
        let flags = FLAGS
            .iter()
            .filter(|f| !tsv.get(row, &format!("tcp.analysis.{f}")).is_empty())
            .map(|f| f.to_string())
            .collect();
        let vals = VALUE_FIELDS
            .iter()
            .map(|(_, col, kind)| golden_val(tsv.get(row, col), *kind))
            .collect();
        out.insert(
            num,
            Frame {
                stream: golden_val(stream, Kind::Int),
                flags: Ok(flags),
                vals,
            },
        );
    }
    Ok(out)
}

/// Parses our JSON Lines. Errors (bad lines, duplicate frames) are returned separately.
fn our_frames(stdout: &str) -> (BTreeMap<u64, Frame>, Vec<String>, usize) {
    let mut out = BTreeMap::new();
    let mut errors = Vec::new();
    let mut icmp_quotes = 0;
    for (i, line) in stdout.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(e) => {
                errors.push(format!(
                    "stdout line {}: not JSON ({e}): {line:.120}",
                    i + 1
                ));
                continue;
            }
        };
        let Some(num) = v.get("frame").and_then(Value::as_u64) else {
            errors.push(format!(
                "stdout line {}: no integer \"frame\": {line:.120}",
                i + 1
            ));
            continue;
        };
        if v.get("icmp_quote").and_then(Value::as_bool) == Some(true) {
            icmp_quotes += 1;
        }
        let flags = match v.get("flags") {
            None => Ok(BTreeSet::new()),
            Some(Value::Array(a)) => a
                .iter()
                .map(|f| f.as_str().map(str::to_string).ok_or_else(|| f.to_string()))
                .collect::<Result<BTreeSet<_>, _>>()
                .map_err(|bad| format!("non-string flag {bad}")),
            Some(other) => Err(format!("flags is not an array: {other}")),
        };
        let frame = Frame {
            stream: json_val(v.get("stream"), Kind::Int),
            flags,
            vals: VALUE_FIELDS
                .iter()
                .map(|(key, _, kind)| json_val(v.get(*key), *kind))
                .collect(),
        };
        if let Ok(flags) = &frame.flags {
            for f in flags.iter().filter(|f| !FLAGS.contains(&f.as_str())) {
                errors.push(format!("frame {num}: unknown flag name {f:?}"));
            }
        }
        if out.insert(num, frame).is_some() {
            errors.push(format!("frame {num} printed more than once"));
        }
    }
    (out, errors, icmp_quotes)
}

fn flags_str(f: &Result<BTreeSet<String>, String>) -> String {
    match f {
        Ok(s) if s.is_empty() => "[]".into(),
        Ok(s) => format!("[{}]", s.iter().cloned().collect::<Vec<_>>().join(",")),
        Err(e) => format!("INVALID {e}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Report

#[derive(Default, Clone, Copy)]
struct Tally {
    compared: u64,
    agree: u64,
    disagree: u64,
    allowed: u64,
}

#[derive(Default)]
struct GroupDiffs {
    count: u64,
    examples: Vec<String>,
}

/// Collects the comparison results of one test over the corpus.
struct Report {
    fields: Vec<&'static str>,
    tallies: Vec<Tally>,
    /// (file, field) → disagreements not in the allowlist.
    diffs: BTreeMap<(String, &'static str), GroupDiffs>,
    allowed: Vec<String>,
    used_allow: BTreeSet<usize>,
    file_errors: Vec<(String, String)>,
    unit: &'static str,
}

impl Report {
    fn new(fields: Vec<&'static str>, unit: &'static str) -> Self {
        let tallies = vec![Tally::default(); fields.len()];
        Report {
            fields,
            tallies,
            diffs: BTreeMap::new(),
            allowed: Vec::new(),
            used_allow: BTreeSet::new(),
            file_errors: Vec::new(),
            unit,
        }
    }

    fn idx(&self, field: &str) -> usize {
        self.fields
            .iter()
            .position(|f| *f == field)
            .expect("known field")
    }

    /// Records one comparison. `item` is the frame (or stream) number; `what` describes it.
    fn record(
        &mut self,
        (file, item, what): (&str, u64, &str),
        field: &'static str,
        agree: bool,
        ours: String,
        tshark: String,
    ) {
        let i = self.idx(field);
        let t = &mut self.tallies[i];
        t.compared += 1;
        if agree {
            t.agree += 1;
            return;
        }
        let allow = KNOWN_TSHARK_ERRORS.iter().position(|(f, n, fld, _)| {
            *f == file && *n == item && *fld == field && self.unit == "frames"
        });
        if let Some(a) = allow {
            t.allowed += 1;
            self.used_allow.insert(a);
            self.allowed.push(format!(
                "{file} {what} {field}: ours {ours}, tshark {tshark} (allowed: {})",
                KNOWN_TSHARK_ERRORS[a].3
            ));
            return;
        }
        t.disagree += 1;
        let g = self.diffs.entry((file.to_string(), field)).or_default();
        g.count += 1;
        if g.examples.len() < MAX_EXAMPLES {
            g.examples
                .push(format!("{what}: ours {ours} | tshark {tshark}"));
        }
    }

    fn file_error(&mut self, file: &str, msg: String) {
        self.file_errors.push((file.to_string(), msg));
    }

    /// Prints the report; returns true if the test must fail.
    fn print(&self, title: &str) -> bool {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "\n==== {title}: per-field agreement over the corpus ===="
        );
        let _ = writeln!(
            s,
            "{:<18} {:>12} {:>10} {:>10} {:>9}",
            "field",
            format!("{} cmp", self.unit),
            "agree",
            "disagree",
            "allowed"
        );
        for (f, t) in self.fields.iter().zip(&self.tallies) {
            let _ = writeln!(
                s,
                "{:<18} {:>12} {:>10} {:>10} {:>9}",
                f, t.compared, t.agree, t.disagree, t.allowed
            );
        }
        if !self.diffs.is_empty() {
            let _ = writeln!(
                s,
                "\n---- disagreements (up to {MAX_EXAMPLES} examples per file and field) ----"
            );
            for ((file, field), g) in &self.diffs {
                let _ = writeln!(s, "{file}  [{field}]  {} disagreement(s)", g.count);
                for e in &g.examples {
                    let _ = writeln!(s, "    {e}");
                }
            }
        }
        if !self.allowed.is_empty() {
            let _ = writeln!(s, "\n---- allowed by KNOWN_TSHARK_ERRORS ----");
            for a in &self.allowed {
                let _ = writeln!(s, "    {a}");
            }
        }
        if self.unit == "frames" {
            for (i, e) in KNOWN_TSHARK_ERRORS.iter().enumerate() {
                if !self.used_allow.contains(&i)
                    && (file_filter().is_none_or(|f| e.0.contains(f.as_str())))
                {
                    let _ = writeln!(
                        s,
                        "warning: KNOWN_TSHARK_ERRORS entry {:?} frame {} {} matched nothing (stale?)",
                        e.0, e.1, e.2
                    );
                }
            }
        }
        if !self.file_errors.is_empty() {
            let _ = writeln!(s, "\n---- file-level errors ----");
            for (file, e) in &self.file_errors {
                let _ = writeln!(s, "{file}: {e}");
            }
        }
        let failed = !self.diffs.is_empty() || !self.file_errors.is_empty();
        let total: u64 = self.tallies.iter().map(|t| t.disagree).sum();
        let _ = writeln!(
            s,
            "\n{title}: {} ({} disagreement(s), {} file-level error(s))",
            if failed { "FAIL" } else { "OK" },
            total,
            self.file_errors.len()
        );
        println!("{s}");
        failed
    }
}

/// Per-flag counts over frames present on both sides: (tshark, ours, missing, extra).
type FlagTally = BTreeMap<&'static str, [u64; 4]>;

fn print_flag_table(t: &FlagTally) {
    let mut s = String::from("\n---- per-flag counts (frames present on both sides) ----\n");
    let _ = writeln!(
        s,
        "{:<24} {:>8} {:>8} {:>8} {:>8}",
        "flag", "tshark", "ours", "missing", "extra"
    );
    for f in FLAGS {
        let c = t.get(f).copied().unwrap_or_default();
        let _ = writeln!(
            s,
            "{:<24} {:>8} {:>8} {:>8} {:>8}",
            f, c[0], c[1], c[2], c[3]
        );
    }
    println!("{s}");
}

// ---------------------------------------------------------------------------------------------
// Test 1: packets

#[test]
fn packets_match_tshark() {
    let Some(cases) = select_cases("packets", ".tsv.gz") else {
        return;
    };
    let outputs = par_map(&cases, |c| {
        run_tcpsleuth("packets", "jsonl", c, ".packets.jsonl")
    });
    let mut report = Report::new(packet_field_names(), "frames");
    let mut flag_tally: FlagTally = BTreeMap::new();
    let mut icmp_total = 0;
    for (case, out) in cases.iter().zip(outputs) {
        let file = case.rel.as_str();
        let Some((golden, out)) = comparable(&mut report, case, out, "packets", golden_frames)
        else {
            continue;
        };
        let (ours, errors, icmp) = our_frames(&out.stdout);
        icmp_total += icmp;
        let n_errors = errors.len();
        for e in errors.into_iter().take(MAX_EXAMPLES) {
            report.file_error(file, e);
        }
        if n_errors > MAX_EXAMPLES {
            report.file_error(
                file,
                format!("... {} more output error(s)", n_errors - MAX_EXAMPLES),
            );
        }
        let all: BTreeSet<u64> = golden.keys().chain(ours.keys()).copied().collect();
        for n in all {
            let what = format!("frame {n}");
            let (o, g) = match (ours.get(&n), golden.get(&n)) {
                (Some(o), Some(g)) => (o, g),
                (o, g) => {
                    let desc = |x: Option<&Frame>| {
                        x.map_or("absent".to_string(), |f| {
                            format!("present (stream {})", val_str(&f.stream))
                        })
                    };
                    report.record((file, n, &what), "presence", false, desc(o), desc(g));
                    continue;
                }
            };
            report.record(
                (file, n, &what),
                "presence",
                true,
                String::new(),
                String::new(),
            );
            report.record(
                (file, n, &what),
                "stream",
                val_eq(&o.stream, &g.stream),
                val_str(&o.stream),
                val_str(&g.stream),
            );
            report.record(
                (file, n, &what),
                "flags",
                o.flags == g.flags,
                flags_str(&o.flags),
                flags_str(&g.flags),
            );
            if let (Ok(of), Ok(gf)) = (&o.flags, &g.flags) {
                for f in FLAGS {
                    let (in_o, in_g) = (of.contains(f), gf.contains(f));
                    let c = flag_tally.entry(f).or_default();
                    c[0] += u64::from(in_g);
                    c[1] += u64::from(in_o);
                    c[2] += u64::from(in_g && !in_o);
                    c[3] += u64::from(in_o && !in_g);
                }
            }
            for (i, (key, _, _)) in VALUE_FIELDS.iter().enumerate() {
                report.record(
                    (file, n, &what),
                    key,
                    val_eq(&o.vals[i], &g.vals[i]),
                    val_str(&o.vals[i]),
                    val_str(&g.vals[i]),
                );
            }
        }
    }
    print_flag_table(&flag_tally);
    if icmp_total > 0 {
        println!("tcpsleuth marked {icmp_total} frame(s) as icmp_quote");
    }
    let failed = report.print("packets vs tshark 4.0.17");
    assert!(
        !failed,
        "tcpsleuth packets disagrees with tshark (see the report above)"
    );
}

// ---------------------------------------------------------------------------------------------
// Connections: expected per-stream sums from the per-frame golden

type Ep = (IpAddr, u16);
/// (from, to) → (packets, on-wire bytes)
type Dirs = BTreeMap<(Ep, Ep), (u64, u64)>;

fn parse_ep(ip: &str, port: &str) -> Option<Ep> {
    Some((ip.parse().ok()?, port.parse().ok()?))
}

/// Per-stream direction sums from the golden TSV, skipping `exclude`d frames.
fn golden_streams(tsv: &Tsv, exclude: &BTreeSet<u64>) -> Result<BTreeMap<u64, Dirs>, String> {
    let mut out: BTreeMap<u64, Dirs> = BTreeMap::new();
    for row in &tsv.rows {
        let stream = tsv.get(row, "tcp.stream");
        if stream.is_empty() {
            continue;
        }
        let num: u64 = tsv
            .get(row, "frame.number")
            .parse()
            .map_err(|_| "bad frame.number")?;
        if exclude.contains(&num) {
            continue;
        }
        let stream: u64 = stream
            .parse()
            .map_err(|_| format!("frame {num}: bad tcp.stream"))?;
        let pick = |a: &str, b: &str| {
            let v = tsv.get(row, a);
            if v.is_empty() {
                tsv.get(row, b)
            } else {
                v
            }
        };
        let src = parse_ep(pick("ip.src", "ipv6.src"), tsv.get(row, "tcp.srcport"))
            .ok_or_else(|| format!("frame {num}: no source address/port in golden"))?;
        let dst = parse_ep(pick("ip.dst", "ipv6.dst"), tsv.get(row, "tcp.dstport"))
            .ok_or_else(|| format!("frame {num}: no destination address/port in golden"))?;
        let len: u64 = tsv
            .get(row, "frame.len")
            .parse()
            .map_err(|_| format!("frame {num}: bad frame.len"))?;
        let d = out
            .entry(stream)
            .or_default()
            .entry((src, dst))
            .or_default();
        d.0 += 1;
        d.1 += len;
    }
    for (s, dirs) in &out {
        let eps: BTreeSet<Ep> = dirs.keys().flat_map(|(a, b)| [*a, *b]).collect();
        if eps.len() > 2 {
            return Err(format!(
                "stream {s}: frames with more than two endpoints (ICMP quote or tunnel?): {eps:?}"
            ));
        }
    }
    Ok(out)
}

fn dirs_str(d: &Dirs, bytes: bool) -> String {
    d.iter()
        .map(|((a, b), (p, n))| {
            format!(
                "{}:{}->{}:{}={}",
                a.0,
                a.1,
                b.0,
                b.1,
                if bytes { *n } else { *p }
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn endpoints(d: &Dirs) -> BTreeSet<Ep> {
    d.keys().flat_map(|(a, b)| [*a, *b]).collect()
}

fn eps_str(e: &BTreeSet<Ep>) -> String {
    e.iter()
        .map(|(ip, p)| format!("{ip}:{p}"))
        .collect::<Vec<_>>()
        .join(" <-> ")
}

/// Parses our `connections --format json` output into stream → directions.
fn our_streams(stdout: &str) -> Result<BTreeMap<u64, Dirs>, String> {
    let v: Value = serde_json::from_str(stdout).map_err(|e| format!("stdout is not JSON: {e}"))?;
    let conns = v
        .get("connections")
        .and_then(Value::as_array)
        .ok_or("no \"connections\" array")?;
    let mut out = BTreeMap::new();
    for (i, c) in conns.iter().enumerate() {
        let ctx = |m: &str| format!("connections[{i}]: {m}");
        let stream = c
            .get("stream")
            .and_then(Value::as_u64)
            .ok_or_else(|| ctx("no integer stream"))?;
        let ep = |k: &str| -> Result<Ep, String> {
            let e = c.get(k).ok_or_else(|| ctx(&format!("no {k}")))?;
            let ip = e
                .get("ip")
                .and_then(Value::as_str)
                .and_then(|s| s.parse::<IpAddr>().ok())
                .ok_or_else(|| ctx(&format!("bad {k}.ip")))?;
            let port = e
                .get("port")
                .and_then(Value::as_u64)
                .and_then(|p| u16::try_from(p).ok())
                .ok_or_else(|| ctx(&format!("bad {k}.port")))?;
            Ok((ip, port))
        };
        let (client, server) = (ep("client")?, ep("server")?);
        let counts = |k: &str| -> Result<(u64, u64), String> {
            let d = c.get(k).ok_or_else(|| ctx(&format!("no {k}")))?;
            let p = d.get("packets").and_then(Value::as_u64);
            let b = d.get("frame_bytes").and_then(Value::as_u64);
            match (p, b) {
                (Some(p), Some(b)) => Ok((p, b)),
                _ => Err(ctx(&format!("{k} lacks integer packets/frame_bytes"))),
            }
        };
        let mut dirs = Dirs::new();
        for (key, from, to) in [
            ("client_to_server", client, server),
            ("server_to_client", server, client),
        ] {
            let (p, b) = counts(key)?;
            if p != 0 || b != 0 {
                let d = dirs.entry((from, to)).or_insert((0, 0));
                d.0 += p;
                d.1 += b;
            }
        }
        if dirs.is_empty() {
            // keep the endpoints visible for a zero-frame connection
            dirs.insert((client, server), (0, 0));
        }
        if out.insert(stream, dirs).is_some() {
            return Err(format!("stream {stream} listed more than once"));
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Test 2: connections

#[test]
fn connections_match_tshark() {
    let Some(cases) = select_cases("connections", ".tsv.gz") else {
        return;
    };
    let outputs = par_map(&cases, |c| {
        run_tcpsleuth("connections", "json", c, ".connections.json")
    });
    let mut report = Report::new(
        vec!["presence", "endpoints", "packets", "frame_bytes"],
        "streams",
    );
    for (case, out) in cases.iter().zip(outputs) {
        let file = case.rel.as_str();
        let Some((golden, out)) = comparable(&mut report, case, out, "connections", |t| {
            golden_streams(t, &BTreeSet::new())
        }) else {
            continue;
        };
        let ours = match our_streams(&out.stdout) {
            Ok(o) => o,
            Err(e) => {
                report.file_error(file, e);
                continue;
            }
        };
        let all: BTreeSet<u64> = golden.keys().chain(ours.keys()).copied().collect();
        for s in all {
            let what = format!("stream {s}");
            let (o, g) = match (ours.get(&s), golden.get(&s)) {
                (Some(o), Some(g)) => (o, g),
                (o, g) => {
                    let desc = |x: Option<&Dirs>| {
                        x.map_or("absent".to_string(), |d| {
                            format!("present ({})", eps_str(&endpoints(d)))
                        })
                    };
                    report.record((file, s, &what), "presence", false, desc(o), desc(g));
                    continue;
                }
            };
            report.record(
                (file, s, &what),
                "presence",
                true,
                String::new(),
                String::new(),
            );
            let (oe, ge) = (endpoints(o), endpoints(g));
            report.record(
                (file, s, &what),
                "endpoints",
                oe == ge,
                eps_str(&oe),
                eps_str(&ge),
            );
            let proj = |d: &Dirs, bytes: bool| -> BTreeMap<(Ep, Ep), u64> {
                d.iter()
                    .map(|(k, (p, b))| (*k, if bytes { *b } else { *p }))
                    .filter(|(_, v)| *v != 0)
                    .collect()
            };
            report.record(
                (file, s, &what),
                "packets",
                proj(o, false) == proj(g, false),
                dirs_str(o, false),
                dirs_str(g, false),
            );
            report.record(
                (file, s, &what),
                "frame_bytes",
                proj(o, true) == proj(g, true),
                dirs_str(o, true),
                dirs_str(g, true),
            );
        }
    }
    let failed = report.print("connections vs tshark 4.0.17 (sums of the per-frame golden)");
    assert!(
        !failed,
        "tcpsleuth connections disagrees with tshark (see the report above)"
    );
}

// ---------------------------------------------------------------------------------------------
// Test 3: the goldens agree with tshark's conversation tables (no corpus or binary needed)

/// tshark 4.0's format_size(): raw up to 9 999 bytes, then truncated SI units.
fn tshark_size(n: u64) -> String {
    const UNITS: [(u64, &str); 4] = [
        (1_000_000_000_000, "TB"),
        (1_000_000_000, "GB"),
        (1_000_000, "MB"),
        (1_000, "kB"),
    ];
    for (p, u) in UNITS {
        if n / p >= 10 {
            return format!("{} {u}", n / p);
        }
    }
    format!("{n} bytes")
}

/// A conv-table row normalised: sorted [(endpoint, frames sent, bytes sent as printed)],
/// total frames, total bytes as printed.
type ConvRow = (Vec<(Ep, u64, String)>, u64, String);

fn parse_conv_ep(s: &str) -> Option<Ep> {
    let (ip, port) = s.rsplit_once(':')?;
    let ip = ip.trim_start_matches('[').trim_end_matches(']');
    parse_ep(ip, port)
}

/// Parses `tshark -q -z conv,tcp` (4.0.17):
/// `A:port <-> B:port  F(B→A) N unit  F(A→B) N unit  F(total) N unit  rel_start duration`;
/// the `<-` column counts frames towards A, `->` frames from A; bytes use tshark_size units.
fn parse_conv(text: &str) -> Result<Vec<ConvRow>, String> {
    let mut rows = Vec::new();
    for line in text.lines().filter(|l| l.contains("<->")) {
        let t: Vec<&str> = line.split_whitespace().collect();
        if t.len() != 14 || t[1] != "<->" {
            return Err(format!("unexpected conv line: {line}"));
        }
        let a = parse_conv_ep(t[0]).ok_or_else(|| format!("bad endpoint in {line}"))?;
        let b = parse_conv_ep(t[2]).ok_or_else(|| format!("bad endpoint in {line}"))?;
        let num = |s: &str| {
            s.parse::<u64>()
                .map_err(|_| format!("bad number {s:?} in {line}"))
        };
        let (f_ba, f_ab, f_tot) = (num(t[3])?, num(t[6])?, num(t[9])?);
        let size = |i: usize| format!("{} {}", t[i], t[i + 1]);
        let mut eps = vec![(a, f_ab, size(7)), (b, f_ba, size(4))];
        eps.sort();
        rows.push((eps, f_tot, size(10)));
    }
    Ok(rows)
}

fn conv_row_from_dirs(d: &Dirs) -> ConvRow {
    let eps = endpoints(d);
    let sent = |e: Ep| -> (u64, u64) {
        d.iter()
            .filter(|((from, _), _)| *from == e)
            .fold((0, 0), |acc, (_, (p, b))| (acc.0 + p, acc.1 + b))
    };
    let mut v: Vec<(Ep, u64, String)> = eps
        .iter()
        .map(|e| {
            let (p, b) = sent(*e);
            (*e, p, tshark_size(b))
        })
        .collect();
    if v.len() == 1 {
        // a stream between an endpoint and itself: tshark still prints two sides
        v.push(v[0].clone());
    }
    v.sort();
    let (p, b) = d
        .values()
        .fold((0, 0), |acc, (p, b)| (acc.0 + p, acc.1 + b));
    (v, p, tshark_size(b))
}

#[test]
fn golden_tsv_agrees_with_conv_tables() {
    let dir = golden_dir();
    let index = read_index(&dir);
    let mut names: Vec<(String, String)> = index
        .iter()
        .map(|(n, e)| (n.clone(), e.rel.clone()))
        .collect();
    names.sort();
    if names.is_empty() {
        println!("[golden] SKIPPED: no {}/INDEX.tsv", dir.display());
        return;
    }
    let filter = file_filter();
    let (mut ok, mut rows_total, mut failures) = (0, 0, Vec::new());
    let mut used_excl = BTreeSet::new();
    for (name, rel) in names {
        if filter.as_ref().is_some_and(|f| !rel.contains(f.as_str())) {
            continue;
        }
        let exclude: BTreeSet<u64> = CONV_TAP_EXCLUDED
            .iter()
            .enumerate()
            .filter(|(_, e)| e.0 == rel)
            .map(|(i, e)| {
                used_excl.insert(i);
                e.1
            })
            .collect();
        let res = (|| -> Result<usize, String> {
            let tsv = read_tsv(&dir.join(format!("{name}.tsv.gz")))?;
            let streams = golden_streams(&tsv, &exclude)?;
            let conv_text = std::fs::read_to_string(dir.join(format!("{name}.conv.txt")))
                .map_err(|e| format!("{name}.conv.txt: {e}"))?;
            let conv = parse_conv(&conv_text)?;
            let mut expected: BTreeMap<ConvRow, i64> = BTreeMap::new();
            for d in streams.values() {
                *expected.entry(conv_row_from_dirs(d)).or_default() += 1;
            }
            let n = conv.len();
            for r in conv {
                *expected.entry(r).or_default() -= 1;
            }
            let bad: Vec<String> = expected
                .iter()
                .filter(|(_, c)| **c != 0)
                .take(MAX_EXAMPLES)
                .map(|(r, c)| {
                    format!(
                        "{} {:?}",
                        if *c > 0 {
                            "only in TSV:"
                        } else {
                            "only in conv:"
                        },
                        r
                    )
                })
                .collect();
            if bad.is_empty() {
                Ok(n)
            } else {
                Err(bad.join("\n    "))
            }
        })();
        match res {
            Ok(n) => {
                ok += 1;
                rows_total += n;
            }
            Err(e) => failures.push(format!("{rel}:\n    {e}")),
        }
    }
    for (i, e) in CONV_TAP_EXCLUDED.iter().enumerate() {
        if !used_excl.contains(&i) && filter.as_ref().is_none_or(|f| e.0.contains(f.as_str())) {
            failures.push(format!(
                "CONV_TAP_EXCLUDED entry {}#{} has no golden",
                e.0, e.1
            ));
        }
    }
    println!(
        "[golden] {ok} golden(s) agree with their conv,tcp table ({rows_total} conversation rows; {} frame(s) known to be left out of the table by tshark)",
        CONV_TAP_EXCLUDED.len()
    );
    for f in &failures {
        println!("[golden] MISMATCH {f}");
    }
    assert!(
        failures.is_empty(),
        "goldens disagree with tshark's conv tables"
    );
}

#[test]
fn time_parsing() {
    assert_eq!(parse_tshark_time("0.011000000"), Some(11_000_000));
    assert_eq!(
        parse_tshark_time("-668322441.995528000"),
        Some(-668_322_441_995_528_000)
    );
    assert_eq!(parse_tshark_time("1.5"), Some(1_500_000_000));
    assert_eq!(parse_tshark_time("x"), None);
    assert!(time_eq(0.011, 11_000_000));
    assert!(!time_eq(0.011000001, 11_000_000));
    assert!(time_eq(-668322441.995528, -668_322_441_995_528_000));
    assert_eq!(fmt_ns(-1_500), "-0.000001500");
    assert_eq!(tshark_size(9_999), "9999 bytes");
    assert_eq!(tshark_size(14_999), "14 kB");
}
