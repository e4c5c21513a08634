/**
 * `union_unique`: the namespacing rule of every signature.
 *
 * ## Design
 * `varint(len(namespace)) || namespace || msg`, with the protobuf base-128 varint of the length. The
 * length prefix makes the split between namespace and message unambiguous.
 *
 * ## Example
 * `unionUnique(utf8('ns'), msg)` starts with `02 6e 73`.
 */

/** Bytes needed for the base-128 varint of `n` (n < 2^53). */
function varintLength(n: number): number {
  let len = 1
  while (n >= 0x80) {
    n = Math.floor(n / 0x80)
    len++
  }
  return len
}

/** `varint(len(namespace)) || namespace || msg`. */
export function unionUnique(namespace: Uint8Array, msg: Uint8Array): Uint8Array {
  const out = new Uint8Array(varintLength(namespace.length) + namespace.length + msg.length)
  let n = namespace.length
  let i = 0
  while (n >= 0x80) {
    out[i++] = (n % 0x80) | 0x80
    n = Math.floor(n / 0x80)
  }
  out[i++] = n
  out.set(namespace, i)
  out.set(msg, i + namespace.length)
  return out
}
