/**
 * Utilities: rate-limit quotas and limiters, knowledge bit vectors, and the requester.
 *
 * ## Example
 * ```ts
 * import { Quota, RateLimiter } from 'quorumnet/utils'
 * ```
 */
export { Quota } from './quota.js'
export { RateLimiter } from './ratelimit.js'
export { BitVec } from './bitvec.js'
export { Requester, type Request, type RequesterConfig } from './requester/index.js'
