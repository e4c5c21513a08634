/**
 * `BitVec`: the knowledge vector gossiped over a peer set, in the reference's bit order.
 *
 * ## Design
 * Bit i (peer `sorted[i]`) is byte i >> 3, mask 1 << (i & 7) (bitvec's `Lsb0` over bytes). `toWire()`
 * gives floor(n/8) + 1 bytes, the length every 0.0.25 Rust node accepts (it rejects exactly n/8 bytes
 * when n is a multiple of 8, PROTOCOL.md 5.2); `fromWire()` accepts that length and the canonical
 * ceil(n/8) and refuses bits set past n. `lacking()` gives the indices the other side lacks and we
 * have, computed by the active backend in one call.
 *
 * ## Not provided
 * Resizing: a peer set never changes size; a new set gets a new vector.
 *
 * ## Example
 * ```ts
 * const mine = new BitVec(10); mine.set(3)
 * const theirs = BitVec.fromWire(10, bytes) // undefined if the length or padding is wrong
 * if (theirs) mine.lacking(theirs) // e.g. Uint32Array [3]
 * ```
 */
import { binding } from '../native/load.js'

/** A fixed-length bit vector over a sorted peer set, bit `i` standing for peer `i`. */
export class BitVec {
  /** The bits, ceil(length / 8) bytes, bit i at byte i >> 3, mask 1 << (i & 7). */
  readonly bytes: Uint8Array

  /**
   * A vector of `length` bits, all clear unless `bytes` is given.
   * @param length - The number of bits (peers in the set).
   * @param bytes - Initial bits, copied; bytes past ceil(length / 8) are ignored.
   */
  constructor(
    /** The number of bits (peers in the set). */
    readonly length: number,
    bytes?: Uint8Array,
  ) {
    this.bytes = new Uint8Array(Math.ceil(length / 8))
    if (bytes) this.bytes.set(bytes.subarray(0, this.bytes.length))
  }

  /** Parse a received vector for a set of `n` peers; undefined if its length or padding is invalid. */
  static fromWire(n: number, bits: Uint8Array): BitVec | undefined {
    const canonical = Math.ceil(n / 8)
    const padded = Math.floor(n / 8) + 1
    if (bits.length !== canonical && bits.length !== padded) return undefined
    if (binding.bitvecHasExtraBits(bits, n)) return undefined
    return new BitVec(n, bits)
  }

  /** Whether bit `i` is set; false for any `i` outside 0..length-1. */
  get(i: number): boolean {
    return i >= 0 && i < this.length && (this.bytes[i >> 3]! & (1 << (i & 7))) !== 0
  }

  /** Set bit `i`; throws `RangeError` unless `i` is an integer in 0..length-1. */
  set(i: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.length) throw new RangeError(`bit ${i} outside 0..${this.length - 1}`)
    this.bytes[i >> 3]! |= 1 << (i & 7)
  }

  /** Number of bits set. */
  count(): number {
    let c = 0
    for (let i = 0; i < this.length; i++) if (this.get(i)) c++
    return c
  }

  /** Indices set here and clear in `theirs` (the records to send them), ascending. */
  lacking(theirs: BitVec): Uint32Array {
    return binding.bitvecLacking(this.bytes, theirs.bytes, this.length)
  }

  /** The bytes to send: floor(n/8) + 1 of them (padding zero), accepted by every 0.0.25 node. */
  toWire(): Uint8Array {
    const out = new Uint8Array(Math.floor(this.length / 8) + 1)
    out.set(this.bytes)
    return out
  }
}
