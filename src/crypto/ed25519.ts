/**
 * Ed25519 identities, byte-compatible with the reference's `commonware_cryptography::Ed25519`.
 *
 * ## Design
 * Keys are the RFC 8032 32-byte seed and 32-byte public key. Signing and verification go through the
 * active `Binding`: the addon verifies with ZIP-215 rules (ed25519-consensus, like the reference); the
 * fallback uses libsodium, which is stricter on a few hostile encodings that honest peers never produce
 * (README, "Backends"). `fromSeed(n)` gives the same key as the reference's `from_seed(n)`, so test
 * networks can be described by small integers on both sides.
 *
 * ## Not provided
 * Seeded keys are for tests and demos only: anyone who knows the seed knows the key.
 *
 * ## Example
 * ```ts
 * const alice = Ed25519.fromSeed(0)
 * const sig = alice.sign(new TextEncoder().encode('app'), msg)
 * Ed25519.verify(new TextEncoder().encode('app'), msg, alice.publicKey, sig) // true
 * ```
 */
import type { ExpandedSigner } from '../native/binding.js'
import { binding } from '../native/load.js'
import { KeyPair, checkPrivateKey, toSeed, type RandomBytes, type Verifier, type VerifyItem } from './scheme.js'

const PRIVATE_KEY_LENGTH = 32

const verifier: Verifier = {
  name: 'ed25519',
  publicKeyLength: 32,
  signatureLength: 64,
  validate: (publicKey) => publicKey.length === 32 && binding.ed25519Validate(publicKey),
  verify: (namespace, msg, publicKey, sig) =>
    publicKey.length === 32 && sig.length === 64 && binding.ed25519Verify(namespace, msg, publicKey, sig),
  verifyBatch: (items: readonly VerifyItem[]) => {
    const ok = items.map((i) => i.publicKey.length === 32 && i.sig.length === 64)
    const idx = items.flatMap((_, i) => (ok[i] ? [i] : []))
    const res = binding.ed25519VerifyBatch(
      idx.map((i) => items[i]!.namespace),
      idx.map((i) => items[i]!.msg),
      idx.map((i) => items[i]!.publicKey),
      idx.map((i) => items[i]!.sig),
    )
    idx.forEach((i, j) => (ok[i] = res[j] === true))
    return ok
  },
}

/** An Ed25519 identity: 32-byte public keys, 64-byte signatures; create one with `fromSeed`, `generate` or `fromPrivateKey`. */
export class Ed25519 extends KeyPair {
  /** The Ed25519 verifier, for code that holds only public keys. */
  static readonly scheme: Verifier = verifier
  /** The Ed25519 verifier (the same object as the static `Ed25519.scheme`). */
  readonly scheme: Verifier = verifier

  private constructor(privateKey: Uint8Array) {
    // The addon's expanded key signs at half the cost of `ed25519Sign` (same bytes); made on first use.
    const Expanded = binding.Ed25519Signer
    let expanded: ExpandedSigner | undefined
    super(privateKey, (sk) => binding.ed25519PublicKey(sk), Expanded ? (sk, ns, msg) => (expanded ??= new Expanded(sk)).sign(ns, msg) : (sk, ns, msg) => binding.ed25519Sign(sk, ns, msg))
  }

  /** The key the reference's `Ed25519::from_seed(seed)` gives (tests and demos only). */
  static fromSeed(seed: number | bigint): Ed25519 {
    return new Ed25519(binding.ed25519FromSeed(toSeed(seed)))
  }

  /** A fresh key from the given randomness (pass the runtime context's rng). */
  static generate(random: RandomBytes): Ed25519 {
    return new Ed25519(random(PRIVATE_KEY_LENGTH))
  }

  /** From a 32-byte private key; throws `InvalidArgumentError` for any other length. */
  static fromPrivateKey(privateKey: Uint8Array): Ed25519 {
    return new Ed25519(checkPrivateKey('ed25519', privateKey, PRIVATE_KEY_LENGTH))
  }

  /** Whether `publicKey` is a well-formed Ed25519 public key (32 bytes, a valid curve point). */
  static validate(publicKey: Uint8Array): boolean {
    return verifier.validate(publicKey)
  }

  /** Whether `sig` is `publicKey`'s Ed25519 signature of `union_unique(namespace, msg)`; false (never throws) for wrong lengths. */
  static verify(namespace: Uint8Array, msg: Uint8Array, publicKey: Uint8Array, sig: Uint8Array): boolean {
    return verifier.verify(namespace, msg, publicKey, sig)
  }
}
