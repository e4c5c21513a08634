/**
 * Behaviours of the authenticated network on the deterministic runtime: inbound rate limits throttle
 * (never drop), priority messages overtake queued ones, peer-set rotation drops evicted peers, and a
 * node that restarts on a new address is reached again. Each scenario runs twice with one seed and
 * must leave the same digest.
 */
import { describe, expect, it } from 'vitest'
import { Config, Network, Recipients } from '../../src/authenticated/index.js'
import { Ed25519 } from '../../src/crypto/index.js'
import { DeterministicRuntime, type Context } from '../../src/runtime/index.js'
import { Quota } from '../../src/utils/quota.js'

const NS = new TextEncoder().encode('quorumnet-sim')
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const key = (s: number) => Ed25519.fromSeed(s).publicKey

function start(rt: DeterministicRuntime, seed: number, host: string, boot: number | undefined, set: number[], patch: Partial<Config> = {}, quota = Quota.perSecond(1000)) {
  const ctx = rt.context(host)
  const bootstrappers = boot === undefined ? [] : [{ publicKey: key(boot), address: `10.0.0.${boot % 250}:4000` }]
  const { network, oracle } = Network.create(ctx, { ...Config.test(Ed25519.fromSeed(seed), NS, `${host}:4000`, bootstrappers, 1 << 16), ...patch })
  oracle.register(0n, set.map(key))
  const [sender, receiver] = network.register(0, quota, 4096)
  return { ctx, network, oracle, sender, receiver, handle: network.start() }
}

const host = (s: number) => `10.0.0.${s % 250}`

/** Run a scenario twice with one seed; both runs must leave the same auditor digest. */
async function replay(seed: number, body: (rt: DeterministicRuntime, ctx: Context) => Promise<void>): Promise<void> {
  const digests: string[] = []
  for (let i = 0; i < 2; i++) {
    const rt = new DeterministicRuntime({ seed })
    await rt.run((ctx) => body(rt, ctx))
    digests.push(rt.auditor.digest())
  }
  expect(digests[1]).toBe(digests[0])
}


describe('authenticated behaviours (deterministic)', () => {
  it('an inbound channel quota throttles a fast sender without dropping anything (seed=11)', async () => {
    await replay(11, async (rt, ctx) => {
      const set = [1, 2]
      const a = start(rt, 1, host(1), undefined, set, {}, Quota.perSecond(2))
      const b = start(rt, 2, host(2), 1, set, {}, Quota.perSecond(2))
      await b.network.whenConnected(1)
      for (let i = 0; i < 10; i++) void b.sender.send(Recipients.all(), Uint8Array.of(i))
      const times: number[] = []
      for (let i = 0; i < 10; i++) {
        const [, msg] = await a.receiver.recv()
        expect(msg[0]).toBe(i)
        times.push(ctx.now())
      }
      // Burst of 2, then one every 500 ms: the tenth arrives at least 4 s after the first.
      expect(times[9]! - times[0]!).toBeGreaterThanOrEqual(3_900)
      const limited = (await ctx.registry.getSingleMetric('messages_rate_limited')!.get()).values.reduce((n, v) => n + v.value, 0)
      expect(limited).toBeGreaterThan(0)
      await Promise.all([a.handle.stop(), b.handle.stop()])
    })
  })

  it('a priority message overtakes normal messages queued before it (seed=12)', async () => {
    await replay(12, async (rt, ctx) => {
      const set = [1, 2]
      const a = start(rt, 1, host(1), undefined, set)
      const b = start(rt, 2, host(2), 1, set)
      await b.network.whenConnected(1)
      for (let i = 0; i < 50; i++) void b.sender.send(Recipients.all(), Uint8Array.of(i))
      void b.sender.send(Recipients.all(), Uint8Array.of(255), true)
      const order: number[] = []
      for (let i = 0; i < 51; i++) order.push((await a.receiver.recv())[1][0]!)
      expect(order.indexOf(255)).toBeLessThan(50)
      expect(order.filter((x) => x !== 255)).toEqual(Array.from({ length: 50 }, (_, i) => i))
      await Promise.all([a.handle.stop(), b.handle.stop()])
      void ctx
    })
  })

  it('peer-set rotation: a key left out of the tracked sets is dropped and cannot reconnect (seed=13)', async () => {
    await replay(13, async (rt, ctx) => {
      const set = [1, 2, 3]
      const nodes = set.map((s) => start(rt, s, host(s), s === 1 ? undefined : 1, set, { trackedPeerSets: 1 }))
      await Promise.all(nodes.map((n) => n.network.whenConnected(2)))
      nodes[0]!.oracle.register(1n, [key(1), key(2)])
      nodes[1]!.oracle.register(1n, [key(1), key(2)])
      await Promise.all(nodes.slice(0, 2).map((n) => n.network.whenPeers((c) => c.length === 1)))
      await ctx.sleep(10_000)
      expect(nodes[0]!.network.connected().map(hex)).toEqual([hex(key(2))])
      expect(nodes[2]!.network.connected()).toHaveLength(0)
      await Promise.all(nodes.map((n) => n.handle.stop()))
    })
  })

  it('a node restarting on a new address is reached again by every peer (seed=14)', async () => {
    await replay(14, async (rt, ctx) => {
      const set = [1, 2, 3]
      const nodes = set.map((s) => start(rt, s, host(s), s === 1 ? undefined : 1, set))
      await Promise.all(nodes.map((n) => n.network.whenConnected(2)))
      await nodes[2]!.handle.stop()
      await ctx.sleep(5_000)
      // Same key, new host, a newer signed record.
      const again = start(rt, 3, '10.0.0.33', 1, set)
      await again.network.whenConnected(2)
      await Promise.all(nodes.slice(0, 2).map((n) => n.network.whenPeers((c) => c.some((k) => hex(k) === hex(key(3))))))
      const to = await nodes[1]!.sender.send(Recipients.one(key(3)), Uint8Array.of(7))
      expect(to.map(hex)).toEqual([hex(key(3))])
      expect(Array.from((await again.receiver.recv())[1])).toEqual([7])
      await Promise.all([nodes[0]!.handle.stop(), nodes[1]!.handle.stop(), again.handle.stop()])
    })
  })

  it('a key array reused for another peer\'s key routes by its bytes at the time of each send (seed=16)', async () => {
    await replay(16, async (rt) => {
      const set = [1, 2, 3]
      const nodes = set.map((s) => start(rt, s, host(s), s === 1 ? undefined : 1, set))
      await Promise.all(nodes.map((n) => n.network.whenConnected(2)))
      // One scratch array, filled with a different key before each send (and each oracle call).
      const k = new Uint8Array(32)
      const sends: [number, number][] = [[2, 20], [3, 30], [2, 21], [3, 31]]
      for (const [to, byte] of sends) {
        k.set(key(to))
        expect((await nodes[0]!.sender.send(Recipients.one(k), Uint8Array.of(byte))).map(hex)).toEqual([hex(key(to))])
        expect((await nodes[0]!.sender.send(Recipients.some([k]), Uint8Array.of(byte + 100))).map(hex)).toEqual([hex(key(to))])
      }
      const got = async (n: number, count: number) => {
        const out: number[] = []
        for (let i = 0; i < count; i++) out.push((await nodes[n - 1]!.receiver.recv())[1][0]!)
        return out
      }
      expect(await got(2, 4)).toEqual([20, 120, 21, 121])
      expect(await got(3, 4)).toEqual([30, 130, 31, 131])
      // The handshake timing of the key's current peer, not of the first one the array named.
      k.set(key(2))
      expect(nodes[0]!.network.handshakeTiming(k)).toBe(nodes[0]!.network.handshakeTiming(key(2)))
      await Promise.all(nodes.map((n) => n.handle.stop()))
    })
  })
})

describe('bad input between honest nodes (deterministic)', () => {
  it('an unregistered channel is counted and dropped; a channel compressed on one side only fails in recv; the connection stays (seed=15)', async () => {
    await replay(15, async (rt) => {
      const keys = [key(1), key(2)]
      const make = (seed: number, h: string, boot: boolean, compressOnChannel1: boolean) => {
        const ctx = rt.context(h)
        const { network, oracle } = Network.create(ctx, Config.test(Ed25519.fromSeed(seed), NS, `${h}:4000`, boot ? [{ publicKey: key(1), address: '10.0.0.1:4000' }] : [], 1 << 16))
        oracle.register(0n, keys)
        const zero = network.register(0, Quota.perSecond(100), 64)
        const one = network.register(1, Quota.perSecond(100), 64, compressOnChannel1 ? 3 : undefined)
        const seven = seed === 2 ? network.register(7, Quota.perSecond(100), 64) : undefined
        return { ctx, network, zero, one, seven, handle: network.start() }
      }
      const a = make(1, '10.0.0.1', false, false)
      const b = make(2, '10.0.0.2', true, true)
      await b.network.whenConnected(1)
      // Channel 7 exists only at b: a drops it and counts it.
      expect(await b.seven![0].send(Recipients.all(), Uint8Array.of(1))).toHaveLength(1)
      // Channel 1 compresses at b only: a gets the raw zstd frame; b cannot decompress a's plain bytes.
      await b.one[0].send(Recipients.all(), new TextEncoder().encode('compressed at b'))
      const [, raw] = await a.one[1].recv()
      expect(Array.from(raw.subarray(0, 4))).toEqual([0x28, 0xb5, 0x2f, 0xfd])
      await a.one[0].send(Recipients.all(), new TextEncoder().encode('plain from a'))
      await expect(b.one[1].recv()).rejects.toMatchObject({ code: 'ERR_DECOMPRESS' })
      // The connection is still up and channel 0 still works both ways.
      await a.zero[0].send(Recipients.all(), Uint8Array.of(42))
      expect(Array.from((await b.zero[1].recv())[1])).toEqual([42])
      const dropped = (await a.ctx.registry.getSingleMetric('messages_dropped')!.get()).values
      expect(dropped.some((v) => v.labels.reason === 'unknown_channel' && v.labels.message === '7' && v.value === 1)).toBe(true)
      expect(dropped.some((v) => v.labels.reason === 'decompression_failed')).toBe(true)
      expect(a.network.connected()).toHaveLength(1)
      await Promise.all([a.handle.stop(), b.handle.stop()])
    })
  })
})
