//! Prints one line per frame of a pcap/pcapng file as tcpsleuth-decode sees it, in a shape that
//! is easy to diff against tshark:
//!
//! ```text
//! cargo run -p tcpsleuth-decode --example decode_dump -- FILE
//! ```
//!
//! Columns (tab separated): frame number, class (`tcp`, `unanalysed`, `quote`, `fragment`,
//! `not_tcp`, `malformed`), `stream` if tshark would give the frame a tcp.stream (else `-`),
//! tcp.len for analysed segments (else `-`), header length, `hidden` if tshark shows no
//! analysis flags for it (else `-`), checksum verdict (`good`, `bad`, `-`), error text, options
//! (`mss=…;ws=…;sack_perm;sack=l-r,…;ts=val/ecr`).
//!
//! Development aid only: reads the whole file into memory.

use pcap_parser::pcapng::Block;
use pcap_parser::{create_reader, PcapBlockOwned, PcapError};
use tcpsleuth_decode::{decode, Decoded};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: decode_dump FILE")?;
    let file = std::fs::File::open(&path)?;
    let mut reader = create_reader(1 << 24, file).map_err(|e| format!("{e:?}"))?;
    let mut legacy_link: u32 = 0;
    let mut if_links: Vec<u32> = Vec::new();
    let mut frame = 0u64;
    loop {
        match reader.next() {
            Ok((offset, block)) => {
                let packet = match block {
                    PcapBlockOwned::LegacyHeader(h) => {
                        legacy_link = h.network.0 as u32;
                        None
                    }
                    PcapBlockOwned::Legacy(b) => Some((legacy_link, b.data, b.origlen)),
                    PcapBlockOwned::NG(Block::SectionHeader(_)) => {
                        if_links.clear();
                        None
                    }
                    PcapBlockOwned::NG(Block::InterfaceDescription(idb)) => {
                        if_links.push(idb.linktype.0 as u32);
                        None
                    }
                    PcapBlockOwned::NG(Block::EnhancedPacket(epb)) => {
                        let link = if_links
                            .get(epb.if_id as usize)
                            .copied()
                            .unwrap_or(u32::MAX);
                        let len = (epb.caplen as usize).min(epb.data.len());
                        Some((link, &epb.data[..len], epb.origlen))
                    }
                    PcapBlockOwned::NG(Block::SimplePacket(spb)) => {
                        let link = if_links.first().copied().unwrap_or(u32::MAX);
                        let len = (spb.origlen as usize).min(spb.data.len());
                        Some((link, &spb.data[..len], spb.origlen))
                    }
                    PcapBlockOwned::NG(_) => None,
                };
                if let Some((link, data, origlen)) = packet {
                    frame += 1;
                    println!("{frame}\t{}", describe(decode(link, data, origlen)));
                }
                reader.consume(offset);
            }
            Err(PcapError::Eof) => break,
            Err(PcapError::Incomplete(_)) => {
                if reader.refill().is_err() {
                    break;
                }
            }
            Err(e) => {
                eprintln!("stopping: {e:?}");
                break;
            }
        }
    }
    Ok(())
}

fn describe(d: Decoded) -> String {
    let seg = |class: &str, s: &tcpsleuth_decode::Segment, analysed: bool| {
        format!(
            "{class}\tstream\t{}\t{}\t{}\t{}\t{}\t{}",
            if analysed {
                s.payload_len.to_string()
            } else {
                "-".into()
            },
            s.header_len,
            if analysed && s.error.is_some() {
                "hidden"
            } else {
                "-"
            },
            match s.checksum_ok {
                Some(true) => "good",
                Some(false) => "bad",
                None => "-",
            },
            s.error.map(|e| e.to_string()).unwrap_or_default(),
            options(&s.options),
        )
    };
    match d {
        Decoded::Tcp(s) => seg("tcp", &s, true),
        Decoded::TcpUnanalysed(s) => seg("unanalysed", &s, false),
        Decoded::IcmpQuotedTcp(s) => seg("quote", &s, false),
        Decoded::Fragment => "fragment\t-\t-\t-\t-\t-\t".into(),
        Decoded::NotTcp => "not_tcp\t-\t-\t-\t-\t-\t".into(),
        Decoded::Malformed(e) => format!("malformed\t-\t-\t-\t-\t-\t{e}"),
    }
}

fn options(o: &tcpsleuth_decode::TcpOptions) -> String {
    let mut parts = Vec::new();
    if let Some(m) = o.mss {
        parts.push(format!("mss={m}"));
    }
    if let Some(w) = o.window_scale {
        parts.push(format!("ws={w}"));
    }
    if o.sack_permitted {
        parts.push("sack_perm".to_string());
    }
    if o.sack.len > 0 {
        let blocks: Vec<String> = o
            .sack
            .as_slice()
            .iter()
            .map(|(l, r)| format!("{l}-{r}"))
            .collect();
        parts.push(format!("sack={}", blocks.join(",")));
    }
    if let Some((v, e)) = o.timestamps {
        parts.push(format!("ts={v}/{e}"));
    }
    parts.join(";")
}
