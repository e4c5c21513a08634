/**
 * Ed25519 and BLS12-381 (min-pk) signatures for the fallback backend.
 *
 * ## Design
 * Ed25519 signing and verification use libsodium (WASM, fast). Signed bytes are
 * `unionUnique(namespace, msg)`. Key validation uses @noble/curves' ZIP-215 point decoding, which
 * matches the reference's `VerificationKey::try_from` (any 32 bytes that decompress, non-canonical and
 * small-order included). BLS uses @noble/curves: public keys in G1 (48 bytes), signatures in G2
 * (96 bytes), hash-to-G2 with the `_NUL_` DST; keys come from the IETF KeyGen as blst's `keygen_v3`
 * computes it (salt "BLS-SIG-KEYGEN-SALT-", IKM || 0x00, empty info, L = 48, OKM mod r).
 *
 * ## Not provided
 * ZIP-215 verification. libsodium is stricter than the reference (ed25519-consensus) on inputs honest
 * signers never produce: it refuses small-order public keys and R values, non-canonical encodings of
 * A or R, and signatures that only satisfy the cofactored equation. Those verify as `false` here.
 *
 * ## Example
 * `ed25519Verify(ns, msg, pk, ed25519Sign(sk, ns, msg))` is true.
 */
import type _sodium from 'libsodium-wrappers'
import { bls12_381 } from '@noble/curves/bls12-381.js'
import { ed25519 } from '@noble/curves/ed25519.js'
import { hkdf } from '@noble/hashes/hkdf.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { InvalidArgumentError } from '../../errors.js'
import { seededBytes } from './chacha12.js'
import { unionUnique } from './union.js'

type Sodium = typeof _sodium

const BLS_DST = 'BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_NUL_'
const BLS_KEYGEN_SALT = new TextEncoder().encode('BLS-SIG-KEYGEN-SALT-')
const BLS_R = 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001n
const bls = bls12_381.longSignatures

function need(bytes: Uint8Array, len: number, what: string): Uint8Array {
  if (!(bytes instanceof Uint8Array) || bytes.length !== len) {
    throw new InvalidArgumentError(`${what} must be ${len} bytes, got ${bytes?.length}`)
  }
  return bytes
}

const toBig = (b: Uint8Array): bigint => (b.length === 0 ? 0n : BigInt('0x' + Buffer.from(b).toString('hex')))
const toBytes32 = (n: bigint): Uint8Array => new Uint8Array(Buffer.from(n.toString(16).padStart(64, '0'), 'hex'))

export function makeSigner(sodium: Sodium) {
  const keyCache = new Map<string, Uint8Array>()
  /** libsodium's 64-byte secret key for a 32-byte seed (cached: signing is per handshake). */
  function expanded(seed: Uint8Array): Uint8Array {
    const k = Buffer.from(seed).toString('hex')
    let sk = keyCache.get(k)
    if (!sk) {
      sk = sodium.crypto_sign_seed_keypair(seed).privateKey
      if (keyCache.size > 64) keyCache.clear()
      keyCache.set(k, sk)
    }
    return sk
  }

  function ed25519Verify(ns: Uint8Array, msg: Uint8Array, pk: Uint8Array, sig: Uint8Array): boolean {
    if (pk.length !== 32 || sig.length !== 64) return false
    try {
      return sodium.crypto_sign_verify_detached(sig, unionUnique(ns, msg), pk)
    } catch {
      return false
    }
  }

  function blsKeygen(ikm: Uint8Array): Uint8Array {
    if (!(ikm instanceof Uint8Array) || ikm.length < 32) {
      throw new InvalidArgumentError(`BLS keygen needs at least 32 bytes of input keying material`)
    }
    const input = new Uint8Array(ikm.length + 1)
    input.set(ikm)
    const okm = hkdf(sha256, input, BLS_KEYGEN_SALT, Uint8Array.of(0, 48), 48)
    return toBytes32(toBig(okm) % BLS_R)
  }

  function blsScalar(sk: Uint8Array): Uint8Array {
    need(sk, 32, 'BLS private key')
    if (toBig(sk) >= BLS_R) throw new InvalidArgumentError('BLS private key is not below the group order')
    return sk
  }

  function blsPoint<T>(decode: () => T): T | undefined {
    try {
      return decode()
    } catch {
      return undefined
    }
  }

  return {
    ed25519FromSeed: (seed: bigint): Uint8Array => seededBytes(seed, 32),
    ed25519PublicKey: (sk: Uint8Array): Uint8Array =>
      sodium.crypto_sign_seed_keypair(need(sk, 32, 'ed25519 private key')).publicKey,
    ed25519Sign: (sk: Uint8Array, ns: Uint8Array, msg: Uint8Array): Uint8Array =>
      sodium.crypto_sign_detached(unionUnique(ns, msg), expanded(need(sk, 32, 'ed25519 private key'))),
    ed25519Verify,
    ed25519VerifyBatch: (nss: Uint8Array[], msgs: Uint8Array[], pks: Uint8Array[], sigs: Uint8Array[]): boolean[] => {
      if (msgs.length !== nss.length || pks.length !== nss.length || sigs.length !== nss.length) {
        throw new InvalidArgumentError('batch arrays must have the same length')
      }
      return nss.map((ns, i) => ed25519Verify(ns, msgs[i]!, pks[i]!, sigs[i]!))
    },
    ed25519Validate: (pk: Uint8Array): boolean => {
      if (pk.length !== 32) return false
      try {
        ed25519.Point.fromBytes(pk, true)
        return true
      } catch {
        return false
      }
    },

    blsFromSeed: (seed: bigint): Uint8Array => blsKeygen(seededBytes(seed, 64)),
    blsKeygen,
    blsPublicKey: (sk: Uint8Array): Uint8Array => bls.getPublicKey(blsScalar(sk)).toBytes(true),
    blsSign: (sk: Uint8Array, ns: Uint8Array, msg: Uint8Array): Uint8Array =>
      bls.sign(bls.hash(unionUnique(ns, msg), BLS_DST), blsScalar(sk)).toBytes(true),
    blsVerify: (ns: Uint8Array, msg: Uint8Array, pk: Uint8Array, sig: Uint8Array): boolean => {
      if (pk.length !== 48 || sig.length !== 96) return false
      const p = blsPoint(() => bls12_381.G1.Point.fromBytes(pk))
      const s = blsPoint(() => bls.Signature.fromBytes(sig))
      if (!p || !s || p.is0() || s.is0()) return false
      try {
        p.assertValidity()
        s.assertValidity()
        return bls.verify(s, bls.hash(unionUnique(ns, msg), BLS_DST), p)
      } catch {
        return false
      }
    },
    blsValidate: (pk: Uint8Array): boolean => {
      if (pk.length !== 48) return false
      const p = blsPoint(() => bls12_381.G1.Point.fromBytes(pk))
      if (!p || p.is0()) return false
      try {
        p.assertValidity()
        return true
      } catch {
        return false
      }
    },
  }
}
