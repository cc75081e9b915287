//! `tcpsleuth host`: the TCP settings and offloads audit of crates/host, printed.

use std::io::Write;

use tcpsleuth_host::audit::{self, Audit, Target};

use crate::args::HostFormat;
use crate::sockets::findings_text;

pub fn host(out: &mut impl Write, target: Target, format: HostFormat) -> anyhow::Result<()> {
    let report: Audit = audit::audit(target);
    match format {
        HostFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &report)?;
            writeln!(out)?;
        }
        HostFormat::Text => {
            let width = report
                .settings
                .iter()
                .map(|s| s.name.len())
                .max()
                .unwrap_or(0);
            writeln!(out, "TCP settings (this network namespace):")?;
            for s in &report.settings {
                let value = s.value.as_deref().unwrap_or("(not in this kernel)");
                writeln!(out, "  {:<width$}  {}", s.name, value.replace('\t', " "))?;
            }
            writeln!(out, "\nOffloads (tso gso gro lro rx-csum tx-csum):")?;
            let flag = |v: Option<bool>| match v {
                Some(true) => "on",
                Some(false) => "off",
                None => "-",
            };
            if report.offloads.is_empty() {
                writeln!(out, "  no interface besides loopback")?;
            }
            for o in &report.offloads {
                writeln!(
                    out,
                    "  {:<16} {:>3} {:>3} {:>3} {:>3} {:>3} {:>3}",
                    o.interface,
                    flag(o.tso),
                    flag(o.gso),
                    flag(o.gro),
                    flag(o.lro),
                    flag(o.rx_checksum),
                    flag(o.tx_checksum)
                )?;
            }
            writeln!(out)?;
            if report.findings.is_empty() {
                writeln!(out, "Nothing to change.")?;
            } else {
                findings_text(out, &report.findings)?;
            }
        }
    }
    Ok(())
}
