//! The pcapng reader on arbitrary bytes. Inputs that do not start with a section header block
//! type get one, so that the fuzzer's effort goes into the blocks.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tcpsleuth_fuzz::{read_capture, PCAPNG_MAGIC};

fuzz_target!(|data: &[u8]| {
    if data.starts_with(&PCAPNG_MAGIC) {
        read_capture(data);
    } else {
        let mut v = PCAPNG_MAGIC.to_vec();
        v.extend_from_slice(data);
        read_capture(&v);
    }
});
