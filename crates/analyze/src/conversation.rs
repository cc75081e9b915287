//! Conversation lookup and stream numbering, as tshark's `tcp.stream` (reference §5.13).

use std::net::IpAddr;

use rustc_hash::FxHashMap;
use tcpsleuth_decode::Segment;

/// One endpoint of a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Endpoint {
    pub ip: IpAddr,
    pub port: u16,
}

impl Endpoint {
    /// A segment's (source, destination).
    pub fn pair_of(seg: &Segment) -> (Endpoint, Endpoint) {
        (
            Endpoint {
                ip: seg.src,
                port: seg.src_port,
            },
            Endpoint {
                ip: seg.dst,
                port: seg.dst_port,
            },
        )
    }
}

/// `ip:port`, IPv6 in brackets.
impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::net::SocketAddr::new(self.ip, self.port).fmt(f)
    }
}

/// Direction-independent key: addresses and ports only. Wireshark 4.0 passes no VLAN or
/// interface into the key, so duplicates seen on two VLANs merge into one stream (§14.3 #8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    low: Endpoint,
    high: Endpoint,
}

impl Key {
    pub fn new(a: Endpoint, b: Endpoint) -> Key {
        if a <= b {
            Key { low: a, high: b }
        } else {
            Key { low: b, high: a }
        }
    }
}

/// Which of a conversation's two flows a packet belongs to. Wireshark orders them by
/// comparing the source and destination addresses bytewise, then the ports
/// (`get_tcp_conversation_data`): flow 0 when src ≥ dst.
pub fn flow_index(src: Endpoint, dst: Endpoint) -> usize {
    let ordering = address_cmp(&src.ip, &dst.ip);
    let src_first = match ordering {
        std::cmp::Ordering::Equal => src.port > dst.port,
        other => other == std::cmp::Ordering::Greater,
    };
    if src_first {
        0
    } else {
        1
    }
}

/// Wireshark's `cmp_address`: by type, then length, then bytes.
fn address_cmp(a: &IpAddr, b: &IpAddr) -> std::cmp::Ordering {
    match (a, b) {
        (IpAddr::V4(x), IpAddr::V4(y)) => x.octets().cmp(&y.octets()),
        (IpAddr::V6(x), IpAddr::V6(y)) => x.octets().cmp(&y.octets()),
        (IpAddr::V4(_), IpAddr::V6(_)) => std::cmp::Ordering::Less,
        (IpAddr::V6(_), IpAddr::V4(_)) => std::cmp::Ordering::Greater,
    }
}

/// Maps address/port pairs to what is known of the most recent conversation using them.
#[derive(Debug)]
pub struct ConversationTable<V> {
    by_key: FxHashMap<Key, V>,
}

impl<V> Default for ConversationTable<V> {
    fn default() -> Self {
        ConversationTable {
            by_key: FxHashMap::default(),
        }
    }
}

impl<V> ConversationTable<V> {
    pub fn get(&self, key: &Key) -> Option<&V> {
        self.by_key.get(key)
    }

    pub fn get_mut(&mut self, key: &Key) -> Option<&mut V> {
        self.by_key.get_mut(key)
    }

    /// Points the pair at a new conversation; later packets find this one (a newer
    /// conversation on the same key shadows the old one, as in Wireshark's single pass).
    /// Returns what the pair led to before.
    pub fn insert(&mut self, key: Key, value: V) -> Option<V> {
        self.by_key.insert(key, value)
    }

    pub fn remove(&mut self, key: &Key) -> Option<V> {
        self.by_key.remove(key)
    }

    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.by_key.values()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Key, &V)> {
        self.by_key.iter()
    }

    pub fn into_values(self) -> impl Iterator<Item = V> {
        self.by_key.into_values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(s: &str, port: u16) -> Endpoint {
        Endpoint {
            ip: s.parse().expect("test address"),
            port,
        }
    }

    #[test]
    fn both_directions_find_one_conversation() {
        let mut t = ConversationTable::default();
        t.insert(Key::new(ep("10.0.0.1", 1000), ep("10.0.0.2", 80)), 7);
        let back = Key::new(ep("10.0.0.2", 80), ep("10.0.0.1", 1000));
        assert_eq!(t.get(&back), Some(&7));
        let other = Key::new(ep("10.0.0.2", 81), ep("10.0.0.1", 1000));
        assert_eq!(t.get(&other), None);
    }

    #[test]
    fn flow_index_is_antisymmetric() {
        let a = ep("10.0.0.1", 1000);
        let b = ep("10.0.0.2", 80);
        assert_ne!(flow_index(a, b), flow_index(b, a));
        let c = ep("10.0.0.1", 80);
        assert_ne!(flow_index(a, c), flow_index(c, a));
    }
}
