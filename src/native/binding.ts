/**
 * The `Binding` interface: every primitive the hot paths need, implemented twice with identical bytes.
 *
 * ## Design
 * `native/` (Rust, napi-rs) and `src/native/js/` (libsodium-wrappers, zstd-napi or a zstd WASM build,
 * @noble/curves, plain TypeScript) both implement this interface. Only `load.ts` chooses between them; everything else calls
 * `binding` from there. The boundary is crossed once per batch: one call seals every queued frame into
 * one Buffer, one call opens every complete frame of a received chunk.
 *
 * Expected failures caused by remote input (bad tag, oversize length prefix, zero length, invalid
 * zstd data, a signature that does not verify) come back as data: `null`, `false` or an `error` field.
 * Caller bugs (a key of the wrong length, an oversize plaintext handed to `seal`) throw an `Error` whose
 * message starts with `"ERR_CODE: "`; `load.ts` rethrows those as typed `P2pError`s.
 *
 * ## Not provided
 * Constant-time guarantees in the fallback beyond what libsodium gives; see README, "Backends".
 */

/** Error codes a batch open can report as data (the frames before the failing one are returned). */
export type OpenErrorCode = 'ERR_FRAME_TOO_LARGE' | 'ERR_FRAME_EMPTY' | 'ERR_DECRYPT_FAILED' | 'ERR_NONCE_OVERFLOW'

/** A zstd implementation: the addon's Rust crate, the zstd-napi C addon, or the WASM build. */
export type ZstdEngine = 'rust' | 'zstd-napi' | 'wasm'

/** The zstd a backend uses, and why any faster engine was passed over. */
export interface ZstdStatus {
  /** The engine in use, or null when none loaded (compressed channels then cannot be registered). */
  engine: ZstdEngine | null
  /** Why the engines before it were not used (one line each), or null when the first one loaded. */
  detail: string | null
}

/** Result of opening every complete frame of a received chunk. */
export interface OpenResult {
  /**
   * All opened plaintexts, concatenated: a view of the start of the chunk, which is decrypted in
   * place (no allocation). Copy what must outlive the chunk's buffer.
   */
  plain: Uint8Array
  /** Length of each plaintext in `plain`, in order. */
  lens: Uint32Array
  /**
   * Bytes of the chunk consumed: every complete frame that was opened. A trailing partial frame is
   * not consumed; the caller keeps it and prepends it to the next chunk. On error, the bytes up to
   * (not including) the failing frame.
   */
  consumed: number
  /** Set when a frame was refused; the connection must then be closed. */
  error: OpenErrorCode | null
}

/**
 * Sealing side of one connection direction. Holds the key and the nonce counter.
 * Nonce: byte 0 = 0x80 if `isDialer`, byte 1 = 0, bytes 2..4 = iter (u16 BE), bytes 4..12 = seq (u64 BE).
 */
export interface SendCipher {
  /**
   * Seal the plaintexts packed in `plain` (lengths in `lens`, in order) into one Buffer of ready-to-write
   * frames: for each, a u32 BE length prefix then ciphertext || 16-byte tag. The nonce advances per frame.
   * Throws `ERR_FRAME_TOO_LARGE` if any plaintext exceeds `maxPlainBytes` and `ERR_NONCE_OVERFLOW` if the
   * batch would use the last nonce; in both cases nothing is sealed and the counter is unchanged.
   * `ERR_INVALID_ARGUMENT` if the lengths do not add up to `plain.length`.
   */
  sealFrames(plain: Uint8Array, lens: Uint32Array): Uint8Array
  /**
   * Optional (both backends have it; a Binding from elsewhere may not): `sealFrames` of plaintexts the caller has already
   * put in place in `frames` (exactly `sum(lens) + 20 * lens.length` bytes: each plaintext after 4
   * bytes left for its length prefix, followed by 16 left for its tag). Writes the prefixes and tags
   * and encrypts in place, so a caller that reuses its buffers copies each message once and allocates
   * nothing. Throws as `sealFrames` does (nothing sealed, counter unchanged).
   */
  sealInPlace?(frames: Uint8Array, lens: Uint32Array): void
  /**
   * Optional (the addon has it, the fallback not): seal on the libuv thread pool, for large batches.
   * One frame per element of `parts`, each plaintext copied once, straight into `out` (exactly the sum
   * of their lengths plus 20 per part; no packed plaintext). The batch is checked and its nonces taken
   * at the call, so batches come out in the order of the calls whatever order they finish in; a
   * refused batch throws as `sealFrames` does, at the call. `parts` and `out` must not be touched until
   * the promise settles. Not for the deterministic runtime: the result arrives at a time of its own.
   */
  sealFramesAsync?(parts: Uint8Array[], out: Uint8Array): Promise<void>
}

/** Opening side of one connection direction. Expects the peer's role bit in the nonce. */
export interface RecvCipher {
  /**
   * Open every complete frame at the start of `chunk`, decrypting in place: the consumed bytes of
   * `chunk` are overwritten (the plaintexts end up packed at its start), bytes from `consumed` on are
   * left untouched. A length prefix over `maxPlainBytes + 16` gives
   * `ERR_FRAME_TOO_LARGE` (checked before the body arrives), zero gives `ERR_FRAME_EMPTY`, a failed tag
   * `ERR_DECRYPT_FAILED`. After an error the cipher refuses all further input with the same error.
   */
  openFrames(chunk: Uint8Array): OpenResult
  /**
   * Optional (the addon has it, the fallback not): `openFrames` on the libuv thread pool, for large
   * frames. The nonces of the complete frames are taken at the call (from their length prefixes), so
   * the bytes after them may be opened before the promise settles. `chunk` must not be touched until it
   * settles. Not for the deterministic runtime.
   */
  openFramesAsync?(chunk: Uint8Array): Promise<OpenResult>
}

/** How a backend creates a `SendCipher` or `RecvCipher` for one connection direction. */
export interface CipherConstructor<T> {
  /**
   * A cipher for one direction of a connection, its nonce counter at zero unless `counter` is given.
   * @param key 32-byte ChaCha20-Poly1305 key (the raw X25519 shared secret).
   * @param isDialer the role of the connection's owner: a SendCipher stamps its own bit, a RecvCipher
   *   expects the opposite one.
   * @param maxPlainBytes the largest plaintext (stream max message size, p2p's M + 64).
   * @param counter optional start counter, 10 bytes: iter u16 BE || seq u64 BE (tests of overflow).
   */
  new (key: Uint8Array, isDialer: boolean, maxPlainBytes: number, counter?: Uint8Array): T
}

/**
 * GCRA rate limiting for many keys (the reference's governor 0.6.3 semantics): one quota per `class`
 * (a channel id, or a reserved class for control messages), one state per (key, class).
 */
export interface QuotaTable {
  /** Define (or replace) the quota of a class: one cell per `periodNs`, bursts of `burst`. */
  setQuota(cls: number, periodNs: number, burst: number): void
  /**
   * Check (key, class) at `nowNs` (nanoseconds since the table's epoch). Returns 0 if allowed (a cell
   * is consumed), else the nanoseconds to wait until it would be allowed (nothing is consumed).
   * Throws `ERR_INVALID_ARGUMENT` for a class with no quota.
   */
  check(key: number, cls: number, nowNs: number): number
  /** Forget every state of `key` (a peer that disconnected). */
  removeKey(key: number): void
  /** Number of (key, class) states held. */
  size(): number
}

/** An Ed25519 private key expanded once (see `Binding.Ed25519Signer`). */
export interface ExpandedSigner {
  /** The signature `Binding.ed25519Sign` gives for this key: of `union_unique(namespace, msg)`. */
  sign(namespace: Uint8Array, msg: Uint8Array): Uint8Array
}

/** How the addon expands an Ed25519 private key (see `Binding.Ed25519Signer`). */
export interface ExpandedSignerConstructor {
  /**
   * The key expanded once: its hash and public key.
   * @param privateKey the 32-byte RFC 8032 seed; another length throws `InvalidArgumentError`.
   */
  new (privateKey: Uint8Array): ExpandedSigner
}

/**
 * The primitives a backend (the Rust addon or the TypeScript fallback) provides; both give identical
 * bytes. Remote-input failures come back as data; caller bugs throw.
 */
export interface Binding {
  /** Which backend this is: `native` (the Rust addon) or `js` (the TypeScript fallback). */
  readonly name: 'native' | 'js'

  /**
   * Bytes written to TCP socket `fd` that the other side has not acknowledged (Linux SIOCOUTQ); null
   * where the OS cannot say. Only the addon has it (the runtime reads /proc/net/tcp otherwise).
   */
  socketSendQueue?(fd: number): number | null

  // --- Ed25519 (the reference's commonware-cryptography 0.0.14 scheme) ---
  /** The 32-byte private key (RFC 8032 seed) the reference's `Ed25519::from_seed(seed)` produces. */
  ed25519FromSeed(seed: bigint): Uint8Array
  /** Public key of a 32-byte private key. */
  ed25519PublicKey(privateKey: Uint8Array): Uint8Array
  /** Sign `varint(len(namespace)) || namespace || msg` (the reference's `union_unique`). */
  ed25519Sign(privateKey: Uint8Array, namespace: Uint8Array, msg: Uint8Array): Uint8Array
  /**
   * A private key expanded once, signing as `ed25519Sign` does at half its cost per signature (it
   * derives the key's hash and public key again each call). Native only; optional.
   */
  Ed25519Signer?: ExpandedSignerConstructor
  /** Verify a signature made by `ed25519Sign`. Native: ZIP-215. Fallback: libsodium (stricter). */
  ed25519Verify(namespace: Uint8Array, msg: Uint8Array, publicKey: Uint8Array, sig: Uint8Array): boolean
  /** Verify many; result `i` is whether item `i` verifies. Same answers as calling `ed25519Verify` per item. */
  ed25519VerifyBatch(
    namespaces: Uint8Array[],
    msgs: Uint8Array[],
    publicKeys: Uint8Array[],
    sigs: Uint8Array[],
  ): boolean[]
  /** Whether 32 bytes decompress to a curve point (the reference's `Scheme::validate`). */
  ed25519Validate(publicKey: Uint8Array): boolean

  // --- BLS12-381 min-pk (pk 48-byte G1, sig 96-byte G2, DST ..._NUL_) ---
  /** The 32-byte private scalar (big-endian) the reference's `Bls12381::from_seed(seed)` produces. */
  blsFromSeed(seed: bigint): Uint8Array
  /** IETF BLS KeyGen (blst `keygen_v3`, no salt override, empty info) of >= 32 bytes of input keying material. */
  blsKeygen(ikm: Uint8Array): Uint8Array
  /** The 48-byte compressed G1 public key of a 32-byte private scalar. */
  blsPublicKey(privateKey: Uint8Array): Uint8Array
  /** The 96-byte compressed G2 signature of `union_unique(namespace, msg)`. */
  blsSign(privateKey: Uint8Array, namespace: Uint8Array, msg: Uint8Array): Uint8Array
  /** Verify a signature made by `blsSign`; false (never throws) for malformed keys or signatures. */
  blsVerify(namespace: Uint8Array, msg: Uint8Array, publicKey: Uint8Array, sig: Uint8Array): boolean
  /** Whether 48 bytes are a valid compressed G1 point, not infinity, in the subgroup. */
  blsValidate(publicKey: Uint8Array): boolean

  // --- X25519 ---
  /** Public key of a 32-byte secret (clamped per RFC 7748). */
  x25519PublicKey(secret: Uint8Array): Uint8Array
  /**
   * The raw 32-byte shared secret. Native follows x25519-dalek (an all-zero result is returned);
   * the fallback (libsodium) returns `null` for an all-zero result.
   */
  x25519SharedSecret(secret: Uint8Array, peerPublic: Uint8Array): Uint8Array | null

  // --- ChaCha20-Poly1305 frames ---
  /** Creates the sealing side of a connection direction. */
  SendCipher: CipherConstructor<SendCipher>
  /** Creates the opening side of a connection direction. */
  RecvCipher: CipherConstructor<RecvCipher>

  // --- zstd ---
  /** One zstd frame with the content size in its header. Level 0 means the zstd default (3). */
  zstdCompress(data: Uint8Array, level: number): Uint8Array
  /** Decompress; `null` if the input is not valid zstd or its output would exceed `maxBytes`. */
  zstdDecompress(data: Uint8Array, maxBytes: number): Uint8Array | null
  /**
   * Which zstd this backend has. The fallback picks its engine on the first call (zstd-napi when it
   * loads, else the WASM build); engine `null` means no zstd at all, and `zstdCompress` then throws.
   */
  zstdStatus(): ZstdStatus

  // --- Bit vectors (bitvec Lsb0: bit i is byte i >> 3, mask 1 << (i & 7)) ---
  /** Indices i < n where `ours` has bit i set and `theirs` does not (records the asker lacks), ascending. */
  bitvecLacking(ours: Uint8Array, theirs: Uint8Array, n: number): Uint32Array
  /** Whether `bits` has any bit set at an index >= n. */
  bitvecHasExtraBits(bits: Uint8Array, n: number): boolean

  // --- GCRA ---
  /** Creates an empty GCRA rate-limit table. */
  QuotaTable: {
    /** An empty table: no class has a quota, no state is held. */
    new (): QuotaTable
  }
}
