//! Where the capture was taken, from TTLs and handshake timing.
//!
//! What a capture can prove depends on its vantage point: a capture on the receiving host that
//! shows a segment arriving again and again proves the receiver saw it; a capture on the sender
//! only proves it was sent.

use serde::Serialize;

use crate::evidence::Evidence;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VantagePoint {
    /// On the client host or its link.
    NearClient,
    NearServer,
    /// On the path, routers on both sides.
    Middle,
    Unknown,
}

impl VantagePoint {
    /// As the JSON report spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            VantagePoint::NearClient => "near_client",
            VantagePoint::NearServer => "near_server",
            VantagePoint::Middle => "middle",
            VantagePoint::Unknown => "unknown",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Vantage {
    pub point: VantagePoint,
    /// What the inference rests on, in words.
    pub basis: String,
}

/// Initial TTLs of common stacks: Linux and macOS 64, Windows 128, network gear 255, old 32.
const INITIAL_TTLS: [u8; 4] = [32, 64, 128, 255];

fn is_initial(ttl: u8) -> bool {
    INITIAL_TTLS.contains(&ttl)
}

/// One handshake leg must take this many times the other to tell which end is near.
const TIMING_RATIO: i64 = 4;

pub fn infer(ev: &Evidence, client: usize) -> Vantage {
    let server = 1 - client;
    let ttl = |side: usize| ev.sides[side].usual_ttl();
    match (ttl(client), ttl(server)) {
        (Some(c), Some(s)) if is_initial(c) != is_initial(s) => {
            let (point, near, far, near_ttl, far_ttl) = if is_initial(c) {
                (VantagePoint::NearClient, "client", "server", c, s)
            } else {
                (VantagePoint::NearServer, "server", "client", s, c)
            };
            return Vantage {
                point,
                basis: format!(
                    "the {near}'s packets carry TTL {near_ttl}, an initial value (sent from this host or its link); the {far}'s arrive with TTL {far_ttl} ({} away)",
                    hops(far_ttl)
                ),
            };
        }
        (Some(c), Some(s)) if !is_initial(c) && !is_initial(s) => {
            return Vantage {
                point: VantagePoint::Middle,
                basis: format!(
                    "both sides' packets arrive with decremented TTLs (client {c}, server {s}): the capture is on the path"
                ),
            };
        }
        (Some(c), None) if !is_initial(c) => {
            return Vantage {
                point: VantagePoint::Unknown,
                basis: format!(
                    "the client's packets arrive with TTL {c} ({} from the client) and the server sent nothing to compare",
                    hops(c)
                ),
            };
        }
        (Some(c), None) => {
            return Vantage {
                point: VantagePoint::NearClient,
                basis: format!(
                    "the client's packets carry TTL {c}, an initial value (sent from this host or its link); the server sent nothing to compare"
                ),
            };
        }
        _ => {}
    }
    // Same TTLs on both sides (one link, no router between): the handshake leg that spans the
    // path is the long one. Near the client, SYN→SYN-ACK crosses the path; near the server,
    // SYN-ACK→ACK does.
    let hs = ev.handshake;
    if let (Some(syn), Some(syn_ack), Some(ack)) = (hs.syn, hs.syn_ack, hs.ack) {
        let (first, second) = (
            syn_ack.1.saturating_sub(syn.1),
            ack.1.saturating_sub(syn_ack.1),
        );
        let near = if first > 0 && second > 0 && first >= TIMING_RATIO.saturating_mul(second) {
            Some((VantagePoint::NearClient, "server"))
        } else if first > 0 && second > 0 && second >= TIMING_RATIO.saturating_mul(first) {
            Some((VantagePoint::NearServer, "client"))
        } else {
            None
        };
        if let Some((point, far)) = near {
            return Vantage {
                point,
                basis: format!(
                    "SYN→SYN-ACK took {} and SYN-ACK→ACK {}: the round trip lies beyond this capture point, on the {far}'s side",
                    ms(first),
                    ms(second)
                ),
            };
        }
    }
    Vantage {
        point: VantagePoint::Unknown,
        basis: "TTLs and handshake timing do not tell which end the capture is near".into(),
    }
}

/// Routers between the sender and the capture point, from the TTL left of the nearest
/// initial value at or above it.
fn hops(ttl: u8) -> String {
    let n = INITIAL_TTLS
        .iter()
        .find(|&&init| init >= ttl)
        .map_or(0, |init| init - ttl);
    if n == 1 {
        "1 hop".into()
    } else {
        format!("{n} hops")
    }
}

fn ms(ns: i64) -> String {
    format!("{:.3} ms", ns as f64 / 1e6)
}
