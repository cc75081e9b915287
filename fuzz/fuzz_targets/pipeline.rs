//! The whole CLI on arbitrary bytes: `analyze` (capture → decode → analyze → diagnose, with
//! streaming retention and eviction, matching two captures, and the text, JSON or HTML
//! report), `packets` (table or JSON lines) and `connections` (table and JSON).
//!
//! The CLI is a binary crate, so its modules are compiled in here from their source files
//! rather than copied: the target exercises exactly the code users run. The input is written
//! to a file because the HTML report reads its capture a second time for the graphs.
#![no_main]
#![allow(dead_code)] // the CLI modules have parts (argument parsing, terminal queries) unused here

#[path = "../../crates/cli/args.rs"]
mod args;
#[path = "../../crates/cli/frames.rs"]
mod frames;
#[path = "../../crates/cli/output.rs"]
mod output;
#[path = "../../crates/cli/pipeline.rs"]
mod pipeline;
#[path = "../../crates/cli/report.rs"]
mod report;
#[path = "../../crates/cli/results.rs"]
mod results;
#[path = "../../crates/cli/series.rs"]
mod series;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tcpsleuth_analyze::Retention;

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

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Text,
    Html,
}

const TEXT: report::TextOptions = report::TextOptions {
    brief: false,
    verbose: true,
    color: false,
    width: Some(80),
};

/// `analyze` as main.rs runs it, on the file given twice (so that the captures are matched
/// against each other): the second time with room for only a few connections at once, so that
/// eviction runs too.
fn analyze(path: &Path, format: Format) -> Vec<report::Diagnosed> {
    let mut all = Vec::new();
    for max_live in [Retention::default().max_live, 3] {
        // No progress bar (the default), and whatever else main.rs leaves at its default.
        let stages = pipeline::Stages {
            correlate: true,
            ..pipeline::Stages::default()
        };
        let keep = match format {
            Format::Json => results::Keep::Json,
            Format::Text => results::Keep::Text(TEXT),
            Format::Html => results::Keep::Memory,
        };
        let mut store = results::Store::new(keep, all.len());
        let mut sink = |summary, diagnosis| store.add(summary, diagnosis);
        let retention = Retention {
            max_live,
            ..Retention::default()
        };
        let input = pipeline::Input::file(path);
        let run = pipeline::diagnose(&input, stages, retention, &mut sink)
            .expect("nothing but the capture can fail");
        let Ok(outcome) = run else {
            return all;
        };
        let kept = store.into_report().expect("the results spill file works");
        all.push(report::Diagnosed::new(&input, outcome, kept));
    }
    all
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

    // The report format follows the input's length, so that mutations reach all three
    // without a format byte in front of the capture.
    let format = [Format::Json, Format::Text, Format::Html][data.len() % 3];
    let mut all = analyze(path, format);
    if !all.is_empty() {
        let paths = report::paths(&mut all);
        let mut out = Vec::new();
        match format {
            Format::Json => {
                report::json(&mut out, &mut all, &paths).expect("JSON report");
                serde_json::from_slice::<serde_json::Value>(&out).expect("the JSON report is JSON");
            }
            Format::Text => {
                report::text(&mut out, &mut all, &paths, &TEXT).expect("text report");
                let text = String::from_utf8(out).expect("the text report is UTF-8");
                no_terminal_controls(&text, "the text report");
            }
            Format::Html => {
                report::html(&mut out, &all, &paths).expect("HTML report");
                let html = String::from_utf8(out).expect("the HTML report is UTF-8");
                // The report's own two scripts, and nothing a capture smuggled in.
                assert_eq!(
                    html.matches("<script").count(),
                    2,
                    "a script in the HTML report"
                );
            }
        }
    }

    // `packets` (one format or the other) and `connections` (both).
    let packets = if data.len() % 2 == 0 {
        args::PacketsFormat::Table
    } else {
        args::PacketsFormat::Jsonl
    };
    let mut printer = output::PacketPrinter::new(packets);
    let mut lines = Vec::new();
    let stages = pipeline::Stages::default();
    let run = pipeline::run(&pipeline::Input::file(path), stages, |event| {
        printer.packet(&mut lines, event)
    })
    .expect("writing to memory cannot fail");
    let lines = String::from_utf8(lines).expect("packet lines are UTF-8");
    if packets == args::PacketsFormat::Jsonl {
        for line in lines.lines() {
            serde_json::from_str::<serde_json::Value>(line).expect("each packets line is JSON");
        }
    } else {
        no_terminal_controls(&lines, "the packets table");
    }
    if let Ok(outcome) = run {
        let all = [(path.clone(), outcome)];
        let mut out = Vec::new();
        output::connections_json(&mut out, &all).expect("connections JSON");
        serde_json::from_slice::<serde_json::Value>(&out).expect("connections JSON is JSON");
        let mut out = Vec::new();
        output::connections_table(&mut out, &all).expect("connections table");
        no_terminal_controls(
            &String::from_utf8(out).expect("UTF-8"),
            "the connections table",
        );
    }
}

fuzz_target!(|data: &[u8]| check(data));
