//! ChaCha20-Poly1305 frames with counter nonces, sealed and opened in batches.
//!
//! # Design
//! Wire format (PROTOCOL.md 1 and 3): a frame is a u32 big-endian length, then ciphertext || 16-byte
//! tag, with empty associated data, one key for both directions. The 12-byte nonce is
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

use chacha20poly1305::aead::{AeadInPlace, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Nonce as AeadNonce, Tag};

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

fn cipher(key: &[u8]) -> Result<ChaCha20Poly1305, Error> {
    if key.len() != 32 {
        return Err(Error::InvalidKey);
    }
    Ok(ChaCha20Poly1305::new_from_slice(key).map_err(|_| Error::InvalidKey)?)
}

fn check_limit(max_plain: u32) -> Result<usize, Error> {
    if (max_plain as u64) + TAG_LENGTH as u64 > u32::MAX as u64 {
        return Err(Error::InvalidLimit);
    }
    Ok(max_plain as usize)
}

/// The sealing half: key and counter of one direction.
pub struct Sender {
    aead: ChaCha20Poly1305,
    counter: Counter,
    max_plain: usize,
}

impl Sender {
    pub fn new(key: &[u8], dialer: bool, max_plain: u32, counter: Option<&[u8]>) -> Result<Self, Error> {
        Ok(Self { aead: cipher(key)?, counter: Counter::new(dialer, counter)?, max_plain: check_limit(max_plain)? })
    }

    /// Seal every plaintext packed in `plain` (lengths in `lens`) into one buffer of frames.
    pub fn seal_packed(&mut self, plain: &[u8], lens: &[u32]) -> Result<Vec<u8>, Error> {
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
        if (lens.len() as u64) > self.counter.remaining() {
            return Err(Error::NonceOverflow);
        }
        let mut out = vec![0u8; total + lens.len() * (PREFIX_LENGTH + TAG_LENGTH)];
        let (mut src, mut dst) = (0usize, 0usize);
        for &len in lens {
            let len = len as usize;
            out[dst..dst + PREFIX_LENGTH].copy_from_slice(&((len + TAG_LENGTH) as u32).to_be_bytes());
            let body = dst + PREFIX_LENGTH;
            out[body..body + len].copy_from_slice(&plain[src..src + len]);
            let nonce = self.counter.bytes();
            let tag = self
                .aead
                .encrypt_in_place_detached(AeadNonce::from_slice(&nonce), &[], &mut out[body..body + len])
                .map_err(|_| Error::TooLarge(len, self.max_plain))?;
            out[body + len..body + len + TAG_LENGTH].copy_from_slice(&tag);
            self.counter.step()?;
            src += len;
            dst = body + len + TAG_LENGTH;
        }
        Ok(out)
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
    aead: ChaCha20Poly1305,
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

    pub fn open_chunk(&mut self, chunk: &[u8]) -> Opened {
        let mut opened = Opened { error: self.failed, ..Default::default() };
        if self.failed.is_some() {
            return opened;
        }
        // One allocation: the plaintexts are at most the chunk's size.
        opened.plain.reserve(chunk.len());
        let mut off = 0usize;
        while chunk.len() - off >= PREFIX_LENGTH {
            let len = u32::from_be_bytes(chunk[off..off + 4].try_into().expect("4 bytes")) as usize;
            if len == 0 {
                opened.error = Some(Error::Empty);
                break;
            }
            if len > self.max_frame {
                opened.error = Some(Error::TooLarge(len, self.max_frame));
                break;
            }
            if chunk.len() - off - PREFIX_LENGTH < len {
                break;
            }
            if len < TAG_LENGTH {
                opened.error = Some(Error::DecryptFailed);
                break;
            }
            let body = &chunk[off + PREFIX_LENGTH..off + PREFIX_LENGTH + len];
            let start = opened.plain.len();
            opened.plain.extend_from_slice(&body[..len - TAG_LENGTH]);
            let nonce = self.counter.bytes();
            let tag = Tag::from_slice(&body[len - TAG_LENGTH..]);
            if self
                .aead
                .decrypt_in_place_detached(AeadNonce::from_slice(&nonce), &[], &mut opened.plain[start..], tag)
                .is_err()
            {
                opened.plain.truncate(start);
                opened.error = Some(Error::DecryptFailed);
                break;
            }
            if let Err(e) = self.counter.step() {
                opened.plain.truncate(start);
                opened.error = Some(e);
                break;
            }
            opened.lens.push((len - TAG_LENGTH) as u32);
            off += PREFIX_LENGTH + len;
        }
        opened.consumed = off;
        self.failed = opened.error;
        opened
    }
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
