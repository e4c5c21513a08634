/**
 * Flow control over real sockets on 127.0.0.1, as an application sees it: a receiver that reads
 * slowly gets backpressure (never drops); a peer that stops reading is dropped as stalled without
 * holding anyone up, and gets messages again once it reads; a message whose ttl passes while it waits
 * in such a peer's queue is dropped as expired; a loop of awaited sends never starves the event loop
 * (timers fire, incoming data is processed). Runs alone (test/load), since it watches
 * timers over a fixed window of wall time.
 */
import { Registry } from 'prom-client'
import { afterEach, describe, expect, it } from 'vitest'
import { Recipients } from '../../src/authenticated/index.js'
import { NodeContext } from '../../src/runtime/index.js'
import { freePort } from '../helpers/rust-peer.js'
import { alice, bob, BULK, connectAs, hex, insider, metric, PLAIN, SMALL, startHonest, type HonestNode } from '../adversary/harness.js'

let nodes: HonestNode[] = []
afterEach(async () => {
  await Promise.all(nodes.map((n) => n.stop()))
  nodes = []
})

async function pair(patch = {}): Promise<{ a: HonestNode; b: HonestNode; ctx: NodeContext }> {
  const [pa, pb] = [await freePort(), await freePort()]
  const a = startHonest(new NodeContext({ registry: new Registry() }), alice, `127.0.0.1:${pa}`, undefined, patch)
  const b = startHonest(new NodeContext({ registry: new Registry() }), bob, `127.0.0.1:${pb}`, a, patch)
  nodes = [a, b]
  await Promise.all([a.network.whenConnected(1), b.network.whenConnected(1)])
  return { a, b, ctx: new NodeContext() }
}

describe('a receiver that reads slowly gets backpressure, never loses messages', () => {
  it('1 KiB messages, backlog 16, the app reading one per millisecond for 5 s: no send resolves without the peer, all arrive in order', async () => {
    const { a: x, b: y, ctx } = await pair()
    const [sender] = x.channels.get(SMALL)!
    const [, receiver] = y.channels.get(SMALL)!

    let sent = 0
    let withoutPeer = 0
    let reading = true
    let received = 0
    let outOfOrder = 0
    const reader = (async () => {
      for await (const [, msg] of receiver) {
        if (new DataView(msg.buffer, msg.byteOffset).getUint32(0) !== received) outOfOrder++
        received++
        if (reading) await ctx.sleep(1) // a slow application: about one message per millisecond
        if (!reading && received === sent) return
      }
    })()
    const end = performance.now() + 5_000
    while (performance.now() < end) {
      const msg = new Uint8Array(1024)
      new DataView(msg.buffer).setUint32(0, sent)
      const to = await sender.send(Recipients.one(bob.publicKey), msg)
      if (to.length === 1) sent++
      else withoutPeer++
    }
    reading = false // now read at full speed: everything queued must arrive
    await reader
    expect(withoutPeer).toBe(0)
    expect(await metric(x.ctx, 'messages_dropped', { reason: 'peer_stalled' })).toBe(0)
    expect(sent).toBeGreaterThan(1_000) // about 5,000 at one per ms, fewer on a busy machine
    expect(received).toBe(sent)
    expect(outOfOrder).toBe(0)
  }, 60_000)
})

describe('a peer that stops reading', () => {
  it('is dropped as stalled without a spinning loop, is reported by trySend, and gets messages again once it reads', async () => {
    const { a, ctx } = await pair({ maxWriteStallMs: 500 })
    const link = await connectAs(ctx, a) // the insider authenticates, then reads nothing
    await a.network.whenConnected(2)
    const [sender] = a.channels.get(BULK)!
    const msg = new Uint8Array(16 << 10)
    let ticks = 0
    const timer = setInterval(() => ticks++, 10)
    // Send until sends to the insider are dropped as stalled (its socket and queue are full).
    let dropped = 0
    const t0 = performance.now()
    while (dropped < 2_000) {
      const to = await sender.send(Recipients.one(insider.publicKey), msg)
      if (to.length === 0) dropped++
    }
    const spinMs = performance.now() - t0
    clearInterval(timer)
    expect(await metric(a.ctx, 'messages_dropped', { peer: hex(insider.publicKey), reason: 'peer_stalled' })).toBe(dropped)
    // While it sent, timers kept firing: at least 80% of the 10 ms ticks due.
    expect(ticks).toBeGreaterThanOrEqual(Math.floor((spinMs / 10) * 0.8))
    const offered = sender.trySend(Recipients.all(), msg)
    expect(offered.stalled.map(hex)).toEqual([hex(insider.publicKey)])
    expect(offered.queued.map(hex)).toEqual([hex(bob.publicKey)])

    // The insider reads again: its queue drains and a new message reaches it.
    const marker = new Uint8Array(32).fill(7)
    const seen = (async () => {
      for (;;) {
        const m = await link.conn.recv()
        if (m.length > 8 && m[m.length - 1] === 7 && m[m.length - 32] === 7) return true
      }
    })()
    let to: Uint8Array[] = []
    for (let i = 0; i < 10_000 && to.length === 0; i++) {
      to = await sender.send(Recipients.one(insider.publicKey), marker)
      if (to.length === 0) await ctx.sleep(10)
    }
    expect(to.map(hex)).toEqual([hex(insider.publicKey)])
    expect(await seen).toBe(true)
    link.conn.close()
  }, 60_000)
})

describe('a message with a ttl', () => {
  it('expires in the queue of a peer that does not read, is counted, and never arrives; later ones do', async () => {
    const { a, ctx } = await pair({ maxWriteStallMs: 60_000, maxPeerQueueBytes: 64 << 20 })
    const link = await connectAs(ctx, a) // reads nothing until told
    await a.network.whenConnected(2)
    const [sender] = a.channels.get(BULK)!
    const to = Recipients.one(insider.publicKey)
    // Fill the insider's socket and its normal-priority queue until the queue stays full: the writer
    // is then held up by the kernel, and a priority message waits in the queue.
    for (let full = false; !full; ) {
      while (sender.trySend(to, new Uint8Array(16 << 10)).full.length === 0) {
        // keep offering until the queue is full
      }
      await ctx.sleep(100) // the writer hands the kernel what it takes
      full = sender.trySend(to, new Uint8Array(16 << 10)).full.length === 1
    }
    const tail = (fill: number) => new Uint8Array(32).fill(fill)
    expect(sender.trySend(to, tail(7), { priority: true, ttlMs: 100 }).queued).toHaveLength(1)
    await ctx.sleep(300) // its ttl passes while it waits for the writer
    expect(sender.trySend(to, tail(9), { priority: true }).queued).toHaveLength(1)
    // The insider reads again: everything queued drains, except the stale message.
    let sawStale = false
    for (;;) {
      const m = await link.conn.recv()
      const last = m.length >= 32 && m.subarray(m.length - 32).every((x) => x === m[m.length - 1]) ? m[m.length - 1] : undefined
      if (last === 7) sawStale = true
      if (last === 9) break
    }
    expect(sawStale).toBe(false)
    expect(await metric(a.ctx, 'messages_dropped', { peer: hex(insider.publicKey), reason: 'expired' })).toBe(1)
    link.conn.close()
  }, 60_000)
})

describe('an awaited send loop never starves the event loop', () => {
  it.each([100, 64 << 10])('%i B messages for 1 s: a 10 ms interval keeps firing (target 80 times, at least 70) and incoming data is processed', async (size) => {
    const { a, b } = await pair()
    const [sender] = a.channels.get(BULK)!
    const [, atBob] = b.channels.get(BULK)!
    const [toAlice] = b.channels.get(PLAIN)!
    const [, fromBob] = a.channels.get(PLAIN)!
    let bobGot = 0
    void (async () => {
      for await (const _ of atBob) bobGot++
    })()
    // Incoming data at Alice while she sends: Bob sends her one message every 10 ms.
    let aliceGot = 0
    void (async () => {
      for await (const _ of fromBob) aliceGot++
    })()
    let bobSending = true
    const bobLoop = (async () => {
      while (bobSending) {
        await toAlice.send(Recipients.one(alice.publicKey), new Uint8Array(8))
        await new Promise((r) => setTimeout(r, 10))
      }
    })()
    let ticks = 0
    const timer = setInterval(() => ticks++, 10)
    const msg = new Uint8Array(size)
    const end = performance.now() + 1_000
    let sends = 0
    while (performance.now() < end) {
      await sender.send(Recipients.one(bob.publicKey), msg)
      sends++
    }
    clearInterval(timer)
    bobSending = false
    await bobLoop
    console.log(JSON.stringify({ size, sends, ticks, aliceGot, bobGot }))
    // The target is 80 of the 100 ticks due. Measured on 2 idle cores: 82-92 (native) and 77-92
    // (fallback, 100 B the lowest); before pacing, 5-61. The bound leaves room for a busy CI machine
    // and still fails a loop that starves the event loop.
    expect(ticks).toBeGreaterThanOrEqual(70)
    expect(aliceGot).toBeGreaterThanOrEqual(50)
    expect(sends).toBeGreaterThan(100)
  })
})
