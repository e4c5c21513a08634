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
 * buffer. Opening consumes every complete frame of a chunk, packing the plaintexts at the chunk's start
 * (in place, like the addon), and reports the first refusal as data; a refused cipher stays refused.
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

export function makeCiphers(sodium: Sodium): {
  SendCipher: new (key: Uint8Array, isDialer: boolean, maxPlainBytes: number, counter?: Uint8Array) => SendCipher
  RecvCipher: new (key: Uint8Array, isDialer: boolean, maxPlainBytes: number, counter?: Uint8Array) => RecvCipher
} {
  const encrypt = sodium.crypto_aead_chacha20poly1305_ietf_encrypt_detached
  const decrypt = sodium.crypto_aead_chacha20poly1305_ietf_decrypt_detached

  class JsSendCipher implements SendCipher {
    readonly #key: Uint8Array
    readonly #nonce: Nonce
    readonly #max: number

    constructor(key: Uint8Array, isDialer: boolean, maxPlainBytes: number, counter?: Uint8Array) {
      this.#key = checkKey(key)
      this.#max = checkMax(maxPlainBytes)
      this.#nonce = new Nonce(isDialer, counter)
    }

    sealFrames(plain: Uint8Array, lens: Uint32Array): Uint8Array {
      let total = 0
      for (const len of lens) {
        if (len > this.#max) throw new FrameTooLargeError(len, this.#max)
        total += len
      }
      if (total !== plain.length) {
        throw new InvalidArgumentError(`lengths add up to ${total} but plain has ${plain.length} bytes`)
      }
      // Each frame needs one step; the step after the last usable nonce overflows.
      if (this.#nonce.remaining(lens.length) < lens.length) throw new NonceOverflowError()
      const out = new Uint8Array(total + lens.length * (PREFIX_LENGTH + TAG_LENGTH))
      const view = new DataView(out.buffer)
      let src = 0
      let dst = 0
      for (const len of lens) {
        view.setUint32(dst, len + TAG_LENGTH)
        const r = encrypt(plain.subarray(src, src + len), null, null, this.#nonce.bytes, this.#key)
        out.set(r.ciphertext, dst + PREFIX_LENGTH)
        out.set(r.mac, dst + PREFIX_LENGTH + len)
        this.#nonce.step()
        src += len
        dst += PREFIX_LENGTH + len + TAG_LENGTH
      }
      return out
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
      const lens: number[] = []
      let off = 0
      let write = 0
      let error = this.#failed
      const view = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength)
      while (error === null && chunk.length - off >= PREFIX_LENGTH) {
        const len = view.getUint32(off)
        if (len === 0) {
          error = 'ERR_FRAME_EMPTY'
          break
        }
        if (len > this.#maxFrame) {
          error = 'ERR_FRAME_TOO_LARGE'
          break
        }
        if (chunk.length - off - PREFIX_LENGTH < len) break
        if (len < TAG_LENGTH) {
          error = 'ERR_DECRYPT_FAILED'
          break
        }
        const body = off + PREFIX_LENGTH
        let opened: Uint8Array
        try {
          opened = decrypt(null, chunk.subarray(body, body + len - TAG_LENGTH), chunk.subarray(body + len - TAG_LENGTH, body + len), null, this.#nonce.bytes, this.#key)
        } catch {
          error = 'ERR_DECRYPT_FAILED'
          break
        }
        try {
          this.#nonce.step()
        } catch {
          error = 'ERR_NONCE_OVERFLOW'
          break
        }
        // Pack the plaintexts at the start of the chunk, as the addon does (it decrypts in place).
        chunk.set(opened, write)
        write += opened.length
        lens.push(opened.length)
        off = body + len
      }
      this.#failed = error
      return { plain: chunk.subarray(0, write), lens: Uint32Array.from(lens), consumed: off, error }
    }
  }

  return { SendCipher: JsSendCipher, RecvCipher: JsRecvCipher }
}
