//! Per-direction state of a conversation (reference §2.2).

use std::collections::VecDeque;

use crate::flags::AnalysisFlags;

/// Wireshark caps each direction's unacked list (`TCP_MAX_UNACKED_SEGMENTS`); past the cap new
/// segments are not remembered, which is also what bounds our memory per direction.
pub const MAX_UNACKED: usize = 10_000;

/// Window scale states (reference §8).
pub const WSCALE_UNKNOWN: i8 = -1;
pub const WSCALE_NONE: i8 = -2;

#[derive(Debug, Clone, Copy)]
pub struct Unacked {
    pub frame: u64,
    pub seq: u32,
    pub end: u32,
    pub time_ns: i64,
}

#[derive(Debug, Clone)]
pub struct Flow {
    pub base_seq: u32,
    pub base_set: bool,
    pub nextseq: u32,
    pub nextseq_time: i64,
    pub nextseq_frame: u64,
    pub maxseqtobeacked: u32,
    pub lastack: u32,
    pub lastack_time: i64,
    /// Raw header window of the last analysed segment; starts at 0xFFFFFFFF ("none yet").
    pub window: u32,
    pub win_scale: i8,
    pub is_first_ack: bool,
    pub lastsegmentflags: AnalysisFlags,
    pub dupacknum: i32,
    pub lastnondupack: u64,
    /// Newest first, as Wireshark's linked list.
    pub unacked: VecDeque<Unacked>,
    pub valid_bif: bool,
    pub push_bytes_sent: u32,
    pub push_set_last: bool,
    /// SACK blocks of this direction's most recent segment; 4.0 keeps at most three.
    pub sack: [(u32, u32); 3],
    pub sack_len: u8,
    /// The ACK number whose walk over `unacked` left it unchanged, if nothing was added since:
    /// the same ACK again (duplicate ACKs, a stuck ACK) needs no walk. Wireshark walks the
    /// list every time, which with 10,000 segments outstanding costs ~10 µs per frame.
    pub settled_ack: Option<u32>,
    /// (base_seq, lowest seq − base, highest end − base) over `unacked`, while valid.
    pub span: Option<(u32, u32, u32)>,
}

impl Default for Flow {
    fn default() -> Self {
        Flow {
            base_seq: 0,
            base_set: false,
            nextseq: 0,
            nextseq_time: 0,
            nextseq_frame: 0,
            maxseqtobeacked: 0,
            lastack: 0,
            lastack_time: 0,
            window: u32::MAX,
            win_scale: WSCALE_UNKNOWN,
            is_first_ack: false,
            lastsegmentflags: AnalysisFlags::default(),
            dupacknum: 0,
            lastnondupack: 0,
            unacked: VecDeque::new(),
            valid_bif: true,
            push_bytes_sent: 0,
            push_set_last: false,
            sack: [(0, 0); 3],
            sack_len: 0,
            settled_ack: None,
            span: None,
        }
    }
}

impl Flow {
    pub fn sack_blocks(&self) -> &[(u32, u32)] {
        &self.sack[..usize::from(self.sack_len.min(3))]
    }

    /// Shift to apply to this direction's raw windows for display, if known.
    pub fn display_shift(&self) -> Option<u8> {
        u8::try_from(self.win_scale).ok()
    }
}
