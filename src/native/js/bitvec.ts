/**
 * Knowledge bit vectors for the fallback backend.
 *
 * ## Design
 * bitvec's `Lsb0` order over bytes (the reference's): bit i is byte i >> 3, mask 1 << (i & 7). Bytes
 * past the end of a slice count as zero.
 *
 * ## Example
 * `bitvecLacking([0b1010], [0b0010], 4)` is `[3]`.
 */

export function bitvecLacking(ours: Uint8Array, theirs: Uint8Array, n: number): Uint32Array {
  const out: number[] = []
  const bytes = Math.ceil(n / 8)
  for (let b = 0; b < bytes; b++) {
    let want = (ours[b] ?? 0) & ~(theirs[b] ?? 0)
    while (want !== 0) {
      const bit = 31 - Math.clz32(want & -want)
      const i = b * 8 + bit
      if (i >= n) break
      out.push(i)
      want &= want - 1
    }
  }
  return Uint32Array.from(out)
}

export function bitvecHasExtraBits(bits: Uint8Array, n: number): boolean {
  const full = n >> 3
  for (let b = full; b < bits.length; b++) {
    const mask = b === full ? 0xff & ~((1 << (n & 7)) - 1) : 0xff
    if ((bits[b]! & mask) !== 0) return true
  }
  return false
}
