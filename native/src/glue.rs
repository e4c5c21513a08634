//! napi glue: converts between JavaScript values and the concern modules; no logic of its own.

use crate::{bitvec, cpu, dh, frame, quota, sign, zstd};
use std::cell::RefCell;
use napi::bindgen_prelude::{AsyncTask, BigInt, Buffer, Uint32Array, Uint8Array};
use napi::{Env, Error, Result, Status, Task};
use napi_derive::napi;

fn invalid(detail: impl std::fmt::Display) -> Error {
    Error::new(Status::InvalidArg, format!("ERR_INVALID_ARGUMENT: {detail}"))
}

fn coded(code: &str, detail: impl std::fmt::Display) -> Error {
    Error::new(Status::GenericFailure, format!("{code}: {detail}"))
}

fn frame_err(e: frame::Error) -> Error {
    coded(e.code(), e)
}

fn seed(s: BigInt) -> Result<u64> {
    let (signed, value, lossless) = s.get_u64();
    if signed || !lossless {
        return Err(invalid("seed must be in 0..2^64-1"));
    }
    Ok(value)
}

fn arr32(b: &[u8], what: &str) -> Result<[u8; 32]> {
    b.try_into().map_err(|_| invalid(format!("{what} must be 32 bytes, got {}", b.len())))
}

fn sign_err(e: sign::InvalidArgument) -> Error {
    invalid(e.0)
}

// ---- build information ----

/// A CPU feature the addon's libraries dispatch on (see `cpu.rs`).
#[napi(object)]
pub struct CpuFeature {
    pub name: String,
    pub detected: bool,
    pub used_by: String,
}

/// What the loader checks before using the addon, and what `quorumnet doctor` prints.
#[napi(object)]
pub struct AddonInfo {
    /// The crate version; the loader refuses an addon whose version differs from the package's.
    pub version: String,
    /// The Rust target triple the addon was built for.
    pub target: String,
    pub cpu_features: Vec<CpuFeature>,
}

#[napi]
pub fn addon_info() -> AddonInfo {
    AddonInfo {
        version: env!("CARGO_PKG_VERSION").to_string(),
        target: env!("QUORUMNET_TARGET").to_string(),
        cpu_features: cpu::features()
            .into_iter()
            .map(|f| CpuFeature { name: f.name.to_string(), detected: f.detected, used_by: f.used_by.to_string() })
            .collect(),
    }
}

// ---- Ed25519 ----

/// Unacknowledged bytes in the kernel send queue of socket `fd` (Linux); null elsewhere or on error.
#[napi]
pub fn socket_send_queue(fd: i32) -> Option<u32> {
    crate::sockq::send_queue(fd)
}

#[napi]
pub fn ed25519_from_seed(s: BigInt) -> Result<Buffer> {
    Ok(sign::ed25519_from_seed(seed(s)?).to_vec().into())
}

#[napi]
pub fn ed25519_public_key(private_key: Uint8Array) -> Result<Buffer> {
    Ok(sign::ed25519_public_key(&private_key).map_err(sign_err)?.to_vec().into())
}

#[napi]
pub fn ed25519_sign(private_key: Uint8Array, namespace: Uint8Array, msg: Uint8Array) -> Result<Buffer> {
    Ok(sign::ed25519_sign(&private_key, &namespace, &msg).map_err(sign_err)?.to_vec().into())
}

/// An Ed25519 private key expanded once, for many signatures (see `sign::Ed25519Signer`).
#[napi(js_name = "Ed25519Signer")]
pub struct Ed25519Signer(sign::Ed25519Signer);

#[napi]
impl Ed25519Signer {
    #[napi(constructor)]
    pub fn new(private_key: Uint8Array) -> Result<Self> {
        Ok(Self(sign::Ed25519Signer::new(&private_key).map_err(sign_err)?))
    }

    #[napi]
    pub fn sign(&self, namespace: Uint8Array, msg: Uint8Array) -> Buffer {
        self.0.sign(&namespace, &msg).to_vec().into()
    }
}

#[napi]
pub fn ed25519_verify(namespace: Uint8Array, msg: Uint8Array, public_key: Uint8Array, sig: Uint8Array) -> bool {
    sign::ed25519_verify(&namespace, &msg, &public_key, &sig)
}

#[napi]
pub fn ed25519_verify_batch(
    namespaces: Vec<Uint8Array>,
    msgs: Vec<Uint8Array>,
    public_keys: Vec<Uint8Array>,
    sigs: Vec<Uint8Array>,
) -> Result<Vec<bool>> {
    let n = namespaces.len();
    if msgs.len() != n || public_keys.len() != n || sigs.len() != n {
        return Err(invalid("batch arrays must have the same length"));
    }
    fn view(v: &[Uint8Array]) -> Vec<&[u8]> {
        v.iter().map(|b| &b[..]).collect()
    }
    Ok(sign::ed25519_verify_batch(&view(&namespaces), &view(&msgs), &view(&public_keys), &view(&sigs)))
}

#[napi]
pub fn ed25519_validate(public_key: Uint8Array) -> bool {
    sign::ed25519_validate(&public_key)
}

// ---- BLS12-381 ----

#[napi]
pub fn bls_from_seed(s: BigInt) -> Result<Buffer> {
    Ok(sign::bls_from_seed(seed(s)?).to_vec().into())
}

#[napi]
pub fn bls_keygen(ikm: Uint8Array) -> Result<Buffer> {
    Ok(sign::bls_keygen(&ikm).map_err(sign_err)?.to_vec().into())
}

#[napi]
pub fn bls_public_key(private_key: Uint8Array) -> Result<Buffer> {
    Ok(sign::bls_public_key(&private_key).map_err(sign_err)?.to_vec().into())
}

#[napi]
pub fn bls_sign(private_key: Uint8Array, namespace: Uint8Array, msg: Uint8Array) -> Result<Buffer> {
    Ok(sign::bls_sign(&private_key, &namespace, &msg).map_err(sign_err)?.to_vec().into())
}

#[napi]
pub fn bls_verify(namespace: Uint8Array, msg: Uint8Array, public_key: Uint8Array, sig: Uint8Array) -> bool {
    sign::bls_verify(&namespace, &msg, &public_key, &sig)
}

#[napi]
pub fn bls_validate(public_key: Uint8Array) -> bool {
    sign::bls_validate(&public_key)
}

// ---- X25519 ----

#[napi]
pub fn x25519_public_key(secret: Uint8Array) -> Result<Buffer> {
    Ok(dh::public_key(&arr32(&secret, "x25519 secret")?).to_vec().into())
}

#[napi]
pub fn x25519_shared_secret(secret: Uint8Array, peer_public: Uint8Array) -> Result<Option<Buffer>> {
    let s = arr32(&secret, "x25519 secret")?;
    let p = arr32(&peer_public, "x25519 public key")?;
    Ok(Some(dh::shared_secret(&s, &p).to_vec().into()))
}

// ---- frames ----

#[napi(object)]
pub struct OpenInPlaceResult {
    pub lens: Uint32Array,
    pub plain_len: u32,
    pub consumed: u32,
    pub error: Option<String>,
}

impl From<frame::OpenedInPlace> for OpenInPlaceResult {
    fn from(opened: frame::OpenedInPlace) -> Self {
        OpenInPlaceResult {
            lens: Uint32Array::new(opened.lens),
            plain_len: opened.plain_len as u32,
            consumed: opened.consumed as u32,
            error: opened.error.map(|e| e.code().to_string()),
        }
    }
}

/// A batch sealed on the libuv thread pool: its nonces were taken when it was queued.
pub struct SealTask {
    job: frame::SealJob,
    parts: Vec<Uint8Array>,
    out: Uint8Array,
}

impl Task for SealTask {
    type Output = ();
    type JsValue = ();

    fn compute(&mut self) -> Result<()> {
        let parts: Vec<&[u8]> = self.parts.iter().map(|p| &p[..]).collect();
        // SAFETY: the caller leaves `parts` and `out` alone until the promise settles (binding.ts says
        // so); the task holds references to them, so they stay alive.
        let out = unsafe { self.out.as_mut() };
        self.job.seal_parts(&parts, out).map_err(frame_err)
    }

    fn resolve(&mut self, _env: Env, _output: ()) -> Result<()> {
        Ok(())
    }
}

/// Frames opened in place on the libuv thread pool: their nonces were taken when it was queued.
pub struct OpenTask {
    job: frame::OpenJob,
    chunk: Uint8Array,
}

impl Task for OpenTask {
    type Output = frame::OpenedInPlace;
    type JsValue = OpenInPlaceResult;

    fn compute(&mut self) -> Result<frame::OpenedInPlace> {
        // SAFETY: as in `SealTask::compute`, for `chunk`.
        Ok(self.job.open_in_place(unsafe { self.chunk.as_mut() }))
    }

    fn resolve(&mut self, _env: Env, output: frame::OpenedInPlace) -> Result<OpenInPlaceResult> {
        Ok(output.into())
    }
}

// The ciphers' methods take `&self` (the state is in a RefCell): napi-rs holds the borrow of a method
// that returns an AsyncTask until the task settles, so a `&mut self` method could not be called again
// (another batch sealed, a small one sealed at once) while a large batch is sealed on the pool.
#[napi]
pub struct SendCipher {
    inner: RefCell<frame::Sender>,
}

#[napi]
impl SendCipher {
    #[napi(constructor)]
    pub fn new(key: Uint8Array, is_dialer: bool, max_plain_bytes: u32, counter: Option<Uint8Array>) -> Result<Self> {
        let inner = frame::Sender::new(&key, is_dialer, max_plain_bytes, counter.as_deref()).map_err(frame_err)?;
        Ok(Self { inner: RefCell::new(inner) })
    }

    /// Seal every plaintext packed in `plain` (lengths in `lens`) into `out`, which the caller
    /// allocates with exactly `sum(lens) + 20 * lens.length` bytes (no buffer crosses back).
    #[napi]
    pub fn seal_into(&self, plain: &[u8], lens: &[u32], mut out: Uint8Array) -> Result<()> {
        // SAFETY: the call is synchronous and JS cannot touch `out` until it returns; no other view of it
        // is held on the Rust side.
        let out = unsafe { out.as_mut() };
        self.inner.borrow_mut().seal_into(plain, lens, out).map_err(frame_err)
    }

    /// Seal frames whose plaintexts are already in place in `frames` (exactly `sum(lens) + 20 *
    /// lens.length` bytes): each after 4 bytes left for its length prefix, followed by 16 left for its
    /// tag. Encrypts in place; throws as `sealInto` does (nothing sealed, counter unchanged).
    #[napi]
    pub fn seal_in_place(&self, mut frames: Uint8Array, lens: &[u32]) -> Result<()> {
        // SAFETY: as in `seal_into`.
        let frames = unsafe { frames.as_mut() };
        self.inner.borrow_mut().seal_in_place(frames, lens).map_err(frame_err)
    }

    /// Seal one frame per plaintext of `parts` into `out` (exactly `sum(lengths) + 20 * parts.length`
    /// bytes) on the libuv thread pool, copying each plaintext once, into its place. The batch is checked
    /// (throwing as `sealInto` does) and its nonces taken now, so batches keep the order of the calls
    /// whatever order they finish in. `parts` and `out` must not be touched until the promise settles.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn seal_parts_async(&self, parts: Vec<Uint8Array>, out: Uint8Array) -> Result<AsyncTask<SealTask>> {
        let lens: Vec<u32> = parts.iter().map(|p| u32::try_from(p.len()).unwrap_or(u32::MAX)).collect();
        let job = self.inner.borrow_mut().reserve(&lens, out.len()).map_err(frame_err)?;
        Ok(AsyncTask::new(SealTask { job, parts, out }))
    }
}

#[napi]
pub struct RecvCipher {
    inner: RefCell<frame::Receiver>,
}

#[napi]
impl RecvCipher {
    #[napi(constructor)]
    pub fn new(key: Uint8Array, is_dialer: bool, max_plain_bytes: u32, counter: Option<Uint8Array>) -> Result<Self> {
        let inner = frame::Receiver::new(&key, is_dialer, max_plain_bytes, counter.as_deref()).map_err(frame_err)?;
        Ok(Self { inner: RefCell::new(inner) })
    }

    /// Open every complete frame at the start of `chunk`, decrypting in place: the plaintexts end up
    /// packed at `chunk[..plainLen]`.
    #[napi]
    pub fn open_in_place(&self, mut chunk: Uint8Array) -> OpenInPlaceResult {
        // SAFETY: as in `seal_into`: synchronous, and the slice does not outlive the call.
        self.inner.borrow_mut().open_in_place(unsafe { chunk.as_mut() }).into()
    }

    /// `openInPlace` on the libuv thread pool. The nonces of the complete frames are taken now (from
    /// their length prefixes), so the bytes after them may be opened before this settles. `chunk` must
    /// not be touched until the promise settles.
    #[napi(ts_return_type = "Promise<OpenInPlaceResult>")]
    pub fn open_in_place_async(&self, chunk: Uint8Array) -> AsyncTask<OpenTask> {
        let job = self.inner.borrow_mut().reserve_open(&chunk);
        AsyncTask::new(OpenTask { job, chunk })
    }
}

// ---- zstd ----

/// Compress into `out` (JS allocates at least the zstd compress bound); returns the length written.
#[napi]
pub fn zstd_compress_into(data: &[u8], level: i32, mut out: Uint8Array) -> Result<u32> {
    // SAFETY: synchronous call; the slice does not outlive it.
    let out = unsafe { out.as_mut() };
    Ok(zstd::compress_into(data, level, out).map_err(|e| coded("ERR_COMPRESS", e))? as u32)
}

/// The content size the first frame declares: -1 when it does not say, -2 for invalid data.
#[napi]
pub fn zstd_declared_size(data: &[u8]) -> f64 {
    match zstd::declared_size(data) {
        Ok(Some(n)) => n as f64,
        Ok(None) => -1.0,
        Err(()) => -2.0,
    }
}

/// Decompress every frame of `data` into `out`; the length written, or -1 if invalid or too large.
#[napi]
pub fn zstd_decompress_into(data: &[u8], mut out: Uint8Array) -> i64 {
    // SAFETY: synchronous call; the slice does not outlive it.
    zstd::decompress_into(data, unsafe { out.as_mut() }).map_or(-1, |n| n as i64)
}

// ---- bit vectors ----

#[napi]
pub fn bitvec_lacking(ours: Uint8Array, theirs: Uint8Array, n: u32) -> Uint32Array {
    Uint32Array::new(bitvec::lacking(&ours, &theirs, n as usize))
}

#[napi]
pub fn bitvec_has_extra_bits(bits: Uint8Array, n: u32) -> bool {
    bitvec::has_extra_bits(&bits, n as usize)
}

// ---- GCRA ----

#[napi]
pub struct QuotaTable {
    inner: quota::Table,
}

#[napi]
impl QuotaTable {
    #[napi(constructor)]
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Self { inner: quota::Table::default() }
    }

    #[napi]
    pub fn set_quota(&mut self, cls: u32, period_ns: f64, burst: u32) -> Result<()> {
        if !(period_ns >= 0.0) || burst == 0 {
            return Err(invalid(format!("invalid quota: period {period_ns} ns, burst {burst}")));
        }
        self.inner.set_quota(cls, period_ns as u64, burst);
        Ok(())
    }

    #[napi]
    pub fn check(&mut self, key: u32, cls: u32, now_ns: f64) -> Result<f64> {
        Ok(self.inner.check(key, cls, now_ns.max(0.0) as u64).map_err(invalid)? as f64)
    }

    #[napi]
    pub fn remove_key(&mut self, key: u32) {
        self.inner.remove_key(key)
    }

    #[napi]
    pub fn size(&self) -> u32 {
        self.inner.size() as u32
    }
}
