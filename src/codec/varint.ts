/**
 * Protobuf wire primitives: base-128 varints, tags, a bounds-checked reader and a sizing writer.
 *
 * ## Design
 * Decoding follows prost 0.13 (PROTOCOL.md 4.1): a varint of more than 10 bytes, a truncated buffer
 * or a length past the end is a `DecodeError`; unknown fields of wire types 0, 1, 2, 5 and groups are
 * skipped. Values up to 2^53 take a plain-number path; u64 fields are read as bigint.
 *
 * ## Not provided
 * Packed repeated scalars, zigzag and fixed-width fields: the protocol uses none of them.
 *
 * ## Example
 * ```ts
 * const r = new Reader(bytes); while (!r.done()) { const [field, type] = r.tag(); ... }
 * ```
 */
import { DecodeError } from '../errors.js'

export const WIRE_VARINT = 0
export const WIRE_FIXED64 = 1
export const WIRE_BYTES = 2
export const WIRE_START_GROUP = 3
export const WIRE_END_GROUP = 4
export const WIRE_FIXED32 = 5

/** Bytes of the varint encoding of `n` (a non-negative safe integer or a u64 bigint). */
export function varintSize(n: number | bigint): number {
  if (typeof n === 'bigint') {
    let len = 1
    while (n >= 0x80n) {
      n >>= 7n
      len++
    }
    return len
  }
  let len = 1
  while (n >= 0x80) {
    n = Math.floor(n / 0x80)
    len++
  }
  return len
}

/** Write the varint of `n` at `off`; returns the offset after it. */
export function writeVarint(buf: Uint8Array, off: number, n: number | bigint): number {
  if (typeof n === 'bigint') {
    while (n >= 0x80n) {
      buf[off++] = Number(n & 0x7fn) | 0x80
      n >>= 7n
    }
    buf[off++] = Number(n)
    return off
  }
  while (n >= 0x80) {
    buf[off++] = (n % 0x80) | 0x80
    n = Math.floor(n / 0x80)
  }
  buf[off++] = n
  return off
}

export class Reader {
  pos = 0
  constructor(
    readonly buf: Uint8Array,
    readonly end: number = buf.length,
  ) {}

  done(): boolean {
    return this.pos >= this.end
  }

  /** A u64 varint as bigint (at most 10 bytes; bits past 64 are dropped, as prost does). */
  varintBig(): bigint {
    let result = 0n
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new DecodeError('truncated varint')
      const b = this.buf[this.pos++]!
      result |= BigInt(b & 0x7f) << BigInt(7 * i)
      if (b < 0x80) return result & 0xffff_ffff_ffff_ffffn
    }
    throw new DecodeError('varint longer than 10 bytes')
  }

  /** A varint that must fit a safe integer (lengths, tags). */
  varint(): number {
    let result = 0
    let scale = 1
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new DecodeError('truncated varint')
      const b = this.buf[this.pos++]!
      result += (b & 0x7f) * scale
      if (b < 0x80) {
        if (result > Number.MAX_SAFE_INTEGER) throw new DecodeError('varint too large')
        return result
      }
      scale *= 0x80
    }
    throw new DecodeError('varint longer than 10 bytes')
  }

  /** A uint32 field: a u64 varint truncated to its low 32 bits (prost). */
  uint32(): number {
    return Number(this.varintBig() & 0xffff_ffffn)
  }

  /** [field number, wire type] */
  tag(): [number, number] {
    const key = this.varint()
    const field = Math.floor(key / 8)
    if (field === 0) throw new DecodeError('field number 0')
    return [field, key & 7]
  }

  /** A length-delimited field, as a view into the input (no copy). */
  bytes(): Uint8Array {
    const len = this.varint()
    if (len > this.end - this.pos) throw new DecodeError(`length ${len} past the end of the buffer`)
    const out = this.buf.subarray(this.pos, this.pos + len)
    this.pos += len
    return out
  }

  /** Skip a field of the given wire type (groups are skipped to their matching end). */
  skip(wireType: number, field: number, depth = 0): void {
    switch (wireType) {
      case WIRE_VARINT:
        this.varintBig()
        return
      case WIRE_FIXED64:
        this.advance(8)
        return
      case WIRE_BYTES:
        this.bytes()
        return
      case WIRE_FIXED32:
        this.advance(4)
        return
      case WIRE_START_GROUP: {
        if (depth >= 100) throw new DecodeError('recursion limit reached')
        for (;;) {
          if (this.done()) throw new DecodeError('unterminated group')
          const [f, t] = this.tag()
          if (t === WIRE_END_GROUP) {
            if (f !== field) throw new DecodeError('mismatched end group')
            return
          }
          this.skip(t, f, depth + 1)
        }
      }
      default:
        throw new DecodeError(`invalid wire type ${wireType}`)
    }
  }

  private advance(n: number): void {
    if (n > this.end - this.pos) throw new DecodeError('truncated fixed-width field')
    this.pos += n
  }
}

/** Require a wire type for a known field, as prost does. */
export function expectWireType(actual: number, expected: number, field: string): void {
  if (actual !== expected) throw new DecodeError(`${field}: wire type ${actual}, expected ${expected}`)
}
