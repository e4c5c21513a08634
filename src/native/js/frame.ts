/**
 * ChaCha20-Poly1305 frames with counter nonces (fallback backend, libsodium).
 *
 * ## Design
 * Wire format (PROTOCOL.md 1 and 3): each frame is a u32 big-endian length, then ciphertext || 16-byte
 * tag, sealed with empty associated data under one key shared by both directions. The 12-byte nonce is
 * `role || 00 || iter u16 BE || seq u64 BE`, role 0x80 for frames the dialer sends. The counter steps
 * after every successful seal or open; seq 2^64-1 is used, then iter carries; stepping past
 * (65535, 2^64-1) is an overflow, so that final nonce is never sent. The nonce lives in one 12-byte
 * buffer incremented in place: no BigInt on the hot path.
 *
 * A batch is checked (sizes, nonce budget) before anything is sealed, then sealed into one output
 * buffer (or in place, `sealInPlace`). Opening consumes every complete frame of a chunk, packing the
 * plaintexts at the chunk's start (in place, like the addon), and reports the first refusal as data; a
 * refused cipher stays refused. Both work on a scratch region of the WASM heap with libsodium's raw
 * exports: a batch is copied in once, every frame sealed or opened there in place, and the result
 * copied out once (the wrapper functions allocate and copy every input and output of every frame: 14-17%
 * of each side at 100 B messages). The key is written there for the call and wiped after it.
 *
 * ## Not provided
 * Reordering or retransmission: a dropped, duplicated or reordered frame fails to open and the
 * connection must end (as in the reference).
 *
 * ## Example
 * ```ts
 * const tx = new SendCipher(key, true, 1024), rx = new RecvCipher(key, false, 1024)
 * rx.openFrames(tx.sealFrames(plain, Uint32Array.of(plain.length))).plain // plain
 * ```
 */
import type _sodium from 'libsodium-wrappers'
import { FrameTooLargeError, InvalidArgumentError, NonceOverflowError } from '../../errors.js'
import type { OpenErrorCode, OpenResult, RecvCipher, SendCipher } from '../binding.js'

type Sodium = typeof _sodium

export const TAG_LENGTH = 16
export const PREFIX_LENGTH = 4
const DIALER_BIT = 0x80

/** A 12-byte nonce counter; bytes 2..12 are the big-endian (iter, seq) pair. */
class Nonce {
  readonly bytes = new Uint8Array(12)

  constructor(role: boolean, counter?: Uint8Array) {
    this.bytes[0] = role ? DIALER_BIT : 0
    if (counter !== undefined) {
      if (counter.length !== 10) throw new InvalidArgumentError(`counter must be 10 bytes, got ${counter.length}`)
      this.bytes.set(counter, 2)
    }
  }

  /** Whether the current value is the last one, (65535, 2^64-1): stepping from it overflows. */
  private isLast(): boolean {
    for (let i = 2; i < 12; i++) if (this.bytes[i] !== 0xff) return false
    return true
  }

  /** How many steps remain before an overflow, capped at `cap`: (2^80 - 1) - counter. */
  remaining(cap: number): number {
    let r = 0
    for (let i = 2; i < 12; i++) r = r * 256 + (0xff - this.bytes[i]!)
    // Exact whenever it is small (the high bytes are then all 0xff); approximate only far above `cap`.
    return Math.min(r, cap)
  }

  /** Step after use; throws on overflow (the caller checked the budget first for batches). */
  step(): void {
    if (this.isLast()) throw new NonceOverflowError()
    for (let i = 11; i >= 2; i--) {
      if (this.bytes[i] === 0xff) {
        this.bytes[i] = 0
      } else {
        this.bytes[i]!++
        return
      }
    }
  }
}

function checkKey(key: Uint8Array): Uint8Array {
  if (!(key instanceof Uint8Array) || key.length !== 32) {
    throw new InvalidArgumentError(`key must be 32 bytes, got ${key?.length}`)
  }
  return Uint8Array.from(key)
}

function checkMax(maxPlainBytes: number): number {
  if (!Number.isInteger(maxPlainBytes) || maxPlainBytes < 0 || maxPlainBytes > 0xffff_ffff - TAG_LENGTH) {
    throw new InvalidArgumentError(`maxPlainBytes must be an integer in 0..${0xffff_ffff - TAG_LENGTH}`)
  }
  return maxPlainBytes
}

/** The part of libsodium's Emscripten module the batch paths use (`sodium.libsodium`). */
interface SodiumModule {
  HEAPU8: Uint8Array
  _malloc(size: number): number
  _free(ptr: number): void
  // (c, mac, maclen_p, m, mlen lo, mlen hi, ad, adlen lo, adlen hi, nsec, npub, k) -> 0
  _crypto_aead_chacha20poly1305_ietf_encrypt_detached(...args: number[]): number
  // (m, nsec, c, clen lo, clen hi, mac, ad, adlen lo, adlen hi, npub, k) -> 0, or -1 on a bad tag
  _crypto_aead_chacha20poly1305_ietf_decrypt_detached(...args: number[]): number
}

/** Bytes before the frames in the scratch region: the key (32), the nonce (12), padding. */
const HEADER = 48

/**
 * One scratch region in the WASM heap, grown on demand and reused by every cipher of the backend
 * (calls are synchronous, so one region serves them all). A batch is copied in once, sealed or opened
 * there in place frame by frame, and copied out once: the wrapper functions of libsodium-wrappers
 * allocate, copy in and copy out every input and output of every frame instead.
 */
class Scratch {
  #ptr = 0
  #size = 0

  constructor(readonly mod: SodiumModule) {}

  /** The region's address, at least `bytes` long; `mod.HEAPU8` must be read again after this call. */
  region(bytes: number): number {
    if (bytes > this.#size) {
      if (this.#ptr !== 0) this.mod._free(this.#ptr)
      this.#ptr = 0
      this.#size = 0
      const size = Math.max(bytes, 64 * 1024)
      const ptr = this.mod._malloc(size)
      if (ptr === 0) throw new RangeError(`libsodium could not allocate ${size} bytes`)
      this.#ptr = ptr
      this.#size = size
    }
    return this.#ptr
  }

  /**
   * Run `use` on a region of `bytes` frame bytes (at `base + HEADER`) with `key` written at `base` for
   * the call and wiped after it, whatever `use` does.
   */
  withKey<T>(key: Uint8Array, bytes: number, use: (heap: Uint8Array, base: number) => T): T {
    const base = this.region(HEADER + bytes)
    const heap = this.mod.HEAPU8
    heap.set(key, base)
    try {
      return use(heap, base)
    } finally {
      heap.fill(0, base, base + 32)
    }
  }
}

export function makeCiphers(sodium: Sodium): {
  SendCipher: new (key: Uint8Array, isDialer: boolean, maxPlainBytes: number, counter?: Uint8Array) => SendCipher
  RecvCipher: new (key: Uint8Array, isDialer: boolean, maxPlainBytes: number, counter?: Uint8Array) => RecvCipher
} {
  const mod = (sodium as unknown as { libsodium?: SodiumModule }).libsodium
  if (mod === undefined || typeof mod._malloc !== 'function' || typeof mod._crypto_aead_chacha20poly1305_ietf_encrypt_detached !== 'function') {
    throw new Error('libsodium-wrappers does not expose its module (sodium.libsodium): unsupported version')
  }
  const wasm: SodiumModule = mod
  const scratch = new Scratch(wasm)
  const encrypt = wasm._crypto_aead_chacha20poly1305_ietf_encrypt_detached
  const decrypt = wasm._crypto_aead_chacha20poly1305_ietf_decrypt_detached

  /** Seal the frames laid out at `at` (prefix space, plaintext, tag space each) in place. */
  const sealLaidOut = (heap: Uint8Array, base: number, lens: Uint32Array, nonce: Nonce): void => {
    let at = base + HEADER
    for (const len of lens) {
      const size = len + TAG_LENGTH
      heap[at] = size >>> 24
      heap[at + 1] = (size >>> 16) & 0xff
      heap[at + 2] = (size >>> 8) & 0xff
      heap[at + 3] = size & 0xff
      heap.set(nonce.bytes, base + 32)
      const body = at + PREFIX_LENGTH
      encrypt(body, body + len, 0, body, len, 0, 0, 0, 0, 0, base + 32, base)
      nonce.step()
      at = body + size
    }
  }

  class JsSendCipher implements SendCipher {
    readonly #key: Uint8Array
    readonly #nonce: Nonce
    readonly #max: number

    constructor(key: Uint8Array, isDialer: boolean, maxPlainBytes: number, counter?: Uint8Array) {
      this.#key = checkKey(key)
      this.#max = checkMax(maxPlainBytes)
      this.#nonce = new Nonce(isDialer, counter)
    }

    /** Checks a batch (sizes, nonce budget); returns the plaintext total. */
    #check(lens: Uint32Array): number {
      let total = 0
      for (const len of lens) {
        if (len > this.#max) throw new FrameTooLargeError(len, this.#max)
        total += len
      }
      // Each frame needs one step; the step after the last usable nonce overflows.
      if (this.#nonce.remaining(lens.length) < lens.length) throw new NonceOverflowError()
      return total
    }

    sealFrames(plain: Uint8Array, lens: Uint32Array): Uint8Array {
      const total = this.#check(lens)
      if (total !== plain.length) {
        throw new InvalidArgumentError(`lengths add up to ${total} but plain has ${plain.length} bytes`)
      }
      const bytes = total + lens.length * (PREFIX_LENGTH + TAG_LENGTH)
      return scratch.withKey(this.#key, bytes, (heap, base) => {
        let src = 0
        let at = base + HEADER + PREFIX_LENGTH
        for (const len of lens) {
          heap.set(plain.subarray(src, src + len), at)
          src += len
          at += len + TAG_LENGTH + PREFIX_LENGTH
        }
        sealLaidOut(heap, base, lens, this.#nonce)
        return heap.slice(base + HEADER, base + HEADER + bytes)
      })
    }

    sealInPlace(frames: Uint8Array, lens: Uint32Array): void {
      const total = this.#check(lens)
      const bytes = total + lens.length * (PREFIX_LENGTH + TAG_LENGTH)
      if (frames.length !== bytes) {
        throw new InvalidArgumentError(`frames must be ${bytes} bytes for these lengths, got ${frames.length}`)
      }
      scratch.withKey(this.#key, bytes, (heap, base) => {
        heap.set(frames, base + HEADER)
        sealLaidOut(heap, base, lens, this.#nonce)
        frames.set(heap.subarray(base + HEADER, base + HEADER + bytes))
      })
    }
  }

  class JsRecvCipher implements RecvCipher {
    readonly #key: Uint8Array
    readonly #nonce: Nonce
    readonly #maxFrame: number
    #failed: OpenErrorCode | null = null

    constructor(key: Uint8Array, isDialer: boolean, maxPlainBytes: number, counter?: Uint8Array) {
      this.#key = checkKey(key)
      this.#maxFrame = checkMax(maxPlainBytes) + TAG_LENGTH
      this.#nonce = new Nonce(!isDialer, counter)
    }

    openFrames(chunk: Uint8Array): OpenResult {
      // First the extent of the complete frames and the first malformed prefix, then one copy into
      // the WASM heap, each frame opened there in place and its plaintext copied back to the chunk.
      let end = 0
      let error = this.#failed
      const view = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength)
      while (error === null && chunk.length - end >= PREFIX_LENGTH) {
        const len = view.getUint32(end)
        if (len === 0) error = 'ERR_FRAME_EMPTY'
        else if (len > this.#maxFrame) error = 'ERR_FRAME_TOO_LARGE'
        else if (chunk.length - end - PREFIX_LENGTH < len) break
        else if (len < TAG_LENGTH) error = 'ERR_DECRYPT_FAILED'
        else end += PREFIX_LENGTH + len
      }
      const lens: number[] = []
      let off = 0
      let write = 0
      if (end > 0) {
        scratch.withKey(this.#key, end, (heap, base) => {
          heap.set(chunk.subarray(0, end), base + HEADER)
          while (off < end) {
            const len = view.getUint32(off) - TAG_LENGTH
            const body = base + HEADER + off + PREFIX_LENGTH
            heap.set(this.#nonce.bytes, base + 32)
            if (decrypt(body, 0, body, len, 0, body + len, 0, 0, 0, base + 32, base) !== 0) {
              error = 'ERR_DECRYPT_FAILED'
              return
            }
            try {
              this.#nonce.step()
            } catch {
              error = 'ERR_NONCE_OVERFLOW'
              return
            }
            // Pack the plaintexts at the start of the chunk, as the addon does (it decrypts in place).
            chunk.set(heap.subarray(body, body + len), write)
            write += len
            lens.push(len)
            off += PREFIX_LENGTH + len + TAG_LENGTH
          }
        })
      }
      this.#failed = error
      return { plain: chunk.subarray(0, write), lens: Uint32Array.from(lens), consumed: off, error }
    }
  }

  return { SendCipher: JsSendCipher, RecvCipher: JsRecvCipher }
}
