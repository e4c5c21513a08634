//! ChaCha20-Poly1305 frames with counter nonces, sealed and opened in batches.
//!
//! # Design
//! Wire format (PROTOCOL.md 1 and 3): a frame is a u32 big-endian length, then ciphertext || 16-byte
//! tag, with empty associated data, one key for both directions. The AEAD is ring's (BoringSSL's
//! assembly, RFC 8439), the same bytes as the reference's RustCrypto crate at several times the speed. The 12-byte nonce is
//! `role || 00 || iter u16 BE || seq u64 BE`, role 0x80 for the dialer's frames. The counter steps after
//! each successful seal or open; seq 2^64-1 is used, then iter carries; stepping past
//! (65535, 2^64-1) overflows, so that final nonce is never sent.
//!
//! `Sender::seal_packed` checks a whole batch (sizes, nonce budget) before sealing anything and writes
//! every frame into one output vector, encrypting in place. `Receiver::open_chunk` opens every complete
//! frame at the start of a chunk and reports the first refusal as data; a refused receiver stays refused.
//!
//! # Not provided
//! Tolerance of reordering, loss or duplication: any of them fails to open and ends the connection.
//!
//! # Example
//! ```
//! use quorumnet_native::frame::{Receiver, Sender};
//! let key = [7u8; 32];
//! let mut tx = Sender::new(&key, true, 1024, None).unwrap();
//! let mut rx = Receiver::new(&key, false, 1024, None).unwrap();
//! let frames = tx.seal_packed(b"hello", &[5]).unwrap();
//! let opened = rx.open_chunk(&frames);
//! assert_eq!(opened.plain, b"hello");
//! ```

use ring::aead::{Aad, LessSafeKey, Nonce as AeadNonce, Tag, UnboundKey, CHACHA20_POLY1305};

pub const TAG_LENGTH: usize = 16;
pub const PREFIX_LENGTH: usize = 4;

/// Failures of the frame layer; `code()` is the stable code JS sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    InvalidKey,
    InvalidCounter,
    InvalidLimit,
    LengthsMismatch(usize, usize),
    TooLarge(usize, usize),
    Empty,
    DecryptFailed,
    NonceOverflow,
}

impl Error {
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidKey | Error::InvalidCounter | Error::InvalidLimit | Error::LengthsMismatch(..) => {
                "ERR_INVALID_ARGUMENT"
            }
            Error::TooLarge(..) => "ERR_FRAME_TOO_LARGE",
            Error::Empty => "ERR_FRAME_EMPTY",
            Error::DecryptFailed => "ERR_DECRYPT_FAILED",
            Error::NonceOverflow => "ERR_NONCE_OVERFLOW",
        }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::InvalidKey => write!(f, "key must be 32 bytes"),
            Error::InvalidCounter => write!(f, "counter must be 10 bytes"),
            Error::InvalidLimit => write!(f, "maxPlainBytes must fit in a u32 length with the tag"),
            Error::LengthsMismatch(sum, len) => write!(f, "lengths add up to {sum} but plain has {len} bytes"),
            Error::TooLarge(n, limit) => write!(f, "plaintext of {n} bytes exceeds limit {limit}"),
            Error::Empty => write!(f, "frame of length zero"),
            Error::DecryptFailed => write!(f, "frame failed to decrypt"),
            Error::NonceOverflow => write!(f, "nonce counter exhausted"),
        }
    }
}

/// The (iter, seq) counter with the role byte, laid out as the 12-byte nonce.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Counter {
    pub dialer: bool,
    pub iter: u16,
    pub seq: u64,
}

impl Counter {
    pub fn new(dialer: bool, start: Option<&[u8]>) -> Result<Self, Error> {
        let (iter, seq) = match start {
            None => (0, 0),
            Some(b) if b.len() == 10 => (
                u16::from_be_bytes([b[0], b[1]]),
                u64::from_be_bytes(b[2..10].try_into().expect("8 bytes")),
            ),
            Some(_) => return Err(Error::InvalidCounter),
        };
        Ok(Self { dialer, iter, seq })
    }

    pub fn bytes(&self) -> [u8; 12] {
        let mut n = [0u8; 12];
        n[0] = if self.dialer { 0x80 } else { 0 };
        n[2..4].copy_from_slice(&self.iter.to_be_bytes());
        n[4..12].copy_from_slice(&self.seq.to_be_bytes());
        n
    }

    /// Advance after a use; the step past (u16::MAX, u64::MAX) is an overflow.
    pub fn step(&mut self) -> Result<(), Error> {
        if self.seq == u64::MAX {
            if self.iter == u16::MAX {
                return Err(Error::NonceOverflow);
            }
            self.iter += 1;
            self.seq = 0;
        } else {
            self.seq += 1;
        }
        Ok(())
    }

    /// Steps left before an overflow, saturating at u64::MAX.
    pub fn remaining(&self) -> u64 {
        if self.iter < u16::MAX {
            u64::MAX
        } else {
            u64::MAX - self.seq
        }
    }
}

fn cipher(key: &[u8]) -> Result<LessSafeKey, Error> {
    if key.len() != 32 {
        return Err(Error::InvalidKey);
    }
    Ok(LessSafeKey::new(UnboundKey::new(&CHACHA20_POLY1305, key).map_err(|_| Error::InvalidKey)?))
}

fn check_limit(max_plain: u32) -> Result<usize, Error> {
    if (max_plain as u64) + TAG_LENGTH as u64 > u32::MAX as u64 {
        return Err(Error::InvalidLimit);
    }
    Ok(max_plain as usize)
}

/// The sealing half: key and counter of one direction.
pub struct Sender {
    aead: LessSafeKey,
    counter: Counter,
    max_plain: usize,
}

impl Sender {
    pub fn new(key: &[u8], dialer: bool, max_plain: u32, counter: Option<&[u8]>) -> Result<Self, Error> {
        Ok(Self { aead: cipher(key)?, counter: Counter::new(dialer, counter)?, max_plain: check_limit(max_plain)? })
    }

    /// Bytes `seal_into` writes for these lengths.
    pub fn sealed_len(lens: &[u32]) -> usize {
        lens.iter().map(|&l| l as usize + PREFIX_LENGTH + TAG_LENGTH).sum()
    }

    /// Seal every plaintext packed in `plain` (lengths in `lens`) into one new buffer of frames.
    pub fn seal_packed(&mut self, plain: &[u8], lens: &[u32]) -> Result<Vec<u8>, Error> {
        let mut out = vec![0u8; Self::sealed_len(lens)];
        self.seal_into(plain, lens, &mut out)?;
        Ok(out)
    }

    /// Seal into `out`, which must be exactly `sealed_len(lens)` bytes. Checks everything first.
    pub fn seal_into(&mut self, plain: &[u8], lens: &[u32], out: &mut [u8]) -> Result<(), Error> {
        let mut total = 0usize;
        for &len in lens {
            if len as usize > self.max_plain {
                return Err(Error::TooLarge(len as usize, self.max_plain));
            }
            total += len as usize;
        }
        if total != plain.len() {
            return Err(Error::LengthsMismatch(total, plain.len()));
        }
        if out.len() != total + lens.len() * (PREFIX_LENGTH + TAG_LENGTH) {
            return Err(Error::LengthsMismatch(out.len(), total + lens.len() * (PREFIX_LENGTH + TAG_LENGTH)));
        }
        if (lens.len() as u64) > self.counter.remaining() {
            return Err(Error::NonceOverflow);
        }
        let (mut src, mut dst) = (0usize, 0usize);
        for &len in lens {
            let len = len as usize;
            out[dst..dst + PREFIX_LENGTH].copy_from_slice(&((len + TAG_LENGTH) as u32).to_be_bytes());
            let body = dst + PREFIX_LENGTH;
            out[body..body + len].copy_from_slice(&plain[src..src + len]);
            let nonce = AeadNonce::assume_unique_for_key(self.counter.bytes());
            let tag = self
                .aead
                .seal_in_place_separate_tag(nonce, Aad::empty(), &mut out[body..body + len])
                .map_err(|_| Error::TooLarge(len, self.max_plain))?;
            out[body + len..body + len + TAG_LENGTH].copy_from_slice(tag.as_ref());
            self.counter.step()?;
            src += len;
            dst = body + len + TAG_LENGTH;
        }
        Ok(())
    }
}

/// What `Receiver::open_chunk` found.
#[derive(Debug, Default)]
pub struct Opened {
    pub plain: Vec<u8>,
    pub lens: Vec<u32>,
    pub consumed: usize,
    pub error: Option<Error>,
}

/// The opening half: expects the peer's role bit.
pub struct Receiver {
    aead: LessSafeKey,
    counter: Counter,
    max_frame: usize,
    failed: Option<Error>,
}

impl Receiver {
    /// `dialer` is the role of the connection's owner; frames are expected with the other role's bit.
    pub fn new(key: &[u8], dialer: bool, max_plain: u32, counter: Option<&[u8]>) -> Result<Self, Error> {
        Ok(Self {
            aead: cipher(key)?,
            counter: Counter::new(!dialer, counter)?,
            max_frame: check_limit(max_plain)? + TAG_LENGTH,
            failed: None,
        })
    }

    /// Open every complete frame at the start of `chunk` into a new buffer.
    pub fn open_chunk(&mut self, chunk: &[u8]) -> Opened {
        let mut copy = chunk.to_vec();
        let r = self.open_in_place(&mut copy);
        copy.truncate(r.plain_len);
        Opened { plain: copy, lens: r.lens, consumed: r.consumed, error: r.error }
    }

    /// Open every complete frame at the start of `chunk`, decrypting in place: on return the
    /// plaintexts are packed at `chunk[..plain_len]` and the rest of the consumed bytes are garbage.
    /// Bytes from `consumed` on (a partial frame) are untouched.
    pub fn open_in_place(&mut self, chunk: &mut [u8]) -> OpenedInPlace {
        let mut r = OpenedInPlace { error: self.failed, ..Default::default() };
        if self.failed.is_some() {
            return r;
        }
        let mut off = 0usize;
        while chunk.len() - off >= PREFIX_LENGTH {
            let len = u32::from_be_bytes(chunk[off..off + 4].try_into().expect("4 bytes")) as usize;
            if len == 0 {
                r.error = Some(Error::Empty);
                break;
            }
            if len > self.max_frame {
                r.error = Some(Error::TooLarge(len, self.max_frame));
                break;
            }
            if chunk.len() - off - PREFIX_LENGTH < len {
                break;
            }
            if len < TAG_LENGTH {
                r.error = Some(Error::DecryptFailed);
                break;
            }
            let body = off + PREFIX_LENGTH;
            let plain_len = len - TAG_LENGTH;
            let nonce = AeadNonce::assume_unique_for_key(self.counter.bytes());
            let tag = Tag::from(<[u8; TAG_LENGTH]>::try_from(&chunk[body + plain_len..body + len]).expect("16 bytes"));
            if self
                .aead
                .open_in_place_separate_tag(nonce, Aad::empty(), tag, &mut chunk[body..body + plain_len], 0..)
                .is_err()
            {
                r.error = Some(Error::DecryptFailed);
                break;
            }
            if let Err(e) = self.counter.step() {
                r.error = Some(e);
                break;
            }
            chunk.copy_within(body..body + plain_len, r.plain_len);
            r.plain_len += plain_len;
            r.lens.push(plain_len as u32);
            off = body + len;
        }
        r.consumed = off;
        self.failed = r.error;
        r
    }
}

/// What `Receiver::open_in_place` found; the plaintexts are `chunk[..plain_len]`.
#[derive(Debug, Default)]
pub struct OpenedInPlace {
    pub lens: Vec<u32>,
    pub plain_len: usize,
    pub consumed: usize,
    pub error: Option<Error>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonce_layout_matches_the_protocol() {
        let mut c = Counter::new(true, None).unwrap();
        assert_eq!(c.bytes(), [0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        c.step().unwrap();
        assert_eq!(c.bytes(), [0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        let mut d = Counter { dialer: false, iter: 0, seq: u64::MAX };
        assert_eq!(d.bytes(), [0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
        d.step().unwrap();
        assert_eq!(d.bytes(), [0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
        let mut last = Counter { dialer: false, iter: u16::MAX, seq: u64::MAX };
        assert_eq!(last.step(), Err(Error::NonceOverflow));
    }

    #[test]
    fn round_trip_and_partial_frames() {
        let key = [9u8; 32];
        let mut tx = Sender::new(&key, false, 100, None).unwrap();
        let mut rx = Receiver::new(&key, true, 100, None).unwrap();
        let sealed = tx.seal_packed(b"abcdefg", &[3, 0, 4]).unwrap();
        assert_eq!(sealed.len(), 7 + 3 * 20);
        let first = rx.open_chunk(&sealed[..30]);
        assert_eq!(first.lens, vec![3]);
        assert_eq!(first.consumed, 23);
        let rest = rx.open_chunk(&sealed[23..]);
        assert_eq!(rest.plain, b"defg");
        assert_eq!(rest.lens, vec![0, 4]);
        assert!(rest.error.is_none());
    }

    #[test]
    fn refusals_are_data_and_sticky() {
        let key = [1u8; 32];
        let mut tx = Sender::new(&key, true, 8, None).unwrap();
        assert_eq!(tx.seal_packed(&[0; 9], &[9]).unwrap_err(), Error::TooLarge(9, 8));
        let mut sealed = tx.seal_packed(b"ab", &[2]).unwrap();
        sealed[5] ^= 1;
        let mut rx = Receiver::new(&key, false, 8, None).unwrap();
        assert_eq!(rx.open_chunk(&sealed).error, Some(Error::DecryptFailed));
        assert_eq!(rx.open_chunk(&[]).error, Some(Error::DecryptFailed));
        let mut rx = Receiver::new(&key, false, 8, None).unwrap();
        assert_eq!(rx.open_chunk(&25u32.to_be_bytes()).error, Some(Error::TooLarge(25, 24)));
        let mut rx = Receiver::new(&key, false, 8, None).unwrap();
        assert_eq!(rx.open_chunk(&[0, 0, 0, 0]).error, Some(Error::Empty));
    }

    #[test]
    fn the_final_nonce_is_never_used() {
        let key = [2u8; 32];
        let mut start = [0xffu8; 10];
        start[9] = 0xfd; // (65535, 2^64 - 3): two frames fit, a third would need the final nonce
        let mut tx = Sender::new(&key, true, 8, Some(&start)).unwrap();
        assert_eq!(tx.seal_packed(b"abc", &[1, 1, 1]).unwrap_err(), Error::NonceOverflow);
        assert!(tx.seal_packed(b"ab", &[1, 1]).is_ok());
        assert_eq!(tx.seal_packed(b"a", &[1]).unwrap_err(), Error::NonceOverflow);
    }
}

#[cfg(test)]
mod timing {
    use super::*;
    use std::time::Instant;

    /// Prints seal+open throughput without the napi boundary. Ignored: timing is measured, never asserted.
    /// `cargo test --release -p quorumnet-native frame_timing -- --ignored --nocapture`
    #[test]
    #[ignore = "prints timings only; run by hand"]
    fn frame_timing() {
        for (size, batch) in [(100usize, 64usize), (65536, 16)] {
            let key = [7u8; 32];
            let mut tx = Sender::new(&key, true, 1 << 21, None).unwrap();
            let mut rx = Receiver::new(&key, false, 1 << 21, None).unwrap();
            let plain = vec![1u8; size * batch];
            let lens = vec![size as u32; batch];
            let n = 2000;
            let t = Instant::now();
            for _ in 0..n {
                let s = tx.seal_packed(&plain, &lens).unwrap();
                assert!(rx.open_chunk(&s).error.is_none());
            }
            let dt = t.elapsed().as_secs_f64();
            println!("size {size} batch {batch}: {:.0} ops/s, {:.0} MB/s", n as f64 / dt, (n * size * batch) as f64 / dt / 1e6);
        }
    }
}
