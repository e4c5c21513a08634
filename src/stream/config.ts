/**
 * Configuration of one encrypted connection (the reference's `commonware_stream::public_key::Config`).
 *
 * ## Design
 * Values with no safe default (identity, namespace, size limit) are arguments of the preset; the
 * timing defaults are the reference's (synchrony bound 5 s, maximum handshake age 10 s, handshake
 * timeout 5 s). `verifyStreamConfig` names the first bad field.
 *
 * ## Example
 * `StreamConfig.recommended(signer, withSuffix(ns, STREAM_SUFFIX), (1 << 20) + 64)`
 */
import { InvalidConfigError } from '../errors.js'
import type { Signer } from '../crypto/scheme.js'
import type { Binding } from '../native/binding.js'

/** Settings of one encrypted connection; build one with `StreamConfig.recommended`. */
export interface StreamConfig {
  /** Our identity; the peer must expect this key. */
  signer: Signer
  /**
   * Signing namespace, used verbatim (the p2p layer passes `ns || "_STREAM"`). Must match across peers.
   */
  namespace: Uint8Array
  /**
   * Largest frame plaintext (and handshake frame) in bytes; p2p passes M + 64. Must be at least what
   * the peer sends.
   */
  maxMessageBytes: number
  /** How far in the future a peer's handshake timestamp may be, ms. Should match across peers. */
  synchronyBoundMs: number
  /** How old a peer's handshake timestamp may be, ms. Should match across peers. */
  maxHandshakeAgeMs: number
  /** Deadline for the whole handshake, ms. Local. */
  handshakeTimeoutMs: number
  /**
   * Which primitives to use (default: the active backend). Local; for benchmarks and tests that
   * compare the addon with the fallback in one process.
   */
  backend?: Binding
  /**
   * Seal and open large batches (from 256 KiB) on the libuv thread pool, on real sockets with the
   * addon (default false). Local. It frees the event loop for socket I/O meanwhile, but each batch
   * then costs more CPU in all (two processes streaming 1 MiB messages on 2 cores: about +0.6 ms per
   * MiB on each side), so it pays only where cores would otherwise sit idle.
   */
  threadPool?: boolean
}

/** The preset of `StreamConfig`. */
export const StreamConfig = {
  /** The reference's defaults for the timing fields. */
  recommended: (signer: Signer, namespace: Uint8Array, maxMessageBytes: number): StreamConfig => ({
    signer,
    namespace,
    maxMessageBytes,
    synchronyBoundMs: 5_000,
    maxHandshakeAgeMs: 10_000,
    handshakeTimeoutMs: 5_000,
  }),
}

/** Throws `InvalidConfigError` naming the first field out of bounds; returns the config. */
export function verifyStreamConfig(c: StreamConfig): StreamConfig {
  const int = (field: keyof StreamConfig, v: number, min: number, max: number) => {
    if (!Number.isInteger(v) || v < min || v > max) throw new InvalidConfigError(field, `must be an integer in ${min}..${max}, got ${v}`)
  }
  int('maxMessageBytes', c.maxMessageBytes, 1, 0xffff_ffff - 16)
  int('synchronyBoundMs', c.synchronyBoundMs, 0, Number.MAX_SAFE_INTEGER)
  int('maxHandshakeAgeMs', c.maxHandshakeAgeMs, 0, Number.MAX_SAFE_INTEGER)
  int('handshakeTimeoutMs', c.handshakeTimeoutMs, 1, Number.MAX_SAFE_INTEGER)
  if (!(c.namespace instanceof Uint8Array)) throw new InvalidConfigError('namespace', 'must be bytes')
  return c
}
