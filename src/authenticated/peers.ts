/**
 * The connected peers of a network, by public key: what every send looks up.
 *
 * ## Design
 * Peers are keyed by the hex of their public key. A caller's key array is hex-encoded once and the
 * result kept with a copy of the bytes it was computed from (`keyHex`): a sender usually passes the
 * same key objects again and again (`Recipients.one(key)` on every send), and a later call with the
 * same array finds the hex without encoding it, after checking that the array still holds those
 * bytes (a scratch array refilled with another key is encoded again, never routed by its old key).
 * `sorted()` keeps the peers in ascending key order (`Recipients.all()`'s order) until the set
 * changes, instead of sorting them on every broadcast.
 *
 * ## Not provided
 * Ownership: the table holds what the network puts in it; a peer leaves it only by `delete`.
 *
 * ## Example
 * ```ts
 * const peers = new PeerTable<PeerConnection>()
 * peers.set(p.hex, p)
 * peers.byKey(key) // p, for any array holding p's key
 * ```
 */
import { bytesEqual } from '../stream/handshake.js'
import { hexOf } from '../utils/hex.js'

/** What the table needs of a peer: its key and that key's hex. */
export interface Keyed {
  readonly hex: string
  readonly peer: Uint8Array
}

const keyHex = new WeakMap<Uint8Array, { hex: string; bytes: Uint8Array }>()

/** The hex of `key`'s bytes now; computed once per key array while the array keeps its bytes. */
export function keyHexOf(key: Uint8Array): string {
  const known = keyHex.get(key)
  if (known !== undefined && bytesEqual(known.bytes, key)) return known.hex
  const hex = hexOf(key)
  keyHex.set(key, { hex, bytes: key.slice() })
  return hex
}

/** Peers by key hex, with lookups by key bytes and a cached ascending order. */
export class PeerTable<P extends Keyed> {
  readonly #byHex = new Map<string, P>()
  #sorted: readonly P[] | undefined

  get size(): number {
    return this.#byHex.size
  }

  get(hex: string): P | undefined {
    return this.#byHex.get(hex)
  }

  has(hex: string): boolean {
    return this.#byHex.has(hex)
  }

  /** The peer whose public key `key` holds now, if connected. */
  byKey(key: Uint8Array): P | undefined {
    return this.#byHex.get(keyHexOf(key))
  }

  set(hex: string, peer: P): void {
    this.#byHex.set(hex, peer)
    this.#sorted = undefined
  }

  delete(hex: string): void {
    if (this.#byHex.delete(hex)) this.#sorted = undefined
  }

  values(): IterableIterator<P> {
    return this.#byHex.values()
  }

  /** Every peer in ascending key order; the same array until the table changes (do not modify it). */
  sorted(): readonly P[] {
    return (this.#sorted ??= [...this.#byHex.values()].sort((a, b) => (a.hex < b.hex ? -1 : a.hex > b.hex ? 1 : 0)))
  }
}
