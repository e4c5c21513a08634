/**
 * Creating and verifying handshake messages (PROTOCOL.md 2.1 to 2.4), with no I/O.
 *
 * ## Design
 * A handshake names its recipient, carries a fresh X25519 public key and a millisecond timestamp, and
 * is signed by the sender over `recipient || ephemeral || timestamp u64 BE` under the stream namespace.
 * `verifyHandshake` applies the reference's checks in the reference's order, so the same bad input
 * fails with the same reason: decode, ephemeral length, recipient key valid, recipient is us,
 * timestamp window (both ends inclusive), signature present, signer key valid, signature.
 *
 * ## Not provided
 * Replay protection: a replayed handshake inside the age window verifies, but the replayer cannot
 * derive the key (it lacks the ephemeral secret), so the connection fails at the first frame.
 *
 * ## Example
 * `const { peer, ephemeral } = verifyHandshake(cfg, ctx.now(), frameBody)`
 */
import { decodeHandshake, encodeHandshake, handshakePayload } from '../codec/index.js'
import { DecodeError, HandshakeError } from '../errors.js'
import type { StreamConfig } from './config.js'

/** What a handshake that passed every check tells about its sender. */
export interface VerifiedHandshake {
  /** The signer's public key (who the peer is). */
  peer: Uint8Array
  /** The peer's X25519 ephemeral public key. */
  ephemeral: Uint8Array
  /** When the peer made the handshake, ms since the Unix epoch. */
  timestamp: bigint
}

/** Encode and sign a handshake for `recipient` at time `nowMs`. */
export function createHandshake(cfg: StreamConfig, recipient: Uint8Array, ephemeral: Uint8Array, nowMs: number): Uint8Array {
  const timestamp = BigInt(Math.max(0, Math.floor(nowMs)))
  const signature = cfg.signer.sign(cfg.namespace, handshakePayload(recipient, ephemeral, timestamp))
  return encodeHandshake({
    recipientPublicKey: recipient,
    ephemeralPublicKey: ephemeral,
    timestamp,
    signature: { publicKey: cfg.signer.publicKey, signature },
  })
}

/**
 * The reference's checks, in order; throws `HandshakeError` naming the first that fails. `screen`, when
 * given, sees the claimed signer key after every cheap check and before the signature is verified, and
 * throws to refuse it (a listener refuses keys it would not accept anyway without paying for a verify).
 */
export function verifyHandshake(cfg: StreamConfig, nowMs: number, body: Uint8Array, screen?: (peer: Uint8Array) => void): VerifiedHandshake {
  let h
  try {
    h = decodeHandshake(body)
  } catch (e) {
    if (e instanceof DecodeError) throw new HandshakeError('UnableToDecode', e.message, { cause: e })
    throw e
  }
  const scheme = cfg.signer.scheme
  if (h.ephemeralPublicKey.length !== 32) throw new HandshakeError('InvalidEphemeralPublicKey', `${h.ephemeralPublicKey.length} bytes`)
  // Our own key is valid: only another recipient key is validated (to name the reference's reason).
  if (!bytesEqual(h.recipientPublicKey, cfg.signer.publicKey)) {
    throw new HandshakeError(scheme.validate(h.recipientPublicKey) ? 'HandshakeNotForUs' : 'InvalidChannelPublicKey')
  }
  const ts = h.timestamp
  const now = BigInt(Math.floor(nowMs))
  // Inclusive bounds: exactly max age old passes, exactly the synchrony bound ahead passes.
  if (ts + BigInt(cfg.maxHandshakeAgeMs) < now) throw skewError('InvalidTimestampOld', ts, now)
  if (ts > now + BigInt(cfg.synchronyBoundMs)) throw skewError('InvalidTimestampFuture', ts, now)
  if (!h.signature) throw new HandshakeError('MissingSignature')
  const peer = h.signature.publicKey
  if (!scheme.validate(peer)) throw new HandshakeError('InvalidPeerPublicKey')
  screen?.(peer)
  const payload = handshakePayload(h.recipientPublicKey, h.ephemeralPublicKey, ts)
  if (!scheme.verify(cfg.namespace, payload, peer, h.signature.signature)) throw new HandshakeError('InvalidSignature')
  return { peer: Uint8Array.from(peer), ephemeral: Uint8Array.from(h.ephemeralPublicKey), timestamp: ts }
}

function skewError(reason: 'InvalidTimestampOld' | 'InvalidTimestampFuture', ts: bigint, now: bigint): HandshakeError {
  const e = new HandshakeError(reason, `${ts}`)
  e.skewMs = Number(ts - now)
  return e
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
