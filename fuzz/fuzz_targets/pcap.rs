//! The pcap reader on arbitrary bytes. Inputs that do not start with a pcap magic number get
//! one, so that the fuzzer's effort goes into the file header and the records.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tcpsleuth_fuzz::{read_capture, PCAP_MAGICS};

fuzz_target!(|data: &[u8]| {
    if data.len() >= 4 && PCAP_MAGICS.iter().any(|m| data.starts_with(m)) {
        read_capture(data);
    } else {
        let mut v = PCAP_MAGICS[0].to_vec();
        v.extend_from_slice(data);
        read_capture(&v);
    }
});
