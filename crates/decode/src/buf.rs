//! A bounds-checked view of one protocol layer, modelled on Wireshark's tvbuff.
//!
//! Wireshark tracks two lengths per layer: the bytes actually captured and the *reported*
//! (on-wire) length. Lower layers shrink the reported length (IPv4 total length, IPv6 payload
//! length, PPPoE length, 802.3 length), never grow it. Reading past the captured bytes throws
//! `BoundsError` ("packet size limited during capture"), reading past the reported length throws
//! `ReportedBoundsError` ("malformed packet"). [`Buf`] reproduces both, without panicking.

use crate::{DecodeError, Layer, Reason};

#[derive(Debug, Clone, Copy)]
pub(crate) struct Buf<'a> {
    /// Captured bytes of this layer, never longer than `reported`.
    data: &'a [u8],
    /// On-wire length of this layer (≥ `data.len()`).
    reported: usize,
    /// Offset of `data[0]` within the frame (for error reports).
    off: usize,
}

impl<'a> Buf<'a> {
    /// The whole frame. `reported` below the captured length is raised to it (Wireshark reports
    /// "frame length is less than captured length" and uses the captured length).
    pub(crate) fn frame(data: &'a [u8], original_len: u32) -> Self {
        let reported = usize::try_from(original_len)
            .unwrap_or(usize::MAX)
            .max(data.len());
        Buf {
            data,
            reported,
            off: 0,
        }
    }

    pub(crate) fn data(&self) -> &'a [u8] {
        self.data
    }

    /// Captured length.
    pub(crate) fn captured(&self) -> usize {
        self.data.len()
    }

    /// Reported (on-wire) length.
    pub(crate) fn reported(&self) -> usize {
        self.reported
    }

    /// Offset of this layer in the frame.
    pub(crate) fn offset(&self) -> usize {
        self.off
    }

    /// The layer after the first `n` bytes of this one.
    pub(crate) fn skip(&self, n: usize) -> Self {
        Buf {
            data: self.data.get(n..).unwrap_or(&[]),
            reported: self.reported.saturating_sub(n),
            off: self.off.saturating_add(n),
        }
    }

    /// Shrinks the reported length to `len` if it is smaller (Wireshark's `set_actual_length`,
    /// `tvb_new_subset_length`); a larger `len` changes nothing.
    pub(crate) fn limit(&self, len: usize) -> Self {
        if len >= self.reported {
            return *self;
        }
        Buf {
            data: self.data.get(..len).unwrap_or(self.data),
            reported: len,
            off: self.off,
        }
    }

    /// Error for a read of `[start, end)` that does not fit: "truncated" if the bytes exist on the
    /// wire but were not captured, "overrun" if they are beyond the reported length.
    pub(crate) fn err_at(&self, layer: Layer, end: usize, at: usize) -> DecodeError {
        let reason = if end > self.reported {
            Reason::Overrun
        } else {
            Reason::Truncated
        };
        DecodeError::new(layer, self.off.saturating_add(at), reason)
    }

    /// Ok if `[0, end)` is captured.
    pub(crate) fn need(&self, layer: Layer, end: usize) -> Result<(), DecodeError> {
        if end <= self.data.len() {
            Ok(())
        } else {
            Err(self.err_at(layer, end, self.data.len().min(end)))
        }
    }

    pub(crate) fn u8(&self, i: usize) -> Option<u8> {
        self.data.get(i).copied()
    }

    pub(crate) fn be16(&self, i: usize) -> Option<u16> {
        let b = self.data.get(i..i.checked_add(2)?)?;
        Some(u16::from_be_bytes([*b.first()?, *b.get(1)?]))
    }

    pub(crate) fn le32(&self, i: usize) -> Option<u32> {
        self.array::<4>(i).map(u32::from_le_bytes)
    }

    pub(crate) fn be32(&self, i: usize) -> Option<u32> {
        self.array::<4>(i).map(u32::from_be_bytes)
    }

    pub(crate) fn array<const N: usize>(&self, i: usize) -> Option<[u8; N]> {
        self.data.get(i..i.checked_add(N)?)?.try_into().ok()
    }
}
