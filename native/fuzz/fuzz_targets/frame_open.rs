//! The frame opener on arbitrary bytes split into two chunks (as a socket delivers them), both by
//! copy and in place: it must never panic, never consume more than it was given, never open a
//! plaintext over the limit, and the two ways of opening must agree.
#![no_main]

use libfuzzer_sys::fuzz_target;
use quorumnet_native::frame::{Receiver, Sender};

const KEY: [u8; 32] = [7; 32];
const MAX_PLAIN: u32 = 256;

fuzz_target!(|data: &[u8]| {
    if data.is_empty() {
        return;
    }
    // First byte: where to split; the second half of the input may start with one genuine frame so
    // the fuzzer gets past the tag check.
    let split = data[0] as usize % data.len();
    let mut input = data[1..].to_vec();
    if data[0] & 1 == 1 {
        let mut tx = Sender::new(&KEY, true, MAX_PLAIN, None).unwrap();
        let n = input.len().min(MAX_PLAIN as usize);
        let mut sealed = tx.seal_packed(&input[..n], &[n as u32]).unwrap_or_default();
        sealed.extend_from_slice(&input);
        input = sealed;
    }
    let split = split.min(input.len());
    let mut by_copy = Receiver::new(&KEY, false, MAX_PLAIN, None).unwrap();
    let mut in_place = Receiver::new(&KEY, false, MAX_PLAIN, None).unwrap();
    let mut pending: Vec<u8> = Vec::new();
    for piece in [&input[..split], &input[split..]] {
        let mut chunk = pending.clone();
        chunk.extend_from_slice(piece);
        let a = by_copy.open_chunk(&chunk);
        let mut buf = chunk.clone();
        let b = in_place.open_in_place(&mut buf);
        assert!(a.consumed <= chunk.len());
        assert_eq!(a.consumed, b.consumed);
        assert_eq!(a.lens, b.lens);
        assert_eq!(a.error.is_some(), b.error.is_some());
        assert_eq!(&a.plain[..], &buf[..b.plain_len]);
        assert!(a.lens.iter().all(|&l| l <= MAX_PLAIN));
        if a.error.is_some() {
            return;
        }
        pending = chunk[a.consumed..].to_vec();
    }
});
