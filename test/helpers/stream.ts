/** Helpers for stream tests: configs from seeds, and a listener that answers and echoes. */
import { Ed25519 } from '../../src/crypto/index.js'
import type { Context, Listener } from '../../src/runtime/index.js'
import { StreamConfig, upgradeListener, verifyIncoming, type EncryptedConnection } from '../../src/stream/index.js'

export const NS = new TextEncoder().encode('interop_STREAM')
export const MAX = 64 * 1024

export function config(seed: number, patch: Partial<StreamConfig> = {}): StreamConfig {
  return { ...StreamConfig.recommended(Ed25519.fromSeed(seed), NS, MAX), ...patch }
}

export interface EchoServer {
  /** Why handshakes were refused, in order. */
  refused: unknown[]
  /** Why established connections ended, in order. */
  ended: unknown[]
  /** Connections established. */
  established: EncryptedConnection[]
  /** Settles when the accept loop ends (after `listener.close()`). */
  done: Promise<void>
}

/** Accept every connection whose handshake verifies and echo each message back until it ends. */
export function echoServer(ctx: Context, listener: Listener, cfg: StreamConfig): EchoServer {
  const server: EchoServer = { refused: [], ended: [], established: [], done: Promise.resolve() }
  server.done = (async () => {
    for (;;) {
      const socket = await listener.accept()
      if (!socket) return
      ctx.spawn('echo', async () => {
        let conn: EncryptedConnection
        try {
          conn = await upgradeListener(ctx, await verifyIncoming(ctx, cfg, socket))
        } catch (e) {
          server.refused.push(e)
          return
        }
        server.established.push(conn)
        try {
          for (;;) await conn.send(await conn.recv())
        } catch (e) {
          server.ended.push(e)
        }
      })
    }
  })()
  return server
}
