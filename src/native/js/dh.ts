/**
 * X25519 for the fallback backend (libsodium).
 *
 * ## Design
 * RFC 7748 with a clamped scalar; the raw 32-byte output is the connection key (PROTOCOL.md 3).
 *
 * ## Not provided
 * The reference accepts an all-zero shared secret (a low-order peer key); libsodium refuses it, and
 * so this returns `null` and the handshake fails. Honest peers never send such keys.
 *
 * ## Example
 * `x25519SharedSecret(a, x25519PublicKey(b))` equals `x25519SharedSecret(b, x25519PublicKey(a))`.
 */
import type _sodium from 'libsodium-wrappers'
import { InvalidArgumentError } from '../../errors.js'

type Sodium = typeof _sodium

function need32(b: Uint8Array, what: string): Uint8Array {
  if (!(b instanceof Uint8Array) || b.length !== 32) throw new InvalidArgumentError(`${what} must be 32 bytes, got ${b?.length}`)
  return b
}

export function makeDh(sodium: Sodium) {
  return {
    x25519PublicKey: (secret: Uint8Array): Uint8Array => sodium.crypto_scalarmult_base(need32(secret, 'x25519 secret')),
    x25519SharedSecret: (secret: Uint8Array, peer: Uint8Array): Uint8Array | null => {
      need32(secret, 'x25519 secret')
      need32(peer, 'x25519 public key')
      try {
        return sodium.crypto_scalarmult(secret, peer)
      } catch {
        return null
      }
    },
  }
}
