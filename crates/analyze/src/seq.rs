//! Sequence-number arithmetic modulo 2^32 (RFC 9293 §3.4), as Wireshark's `LT_SEQ`/`GT_SEQ`:
//! the 32-bit difference read as a signed integer. Equality, `+` and `-` stay plain wrapping ops.

pub fn lt(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}

pub fn gt(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) > 0
}

pub fn le(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) <= 0
}

/// `now - then` as Wireshark compares it against a threshold: an unsigned 64-bit nanosecond
/// count, so a reference later than `now` (timestamps going backwards) wraps to a huge value
/// and never passes a "less than" test.
pub fn elapsed_unsigned(now_ns: i64, then_ns: i64) -> u64 {
    now_ns.wrapping_sub(then_ns) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparisons_wrap_around_zero() {
        assert!(lt(0xffff_fff0, 0x10));
        assert!(gt(0x10, 0xffff_fff0));
        assert!(le(5, 5));
        assert!(!lt(5, 5));
    }

    #[test]
    fn backwards_time_is_never_below_a_threshold() {
        assert!(elapsed_unsigned(1_000, 2_000) > 20_000_000);
        assert_eq!(elapsed_unsigned(2_000, 1_000), 1_000);
    }
}
