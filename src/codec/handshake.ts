/**
 * What a stream handshake signs.
 *
 * ## Design
 * PROTOCOL.md 2.3: `recipient_public_key || ephemeral_public_key || timestamp u64 BE`, signed under
 * `ns || "_STREAM"` (p2p adds the suffix; the stream layer uses its namespace verbatim). The verifier
 * rebuilds it from the received field bytes.
 *
 * ## Example
 * `signer.sign(streamNamespace(ns), handshakePayload(peerKey, ephemeral, ts))`
 */

export const STREAM_SUFFIX = '_STREAM'

export function handshakePayload(recipient: Uint8Array, ephemeral: Uint8Array, timestamp: bigint): Uint8Array {
  const out = new Uint8Array(recipient.length + ephemeral.length + 8)
  out.set(recipient)
  out.set(ephemeral, recipient.length)
  new DataView(out.buffer).setBigUint64(recipient.length + ephemeral.length, timestamp)
  return out
}

/** `ns || suffix` (plain concatenation, the reference's `union`). */
export function withSuffix(namespace: Uint8Array, suffix: string): Uint8Array {
  const s = new TextEncoder().encode(suffix)
  const out = new Uint8Array(namespace.length + s.length)
  out.set(namespace)
  out.set(s, namespace.length)
  return out
}
