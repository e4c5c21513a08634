/**
 * `utils/requester`: rate-limited, performance-ranked choice of peers to send requests to.
 *
 * ## Example
 * ```ts
 * import { Requester } from 'quorumnet/utils'
 * ```
 */
export { Requester, type Request, type RequesterConfig } from './requester.js'
