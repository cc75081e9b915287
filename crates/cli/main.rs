//! tcpsleuth: finds why a TCP connection misbehaved, from packet captures.
//!
//! The binary only connects the stages: flags → pipeline (capture → decode → analyze) →
//! printer → exit code. Exit codes: 0 ok (a truncated capture is a warning), 1 an input could
//! not be analysed (unreadable, not a capture, or damaged mid-file: what was readable is still
//! printed), 2 usage error.

mod args;
mod frames;
mod host;
mod live;
mod output;
mod pipeline;
mod query;
mod report;
mod results;
mod series;
mod sockets;
mod tables;

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use tcpsleuth_analyze::Retention;

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
/// first word that is neither an option nor an option's value is not a subcommand, `analyze`
/// is inserted.
fn with_default_command(mut args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    let takes_value = args::options_with_values();
    let mut words = args.iter().skip(1).map(|a| a.to_string_lossy());
    let mut first_word = None;
    while let Some(word) = words.next() {
        if !word.starts_with('-') || word == "-" {
            first_word = Some(word.into_owned());
            break;
        }
        // In `tcpsleuth --color never packets x.pcap`, `never` is no capture.
        if takes_value.iter().any(|o| *o == word) {
            words.next();
        }
    }
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
    output::set_quiet(cli.quiet);
    // A progress bar needs a terminal on stderr; and when the command streams its output to
    // the same terminal (`packets`), the two would garble each other.
    let progress = |streams: bool| {
        !cli.quiet && io::stderr().is_terminal() && !(streams && io::stdout().is_terminal())
    };
    let stdout = io::stdout().lock();
    let mut out = io::BufWriter::with_capacity(1 << 16, stdout);
    let mut failed = false;
    match &cli.command {
        Command::Analyze {
            captures,
            format,
            brief,
            output,
            max_connections,
            shard,
            rotated,
        } => {
            let (inputs, unreadable) = inputs(captures, *rotated)?;
            failed |= unreadable;
            let retention = Retention {
                max_live: *max_connections,
                ..Retention::default()
            };
            // Tables instead of a report: clap requires -o DIR with parquet.
            if let (AnalyzeFormat::Parquet, Some(dir)) = (format, output) {
                let stages = pipeline::Stages {
                    progress: progress(false),
                    shard: *shard,
                    ..pipeline::Stages::default()
                };
                failed |= tables::analyze(&inputs, dir, stages, retention)?;
                return Ok(exit_code(failed));
            }
            // With -o the report goes to a file (no colour, no wrapping: not a terminal).
            let mut file = match output {
                Some(path) => Some(io::BufWriter::new(std::fs::File::create(path).map_err(
                    |e| anyhow::anyhow!("{}: cannot write the report: {e}", path.display()),
                )?)),
                None => None,
            };
            let to_file = file.is_some();
            let text_options = report::TextOptions {
                brief: *brief,
                verbose: cli.verbose,
                color: !to_file && output::use_color(cli.color),
                width: if to_file { None } else { output::wrap_width() },
            };
            let mut all = Vec::new();
            for input in &inputs {
                let stages = pipeline::Stages {
                    correlate: inputs.len() > 1,
                    progress: progress(false),
                    shard: *shard,
                };
                let keep = match format {
                    AnalyzeFormat::Json => results::Keep::Json,
                    AnalyzeFormat::Text => results::Keep::Text(text_options),
                    AnalyzeFormat::Html | AnalyzeFormat::Parquet => results::Keep::Memory,
                };
                let mut store = results::Store::new(keep, all.len());
                store.name_frames(frames::FrameNames::of(input));
                let mut sink = |summary, diagnosis| store.add(summary, diagnosis);
                let run = pipeline::diagnose(input, stages, retention, &mut sink)?;
                match run {
                    Ok(outcome) => {
                        failed |= report_damage(&outcome);
                        let kept = store.into_report()?;
                        all.push(report::Diagnosed::new(input, outcome, kept));
                    }
                    Err(unreadable) => failed |= report_unreadable(&unreadable),
                }
            }
            let paths = report::paths(&mut all);
            let mut sink: &mut dyn Write = match file.as_mut() {
                Some(f) => f,
                None => &mut out,
            };
            match format {
                _ if all.is_empty() => {}
                AnalyzeFormat::Json => report::json(&mut sink, &mut all, &paths)?,
                AnalyzeFormat::Html => report::html(&mut sink, &all, &paths)?,
                AnalyzeFormat::Text => report::text(&mut sink, &mut all, &paths, &text_options)?,
                // Written by tables::analyze above.
                AnalyzeFormat::Parquet => {}
            }
            if let Some(mut f) = file {
                f.flush()?;
            }
        }
        Command::Packets {
            captures,
            format,
            output,
            shard,
            rotated,
        } => {
            let (inputs, unreadable) = inputs(captures, *rotated)?;
            failed |= unreadable;
            // One Parquet part holds every capture's rows; table and JSON lines go to stdout.
            let mut printer = match (format, output) {
                (PacketsFormat::Parquet, Some(dir)) => output::PacketPrinter::parquet(dir, *shard)?,
                _ => output::PacketPrinter::new(*format),
            };
            for input in &inputs {
                printer.start_capture(input);
                if matches!(format, PacketsFormat::Table) && inputs.len() > 1 {
                    writeln!(
                        out,
                        "== {}",
                        tcpsleuth_capture::printable(&input.name.display().to_string())
                    )?;
                }
                let stages = pipeline::Stages {
                    progress: progress(true),
                    ..pipeline::Stages::default()
                };
                let on_tcp = |event: &pipeline::TcpEvent<'_>| {
                    if pipeline::in_shard(*shard, event.segment) {
                        printer.packet(&mut out, event)
                    } else {
                        Ok(())
                    }
                };
                match pipeline::run(input, stages, on_tcp)? {
                    Ok(outcome) => failed |= report_damage(&outcome),
                    Err(unreadable) => failed |= report_unreadable(&unreadable),
                }
            }
            if let Some(written) = printer.finish()? {
                tables::report_written(&written);
            }
        }
        Command::Connections {
            captures,
            format,
            rotated,
        } => {
            let (inputs, unreadable) = inputs(captures, *rotated)?;
            failed |= unreadable;
            let mut all = Vec::new();
            for input in &inputs {
                let stages = pipeline::Stages {
                    progress: progress(false),
                    ..pipeline::Stages::default()
                };
                match pipeline::run(input, stages, |_| Ok(()))? {
                    Ok(outcome) => {
                        failed |= report_damage(&outcome);
                        all.push((input.name.clone(), outcome));
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
        Command::Live {
            interface,
            filter,
            duration,
            write,
            buffer,
            status_every,
            stall_after,
            format,
        } => {
            let seconds = |name: &str, s: f64| {
                if s.is_finite() && s > 0.0 {
                    Ok(std::time::Duration::from_secs_f64(s))
                } else {
                    Err(anyhow::anyhow!(
                        "{name} takes a positive number of seconds, not {s}"
                    ))
                }
            };
            let opts = live::LiveOptions {
                interface: interface.clone(),
                filter: filter.clone(),
                duration: duration.map(|d| seconds("--duration", d)).transpose()?,
                write: write.clone(),
                buffer_mib: *buffer,
                status_every: seconds("--status-every", *status_every)?,
                stall_after: seconds("--stall-after", *stall_after)?,
                format: *format,
                text: report::TextOptions {
                    brief: false,
                    verbose: cli.verbose,
                    color: output::use_color(cli.color),
                    width: output::wrap_width(),
                },
                quiet: cli.quiet,
            };
            failed |= live::live(&mut out, &opts)?;
        }
        Command::Sockets {
            pid,
            port,
            watch,
            count,
            rate,
            format,
            all,
        } => {
            let watch = match watch {
                Some(s) if !(s.is_finite() && *s > 0.0) => {
                    anyhow::bail!("--watch takes a positive number of seconds, not {s}")
                }
                Some(s) => Some(std::time::Duration::from_secs_f64(*s)),
                None => None,
            };
            let opts = sockets::SocketsOptions {
                filter: tcpsleuth_host::sockets::Filter {
                    pid: *pid,
                    port: *port,
                },
                watch,
                count: *count,
                rate_bps: rate.saturating_mul(1_000_000),
                format: *format,
                all: *all,
            };
            sockets::sockets(&mut out, &opts)?;
        }
        Command::Host { rate, rtt, format } => {
            let target = tcpsleuth_host::audit::Target {
                rate_bps: rate.saturating_mul(1_000_000),
                rtt_ms: *rtt,
            };
            host::host(&mut out, target, *format)?;
        }
        Command::Query {
            dir,
            sql,
            format,
            print_sql,
        } => {
            out.flush()?;
            return query::query(dir, sql, *format, *print_sql);
        }
        Command::Completions { shell } => {
            // clap_complete panics when a write fails: render to memory, so that a closed
            // pipe is the usual quiet exit.
            let mut script = Vec::new();
            clap_complete::generate(*shell, &mut Cli::command(), "tcpsleuth", &mut script);
            out.write_all(&script)?;
        }
        Command::Man => clap_mangen::Man::new(Cli::command()).render(&mut out)?,
    }
    out.flush()?;
    Ok(exit_code(failed))
}

fn exit_code(failed: bool) -> ExitCode {
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// The captures the command line names. Each file is a capture, each directory one capture
/// made of its capture files (warning about files that are not captures); with `rotated`,
/// all the files together are one capture, in the order given. A directory that cannot be
/// listed or holds no capture is an error on stderr, as an unreadable file is, and the others
/// are still analysed: the flag says one was.
fn inputs(captures: &[PathBuf], rotated: bool) -> anyhow::Result<(Vec<pipeline::Input>, bool)> {
    let is_dir = |p: &PathBuf| p.as_os_str() != "-" && p.is_dir();
    if rotated {
        if let Some(dir) = captures.iter().find(|p| is_dir(p)) {
            anyhow::bail!(
                "{}: --rotated takes the files of one ring buffer; give a directory without it",
                tcpsleuth_capture::printable(&dir.display().to_string())
            );
        }
        if captures.iter().any(|p| p.as_os_str() == "-") {
            anyhow::bail!("--rotated reads files: standard input ('-') cannot be one of them");
        }
        let Some(first) = captures.first() else {
            return Ok((Vec::new(), false));
        };
        let ring = pipeline::Input {
            name: first.clone(),
            files: captures.to_vec(),
            table: tcpsleuth_capture::FileTable::new(),
        };
        return Ok((vec![ring], false));
    }
    let mut inputs = Vec::with_capacity(captures.len());
    let mut failed = false;
    for path in captures {
        if !is_dir(path) {
            inputs.push(pipeline::Input::file(path));
            continue;
        }
        let shown = tcpsleuth_capture::printable(&path.display().to_string()).into_owned();
        let ordered = match tcpsleuth_capture::order_directory(path) {
            Ok(ordered) => ordered,
            Err(e) => {
                eprintln!("tcpsleuth: error: {shown}: cannot list the directory: {e}");
                failed = true;
                continue;
            }
        };
        for skipped in &ordered.skipped {
            output::warn(format_args!("{skipped}; skipped"));
        }
        if ordered.files.is_empty() {
            eprintln!("tcpsleuth: error: {shown}: no pcap or pcapng capture in this directory");
            failed = true;
            continue;
        }
        inputs.push(pipeline::Input {
            name: path.clone(),
            files: ordered.files,
            table: tcpsleuth_capture::FileTable::new(),
        });
    }
    Ok((inputs, failed))
}

/// One capture that cannot be opened does not stop the others; the run fails at the end.
fn report_unreadable(err: &tcpsleuth_capture::CaptureError) -> bool {
    eprintln!("tcpsleuth: error: {err}");
    true
}

/// Prints a capture's damage to stderr (one line per damaged file); returns true when it
/// makes the run a failure.
fn report_damage(outcome: &pipeline::Outcome) -> bool {
    let mut failed = false;
    for err in &outcome.damage {
        if err.is_truncation() {
            output::warn(format_args!("{err}; the frames before it were analysed"));
        } else {
            eprintln!("tcpsleuth: error: {err}; the frames before it were analysed");
            failed = true;
        }
    }
    failed
}
