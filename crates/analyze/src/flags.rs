//! The `tcp.analysis.*` flags, as a compact bit set.

use std::fmt;

/// A set of per-packet analysis flags. The retransmission family is stored as the analysis
/// result (exactly one of retransmission, fast, spurious, out-of-order); [`AnalysisFlags::names`]
/// adds `retransmission` to fast and spurious retransmissions, as tshark's expert layer does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct AnalysisFlags(pub u32);

macro_rules! flags {
    ($($konst:ident = $bit:expr, $name:literal;)*) => {
        impl AnalysisFlags {
            $(pub const $konst: u32 = 1 << $bit;)*
            /// Every flag with its tshark field suffix, in tshark's field order.
            pub const ALL: &'static [(u32, &'static str)] = &[$((Self::$konst, $name),)*];
        }
    };
}

flags! {
    RETRANSMISSION = 0, "retransmission";
    FAST_RETRANSMISSION = 1, "fast_retransmission";
    SPURIOUS_RETRANSMISSION = 2, "spurious_retransmission";
    OUT_OF_ORDER = 3, "out_of_order";
    LOST_SEGMENT = 4, "lost_segment";
    ACK_LOST_SEGMENT = 5, "ack_lost_segment";
    DUPLICATE_ACK = 6, "duplicate_ack";
    ZERO_WINDOW = 7, "zero_window";
    ZERO_WINDOW_PROBE = 8, "zero_window_probe";
    ZERO_WINDOW_PROBE_ACK = 9, "zero_window_probe_ack";
    WINDOW_FULL = 10, "window_full";
    WINDOW_UPDATE = 11, "window_update";
    KEEP_ALIVE = 12, "keep_alive";
    KEEP_ALIVE_ACK = 13, "keep_alive_ack";
    REUSED_PORTS = 14, "reused_ports";
}

impl AnalysisFlags {
    pub fn has(self, flag: u32) -> bool {
        self.0 & flag != 0
    }
    pub fn set(&mut self, flag: u32) {
        self.0 |= flag;
    }
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// True for any member of the retransmission family that tshark shows as a retransmission
    /// (plain, fast or spurious; not out-of-order).
    pub fn is_retransmission(self) -> bool {
        self.has(Self::RETRANSMISSION | Self::FAST_RETRANSMISSION | Self::SPURIOUS_RETRANSMISSION)
    }

    /// The tshark field suffixes present on this frame, in tshark's order.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        let shown = if self.is_retransmission() {
            self.0 | Self::RETRANSMISSION
        } else {
            self.0
        };
        Self::ALL
            .iter()
            .filter(move |(bit, _)| shown & bit != 0)
            .map(|(_, name)| *name)
    }

    pub fn from_name(name: &str) -> Option<u32> {
        Self::ALL
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(bit, _)| *bit)
    }
}

impl fmt::Display for AnalysisFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, name) in self.names().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(name)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_and_spurious_also_show_as_retransmission() {
        let fast = AnalysisFlags(AnalysisFlags::FAST_RETRANSMISSION);
        assert_eq!(
            fast.names().collect::<Vec<_>>(),
            ["retransmission", "fast_retransmission"]
        );
        let ooo = AnalysisFlags(AnalysisFlags::OUT_OF_ORDER);
        assert_eq!(ooo.names().collect::<Vec<_>>(), ["out_of_order"]);
    }

    #[test]
    fn names_round_trip() {
        for (bit, name) in AnalysisFlags::ALL {
            assert_eq!(AnalysisFlags::from_name(name), Some(*bit));
        }
    }
}
