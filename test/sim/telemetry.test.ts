/**
 * Clock-skew and readiness telemetry on the deterministic runtime (virtual time, replayable from the
 * seed in each name): the skew each handshake measures (per peer gauge, a warning past half the
 * synchrony bound, refused past the bound), the dialer's handshake round trip, and the fraction of the
 * announced next peer set connected, with and without pre-dialing it.
 */
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { Config, Network, type Oracle } from '../../src/authenticated/index.js'
import { Ed25519 } from '../../src/crypto/index.js'
import { DeterministicRuntime, type Context } from '../../src/runtime/index.js'
import { Quota } from '../../src/utils/quota.js'
import { skewed } from '../helpers/gate.js'

const NS = new TextEncoder().encode('telemetry-test')
const keys = [1, 2, 3, 4].map((i) => Ed25519.fromSeed(40 + i))
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

interface Node {
  ctx: Context
  network: Network
  oracle: Oracle
  stop: () => Promise<void>
}

function start(rt: DeterministicRuntime, i: number, opts: { skewMs?: number; sets?: number[][]; preDial?: boolean; boot?: boolean } = {}): Node {
  const base = rt.context(`10.0.2.${i + 1}`, new Registry())
  const ctx = opts.skewMs ? skewed(base, opts.skewMs) : base
  const boot = i === 0 || opts.boot === false ? [] : [{ publicKey: keys[0]!.publicKey, address: '10.0.2.1:4000' }]
  const cfg = { ...Config.test(keys[i]!, NS, `10.0.2.${i + 1}:4000`, boot, 1 << 16), preDialNextSet: opts.preDial ?? true }
  const { network, oracle } = Network.create(ctx, cfg)
  ;(opts.sets ?? [[0, 1, 2, 3]]).forEach((set, index) => oracle.register(index, set.map((j) => keys[j]!.publicKey)))
  network.register(0, Quota.perSecond(100), 16)
  const handle = network.start()
  return { ctx, network, oracle, stop: () => handle.stop() }
}

async function values(n: Node, name: string): Promise<{ labels: Record<string, string | number>; value: number }[]> {
  const m = n.ctx.registry.getSingleMetric(name)
  return m ? ((await m.get()).values as { labels: Record<string, string | number>; value: number }[]) : []
}

describe('clock skew', () => {
  it('each side measures the other clock from the handshake; past half the bound it warns, past the bound it is refused (seed=501)', async () => {
    const rt = new DeterministicRuntime({ seed: 501 })
    await rt.run(async (ctx) => {
      // Alice listens; Bob is 1 s ahead, Carol 3.5 s behind (over half of the 5 s bound), Dave 6 s ahead.
      const alice = start(rt, 0)
      const bob = start(rt, 1, { skewMs: 1_000 })
      const carol = start(rt, 2, { skewMs: -3_500 })
      const dave = start(rt, 3, { skewMs: 6_000 })
      await alice.network.whenConnected(2)
      await ctx.sleep(3_000)
      expect(alice.network.connected().map(hex).sort()).toEqual([keys[1], keys[2]].map((k) => hex(k!.publicKey)).sort())
      // Alice answered: her figure is low by the one-way delay (1 ms here).
      expect(alice.network.handshakeTiming(keys[1]!.publicKey)!.skewMs).toBeCloseTo(1_000, -1)
      expect(alice.network.handshakeTiming(keys[2]!.publicKey)!.skewMs).toBeCloseTo(-3_500, -1)
      expect(alice.network.handshakeTiming(keys[1]!.publicKey)!.rttMs).toBeUndefined()
      // Bob dialed: he compares with the middle of his round trip, and knows the round trip.
      const fromBob = bob.network.handshakeTiming(keys[0]!.publicKey)!
      expect(fromBob.skewMs).toBeCloseTo(-1_000, -1)
      expect(fromBob.rttMs).toBeGreaterThanOrEqual(2)
      const skew = Object.fromEntries((await values(alice, 'peer_clock_skew_ms')).map((v) => [v.labels.peer, v.value]))
      expect(skew[hex(keys[1]!.publicKey)]).toBeCloseTo(1_000, -1)
      expect(skew[hex(keys[2]!.publicKey)]).toBeCloseTo(-3_500, -1)
      const warned = (await values(alice, 'clock_skew_warnings')).filter((v) => v.value > 0).map((v) => v.labels.peer)
      expect(warned).toEqual([hex(keys[2]!.publicKey)])
      expect((await values(bob, 'peer_handshake_rtt_ms')).map((v) => v.labels.peer)).toEqual([hex(keys[0]!.publicKey)])
      // Dave is past the bound: refused at Alice, counted with the reference's reason.
      const refused = (await values(alice, 'handshakes_refused')).filter((v) => v.labels.reason === 'future_timestamp')
      expect(refused.reduce((s, v) => s + v.value, 0)).toBeGreaterThan(0)
      // A disconnected peer leaves the gauges.
      await carol.stop()
      await alice.network.whenPeers((c) => c.length === 1)
      expect((await values(alice, 'peer_clock_skew_ms')).map((v) => v.labels.peer)).toEqual([hex(keys[1]!.publicKey)])
      await Promise.all([alice.stop(), bob.stop(), dave.stop()])
    })
  })
})

describe('readiness of the next peer set', () => {
  it.each([
    [true, 1],
    [false, 0.5],
  ])('preDialNextSet %s: a member new in the announced set is connected before the switch: readiness %s (seed=502)', async (preDial, ready) => {
    const rt = new DeterministicRuntime({ seed: 502 })
    await rt.run(async (ctx) => {
      // Epoch 0 is Alice and Bob; epoch 1 adds Carol, who knows Alice as a bootstrapper.
      const alice = start(rt, 0, { sets: [[0, 1]], preDial })
      const bob = start(rt, 1, { sets: [[0, 1]] })
      const carol = start(rt, 2, { sets: [] })
      await alice.network.whenConnected(1)
      expect(alice.network.readiness()).toBeUndefined()
      const next = [0, 1, 2].map((j) => keys[j]!.publicKey)
      expect(alice.oracle.announce(1, next)).toBe(true)
      expect(carol.oracle.announce(1, next)).toBe(true)
      expect(alice.oracle.announce(0, next)).toBe(false)
      await ctx.sleep(5_000)
      expect(alice.network.readiness()).toBe(ready)
      const ratios = await values(alice, 'peer_set_connected_ratio')
      expect(ratios.find((v) => v.labels.set === 'next')).toMatchObject({ labels: { index: '1' }, value: ready })
      expect(ratios.find((v) => v.labels.set === 'tracked')).toMatchObject({ labels: { index: '0' }, value: 1 })
      // The switch: registered, the set is current; Carol is (or now becomes) connected.
      alice.oracle.register(1, next)
      carol.oracle.register(1, next)
      expect(alice.network.readiness()).toBeUndefined()
      await alice.network.whenConnected(2)
      expect((await values(alice, 'peer_set_connected_ratio')).find((v) => v.labels.index === '1')).toMatchObject({ labels: { set: 'tracked' }, value: 1 })
      await Promise.all([alice.stop(), bob.stop(), carol.stop()])
    })
  })

  it('another announce replaces the next set, and its early connections end (seed=503)', async () => {
    const rt = new DeterministicRuntime({ seed: 503 })
    await rt.run(async (ctx) => {
      const alice = start(rt, 0, { sets: [[0, 1]] })
      const bob = start(rt, 1, { sets: [[0, 1]] })
      const carol = start(rt, 2, { sets: [] })
      await alice.network.whenConnected(1)
      const withCarol = [0, 1, 2].map((j) => keys[j]!.publicKey)
      alice.oracle.announce(1, withCarol)
      carol.oracle.announce(1, withCarol)
      await alice.network.whenConnected(2)
      // The next set changes: Carol is out of it, and her connection ends at the next gossip tick.
      alice.oracle.announce(2, [0, 1].map((j) => keys[j]!.publicKey))
      await ctx.sleep(3_000)
      expect(alice.network.connected().map(hex)).toEqual([hex(keys[1]!.publicKey)])
      expect(alice.network.readiness()).toBe(1)
      await Promise.all([alice.stop(), bob.stop(), carol.stop()])
    })
  })
})
