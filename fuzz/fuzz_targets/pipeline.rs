//! The whole `analyze` path on arbitrary bytes: capture → decode → analyze → diagnose, the
//! `packets` printers, matching two captures, and the text, JSON and HTML reports.
//!
//! The CLI is a binary crate, so its modules are compiled in here from their source files
//! rather than copied: the target exercises exactly the code users run. The input is written
//! to a file because the HTML report reads its capture a second time for the graphs.
#![no_main]
#![allow(dead_code)] // the CLI modules have parts (argument parsing, terminal queries) unused here

#[path = "../../crates/cli/args.rs"]
mod args;
#[path = "../../crates/cli/output.rs"]
mod output;
#[path = "../../crates/cli/pipeline.rs"]
mod pipeline;
#[path = "../../crates/cli/report.rs"]
mod report;
#[path = "../../crates/cli/series.rs"]
mod series;

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

/// One file per fuzzing process (libFuzzer's -fork/-jobs run several).
fn scratch() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let dir = std::env::var_os("TCPSLEUTH_FUZZ_TMP")
            .map(PathBuf::from)
            .unwrap_or_else(std::env::temp_dir);
        dir.join(format!("tcpsleuth-fuzz-{}.cap", std::process::id()))
    })
}

fn run_one(path: &std::path::Path, format: args::PacketsFormat) -> Option<report::Diagnosed> {
    let stages = pipeline::Stages {
        diagnose: true,
        correlate: true,
        progress: false,
    };
    let mut printer = output::PacketPrinter::new(format);
    let mut packets = Vec::new();
    let outcome = pipeline::run(path, stages, |event| printer.packet(&mut packets, event))
        .expect("writing to memory cannot fail")
        .ok()?;
    let packets = String::from_utf8(packets).expect("packet lines are UTF-8");
    if format == args::PacketsFormat::Jsonl {
        for line in packets.lines() {
            serde_json::from_str::<serde_json::Value>(line).expect("each packets line is JSON");
        }
    }
    Some(report::Diagnosed::new(path.to_owned(), outcome))
}

fn no_terminal_controls(text: &str, what: &str) {
    assert!(
        !text.chars().any(|c| c.is_control() && c != '\n'),
        "{what} carries a control character: {text:?}"
    );
}

fn check(data: &[u8]) {
    let path = scratch();
    std::fs::write(path, data).expect("the scratch file can be written");
    output::set_quiet(true);
    // Two captures (the same bytes twice, one per packets format) so that the matching of
    // captures runs too.
    let mut all: Vec<report::Diagnosed> = [args::PacketsFormat::Table, args::PacketsFormat::Jsonl]
        .into_iter()
        .filter_map(|f| run_one(path, f))
        .collect();
    if all.is_empty() {
        return;
    }
    let paths = report::paths(&mut all);

    let mut json = Vec::new();
    report::json(&mut json, &all, &paths).expect("JSON report");
    serde_json::from_slice::<serde_json::Value>(&json).expect("the JSON report is JSON");

    let mut html = Vec::new();
    report::html(&mut html, &all, &paths).expect("HTML report");
    let html = String::from_utf8(html).expect("the HTML report is UTF-8");
    // The report's own two scripts, and nothing a capture smuggled in.
    assert_eq!(
        html.matches("<script").count(),
        2,
        "a script appeared in the HTML report"
    );

    let opts = report::TextOptions {
        brief: false,
        verbose: true,
        color: false,
        width: Some(80),
    };
    let mut text = Vec::new();
    report::text(&mut text, &all, &paths, &opts).expect("text report");
    let text = String::from_utf8(text).expect("the text report is UTF-8");
    no_terminal_controls(&text, "the text report");
}

fuzz_target!(|data: &[u8]| check(data));
