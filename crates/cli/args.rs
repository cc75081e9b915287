//! Command-line flags. Only what was typed; the pipeline decides what it means.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

const AFTER_HELP: &str = "\
Examples:
  tcpsleuth capture.pcap                        what went wrong, per connection (= analyze)
  tcpsleuth analyze --format json a.pcap        the diagnosis as one JSON document
  tcpsleuth connections capture.pcapng          one line per TCP connection
  tcpsleuth packets capture.pcap                every TCP frame with Wireshark's analysis flags
  tcpsleuth packets --format jsonl big.pcap.zst one JSON object per TCP frame, for scripts
  tcpdump -w - -i eth0 port 443 | tcpsleuth packets -

Frame numbers are Wireshark's (1-based, in file order), so you can jump to them there.
Captures may be pcap or pcapng, plain, gzip or zstd compressed; '-' reads standard input.

Exit codes: 0 ok (a capture cut short is a warning), 1 an input could not be analysed
(what was readable before the damage is still printed), 2 usage error.";

#[derive(Debug, Parser)]
#[command(name = "tcpsleuth", version, about, after_help = AFTER_HELP)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Diagnose every connection: root cause, who caused it, evidence frames, next steps
    #[command(after_help = AFTER_HELP)]
    Analyze {
        /// Capture files (pcap or pcapng, optionally gzip/zstd); '-' for standard input
        #[arg(required = true)]
        captures: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = AnalyzeFormat::Text)]
        format: AnalyzeFormat,
        /// Text: only the one-line verdicts, no details
        #[arg(long)]
        brief: bool,
    },
    /// One row per TCP frame: stream, endpoints, relative seq/ack, window and tcp.analysis flags
    #[command(after_help = AFTER_HELP)]
    Packets {
        /// Capture files (pcap or pcapng, optionally gzip/zstd); '-' for standard input
        #[arg(required = true)]
        captures: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = PacketsFormat::Table)]
        format: PacketsFormat,
    },
    /// One row per TCP connection: roles, handshake, volumes, RTT, flags, how it ended
    #[command(after_help = AFTER_HELP)]
    Connections {
        #[arg(required = true)]
        captures: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = ConnectionsFormat::Table)]
        format: ConnectionsFormat,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PacketsFormat {
    /// Aligned columns for people
    Table,
    /// One JSON object per TCP frame (a stable contract; see docs/json.md)
    Jsonl,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ConnectionsFormat {
    Table,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AnalyzeFormat {
    /// A report for people: verdicts first, then each problem connection in detail
    Text,
    /// One JSON document (a stable contract; see docs/json.md and docs/analyze.schema.json)
    Json,
}

/// The subcommand names; anything else in first position is a capture for `analyze`.
pub const SUBCOMMANDS: [&str; 4] = ["analyze", "packets", "connections", "help"];
