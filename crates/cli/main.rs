//! tcpsleuth: finds why a TCP connection misbehaved, from packet captures.
//!
//! The binary only connects the stages: flags → pipeline (capture → decode → analyze) →
//! printer → exit code. Exit codes: 0 ok (a truncated capture is a warning), 1 an input could
//! not be analysed (unreadable, not a capture, or damaged mid-file: what was readable is still
//! printed), 2 usage error.

mod args;
mod output;
mod pipeline;
mod report;

use std::io::{self, Write};
use std::process::ExitCode;

use clap::Parser;

use args::{AnalyzeFormat, Cli, Command, ConnectionsFormat, PacketsFormat};

fn main() -> ExitCode {
    let cli = Cli::parse_from(with_default_command(std::env::args_os().collect()));
    match run(&cli) {
        Ok(code) => code,
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("tcpsleuth: error: {err:#}");
            ExitCode::from(1)
        }
    }
}

/// `tcpsleuth [OPTIONS] CAPTURE...` means `tcpsleuth analyze [OPTIONS] CAPTURE...`: when the
/// first word that is not an option is not a subcommand, `analyze` is inserted.
fn with_default_command(mut args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    let first_word = args.iter().skip(1).find_map(|a| {
        let a = a.to_string_lossy();
        (!a.starts_with('-') || a == "-").then(|| a.into_owned())
    });
    if first_word.is_some_and(|w| !args::SUBCOMMANDS.contains(&w.as_str())) {
        args.insert(1, "analyze".into());
    }
    args
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}

fn run(cli: &Cli) -> anyhow::Result<ExitCode> {
    let stdout = io::stdout().lock();
    let mut out = io::BufWriter::with_capacity(1 << 16, stdout);
    let mut failed = false;
    match &cli.command {
        Command::Analyze {
            captures,
            format,
            brief,
        } => {
            let mut all = Vec::new();
            for path in captures {
                let stages = pipeline::Stages {
                    diagnose: true,
                    correlate: captures.len() > 1,
                };
                match pipeline::run(path, stages, |_| Ok(()))? {
                    Ok(outcome) => {
                        failed |= report_damage(&outcome);
                        all.push(report::Diagnosed::new(path.clone(), outcome));
                    }
                    Err(unreadable) => failed |= report_unreadable(&unreadable),
                }
            }
            let paths = report::paths(&mut all);
            match format {
                _ if all.is_empty() => {}
                AnalyzeFormat::Json => report::json(&mut out, &all, &paths)?,
                AnalyzeFormat::Text => report::text(&mut out, &all, &paths, *brief)?,
            }
        }
        Command::Packets { captures, format } => {
            for path in captures {
                let mut printer = output::PacketPrinter::new(*format);
                if matches!(format, PacketsFormat::Table) && captures.len() > 1 {
                    writeln!(out, "== {}", path.display())?;
                }
                match pipeline::run(path, pipeline::Stages::default(), |event| {
                    printer.packet(&mut out, event)
                })? {
                    Ok(outcome) => failed |= report_damage(&outcome),
                    Err(unreadable) => failed |= report_unreadable(&unreadable),
                }
            }
        }
        Command::Connections { captures, format } => {
            let mut all = Vec::new();
            for path in captures {
                match pipeline::run(path, pipeline::Stages::default(), |_| Ok(()))? {
                    Ok(outcome) => {
                        failed |= report_damage(&outcome);
                        all.push((path.clone(), outcome));
                    }
                    Err(unreadable) => failed |= report_unreadable(&unreadable),
                }
            }
            match format {
                // Nothing readable: the errors on stderr are the whole answer.
                _ if all.is_empty() => {}
                ConnectionsFormat::Json => output::connections_json(&mut out, &all)?,
                ConnectionsFormat::Table => output::connections_table(&mut out, &all)?,
            }
        }
    }
    out.flush()?;
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// One capture that cannot be opened does not stop the others; the run fails at the end.
fn report_unreadable(err: &tcpsleuth_capture::CaptureError) -> bool {
    eprintln!("tcpsleuth: error: {err}");
    true
}

/// Prints a capture's damage to stderr; returns true when it makes the run a failure.
fn report_damage(outcome: &pipeline::Outcome) -> bool {
    match &outcome.damage {
        None => false,
        Some(err) if err.is_truncation() => {
            eprintln!("tcpsleuth: warning: {err}; the frames before it were analysed");
            false
        }
        Some(err) => {
            eprintln!("tcpsleuth: error: {err}; the frames before it were analysed");
            true
        }
    }
}
