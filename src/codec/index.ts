/**
 * Wire codec: the protobuf messages of the 0.0.25 protocol, socket addresses, signed payloads.
 *
 * ## Design
 * Pure functions with no state and no `await` (STYLE.md 2), byte-exact with prost 0.13.
 *
 * ## Example
 * ```ts
 * import { encodeMessage, decodeMessage } from './codec/index.js'
 * ```
 */
export * from './messages.js'
export * from './address.js'
export * from './handshake.js'
export { isGlobal } from './ip.js'
export { Reader, varintSize, writeVarint } from './varint.js'
