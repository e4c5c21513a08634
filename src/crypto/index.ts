/**
 * Peer identities and namespaced signatures: `Ed25519` (the default) and `Bls12381`.
 *
 * ## Design
 * Both implement `Signer`; their static `scheme` is the `Verifier` used by code that only holds public
 * keys. Every signature covers `union_unique(namespace, message)`, exactly as the reference does.
 *
 * ## Example
 * ```ts
 * import { Ed25519 } from 'quorumnet/crypto'
 * const me = Ed25519.fromSeed(0)
 * ```
 */
export { Ed25519 } from './ed25519.js'
export { Bls12381 } from './bls12381.js'
export { unionUnique } from '../native/js/union.js'
export type { RandomBytes, Signer, Verifier, VerifyItem } from './scheme.js'
