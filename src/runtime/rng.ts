/**
 * `SeededRng`: a deterministic cryptographic-quality byte stream (ChaCha12 keyed from a u64 seed).
 *
 * ## Design
 * The seed is expanded exactly like rand 0.8's `StdRng::seed_from_u64`, so a seeded runtime draws
 * the same bytes as the reference's seeded runtimes would. Blocks are generated on demand.
 *
 * ## Not provided
 * Secrecy: anyone who knows the seed knows every byte. For tests and simulations only.
 *
 * ## Example
 * `new SeededRng(7n).bytes(32)`
 */
import { seededStream } from '../native/js/chacha12.js'

/** A deterministic random byte stream: the keystream rand 0.8's `StdRng::seed_from_u64(seed)` produces. */
export class SeededRng {
  readonly #next: (n: number) => Uint8Array

  /** A stream keyed from the u64 `seed`. */
  constructor(seed: bigint) {
    this.#next = seededStream(seed)
  }

  /** The next `n` bytes of the stream. */
  bytes(n: number): Uint8Array {
    return this.#next(n)
  }

  /** Uniform in [0, max) by rejection sampling over 32-bit draws. */
  int(max: number): number {
    if (!Number.isInteger(max) || max <= 0 || max > 2 ** 32) throw new RangeError(`max must be in 1..2^32, got ${max}`)
    const limit = 2 ** 32 - (2 ** 32 % max)
    for (;;) {
      const b = this.bytes(4)
      const v = ((b[0]! | (b[1]! << 8) | (b[2]! << 16)) >>> 0) + b[3]! * 2 ** 24
      if (v < limit) return v % max
    }
  }
}
