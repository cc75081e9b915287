//! The link/IP/TCP decoder on arbitrary frames (see `split_decode_input` for the layout).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tcpsleuth_decode::{decode, Decoded};
use tcpsleuth_fuzz::split_decode_input;

fuzz_target!(|data: &[u8]| {
    let Some((link_type, original_len, frame)) = split_decode_input(data) else {
        return;
    };
    let wire = frame.len().max(original_len as usize);
    match decode(link_type, frame, original_len) {
        Decoded::Tcp(s) | Decoded::TcpUnanalysed(s) | Decoded::IcmpQuotedTcp(s) => {
            // What the analysis relies on.
            assert!(s.header_len % 4 == 0 && s.header_len <= 60, "{s:?}");
            assert!(s.captured_payload_len as usize <= frame.len(), "{s:?}");
            assert!(s.payload_len as usize <= wire, "{s:?}");
            assert!(s.options.sack.len <= 4, "{s:?}");
            if let Some(e) = s.error {
                assert!(!e.to_string().is_empty());
            }
        }
        Decoded::Malformed(e) => {
            assert!(e.offset as usize <= wire, "{e} in a frame of {wire} bytes");
            assert!(!e.to_string().is_empty());
        }
        Decoded::Fragment | Decoded::NotTcp => {}
    }
});
