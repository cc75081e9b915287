//! Flow-hash sharding: which of N shards a connection belongs to, the same for both directions
//! and on every machine, so that N processes (or N tasks of a cluster) can each analyse their
//! share of a capture and their results add up to one run's.

use std::net::IpAddr;

use crate::conversation::Endpoint;

/// Shard `index` of `count` (0 ≤ index < count).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Shard {
    /// Parses `I/N`.
    pub fn parse(text: &str) -> Result<Shard, String> {
        let (i, n) = text
            .split_once('/')
            .ok_or_else(|| format!("{text:?}: expected I/N, say 0/4"))?;
        let index: u32 = i.trim().parse().map_err(|e| format!("{i:?}: {e}"))?;
        let count: u32 = n.trim().parse().map_err(|e| format!("{n:?}: {e}"))?;
        if count == 0 || index >= count {
            return Err(format!("{text}: needs 0 <= I < N"));
        }
        Ok(Shard { index, count })
    }

    /// Whether the connection between `a` and `b` (either way round) is in this shard.
    pub fn contains(&self, a: Endpoint, b: Endpoint) -> bool {
        connection_hash(a, b) % u64::from(self.count) == u64::from(self.index)
    }
}

/// FNV-1a (64-bit) over the two endpoints in a fixed order: the lower first, endpoints compared
/// by address family (IPv4 before IPv6), address bytes, then port. Each endpoint is hashed as
/// its family byte (4 or 6), its address bytes (network order) and its port (big-endian).
/// Documented in docs/sharding.md; changing it changes which shard every connection is in.
pub fn connection_hash(a: Endpoint, b: Endpoint) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let (low, high) = if a <= b { (a, b) } else { (b, a) };
    let mut hash = OFFSET;
    let mut eat = |bytes: &[u8]| {
        for &byte in bytes {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(PRIME);
        }
    };
    for ep in [low, high] {
        match ep.ip {
            IpAddr::V4(v4) => {
                eat(&[4]);
                eat(&v4.octets());
            }
            IpAddr::V6(v6) => {
                eat(&[6]);
                eat(&v6.octets());
            }
        }
        eat(&ep.port.to_be_bytes());
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(ip: &str, port: u16) -> Endpoint {
        Endpoint {
            ip: ip.parse().expect("test address"),
            port,
        }
    }

    #[test]
    fn both_directions_hash_alike_and_the_value_is_stable() {
        let (a, b) = (ep("10.0.0.1", 40000), ep("10.0.0.2", 80));
        assert_eq!(connection_hash(a, b), connection_hash(b, a));
        // Pinned, as computed by an independent FNV-1a in Python over
        // [4, 10,0,0,1, 0x9c,0x40, 4, 10,0,0,2, 0x00,0x50]: other tools rely on the exact value.
        assert_eq!(connection_hash(a, b), 0xe2cd_8845_f627_3996);
        let v6 = (ep("2001:db8::1", 1), ep("2001:db8::2", 2));
        assert_ne!(connection_hash(v6.0, v6.1), connection_hash(a, b));
    }

    #[test]
    fn every_connection_is_in_exactly_one_shard() {
        for port in 1000..1100 {
            let (a, b) = (ep("192.0.2.1", port), ep("198.51.100.7", 443));
            let owners = (0..4)
                .filter(|&index| Shard { index, count: 4 }.contains(a, b))
                .count();
            assert_eq!(owners, 1);
        }
    }

    #[test]
    fn parses_i_of_n() {
        assert_eq!(Shard::parse("2/4"), Ok(Shard { index: 2, count: 4 }));
        assert!(Shard::parse("4/4").is_err());
        assert!(Shard::parse("0/0").is_err());
        assert!(Shard::parse("1").is_err());
    }
}
