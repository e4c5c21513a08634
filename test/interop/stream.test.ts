/**
 * Interop with the real commonware-stream 0.0.3 (the Rust peer in interop/): TypeScript dialer to
 * Rust listener and Rust dialer to TypeScript listener complete the handshake and exchange 1,000
 * messages of mixed sizes, byte for byte. Runs in whichever backend is active (CI runs both).
 */
import { afterEach, describe, expect, it } from 'vitest'
import { Ed25519 } from '../../src/crypto/index.js'
import { backend } from '../../src/native/load.js'
import { NodeContext } from '../../src/runtime/index.js'
import { StreamConfig, upgradeDialer, upgradeListener, verifyIncoming } from '../../src/stream/index.js'
import { STREAM_PEER, freePort, hasRustPeer, skipReason, startRustPeer, type RustPeer } from '../helpers/rust-peer.js'

const NS = new TextEncoder().encode('interop_STREAM')
const MAX = (1 << 20) + 64
const cfg = (seed: number) => StreamConfig.recommended(Ed25519.fromSeed(seed), NS, MAX)

/** Message j: 1 in 100 at the maximum size, 1 in 10 at 64 KiB, the rest small; 0 bytes included. */
function message(j: number): Uint8Array {
  const len = j % 100 === 0 ? MAX : j % 10 === 0 ? 65_536 : (j * 37) % 2000
  return new Uint8Array(len).map((_, i) => (i * 13 + j) & 0xff)
}

let peer: RustPeer | undefined
afterEach(() => peer?.stop())

if (!hasRustPeer) console.warn(`interop tests skipped: ${skipReason}`)

describe.skipIf(!hasRustPeer)(`interop with commonware-stream 0.0.3 [${backend}]`, () => {
  it('TypeScript dialer to Rust listener: handshake and 1,000 echoed messages', async () => {
    const port = await freePort()
    peer = startRustPeer(STREAM_PEER, ['--role', 'listen', '--addr', `127.0.0.1:${port}`, '--seed', '1', '--peer-seed', '0', '--count', '1000'])
    await peer.waitFor('listening')
    const ctx = new NodeContext()
    const conn = await upgradeDialer(ctx, cfg(0), await ctx.dial(`127.0.0.1:${port}`), Ed25519.fromSeed(1).publicKey)
    const sending = Promise.all(Array.from({ length: 1000 }, (_, j) => conn.send(message(j))))
    for (let j = 0; j < 1000; j++) {
      const got = await conn.recv()
      expect(Buffer.from(got).equals(Buffer.from(message(j))), `message ${j}`).toBe(true)
    }
    await sending
    expect((await peer.waitFor('done')).count).toBe(1000)
    conn.close()
  })

  it('Rust dialer to TypeScript listener: handshake and 1,000 messages verified by Rust', async () => {
    const ctx = new NodeContext()
    const listener = await ctx.listen('127.0.0.1:0')
    peer = startRustPeer(STREAM_PEER, ['--role', 'dial', '--addr', listener.address, '--seed', '0', '--peer-seed', '1', '--send', '1000'])
    const socket = (await listener.accept())!
    const incoming = await verifyIncoming(ctx, cfg(1), socket)
    expect(Buffer.from(incoming.peer).equals(Buffer.from(Ed25519.fromSeed(0).publicKey))).toBe(true)
    const conn = await upgradeListener(ctx, incoming)
    for (let j = 0; j < 1000; j++) await conn.send(await conn.recv())
    expect((await peer.waitFor('verified')).count).toBe(1000)
    listener.close()
  })

  it('a Rust dialer with the wrong namespace is refused by the TypeScript listener', async () => {
    const ctx = new NodeContext()
    const listener = await ctx.listen('127.0.0.1:0')
    peer = startRustPeer(STREAM_PEER, ['--role', 'dial', '--addr', listener.address, '--seed', '0', '--peer-seed', '1', '--namespace', 'other_STREAM', '--send', '1'])
    const socket = (await listener.accept())!
    const err = await verifyIncoming(ctx, cfg(1), socket).catch((e: unknown) => e)
    expect((err as { reason?: string }).reason).toBe('InvalidSignature')
    await expect(peer.waitFor('verified')).rejects.toThrow(/RecvFailed|exited/)
    listener.close()
  })
})
