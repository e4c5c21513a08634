/**
 * Utilities shared by the networks: rate-limit quotas and limiters, knowledge bit vectors.
 *
 * ## Example
 * ```ts
 * import { Quota, RateLimiter } from 'quorumnet/utils'
 * ```
 */
export { Quota } from './quota.js'
export { RateLimiter } from './ratelimit.js'
export { BitVec } from './bitvec.js'
