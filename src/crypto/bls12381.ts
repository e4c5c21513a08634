/**
 * BLS12-381 identities (min-pk), byte-compatible with the reference's `commonware_cryptography::Bls12381`.
 *
 * ## Design
 * Public keys are 48-byte compressed G1 points, signatures 96-byte compressed G2 points; messages are
 * `union_unique(namespace, msg)` hashed to G2 with the DST `BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_NUL_`.
 * Deserialisation rejects the point at infinity and points outside the prime-order subgroup. The addon
 * uses blst (as the reference does); the fallback uses @noble/curves, which is much slower.
 *
 * ## Not provided
 * Aggregation, threshold signatures and proofs of possession: without a proof of possession, aggregate
 * verification over untrusted keys would be open to rogue-key attacks, so it is not offered.
 *
 * ## Example
 * ```ts
 * const v = Bls12381.fromSeed(1)
 * Bls12381.verify(ns, msg, v.publicKey, v.sign(ns, msg)) // true
 * ```
 */
import { binding } from '../native/load.js'
import { KeyPair, checkPrivateKey, toSeed, type RandomBytes, type Verifier } from './scheme.js'

const PRIVATE_KEY_LENGTH = 32
const PUBLIC_KEY_LENGTH = 48
const SIGNATURE_LENGTH = 96

const verifier: Verifier = {
  name: 'bls12381',
  publicKeyLength: PUBLIC_KEY_LENGTH,
  signatureLength: SIGNATURE_LENGTH,
  validate: (publicKey) => publicKey.length === PUBLIC_KEY_LENGTH && binding.blsValidate(publicKey),
  verify: (namespace, msg, publicKey, sig) =>
    publicKey.length === PUBLIC_KEY_LENGTH &&
    sig.length === SIGNATURE_LENGTH &&
    binding.blsVerify(namespace, msg, publicKey, sig),
  verifyBatch: (items) => items.map((i) => verifier.verify(i.namespace, i.msg, i.publicKey, i.sig)),
}

/** A BLS12-381 (min-pk) identity: 48-byte public keys, 96-byte signatures; create one with `fromSeed`, `generate` or `fromPrivateKey`. */
export class Bls12381 extends KeyPair {
  /** The Bls12381 verifier, for code that holds only public keys. */
  static readonly scheme: Verifier = verifier
  /** The Bls12381 verifier (the same object as the static `Bls12381.scheme`). */
  readonly scheme: Verifier = verifier

  private constructor(privateKey: Uint8Array) {
    super(privateKey, (sk) => binding.blsPublicKey(sk), (sk, ns, msg) => binding.blsSign(sk, ns, msg))
  }

  /** The key the reference's `Bls12381::from_seed(seed)` gives (tests and demos only). */
  static fromSeed(seed: number | bigint): Bls12381 {
    return new Bls12381(binding.blsFromSeed(toSeed(seed)))
  }

  /**
   * A fresh key from the given randomness: 64 bytes of input keying material through the IETF BLS
   * KeyGen, as the reference does.
   */
  static generate(random: RandomBytes): Bls12381 {
    return new Bls12381(binding.blsKeygen(random(64)))
  }

  /** From a 32-byte big-endian scalar below the group order; throws `InvalidArgumentError` otherwise. */
  static fromPrivateKey(privateKey: Uint8Array): Bls12381 {
    return new Bls12381(checkPrivateKey('bls12381', privateKey, PRIVATE_KEY_LENGTH))
  }

  /** Whether `publicKey` is a well-formed Bls12381 public key (48 bytes, a valid point in the prime-order subgroup, not the identity). */
  static validate(publicKey: Uint8Array): boolean {
    return verifier.validate(publicKey)
  }

  /** Whether `sig` is `publicKey`'s Bls12381 signature of `union_unique(namespace, msg)`; false (never throws) for wrong lengths. */
  static verify(namespace: Uint8Array, msg: Uint8Array, publicKey: Uint8Array, sig: Uint8Array): boolean {
    return verifier.verify(namespace, msg, publicKey, sig)
  }
}
