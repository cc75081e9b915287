//! Command-line flags. Only what was typed; the pipeline decides what it means.

use std::path::PathBuf;

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};

const AFTER_HELP: &str = "\
Examples:
  tcpsleuth capture.pcap                        what went wrong, per connection (= analyze)
  tcpsleuth analyze --format json a.pcap        the diagnosis as one JSON document
  tcpsleuth --format html -o report.html a.pcap the report with graphs, one file to attach
  tcpsleuth analyze ring/                       a directory of rotated files is one capture
  tcpsleuth connections capture.pcapng          one line per TCP connection
  tcpsleuth packets capture.pcap                every TCP frame with Wireshark's analysis flags
  tcpsleuth packets --format jsonl big.pcap.zst one JSON object per TCP frame, for scripts
  tcpdump -w - -i eth0 port 443 | tcpsleuth packets -
  tcpsleuth completions bash > ~/.local/share/bash-completion/completions/tcpsleuth

Frame numbers are Wireshark's (1-based, in file order), so you can jump to them there.
Captures may be pcap or pcapng, plain, gzip or zstd compressed; '-' reads standard input.
A directory is one capture: its files in time order, frames shown as FILE#FRAME.

Exit codes: 0 ok (a capture cut short is a warning), 1 an input could not be analysed
(what was readable before the damage is still printed), 2 usage error.";

#[derive(Debug, Parser)]
#[command(name = "tcpsleuth", version, about, after_help = AFTER_HELP)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Colour the text report: auto means only on a terminal, and not when NO_COLOR is set
    #[arg(long, value_enum, value_name = "WHEN", global = true, default_value_t = ColorWhen::Auto)]
    pub color: ColorWhen,
    /// Print only errors on stderr: no warnings, no progress bar
    #[arg(long, short, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Text report: also list the healthy connections, and where every capture was taken
    #[arg(long, short, global = true)]
    pub verbose: bool,
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
        /// Write the report to FILE instead of standard output (say, report.html); with
        /// --format parquet, the directory to write the tables into
        #[arg(
            short = 'o',
            long = "output",
            value_name = "FILE",
            required_if_eq("format", "parquet")
        )]
        output: Option<PathBuf>,
        /// Most connections tracked with full state at once (about 5 KiB each); past it the
        /// least recently active are diagnosed early and forgotten (docs/limits.md)
        #[arg(long, value_name = "N", default_value_t = tcpsleuth_analyze::Retention::default().max_live,
              value_parser = at_least_one)]
        max_connections: usize,
        /// Diagnose only shard I of N (say 0/4): the connections whose address/port hash
        /// falls in it. N runs, one per shard, report together what one run reports, with the
        /// same stream numbers (docs/sharding.md)
        #[arg(long, value_name = "I/N", value_parser = tcpsleuth_analyze::Shard::parse)]
        shard: Option<tcpsleuth_analyze::Shard>,
        #[arg(long, help = ROTATED_HELP)]
        rotated: bool,
    },
    /// One row per TCP frame: stream, endpoints, relative seq/ack, window and tcp.analysis flags
    #[command(after_help = AFTER_HELP)]
    Packets {
        /// Capture files (pcap or pcapng, optionally gzip/zstd); '-' for standard input
        #[arg(required = true)]
        captures: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = PacketsFormat::Table)]
        format: PacketsFormat,
        /// With --format parquet: the directory to write the `packets` table into
        #[arg(
            short = 'o',
            long = "output",
            value_name = "DIR",
            required_if_eq("format", "parquet")
        )]
        output: Option<PathBuf>,
        /// Only the frames of shard I of N's connections, numbered as in a whole run
        /// (docs/sharding.md)
        #[arg(long, value_name = "I/N", value_parser = tcpsleuth_analyze::Shard::parse)]
        shard: Option<tcpsleuth_analyze::Shard>,
        #[arg(long, help = ROTATED_HELP)]
        rotated: bool,
    },
    /// One row per TCP connection: roles, handshake, volumes, RTT, flags, how it ended
    #[command(after_help = AFTER_HELP)]
    Connections {
        #[arg(required = true)]
        captures: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = ConnectionsFormat::Table)]
        format: ConnectionsFormat,
        #[arg(long, help = ROTATED_HELP)]
        rotated: bool,
    },
    /// Capture on an interface (libpcap) and diagnose as packets arrive; the report at the end
    #[command(after_help = LIVE_HELP)]
    Live {
        /// The interface to capture on (as `ip link` names it; `any` for all)
        #[arg(short = 'i', long, value_name = "IFACE")]
        interface: String,
        /// A BPF capture filter, as tcpdump takes it ("tcp port 443")
        #[arg(short = 'f', long, value_name = "BPF")]
        filter: Option<String>,
        /// Stop after this many seconds (default: at Ctrl-C)
        #[arg(long, value_name = "SECONDS")]
        duration: Option<f64>,
        /// Also write the raw packets to FILE (pcapng), for later analysis
        #[arg(short = 'w', long, value_name = "FILE.pcapng")]
        write: Option<PathBuf>,
        /// The kernel's capture buffer, in MiB: a larger one drops fewer packets in bursts
        #[arg(long, value_name = "MIB", default_value_t = 16)]
        buffer: u32,
        /// Print a one-line status on stderr this often
        #[arg(long, value_name = "SECONDS", default_value_t = 5.0)]
        status_every: f64,
        /// Report a zero window once it has lasted this long
        #[arg(long, value_name = "SECONDS", default_value_t = 2.0)]
        stall_after: f64,
        /// The format of the final report
        #[arg(long, value_enum, default_value_t = AnalyzeFormat::Text)]
        format: AnalyzeFormat,
    },
    /// This host's TCP sockets (Linux, netlink sock_diag) with their processes, and what is wrong
    #[command(after_help = SOCKETS_HELP)]
    Sockets {
        /// Only the sockets this process holds
        #[arg(long, value_name = "PID")]
        pid: Option<u32>,
        /// Only the sockets with this local or peer port
        #[arg(long, value_name = "N")]
        port: Option<u16>,
        /// Look again every SECONDS, comparing with the previous look (until Ctrl-C or --count)
        #[arg(long, value_name = "SECONDS")]
        watch: Option<f64>,
        /// With --watch: stop after this many looks
        #[arg(long, value_name = "N", requires = "watch")]
        count: Option<u64>,
        /// The rate buffers should allow one connection, for the bandwidth-delay advice
        #[arg(long, value_name = "MBIT/S", default_value_t = 1000)]
        rate: u64,
        #[arg(long, value_enum, default_value_t = HostFormat::Text)]
        format: HostFormat,
        /// Also list sockets with nothing to say (listening, idle, TIME-WAIT)
        #[arg(long, short = 'a')]
        all: bool,
    },
    /// Audit this host's TCP settings and NIC offloads, with the commands that fix them
    #[command(after_help = HOST_HELP)]
    Host {
        /// The rate one connection should reach, to size the buffers
        #[arg(long, value_name = "MBIT/S", default_value_t = 1000)]
        rate: u64,
        /// The round-trip time to size the buffers for
        #[arg(long, value_name = "MS", default_value_t = 50)]
        rtt: u64,
        #[arg(long, value_enum, default_value_t = HostFormat::Text)]
        format: HostFormat,
    },
    /// SQL over the Parquet tables under DIR (from --format parquet), with DuckDB
    #[command(after_help = QUERY_HELP)]
    Query {
        /// The directory the tables were written into: their parts are found at any depth
        /// (one subdirectory per sensor, day or shard)
        dir: PathBuf,
        /// The SQL, over the views `connections`, `findings`, `files`, `paths`, `path_findings`
        /// and `packets` (those with parts under DIR)
        sql: String,
        #[arg(long, value_enum, default_value_t = QueryFormat::Table)]
        format: QueryFormat,
        /// Print the DuckDB script instead of running it (to reuse the views elsewhere)
        #[arg(long)]
        print_sql: bool,
    },
    /// Print a shell completion script for tcpsleuth to standard output
    #[command(after_help = COMPLETIONS_HELP)]
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) to standard output
    #[command(after_help = "Example:\n  tcpsleuth man > ~/.local/share/man/man1/tcpsleuth.1")]
    Man,
}

/// A directory is always one capture (its files in time order); the flag does the same for a
/// list of files, for shells that glob (docs/rotating.md).
const ROTATED_HELP: &str = "The files given are one capture, in this order (a ring buffer's \
files, as dumpcap -b or tcpdump -C writes them); a directory is read that way without it";

const COMPLETIONS_HELP: &str = "\
Examples:
  tcpsleuth completions bash > ~/.local/share/bash-completion/completions/tcpsleuth
  tcpsleuth completions zsh > \"${fpath[1]}/_tcpsleuth\"
  tcpsleuth completions fish > ~/.config/fish/completions/tcpsleuth.fish";

const SOCKETS_HELP: &str = "\
Examples:
  tcpsleuth sockets                       problem sockets and what is wrong with them
  tcpsleuth sockets --port 5432 --all     every socket to or from port 5432
  tcpsleuth sockets --pid 1234 --watch 2  one process's sockets, every 2 s: is Recv-Q growing?
  sudo ip netns exec NS tcpsleuth sockets the sockets of another network namespace

Run as root to see the sockets' processes. See docs/live.md.";

const LIVE_HELP: &str = "\
Examples:
  sudo tcpsleuth live -i eth0 -f 'tcp port 443'          findings as they happen, the report at Ctrl-C
  sudo tcpsleuth live -i eth0 --duration 60 -w x.pcapng   one minute, keeping the packets
  tcpsleuth analyze x.pcapng                              the same packets again, offline

Findings are printed as soon as they are certain: a RST's cause when it arrives, a zero window
once it has lasted --stall-after, a retransmission stall as it repeats. See docs/live.md.";

const HOST_HELP: &str = "\
Examples:
  tcpsleuth host                        settings and offloads, what they cost, how to fix them
  tcpsleuth host --rate 10000 --rtt 80  size the buffers for 10 Gbit/s at 80 ms

See docs/live.md.";

const QUERY_HELP: &str = "\
Examples:
  tcpsleuth analyze --format parquet -o results/ capture.pcap
  tcpsleuth query results/ \"SELECT id, actor, count(*) n FROM findings GROUP BY ALL ORDER BY n DESC\"
  tcpsleuth query results/ --format csv \"SELECT * FROM connections WHERE rst_from IS NOT NULL\"

Runs the `duckdb` command-line shell (pip install duckdb-cli, or TCPSLEUTH_DUCKDB=/path/to/duckdb).
See docs/parquet.md for the columns and more queries.";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum QueryFormat {
    /// Boxed columns for people
    Table,
    /// Comma-separated, with a header line
    Csv,
    /// One JSON array of row objects
    Json,
    /// A Markdown table, to paste into a ticket
    Markdown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HostFormat {
    /// For people
    Text,
    /// One JSON document (one per look with --watch, one per line)
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorWhen {
    /// Colour when standard output is a terminal and NO_COLOR is not set
    Auto,
    /// Always colour, even through a pipe or with NO_COLOR set
    Always,
    /// Never colour
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PacketsFormat {
    /// Aligned columns for people
    Table,
    /// One JSON object per TCP frame (a stable contract; see docs/json.md)
    Jsonl,
    /// The `packets` Parquet table, written under -o DIR (docs/parquet.md)
    Parquet,
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
    /// One self-contained HTML file with the graphs (time-sequence, throughput, RTT, in flight)
    Html,
    /// Parquet tables `connections` and `findings`, written under -o DIR, for DuckDB or Spark
    /// (docs/parquet.md)
    Parquet,
}

/// The subcommand names; anything else in first position is a capture for `analyze`.
pub const SUBCOMMANDS: [&str; 10] = [
    "analyze",
    "packets",
    "connections",
    "query",
    "live",
    "sockets",
    "host",
    "completions",
    "man",
    "help",
];

/// The options that take a separate value (`--color never`), spelled as typed: their value is
/// not the first word of the command line, so it must not be taken for a capture.
pub fn options_with_values() -> Vec<String> {
    let cli = Cli::command();
    std::iter::once(&cli)
        .chain(cli.get_subcommands())
        .flat_map(|c| c.get_arguments())
        .filter(|a| !a.is_positional() && a.get_action().takes_values())
        .flat_map(|a| {
            let long = a.get_long().map(|l| format!("--{l}"));
            let short = a.get_short().map(|s| format!("-{s}"));
            long.into_iter().chain(short)
        })
        .collect()
}

/// A count that must be at least 1.
fn at_least_one(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SUBCOMMANDS is what `with_default_command` trusts: it must follow the definition.
    #[test]
    fn subcommands_match_the_definition() {
        let mut cli = Cli::command();
        cli.build();
        let mut defined: Vec<&str> = cli.get_subcommands().map(|c| c.get_name()).collect();
        let mut listed = SUBCOMMANDS.to_vec();
        defined.sort_unstable();
        listed.sort_unstable();
        assert_eq!(defined, listed);
    }

    #[test]
    fn value_options_are_found() {
        let options = options_with_values();
        for o in ["--color", "--format"] {
            assert!(options.iter().any(|x| x == o), "{o} in {options:?}");
        }
        assert!(!options.iter().any(|x| x == "--brief" || x == "--quiet"));
    }
}
