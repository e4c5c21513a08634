/**
 * Resource attacks over real sockets on 127.0.0.1, where memory and kernel buffers are real: 1,000
 * connections opened at once, a Byzantine peer that never reads, a flood far over a channel's quota.
 * Each asserts the attacker's outcome, the metric that counted it, bounded heap growth, and that the
 * honest stream between Alice and Bob lost and reordered nothing. Waits are on events (connections
 * closing, messages arriving), never on a clock.
 */
import { Registry } from 'prom-client'
import { afterEach, describe, expect, it } from 'vitest'
import { Recipients } from '../../src/authenticated/index.js'
import { NodeContext } from '../../src/runtime/index.js'
import { Quota } from '../../src/utils/quota.js'
import { freePort } from '../helpers/rust-peer.js'
import { alice, bob, BULK, closedByPeer, connectAs, hex, honestStreamIntact, insider, LIMITED, metric, startHonest, Traffic, type HonestNode } from './harness.js'

const MiB = 1 << 20
const INSIDER = hex(insider.publicKey)
/** Live heap and buffer bytes after a full collection (vitest runs with --expose-gc). */
const heap = (): number => {
  const gc = (globalThis as { gc?: () => void }).gc
  if (!gc) throw new Error('run with --expose-gc (vitest.config.ts sets it)')
  gc()
  const m = process.memoryUsage()
  return m.heapUsed + m.arrayBuffers
}

let nodes: HonestNode[] = []
afterEach(async () => {
  await Promise.all(nodes.map((n) => n.stop()))
  nodes = []
})

async function honestPair(patch = {}): Promise<{ a: HonestNode; b: HonestNode; traffic: Traffic; ctx: NodeContext }> {
  const [pa, pb] = [await freePort(), await freePort()]
  const a = startHonest(new NodeContext({ registry: new Registry() }), alice, `127.0.0.1:${pa}`, undefined, patch)
  const b = startHonest(new NodeContext({ registry: new Registry() }), bob, `127.0.0.1:${pb}`, a, patch)
  nodes = [a, b]
  await b.network.whenConnected(1)
  const ctx = new NodeContext()
  return { a, b, traffic: new Traffic(ctx, a, b), ctx }
}


describe('resource attacks over 127.0.0.1', () => {
  it('1,000 connections opened at once and left idle: each closed at accept or cut at the handshake deadline, heap bounded', async () => {
    const { a, traffic } = await honestPair({ handshakeTimeoutMs: 1_000, allowedIncomingConnectionRate: Quota.perSecond(2_000), maxConcurrentHandshakesPerIp: 200 })
    const before = heap()
    const attacker = new NodeContext()
    const conns = await Promise.all(Array.from({ length: 1000 }, () => attacker.dial(a.address)))
    const during = heap()
    await Promise.all(conns.map((c) => closedByPeer(c)))
    const held = await metric(a.ctx, 'handshakes_refused', { reason: 'timeout' })
    const busy = await metric(a.ctx, 'handshakes_refused', { reason: 'ip_busy' })
    // One source IP: at most maxConcurrentHandshakesPerIp held at once, the others closed at accept.
    expect(held).toBeGreaterThan(0)
    expect(busy).toBeGreaterThan(0)
    expect(held + busy).toBe(1000)
    expect(await metric(a.ctx, 'handshakes_pending')).toBe(0)
    expect(during - before).toBeLessThan(32 * MiB)
    await honestStreamIntact(traffic, a, 1)
  })

  it('a peer that never reads: its queue stays bounded, it is dropped as stalled, and broadcasts to the others never stop', async () => {
    const { a, b, traffic, ctx } = await honestPair()
    const link = await connectAs(ctx, a) // authenticates, then never calls recv()
    await a.network.whenConnected(2)
    const before = heap()
    const [broadcast] = a.channels.get(BULK)!
    const [, atBob] = b.channels.get(BULK)!
    const total = 300_000
    const message = new Uint8Array(1024)
    let toInsider = 0
    const sending = (async () => {
      for (let i = 0; i < total; i++) {
        message[0] = i & 0xff
        const to = await broadcast.send(Recipients.all(), message)
        if (to.some((k) => hex(k) === INSIDER)) toInsider++
      }
    })()
    let got = 0
    for await (const [from, msg] of atBob) {
      expect(hex(from)).toBe(hex(alice.publicKey))
      expect(msg[0]).toBe(got & 0xff)
      if (++got === total) break
    }
    await sending
    expect(got).toBe(total)
    expect(toInsider).toBeLessThan(total)
    expect(await metric(a.ctx, 'messages_dropped', { peer: INSIDER, reason: 'peer_stalled' })).toBe(total - toInsider)
    // Bounded by queues and buffers, not by the 300 MB sent: the stalled peer's queue (mailboxSize
    // messages) and its unwritten batch, Bob's backlog (4,096) and read buffer (256 KiB), the attacker's
    // own read buffer (256 KiB), and buffers in flight or not yet released when measured (10 to 64 MiB
    // measured, under load; the same with 100 MB or 300 MB sent).
    expect(heap() - before).toBeLessThan(96 * MiB)
    link.conn.close()
    await honestStreamIntact(traffic, a, 1)
  })

  it('a flood far over a channel quota: the flooder is throttled by backpressure, heap bounded, nothing dropped', async () => {
    const { a, traffic, ctx } = await honestPair()
    const link = await connectAs(ctx, a)
    await a.network.whenConnected(2)
    const before = heap()
    const [, limited] = a.channels.get(LIMITED)!
    let sent = 0
    let stop = false
    const flood = (async () => {
      const m = { type: 'data' as const, channel: LIMITED, message: new Uint8Array(1024) }
      while (!stop) {
        await link.send(m) // resolves when the socket takes it: the flooder feels the backpressure
        sent++
      }
    })().catch(() => undefined)
    let got = 0
    for await (const [from] of limited) {
      if (hex(from) === INSIDER && ++got === 25) break // burst of 10, then 10/s: about 1.5 s
    }
    stop = true
    expect(await metric(a.ctx, 'messages_rate_limited', { peer: INSIDER, message: String(LIMITED) })).toBeGreaterThan(0)
    expect(await metric(a.ctx, 'messages_dropped', { peer: INSIDER })).toBe(0)
    expect(sent).toBeGreaterThan(1_000) // far over the quota...
    expect(heap() - before).toBeLessThan(16 * MiB) // ...yet what it pushed is held by bounded buffers
    link.conn.close()
    await flood
    await honestStreamIntact(traffic, a, 1)
  })
})
