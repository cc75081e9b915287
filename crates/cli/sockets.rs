//! `tcpsleuth sockets`: this host's TCP sockets and what crates/host finds wrong with them.

use std::io::Write;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde::Serialize;
use tcpsleuth_host::settings::TcpSettings;
use tcpsleuth_host::sockets::{self, Filter, Snapshot, SocketView};
use tcpsleuth_host::HostFinding;

use crate::args::HostFormat;

pub struct SocketsOptions {
    pub filter: Filter,
    pub watch: Option<Duration>,
    pub count: Option<u64>,
    pub rate_bps: u64,
    pub format: HostFormat,
    pub all: bool,
}

#[derive(Serialize)]
struct Look<'a> {
    look: u64,
    seconds: f64,
    sockets: Vec<&'a SocketView>,
    findings: &'a [HostFinding],
}

pub fn sockets(out: &mut impl Write, opts: &SocketsOptions) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut before: Option<Snapshot> = None;
    // Without --watch one look; with it, until --count or Ctrl-C.
    let looks = match opts.watch {
        None => 1,
        Some(_) => opts.count.unwrap_or(u64::MAX),
    };
    for look in 1..=looks {
        if look > 1 {
            if let Some(interval) = opts.watch {
                std::thread::sleep(interval);
            }
        }
        let now = sockets::snapshot(opts.filter)
            .context("cannot list the TCP sockets through netlink sock_diag")?;
        let settings = TcpSettings::read();
        let findings = sockets::diagnose(&now, before.as_ref(), &settings, opts.rate_bps);
        let shown: Vec<&SocketView> = now
            .sockets
            .iter()
            .filter(|v| {
                opts.all
                    || findings
                        .iter()
                        .any(|f| f.socket.as_deref() == Some(&v.name()))
                    || !matches!(v.socket.state, "LISTEN" | "TIME-WAIT" | "CLOSE")
            })
            .collect();
        let seconds = started.elapsed().as_secs_f64();
        match opts.format {
            HostFormat::Json => {
                let doc = Look {
                    look,
                    seconds,
                    sockets: shown,
                    findings: &findings,
                };
                serde_json::to_writer(&mut *out, &doc)?;
                writeln!(out)?;
            }
            HostFormat::Text => {
                if opts.watch.is_some() {
                    writeln!(out, "== look {look} at +{seconds:.1} s")?;
                }
                socket_table(out, &shown)?;
                if findings.is_empty() {
                    writeln!(out, "\nNo socket shows a problem.")?;
                } else {
                    writeln!(out)?;
                    findings_text(out, &findings)?;
                }
            }
        }
        out.flush()?;
        before = Some(now);
    }
    Ok(())
}

fn socket_table(out: &mut impl Write, shown: &[&SocketView]) -> anyhow::Result<()> {
    let header = [
        "State",
        "Recv-Q",
        "Send-Q",
        "Local",
        "Peer",
        "RTT/var ms",
        "RTO ms",
        "Retr",
        "Cwnd",
        "Snd-wnd",
        "Rcv-wnd",
        "Rcv-space",
        "Rwnd-lim",
        "Sndbuf-lim",
        "Process",
    ];
    let mut rows: Vec<Vec<String>> = vec![header.iter().map(|h| (*h).to_owned()).collect()];
    let opt = |v: Option<String>| v.unwrap_or_else(|| "-".to_owned());
    for v in shown {
        let s = &v.socket;
        let i = s.info.as_ref();
        let share = |limited: Option<u64>| {
            let (limited, busy) = (limited?, i?.busy_time_us?);
            (busy > 0).then(|| format!("{:.0}%", limited as f64 * 100.0 / busy as f64))
        };
        rows.push(vec![
            s.state.to_owned(),
            s.recv_q.to_string(),
            s.send_q.to_string(),
            s.local.to_string(),
            s.peer.to_string(),
            opt(i.map(|i| {
                format!(
                    "{:.1}/{:.1}",
                    f64::from(i.rtt_us) / 1e3,
                    f64::from(i.rttvar_us) / 1e3
                )
            })),
            opt(i.map(|i| (i.rto_us / 1000).to_string())),
            opt(i.map(|i| format!("{}/{}", i.retransmits, i.total_retrans))),
            opt(i.map(|i| i.snd_cwnd.to_string())),
            opt(i.and_then(|i| i.snd_wnd).map(|w| w.to_string())),
            opt(i.and_then(|i| i.rcv_wnd).map(|w| w.to_string())),
            opt(i.map(|i| i.rcv_space.to_string())),
            opt(share(i.and_then(|i| i.rwnd_limited_us))),
            opt(share(i.and_then(|i| i.sndbuf_limited_us))),
            if v.owners.is_empty() {
                "-".to_owned()
            } else {
                v.owners
                    .iter()
                    .map(|o| format!("{}/{} fd {}", o.pid, o.name, o.fd))
                    .collect::<Vec<_>>()
                    .join(",")
            },
        ]);
    }
    let widths: Vec<usize> = (0..header.len())
        .map(|c| rows.iter().map(|r| r[c].len()).max().unwrap_or(0))
        .collect();
    for row in &rows {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(c, (cell, w))| {
                // Numbers right-aligned, names left-aligned; the last column is not padded.
                if c == row.len() - 1 {
                    cell.clone()
                } else if (1..=2).contains(&c) || c >= 5 {
                    format!("{cell:>w$}")
                } else {
                    format!("{cell:<w$}")
                }
            })
            .collect();
        writeln!(out, "{}", line.join("  "))?;
    }
    writeln!(
        out,
        "(Retr: timeouts of the current segment / retransmissions in all; Rwnd-lim, Sndbuf-lim: \
         share of the busy time held back by the peer's window, by our send buffer)"
    )?;
    Ok(())
}

pub fn findings_text(out: &mut impl Write, findings: &[HostFinding]) -> anyhow::Result<()> {
    for f in findings {
        write!(
            out,
            "{} [{}] {}, confidence {:.2}",
            f.id,
            f.severity.as_str(),
            f.actor,
            f.confidence
        )?;
        match &f.socket {
            Some(s) => writeln!(out, ", {s}")?,
            None => writeln!(out)?,
        }
        writeln!(out, "  {}", f.summary)?;
        for e in &f.evidence {
            writeln!(out, "  - {e}")?;
        }
        for step in &f.next_steps {
            writeln!(out, "  next: {step}")?;
        }
        writeln!(out)?;
    }
    Ok(())
}
