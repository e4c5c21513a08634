/**
 * Identities on the command line: key generation and hex keys from config files.
 *
 * ## Design
 * Keys travel as lowercase hex (private keys are the 32-byte RFC 8032 seed for Ed25519 and the 32-byte
 * big-endian scalar for BLS12-381, as `Signer.privateKey()` returns them). A seed gives the same key as
 * `Ed25519.fromSeed(seed)` in code, so tests and demos can name nodes by number.
 *
 * ## Not provided
 * Key files with permissions or encryption at rest: keep the private key as safe as the node's config.
 *
 * ## Example
 * ```ts
 * const signer = signerFrom('ed25519', { seed: 3 })
 * console.log(hex(signer.publicKey))
 * ```
 */
import { Bls12381, Ed25519 } from '../crypto/index.js'
import type { Signer } from '../crypto/scheme.js'
import type { RandomBytes } from '../crypto/scheme.js'
import { UsageError } from './args.js'

export type SchemeName = 'ed25519' | 'bls12381'
export const SCHEMES: readonly SchemeName[] = ['ed25519', 'bls12381']

const classes = { ed25519: Ed25519, bls12381: Bls12381 } as const

/** Lowercase hex of `bytes`. */
export const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')

/** Bytes of a hex string of exactly `length` bytes; `what` names the value in the error. */
export function fromHex(what: string, value: unknown, length: number): Uint8Array {
  if (typeof value !== 'string' || !/^(?:[0-9a-fA-F]{2})*$/.test(value) || value.length !== length * 2) {
    throw new UsageError(`${what} must be ${length * 2} hex characters (${length} bytes)`)
  }
  return Uint8Array.from(Buffer.from(value, 'hex'))
}

/** The scheme by name, or a usage error listing the known ones. */
export function schemeOf(what: string, name: unknown): SchemeName {
  if (typeof name === 'string' && (SCHEMES as readonly string[]).includes(name)) return name as SchemeName
  throw new UsageError(`${what} must be one of ${SCHEMES.join(', ')}, got ${JSON.stringify(name)}`)
}

/** Public key length of a scheme, in bytes. */
export const publicKeyLength = (scheme: SchemeName): number => (scheme === 'ed25519' ? 32 : 48)

/** A public key of `scheme` from hex; rejects bytes that are not a valid key (wrong length or not on the curve). */
export function publicKeyFrom(what: string, scheme: SchemeName, value: unknown): Uint8Array {
  const key = fromHex(what, value, publicKeyLength(scheme))
  if (!classes[scheme].validate(key)) throw new UsageError(`${what} is not a valid ${scheme} public key`)
  return key
}

/** A signer from a seed, a hex private key, or fresh randomness. */
export function signerFrom(scheme: SchemeName, source: { seed?: number; privateKey?: string; random?: RandomBytes }, what = 'privateKey'): Signer {
  const cls = classes[scheme]
  if (source.seed !== undefined) return cls.fromSeed(source.seed)
  if (source.privateKey !== undefined) {
    const key = fromHex(what, source.privateKey, 32)
    try {
      return cls.fromPrivateKey(key)
    } catch {
      throw new UsageError(`${what} is not a valid ${scheme} private key`)
    }
  }
  if (source.random) return cls.generate(source.random)
  throw new UsageError(`${what} or seed is required`)
}
