/**
 * quorumnet: authenticated, encrypted, multiplexed messaging between a known set of peers,
 * wire-compatible with the Rust crate commonware-p2p 0.0.25.
 *
 * ## Design
 * The public modules mirror the reference crate; see README.md and docs/ARCHITECTURE.md. This entry
 * point re-exports the errors, the identities and which backend (Rust addon or TypeScript fallback)
 * is active.
 *
 * ## Example
 * ```ts
 * import { backend, Ed25519 } from 'quorumnet'
 * console.log(backend, Buffer.from(Ed25519.fromSeed(0).publicKey).toString('hex'))
 * ```
 */
export * from './errors.js'
export { backend, loadReport, type AddonReport, type AddonSource, type CpuFeature, type LoadAttempt, type LoadReport } from './native/load.js'
export type { ZstdEngine, ZstdStatus } from './native/binding.js'
export type { Binding, CipherConstructor, ExpandedSigner, ExpandedSignerConstructor, OpenErrorCode, OpenResult, QuotaTable, RecvCipher, SendCipher } from './native/binding.js'
export { Bls12381, Ed25519, unionUnique } from './crypto/index.js'
export type { RandomBytes, Signer, Verifier, VerifyItem } from './crypto/index.js'
export { BitVec, Quota, RateLimiter } from './utils/index.js'
