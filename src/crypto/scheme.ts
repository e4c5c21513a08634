/**
 * The signature `Scheme` abstraction: what a peer identity is and how namespaced signatures work.
 *
 * ## Design
 * Mirrors the reference's `commonware_cryptography::Scheme`: a signer owns a private key and signs
 * `union_unique(namespace, message)` = `varint(len(namespace)) || namespace || message`, so a signature
 * made for one purpose (a handshake, a peer record) can never be replayed as another. Verification is a
 * static property of the scheme (a `Verifier`), used by code that only holds public keys.
 *
 * ## Not provided
 * Key storage or key rotation. Private keys are plain bytes the caller must protect.
 *
 * ## Example
 * ```ts
 * const signer = Ed25519.fromSeed(0)
 * const sig = signer.sign(ns, msg)
 * Ed25519.verify(ns, msg, signer.publicKey, sig) // true
 * ```
 */
import { InvalidArgumentError } from '../errors.js'

/** Verification side of a scheme: everything that needs no private key. */
export interface Verifier {
  /** The scheme's name. */
  readonly name: 'ed25519' | 'bls12381'
  /** Length of a public key in bytes (Ed25519: 32; BLS12-381: 48). */
  readonly publicKeyLength: number
  /** Length of a signature in bytes (Ed25519: 64; BLS12-381: 96). */
  readonly signatureLength: number
  /** Whether `publicKey` is a well-formed key of this scheme (the reference's `validate`). */
  validate(publicKey: Uint8Array): boolean
  /** Whether `sig` is `publicKey`'s signature of `union_unique(namespace, msg)`. */
  verify(namespace: Uint8Array, msg: Uint8Array, publicKey: Uint8Array, sig: Uint8Array): boolean
  /** Verify many at once; result `i` is whether item `i` verifies. */
  verifyBatch(items: readonly VerifyItem[]): boolean[]
}

/** One signature to check with `Verifier.verifyBatch`: the arguments of one `Verifier.verify` call. */
export interface VerifyItem {
  /** The namespace the signature was made under. */
  namespace: Uint8Array
  /** The signed message (without the namespace prefix). */
  msg: Uint8Array
  /** The signer's public key. */
  publicKey: Uint8Array
  /** The signature to check. */
  sig: Uint8Array
}

/** A peer identity that can sign. */
export interface Signer {
  /** The verifier of this signer's scheme. */
  readonly scheme: Verifier
  /** This identity's public key (`scheme.publicKeyLength` bytes). */
  readonly publicKey: Uint8Array
  /** The private key bytes (Ed25519: the 32-byte RFC 8032 seed; BLS: the 32-byte scalar, big-endian). */
  privateKey(): Uint8Array
  /** The signature of `union_unique(namespace, msg)` (`scheme.signatureLength` bytes). */
  sign(namespace: Uint8Array, msg: Uint8Array): Uint8Array
}

/** A source of random bytes (the runtime `Context` supplies one; seeded in deterministic mode). */
export type RandomBytes = (length: number) => Uint8Array

/** u64 seed from a number or bigint, with a clear error for values outside 0..2^64-1. */
export function toSeed(seed: number | bigint): bigint {
  const s = typeof seed === 'bigint' ? seed : Number.isSafeInteger(seed) ? BigInt(seed) : -1n
  if (s < 0n || s >= 1n << 64n) throw new RangeError(`seed must be an integer in 0..2^64-1, got ${seed}`)
  return s
}

/**
 * What every signer class shares: the private key kept private (copied in and out), the public key
 * derived once, signing through the scheme's primitive.
 */
export abstract class KeyPair implements Signer {
  /** The verifier of this signer's scheme. */
  abstract readonly scheme: Verifier
  /** This identity's public key (`scheme.publicKeyLength` bytes), derived once from the private key. */
  readonly publicKey: Uint8Array
  readonly #privateKey: Uint8Array

  protected constructor(
    privateKey: Uint8Array,
    derivePublic: (privateKey: Uint8Array) => Uint8Array,
    private readonly signWith: (privateKey: Uint8Array, namespace: Uint8Array, msg: Uint8Array) => Uint8Array,
  ) {
    this.#privateKey = Uint8Array.from(privateKey)
    this.publicKey = derivePublic(this.#privateKey)
  }

  /** A copy of the private key bytes (Ed25519: the 32-byte RFC 8032 seed; BLS: the 32-byte scalar, big-endian). */
  privateKey(): Uint8Array {
    return Uint8Array.from(this.#privateKey)
  }

  /** The signature of `union_unique(namespace, msg)` (`scheme.signatureLength` bytes). */
  sign(namespace: Uint8Array, msg: Uint8Array): Uint8Array {
    return this.signWith(this.#privateKey, namespace, msg)
  }
}

/** Throws `InvalidArgumentError` unless `privateKey` has `length` bytes. */
export function checkPrivateKey(name: string, privateKey: Uint8Array, length: number): Uint8Array {
  if (!(privateKey instanceof Uint8Array) || privateKey.length !== length) {
    throw new InvalidArgumentError(`${name} private key must be ${length} bytes, got ${privateKey?.length}`)
  }
  return privateKey
}
