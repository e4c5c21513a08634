/**
 * A connection flood over real sockets on 127.0.0.0/8: an attacker process opens 2,000 connections a
 * second for 10 s from 500 source addresses, each in its own /24 (so per-subnet limits alone cannot
 * stop it), cycling through handshakes from keys outside the set, a reconnect storm from a key in the
 * set, connect-and-close and stalled partial handshakes. Meanwhile Alice (the target) exchanges
 * numbered messages with Bob and Carol, and Carol restarts mid-flood.
 *
 * Asserts what an operator relies on: no message between Alice and Bob lost or reordered; their rate
 * during the flood at least 80% of the rate before; Carol connected again within 3 s of her restart;
 * a fresh honest dial accepted within 1 s after the flood; resident memory back within 32 MB of its
 * pre-flood value within 10 s; every refusal counted under its own reason; handshakes in progress
 * never above the configured bound. Waits are on events and counts, except the fixed flood window.
 */
import { spawn } from 'node:child_process'
import { Registry } from 'prom-client'
import { afterEach, describe, expect, it } from 'vitest'
import { Recipients } from '../../src/authenticated/index.js'
import { Ed25519 } from '../../src/crypto/index.js'
import { NodeContext } from '../../src/runtime/index.js'
import { Quota } from '../../src/utils/quota.js'
import { freePort } from '../helpers/rust-peer.js'
import { alice, bob, connectAs, hex, insider, metric, PACKED, PLAIN, startHonest, type HonestNode } from '../adversary/harness.js'

const carol = Ed25519.fromSeed(4)
const dave = Ed25519.fromSeed(5)
const SET = [alice.publicKey, bob.publicKey, carol.publicKey, dave.publicKey, insider.publicKey]
const MiB = 1 << 20
const FLOOD = { rate: 2_000, seconds: 10, sources: 500 }
/** Admission as in Config.recommended; the rest of the test preset's timing. */
const LIMITS = {
  allowedIncomingConnectionRate: Quota.perSecond(256),
  maxConcurrentHandshakes: 512,
  maxConcurrentHandshakesPerIp: 1,
  allowedHandshakeRatePerIp: Quota.perSecond(1).allowBurst(4),
  allowedHandshakeRatePerSubnet: Quota.perSecond(16),
}
const INTERVAL_MS = 5

const rss = (): number => {
  ;(globalThis as { gc?: () => void }).gc?.()
  return process.memoryUsage().rss
}

/**
 * Numbered messages from one node to another every INTERVAL_MS, checked in order at the receiver; the
 * stream owns the receiving node's channel (one reader per channel).
 */
class Stream {
  sent = 0
  received = 0
  outOfOrder = 0
  notQueued = 0
  #running = true
  readonly #loop: Promise<void>
  readonly #arrivals: number[] = []
  #drained: (() => void) | undefined

  constructor(
    private readonly ctx: NodeContext,
    from: HonestNode,
    to: HonestNode,
    channel = PLAIN,
  ) {
    const [sender] = from.channels.get(channel)!
    const [, receiver] = to.channels.get(channel)!
    this.#loop = (async () => {
      for (let seq = 0; this.#running; ) {
        const msg = new Uint8Array(64)
        new DataView(msg.buffer).setUint32(0, seq)
        const got = await sender.send(Recipients.one(to.signer.publicKey), msg)
        if (got.length === 1) {
          this.sent++
          seq++
        } else this.notQueued++
        await ctx.sleep(INTERVAL_MS)
      }
    })()
    void (async () => {
      const want = hex(from.signer.publicKey)
      for await (const [who, msg] of receiver) {
        if (hex(who) !== want) continue
        if (new DataView(msg.buffer, msg.byteOffset).getUint32(0) !== this.received) this.outOfOrder++
        this.received++
        this.#arrivals.push(performance.now())
        if (this.#drained && this.received >= this.sent) this.#drained()
      }
    })()
  }

  /** Messages received per second between two `performance.now()` instants. */
  rate(from: number, to: number): number {
    return this.#arrivals.filter((t) => t >= from && t < to).length / ((to - from) / 1000)
  }

  async stop(): Promise<void> {
    this.#running = false
    await this.#loop
  }

  /** Resolves once everything sent was received (the test times out if something was lost). */
  drained(): Promise<void> {
    return this.received >= this.sent ? Promise.resolve() : new Promise((r) => (this.#drained = r))
  }
}

let nodes: HonestNode[] = []
afterEach(async () => {
  await Promise.all(nodes.map((n) => n.stop()))
  nodes = []
})

function runAttacker(target: string): { started: Promise<void>; done: Promise<Record<string, number>> } {
  const args = JSON.stringify({ target, recipient: hex(alice.publicKey), insiderSeed: 3, ...FLOOD })
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/load/flood-attacker.ts', args], { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  let markStart: () => void
  const started = new Promise<void>((r) => (markStart = r))
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString()
    if (out.includes('"start"')) markStart()
  })
  const done = new Promise<Record<string, number>>((resolve, reject) =>
    child.on('exit', (code) => {
      const last = out.trim().split('\n').pop() ?? ''
      if (code !== 0) reject(new Error(`attacker exited with ${code}: ${out}`))
      else resolve(JSON.parse(last) as Record<string, number>)
    }),
  )
  return { started, done }
}

describe('a connection flood from 500 addresses cannot cut a node off', () => {
  it('2,000 connections/s for 10 s: nothing honest lost, rate kept, a restarted peer back within 3 s, memory returned', async () => {
    const ports = await Promise.all([freePort(), freePort(), freePort()])
    const addr = ports.map((p) => `127.0.0.1:${p}`)
    const ctx = new NodeContext()
    const a = startHonest(new NodeContext({ registry: new Registry() }), alice, addr[0]!, undefined, LIMITS, SET)
    const b = startHonest(new NodeContext({ registry: new Registry() }), bob, addr[1]!, a, {}, SET)
    let c = startHonest(new NodeContext({ registry: new Registry() }), carol, addr[2]!, a, {}, SET)
    nodes = [a, b, c]
    await a.network.whenConnected(2)
    const streams = [new Stream(ctx, a, b), new Stream(ctx, b, a)]
    const toCarol = new Stream(ctx, a, c)
    const before0 = performance.now()
    await ctx.sleep(2_000) // the rate before the flood
    const rssBefore = rss()
    const before1 = performance.now()

    const attacker = runAttacker(addr[0]!)
    await attacker.started
    const flood0 = performance.now()
    // Carol restarts 4 s into the flood, on the same address.
    await ctx.sleep(4_000)
    await c.stop()
    await toCarol.stop()
    nodes = [a, b]
    const restart = performance.now()
    c = startHonest(new NodeContext({ registry: new Registry() }), carol, addr[2]!, a, {}, SET)
    nodes = [a, b, c]
    const carolKey = hex(carol.publicKey)
    await Promise.all([c.network.whenConnected(1), a.network.whenPeers((k) => k.some((x) => hex(x) === carolKey))])
    const carolBackMs = performance.now() - restart
    const fromCarol = new Stream(ctx, c, a, PACKED) // Alice's PLAIN receiver is Bob's stream's

    const report = await attacker.done
    const flood1 = performance.now()
    // An honest dial right after the flood.
    const dial0 = performance.now()
    const link = await connectAs(ctx, a, dave)
    const dialMs = performance.now() - dial0
    link.conn.close()

    let rssAfter = rss()
    for (let i = 0; i < 40 && rssAfter - rssBefore > 32 * MiB; i++) {
      await ctx.sleep(250)
      rssAfter = rss()
    }
    await Promise.all(streams.map((s) => s.stop()))
    await fromCarol.stop()
    await Promise.all(streams.map((s) => s.drained()))

    const pre = streams[0]!.rate(before0, before1)
    const during = streams[0]!.rate(flood0, flood1)
    const refused = async (reason: string) => metric(a.ctx, 'handshakes_refused', { reason })
    console.log(
      JSON.stringify({
        attacker: report,
        carolBackMs: Math.round(carolBackMs),
        dialMs: Math.round(dialMs),
        rate: { pre: Math.round(pre), during: Math.round(during) },
        rssMB: { before: Math.round(rssBefore / MiB), after: Math.round(rssAfter / MiB) },
        refused: Object.fromEntries(await Promise.all(['global_rate', 'handshakes_full', 'ip_busy', 'ip_rate', 'subnet_rate', 'not_in_peer_set', 'already_connected', 'key_rate', 'timeout', 'recv_failed'].map(async (r) => [r, await refused(r)]))),
      }),
    )

    expect(report.attempts).toBeGreaterThanOrEqual(FLOOD.rate * FLOOD.seconds * 0.95)
    for (const s of streams) {
      expect(s.outOfOrder).toBe(0)
      expect(s.notQueued).toBe(0)
      expect(s.received).toBe(s.sent)
    }
    expect(during).toBeGreaterThanOrEqual(0.8 * pre)
    expect(carolBackMs).toBeLessThan(3_000)
    expect(fromCarol.received).toBeGreaterThan(0)
    expect(dialMs).toBeLessThan(1_000)
    expect(rssAfter - rssBefore).toBeLessThan(32 * MiB)
    // Refused at accept, each under its reason; the attacker's keys refused before any answer.
    expect(await refused('global_rate')).toBeGreaterThan(0)
    expect((await refused('ip_busy')) + (await refused('ip_rate'))).toBeGreaterThan(0)
    expect(await refused('not_in_peer_set')).toBeGreaterThan(0)
    expect((await refused('already_connected')) + (await refused('key_rate'))).toBeGreaterThan(0)
    expect(await refused('timeout')).toBeGreaterThan(0)
    expect(await metric(a.ctx, 'handshakes_pending')).toBeLessThanOrEqual(LIMITS.maxConcurrentHandshakes)
  }, 120_000)
})
