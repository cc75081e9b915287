//! Frame builders for the decode tests (hand-made bytes, mirroring what tshark was tested with).
#![allow(dead_code)]

pub const SRC4: [u8; 4] = [10, 0, 0, 1];
pub const DST4: [u8; 4] = [10, 0, 0, 2];
pub const SRC6: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
pub const DST6: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];

pub const LT_NULL: u32 = 0;
pub const LT_ETH: u32 = 1;
pub const LT_RAW: u32 = 101;
pub const LT_LOOP: u32 = 108;
pub const LT_SLL: u32 = 113;
pub const LT_IPV4: u32 = 228;
pub const LT_IPV6: u32 = 229;
pub const LT_SLL2: u32 = 276;

/// One's-complement 16-bit sum (not complemented).
fn sum16(data: &[u8], mut acc: u32) -> u32 {
    for c in data.chunks(2) {
        let w = u32::from(c[0]) << 8 | u32::from(*c.get(1).unwrap_or(&0));
        acc += w;
    }
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc
}

fn csum(data: &[u8]) -> u16 {
    !(sum16(data, 0) as u16)
}

/// A TCP header (+ payload) description.
#[derive(Clone)]
pub struct Tcp {
    pub sport: u16,
    pub dport: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: u16,
    pub window: u16,
    pub options: Vec<u8>,
    /// Data offset override (in 32-bit words).
    pub doff: Option<u8>,
    pub payload: Vec<u8>,
}

impl Default for Tcp {
    fn default() -> Self {
        Tcp {
            sport: 40000,
            dport: 80,
            seq: 1000,
            ack: 2000,
            flags: 0x018,
            window: 65535,
            options: Vec::new(),
            doff: None,
            payload: Vec::new(),
        }
    }
}

impl Tcp {
    pub fn payload(n: usize) -> Self {
        Tcp {
            payload: vec![b'A'; n],
            ..Tcp::default()
        }
    }

    pub fn with_options(options: &[u8]) -> Self {
        let mut o = options.to_vec();
        while o.len() % 4 != 0 {
            o.push(1);
        }
        Tcp {
            options: o,
            ..Tcp::default()
        }
    }

    /// Serialises with a correct checksum for the given pseudo-header addresses.
    pub fn bytes(&self, src: &[u8], dst: &[u8]) -> Vec<u8> {
        let hlen = 20 + self.options.len();
        let doff = self.doff.unwrap_or((hlen / 4) as u8);
        let mut h = Vec::new();
        h.extend_from_slice(&self.sport.to_be_bytes());
        h.extend_from_slice(&self.dport.to_be_bytes());
        h.extend_from_slice(&self.seq.to_be_bytes());
        h.extend_from_slice(&self.ack.to_be_bytes());
        let off_flags = (u16::from(doff) << 12) | (self.flags & 0x01ff);
        h.extend_from_slice(&off_flags.to_be_bytes());
        h.extend_from_slice(&self.window.to_be_bytes());
        h.extend_from_slice(&[0, 0, 0, 0]);
        h.extend_from_slice(&self.options);
        h.extend_from_slice(&self.payload);
        let len = h.len() as u32;
        let mut pseudo = Vec::new();
        pseudo.extend_from_slice(src);
        pseudo.extend_from_slice(dst);
        if src.len() == 4 {
            pseudo.extend_from_slice(&[0, 6]);
            pseudo.extend_from_slice(&(len as u16).to_be_bytes());
        } else {
            pseudo.extend_from_slice(&len.to_be_bytes());
            pseudo.extend_from_slice(&[0, 0, 0, 6]);
        }
        pseudo.extend_from_slice(&h);
        let c = csum(&pseudo);
        h[16..18].copy_from_slice(&c.to_be_bytes());
        h
    }
}

/// IPv4 header options.
#[derive(Clone)]
pub struct V4 {
    pub src: [u8; 4],
    pub dst: [u8; 4],
    pub proto: u8,
    /// Total length override.
    pub total: Option<u16>,
    pub options: Vec<u8>,
    pub flags_frag: u16,
    pub ttl: u8,
    pub id: u16,
}

impl Default for V4 {
    fn default() -> Self {
        V4 {
            src: SRC4,
            dst: DST4,
            proto: 6,
            total: None,
            options: Vec::new(),
            flags_frag: 0x4000,
            ttl: 64,
            id: 0x1234,
        }
    }
}

pub fn ipv4_with(v: &V4, payload: &[u8]) -> Vec<u8> {
    let hlen = 20 + v.options.len();
    let total = v.total.unwrap_or((hlen + payload.len()) as u16);
    let mut h = vec![0x40 | (hlen / 4) as u8, 0];
    h.extend_from_slice(&total.to_be_bytes());
    h.extend_from_slice(&v.id.to_be_bytes());
    h.extend_from_slice(&v.flags_frag.to_be_bytes());
    h.extend_from_slice(&[v.ttl, v.proto, 0, 0]);
    h.extend_from_slice(&v.src);
    h.extend_from_slice(&v.dst);
    h.extend_from_slice(&v.options);
    let c = csum(&h);
    h[10..12].copy_from_slice(&c.to_be_bytes());
    h.extend_from_slice(payload);
    h
}

/// IPv4 + TCP with defaults.
pub fn ipv4_tcp(tcp: &Tcp) -> Vec<u8> {
    ipv4_with(&V4::default(), &tcp.bytes(&SRC4, &DST4))
}

/// IPv6 header; `plen` overrides the payload length.
pub fn ipv6_with(next: u8, plen: Option<u16>, hop_limit: u8, payload: &[u8]) -> Vec<u8> {
    let mut h = vec![0x60, 0, 0, 0];
    h.extend_from_slice(&plen.unwrap_or(payload.len() as u16).to_be_bytes());
    h.extend_from_slice(&[next, hop_limit]);
    h.extend_from_slice(&SRC6);
    h.extend_from_slice(&DST6);
    h.extend_from_slice(payload);
    h
}

pub fn ipv6_tcp(tcp: &Tcp) -> Vec<u8> {
    ipv6_with(6, None, 64, &tcp.bytes(&SRC6, &DST6))
}

/// A generic IPv6 extension header (HBH / routing / destination options) of `8 * (1 + n8)`
/// bytes, filled with a PadN option.
pub fn ext_header(next: u8, n8: u8) -> Vec<u8> {
    let body_len = 6 + 8 * usize::from(n8);
    let mut h = vec![next, n8, 1, (body_len - 2) as u8];
    h.resize(2 + body_len, 0);
    h
}

pub fn eth(ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![
        0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb,
    ];
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// A VLAN tag (TCI + inner type) to put after a TPID.
pub fn vlan_tag(vid: u16, inner: u16) -> Vec<u8> {
    let mut t = vid.to_be_bytes().to_vec();
    t.extend_from_slice(&inner.to_be_bytes());
    t
}

/// PPPoE session header + PPP protocol field.
pub fn pppoe(ppp_proto: u16, payload: &[u8]) -> Vec<u8> {
    let len = (payload.len() + 2) as u16;
    let mut f = vec![0x11, 0x00, 0x12, 0x34];
    f.extend_from_slice(&len.to_be_bytes());
    f.extend_from_slice(&ppp_proto.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

pub fn sll(protocol: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0];
    f.extend_from_slice(&protocol.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

pub fn sll2(protocol: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = protocol.to_be_bytes().to_vec();
    f.extend_from_slice(&[0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0]);
    f.extend_from_slice(payload);
    f
}

/// ICMP / ICMPv6 error header (checksum left 0) followed by the quote.
pub fn icmp(kind: u8, code: u8, quote: &[u8]) -> Vec<u8> {
    let mut f = vec![kind, code, 0, 0, 0, 0, 0, 0];
    f.extend_from_slice(quote);
    f
}

/// Small deterministic PRNG (xorshift64*).
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }
}
