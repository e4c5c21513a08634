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
//! Large batches can be sealed and opened on another thread: `Sender::reserve` checks a batch and takes
//! its nonces on the caller's thread (so batches keep the order of the calls), and the `SealJob` it
//! returns seals the plaintexts, given one slice per frame, straight into the output. Likewise
//! `Receiver::reserve_open` reads only the length prefixes of a chunk and takes the nonces of its
//! complete frames; `OpenJob::open_in_place` then does what `open_in_place` would have done.
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
use std::sync::{Arc, Mutex};

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

/// A direction's ChaCha20-Poly1305 key, 32 bytes. ring's `LessSafeKey` is sized for its largest
/// algorithm (544 bytes); for ChaCha20 making one copies the key, so each call that seals or opens makes
/// its own on the stack and a connection keeps 32 bytes per direction instead (a node with a thousand
/// peers, or a simulation with a million connections, keeps about 1 KB less per connection).
#[derive(Clone, Copy)]
struct Key([u8; 32]);

impl Key {
    fn aead(&self) -> LessSafeKey {
        LessSafeKey::new(UnboundKey::new(&CHACHA20_POLY1305, &self.0).expect("a 32-byte key"))
    }
}

fn cipher(key: &[u8]) -> Result<Key, Error> {
    Ok(Key(key.try_into().map_err(|_| Error::InvalidKey)?))
}

fn check_limit(max_plain: u32) -> Result<usize, Error> {
    if (max_plain as u64) + TAG_LENGTH as u64 > u32::MAX as u64 {
        return Err(Error::InvalidLimit);
    }
    Ok(max_plain as usize)
}

/// The sealing half: key and counter of one direction.
pub struct Sender {
    key: Key,
    counter: Counter,
    max_plain: usize,
}

impl Sender {
    pub fn new(key: &[u8], dialer: bool, max_plain: u32, counter: Option<&[u8]>) -> Result<Self, Error> {
        Ok(Self { key: cipher(key)?, counter: Counter::new(dialer, counter)?, max_plain: check_limit(max_plain)? })
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
        self.check(lens, Some(plain.len()), out.len())?;
        let (mut src, mut dst) = (0usize, 0usize);
        let aead = self.key.aead();
        for &len in lens {
            let len = len as usize;
            dst += seal_frame(&aead, self.counter, &plain[src..src + len], &mut out[dst..])?;
            self.counter.step()?;
            src += len;
        }
        Ok(())
    }

    /// Seal frames whose plaintexts the caller has already put in place: `buf` is `sealed_len(lens)`
    /// bytes, each frame's plaintext after 4 bytes left for its prefix and followed by 16 left for its
    /// tag. Writes the prefixes and tags and encrypts in place (no copy). Checks everything first.
    pub fn seal_in_place(&mut self, buf: &mut [u8], lens: &[u32]) -> Result<(), Error> {
        self.check(lens, None, buf.len())?;
        let mut off = 0usize;
        let aead = self.key.aead();
        for &len in lens {
            let len = len as usize;
            buf[off..off + PREFIX_LENGTH].copy_from_slice(&((len + TAG_LENGTH) as u32).to_be_bytes());
            let body = off + PREFIX_LENGTH;
            let nonce = AeadNonce::assume_unique_for_key(self.counter.bytes());
            let tag = aead
                .seal_in_place_separate_tag(nonce, Aad::empty(), &mut buf[body..body + len])
                .map_err(|_| Error::TooLarge(len, self.max_plain))?;
            buf[body + len..body + len + TAG_LENGTH].copy_from_slice(tag.as_ref());
            self.counter.step()?;
            off = body + len + TAG_LENGTH;
        }
        Ok(())
    }

    /// Check a batch (every length, `out_len == sealed_len(lens)`, the nonce budget) and take its
    /// nonces: the returned job seals it, on any thread; the counter has already moved past it, so the
    /// next batch may be reserved (and sealed) before this one is. On error nothing is taken.
    pub fn reserve(&mut self, lens: &[u32], out_len: usize) -> Result<SealJob, Error> {
        self.check(lens, None, out_len)?;
        let start = self.counter;
        for _ in lens {
            self.counter.step()?;
        }
        Ok(SealJob { key: self.key, start, lens: lens.to_vec() })
    }

    /// Every length within the limit, adding up to `plain_len` (when given), `out_len` the sealed
    /// length, and enough nonces left.
    fn check(&self, lens: &[u32], plain_len: Option<usize>, out_len: usize) -> Result<(), Error> {
        let mut total = 0usize;
        for &len in lens {
            if len as usize > self.max_plain {
                return Err(Error::TooLarge(len as usize, self.max_plain));
            }
            total += len as usize;
        }
        if let Some(plain_len) = plain_len.filter(|&n| n != total) {
            return Err(Error::LengthsMismatch(total, plain_len));
        }
        let want = total + lens.len() * (PREFIX_LENGTH + TAG_LENGTH);
        if out_len != want {
            return Err(Error::LengthsMismatch(out_len, want));
        }
        if (lens.len() as u64) > self.counter.remaining() {
            return Err(Error::NonceOverflow);
        }
        Ok(())
    }
}

/// Write one frame (prefix, ciphertext, tag) of `plain` at the start of `out`; the offset after it.
fn seal_frame(aead: &LessSafeKey, counter: Counter, plain: &[u8], out: &mut [u8]) -> Result<usize, Error> {
    let len = plain.len();
    out[..PREFIX_LENGTH].copy_from_slice(&((len + TAG_LENGTH) as u32).to_be_bytes());
    let body = &mut out[PREFIX_LENGTH..PREFIX_LENGTH + len];
    body.copy_from_slice(plain);
    let nonce = AeadNonce::assume_unique_for_key(counter.bytes());
    let tag = aead.seal_in_place_separate_tag(nonce, Aad::empty(), body).map_err(|_| Error::TooLarge(len, len))?;
    out[PREFIX_LENGTH + len..PREFIX_LENGTH + len + TAG_LENGTH].copy_from_slice(tag.as_ref());
    Ok(PREFIX_LENGTH + len + TAG_LENGTH)
}

/// A batch checked by `Sender::reserve`, its nonces taken: sealing it needs no access to the sender.
pub struct SealJob {
    key: Key,
    start: Counter,
    lens: Vec<u32>,
}

impl SealJob {
    /// Seal `parts` (one plaintext per frame, with the lengths that were reserved) into `out` (of the
    /// reserved length), copying each plaintext once, into its place in `out`.
    pub fn seal_parts(&self, parts: &[&[u8]], out: &mut [u8]) -> Result<(), Error> {
        if parts.len() != self.lens.len() || parts.iter().zip(&self.lens).any(|(p, &l)| p.len() != l as usize) {
            return Err(Error::LengthsMismatch(parts.len(), self.lens.len()));
        }
        if out.len() != Sender::sealed_len(&self.lens) {
            return Err(Error::LengthsMismatch(out.len(), Sender::sealed_len(&self.lens)));
        }
        let mut counter = self.start;
        let mut dst = 0usize;
        let aead = self.key.aead();
        for part in parts {
            dst += seal_frame(&aead, counter, part, &mut out[dst..])?;
            // Cannot fail: `reserve` stepped the same counter as far.
            counter.step()?;
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
    key: Key,
    counter: Counter,
    max_frame: usize,
    /// The first refusal, if any; shared with the `OpenJob`s in progress, which may find one.
    failed: Arc<Mutex<Option<Error>>>,
}

impl Receiver {
    /// `dialer` is the role of the connection's owner; frames are expected with the other role's bit.
    pub fn new(key: &[u8], dialer: bool, max_plain: u32, counter: Option<&[u8]>) -> Result<Self, Error> {
        Ok(Self {
            key: cipher(key)?,
            counter: Counter::new(!dialer, counter)?,
            max_frame: check_limit(max_plain)? + TAG_LENGTH,
            failed: Arc::new(Mutex::new(None)),
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
        let sticky = *lock(&self.failed);
        if let Some(e) = sticky {
            return OpenedInPlace { error: Some(e), ..Default::default() };
        }
        let r = open_frames(&self.key.aead(), &mut self.counter, self.max_frame, chunk);
        if let Some(e) = r.error {
            *lock(&self.failed) = Some(e);
        }
        r
    }

    /// Take the nonces of the complete frames at the start of `chunk`, reading their length prefixes
    /// only: the returned job opens them (on any thread) as `open_in_place` would have, and the
    /// counter has already moved past them, so the bytes after them may be opened before the job runs.
    /// The job must get the same bytes.
    pub fn reserve_open(&mut self, chunk: &[u8]) -> OpenJob {
        let job = OpenJob { key: self.key, start: self.counter, max_frame: self.max_frame, failed: self.failed.clone() };
        if lock(&self.failed).is_some() {
            return job;
        }
        let mut off = 0usize;
        while let Some(len) = complete_frame(&chunk[off..], self.max_frame) {
            // A step past the last nonce is the job's to report (after it tries the frame, as
            // `open_in_place` does); this counter stays at the last nonce.
            let _ = self.counter.step();
            off += PREFIX_LENGTH + len;
        }
        job
    }
}

fn lock(m: &Mutex<Option<Error>>) -> std::sync::MutexGuard<'_, Option<Error>> {
    // A panic cannot happen while the lock is held (it guards a plain copy).
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The body length of the complete, well-formed frame at the start of `chunk`; None if there is no
/// complete frame or its prefix is refused (zero, over `max_frame`, under a tag).
fn complete_frame(chunk: &[u8], max_frame: usize) -> Option<usize> {
    if chunk.len() < PREFIX_LENGTH {
        return None;
    }
    let len = u32::from_be_bytes(chunk[..PREFIX_LENGTH].try_into().expect("4 bytes")) as usize;
    (len >= TAG_LENGTH && len <= max_frame && chunk.len() - PREFIX_LENGTH >= len).then_some(len)
}

/// The frame loop of `Receiver::open_in_place`, on a counter of its own.
fn open_frames(aead: &LessSafeKey, counter: &mut Counter, max_frame: usize, chunk: &mut [u8]) -> OpenedInPlace {
    let mut r = OpenedInPlace::default();
    let mut off = 0usize;
    while chunk.len() - off >= PREFIX_LENGTH {
        let len = u32::from_be_bytes(chunk[off..off + 4].try_into().expect("4 bytes")) as usize;
        if len == 0 {
            r.error = Some(Error::Empty);
            break;
        }
        if len > max_frame {
            r.error = Some(Error::TooLarge(len, max_frame));
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
        let nonce = AeadNonce::assume_unique_for_key(counter.bytes());
        let tag = Tag::from(<[u8; TAG_LENGTH]>::try_from(&chunk[body + plain_len..body + len]).expect("16 bytes"));
        if aead.open_in_place_separate_tag(nonce, Aad::empty(), tag, &mut chunk[body..body + plain_len], 0..).is_err() {
            r.error = Some(Error::DecryptFailed);
            break;
        }
        if let Err(e) = counter.step() {
            r.error = Some(e);
            break;
        }
        chunk.copy_within(body..body + plain_len, r.plain_len);
        r.plain_len += plain_len;
        r.lens.push(plain_len as u32);
        off = body + len;
    }
    r.consumed = off;
    r
}

/// The frames taken by `Receiver::reserve_open`: opening them needs no access to the receiver.
pub struct OpenJob {
    key: Key,
    start: Counter,
    max_frame: usize,
    failed: Arc<Mutex<Option<Error>>>,
}

impl OpenJob {
    /// Open the reserved frames of `chunk` (the bytes given to `reserve_open`), as `open_in_place`
    /// would have; a refusal also refuses the receiver from then on.
    pub fn open_in_place(&self, chunk: &mut [u8]) -> OpenedInPlace {
        let sticky = *lock(&self.failed);
        if let Some(e) = sticky {
            return OpenedInPlace { error: Some(e), ..Default::default() };
        }
        let mut counter = self.start;
        let r = open_frames(&self.key.aead(), &mut counter, self.max_frame, chunk);
        if let Some(e) = r.error {
            lock(&self.failed).get_or_insert(e);
        }
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
    fn reserved_jobs_give_the_same_bytes_in_any_order() {
        let key = [3u8; 32];
        let mut sync_tx = Sender::new(&key, true, 100, None).unwrap();
        let a = sync_tx.seal_packed(b"abcdef", &[2, 4]).unwrap();
        let b = sync_tx.seal_packed(b"xyz", &[3]).unwrap();
        let mut tx = Sender::new(&key, true, 100, None).unwrap();
        let job_a = tx.reserve(&[2, 4], a.len()).unwrap();
        let job_b = tx.reserve(&[3], b.len()).unwrap();
        let (mut out_a, mut out_b) = (vec![0u8; a.len()], vec![0u8; b.len()]);
        job_b.seal_parts(&[b"xyz"], &mut out_b).unwrap();
        job_a.seal_parts(&[b"ab", b"cdef"], &mut out_a).unwrap();
        assert_eq!((out_a.clone(), out_b.clone()), (a, b));
        // The sync path goes on after the reserved nonces.
        assert_eq!(tx.seal_packed(b"q", &[1]).unwrap(), sync_tx.seal_packed(b"q", &[1]).unwrap());
        assert_eq!(tx.reserve(&[101], 121).err(), Some(Error::TooLarge(101, 100)));
        assert!(matches!(tx.reserve(&[1], 20), Err(Error::LengthsMismatch(20, 21))));
        assert!(job_a.seal_parts(&[b"abc", b"def"], &mut out_a).is_err());

        // Opening: a job reserved for the first chunk, the second opened before it runs.
        let mut rx = Receiver::new(&key, false, 100, None).unwrap();
        let mut whole = [out_a, out_b].concat();
        let (first, second) = whole.split_at_mut(22 + 24);
        let job = rx.reserve_open(first);
        let later = rx.open_in_place(second);
        assert_eq!((later.lens, &second[..3]), (vec![3], &b"xyz"[..]));
        let r = job.open_in_place(first);
        assert_eq!((r.lens, r.consumed, r.error), (vec![2, 4], 46, None));
        assert_eq!(&first[..6], b"abcdef");
    }

    #[test]
    fn sealing_in_place_gives_the_packed_bytes() {
        let key = [5u8; 32];
        let mut a = Sender::new(&key, false, 100, None).unwrap();
        let mut b = Sender::new(&key, false, 100, None).unwrap();
        let want = a.seal_packed(b"abcdefg", &[3, 0, 4]).unwrap();
        let mut buf = vec![0xeeu8; want.len()];
        buf[4..7].copy_from_slice(b"abc");
        buf[4 + 3 + 16 + 4 + 16 + 4..][..4].copy_from_slice(b"defg");
        b.seal_in_place(&mut buf, &[3, 0, 4]).unwrap();
        assert_eq!(buf, want);
        assert_eq!(b.seal_in_place(&mut [0u8; 20], &[101]).unwrap_err(), Error::TooLarge(101, 100));
        assert!(matches!(b.seal_in_place(&mut [0u8; 20], &[1]), Err(Error::LengthsMismatch(20, 21))));
    }

    #[test]
    fn a_refusal_found_by_a_job_is_sticky() {
        let key = [4u8; 32];
        let mut tx = Sender::new(&key, true, 100, None).unwrap();
        let mut sealed = tx.seal_packed(b"abcd", &[2, 2]).unwrap();
        sealed[22 + 5] ^= 1; // the second frame's ciphertext
        let mut rx = Receiver::new(&key, false, 100, None).unwrap();
        let job = rx.reserve_open(&sealed);
        let r = job.open_in_place(&mut sealed);
        assert_eq!((r.lens, r.consumed, r.error), (vec![2], 22, Some(Error::DecryptFailed)));
        assert_eq!(rx.open_in_place(&mut [0, 0, 0, 1]).error, Some(Error::DecryptFailed));
        // A partial frame and a refused prefix are left to the job, which reports them as the sync path.
        let mut rx = Receiver::new(&key, false, 8, None).unwrap();
        let mut bad = 25u32.to_be_bytes();
        let job = rx.reserve_open(&bad);
        assert_eq!(job.open_in_place(&mut bad).error, Some(Error::TooLarge(25, 24)));
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
        for (size, batch) in [(100usize, 64usize), (1024, 64), (65536, 16)] {
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
