/**
 * Authenticated, encrypted connections: the commonware-stream 0.0.3 handshake and framing.
 *
 * ## Example
 * ```ts
 * const incoming = await verifyIncoming(ctx, cfg, socket)      // who is it?
 * if (allowed(incoming.peer)) conn = await upgradeListener(ctx, incoming)
 * ```
 */
export { StreamConfig, verifyStreamConfig } from './config.js'
export { EncryptedConnection, upgradeDialer, upgradeListener, verifyIncoming, type HandshakeTiming, type IncomingConnection } from './connection.js'
export { createHandshake, verifyHandshake, type VerifiedHandshake } from './handshake.js'
export { FrameReader, frame } from './framing.js'
