/**
 * The simulated network: the reference's scenarios, then the extensions (ordered links, corruption,
 * partitions, statistics of loss and latency, replay from a seed, code portable from authenticated).
 */
import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { Ed25519 } from '../../src/crypto/index.js'
import { isP2pError, type SimulationError } from '../../src/errors.js'
import { DeterministicRuntime, type Context } from '../../src/runtime/index.js'
import { DEFAULT_TRACE_LIMIT, Recipients, SimulatedNetwork, type Receiver, type Sender, type TraceEvent, type TraceOptions } from '../../src/simulated/index.js'

const key = (i: number) => Ed25519.fromSeed(700 + i).publicKey
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const perfect = { latencyMs: 10, jitterMs: 0, successRate: 1 }
const reason = (f: () => unknown) => {
  try {
    f()
  } catch (e) {
    return (e as SimulationError).reason
  }
  return undefined
}

function sim<T>(seed: number, body: (ctx: Context, net: SimulatedNetwork) => Promise<T>, trace?: TraceOptions): Promise<T> {
  const rt = new DeterministicRuntime({ seed, startMs: 0 })
  return rt.run((ctx) => body(ctx, SimulatedNetwork.create(ctx, trace ? { trace } : {}).network))
}

describe('simulated network: the reference scenarios', () => {
  it('message too large at the sender is a typed error; at the receiver it is dropped', async () => {
    await sim(1, async (ctx, net) => {
      const [tx] = net.oracle.register(key(0), 0, 10)
      const [, rx] = net.oracle.register(key(1), 0, 5)
      net.oracle.addLink(key(0), key(1), perfect)
      expect(isP2pError(await tx.send(Recipients.all(), new Uint8Array(11)).catch((e: unknown) => e), 'ERR_MESSAGE_TOO_LARGE')).toBe(true)
      expect(await tx.send(Recipients.all(), new Uint8Array(8))).toHaveLength(1) // listed, then dropped
      await tx.send(Recipients.all(), new Uint8Array(3))
      expect((await rx.recv())[1].length).toBe(3)
      expect(net.trace().some((e) => e.event === 'drop' && e.reason === 'too_large')).toBe(true)
      const counted = (await ctx.registry.getSingleMetric('simulated_messages')!.get()).values
      expect(counted.find((v) => v.labels.event === 'drop' && v.labels.reason === 'too_large')?.value).toBe(1)
      expect(counted.find((v) => v.labels.event === 'deliver')?.value).toBe(1)
    })
  })

  it('refuses linking self, duplicate channels, invalid rates and behaviour, missing peers and links', async () => {
    await sim(2, async (_ctx, net) => {
      net.oracle.register(key(0), 0, 10)
      expect(reason(() => net.oracle.register(key(0), 0, 10))).toBe('ChannelAlreadyRegistered')
      expect(reason(() => net.oracle.addLink(key(0), key(0), perfect))).toBe('LinkingSelf')
      expect(reason(() => net.oracle.addLink(key(0), key(1), { ...perfect, successRate: 1.5 }))).toBe('InvalidSuccessRate')
      expect(reason(() => net.oracle.addLink(key(0), key(1), { ...perfect, latencyMs: -1 }))).toBe('InvalidBehavior')
      expect(reason(() => net.oracle.addLink(key(0), key(1), { ...perfect, jitterMs: Number.NaN }))).toBe('InvalidBehavior')
      expect(reason(() => net.oracle.removeLink(key(0), key(1)))).toBe('LinkMissing')
      expect(reason(() => net.oracle.deregister(key(5)))).toBe('PeerMissing')
    })
  })

  it('simple delivery across 4 peers, every ordered pair, on the right channel only', async () => {
    await sim(3, async (_ctx, net) => {
      const peers = [0, 1, 2, 3].map((i) => ({ i, ch: net.oracle.register(key(i), 0, 1024), other: net.oracle.register(key(i), 1, 1024) }))
      for (const a of peers) for (const b of peers) if (a !== b) net.oracle.addLink(key(a.i), key(b.i), { latencyMs: 5, jitterMs: 2, successRate: 1 })
      for (const p of peers) expect(await p.ch[0].send(Recipients.all(), Uint8Array.of(p.i))).toHaveLength(3)
      for (const p of peers) {
        const got = new Set<number>()
        for (let k = 0; k < 3; k++) {
          const [from, msg] = await p.ch[1].recv()
          expect(hex(from)).toBe(hex(key(msg[0]!)))
          got.add(msg[0]!)
        }
        expect([...got].sort()).toEqual([0, 1, 2, 3].filter((x) => x !== p.i))
      }
      // Channel 1 got nothing: a message for channel 0 never lands on another channel.
      const other = await Promise.race([peers[0]!.other[1].recv().then(() => 'got'), _ctx.sleep(1000).then(() => 'nothing')])
      expect(other).toBe('nothing')
    })
  })

  it('dynamic peers and links: deregistered peers close, removed links stop delivery', async () => {
    await sim(4, async (ctx, net) => {
      const [tx] = net.oracle.register(key(0), 0, 64)
      const [, rx] = net.oracle.register(key(1), 0, 64)
      expect(await tx.send(Recipients.one(key(1)), Uint8Array.of(1))).toHaveLength(0) // no link yet
      net.oracle.addLink(key(0), key(1), perfect)
      expect(await tx.send(Recipients.one(key(1)), Uint8Array.of(2))).toHaveLength(1)
      expect(Array.from((await rx.recv())[1])).toEqual([2])
      net.oracle.removeLink(key(0), key(1))
      expect(await tx.send(Recipients.one(key(1)), Uint8Array.of(3))).toHaveLength(0)
      net.oracle.deregister(key(1))
      await expect(rx.recv()).rejects.toMatchObject({ code: 'ERR_CLOSED' })
      void ctx
    })
  })
})

describe('simulated network: extensions', () => {
  it('loss and latency follow the configured distributions over 10,000 messages (seed=5)', async () => {
    await sim(5, async (ctx, net) => {
      const [tx] = net.oracle.register(key(0), 0, 64)
      const [, rx] = net.oracle.register(key(1), 0, 64)
      net.oracle.addLink(key(0), key(1), { latencyMs: 100, jitterMs: 20, successRate: 0.8 })
      const N = 10_000
      const start = ctx.now()
      for (let i = 0; i < N; i++) await tx.send(Recipients.all(), Uint8Array.of(i & 255, i >> 8))
      await ctx.sleep(10_000)
      // Every message was sent at `start`, so a delivery's virtual time is its delay.
      const delays = net.trace().filter((e) => e.event === 'deliver').map((e) => e.t - start)
      const delivered = delays.length
      for (let i = 0; i < delivered; i++) await rx.recv()
      // Success: binomial, sd = sqrt(N p (1-p)) = 40; allow 5 sd.
      expect(Math.abs(delivered - 0.8 * N)).toBeLessThan(200)
      const mean = delays.reduce((a, b) => a + b, 0) / delays.length
      const sd = Math.sqrt(delays.reduce((a, b) => a + (b - mean) ** 2, 0) / delays.length)
      // Truncation to whole ms lowers the mean by about 0.5; the standard error of the mean is ~0.25.
      expect(Math.abs(mean - 99.5)).toBeLessThan(1.5)
      expect(Math.abs(sd - 20)).toBeLessThan(1)
    })
  })

  it('ordered links never reorder; unordered links with jitter do (seed=6)', async () => {
    const run = (ordered: boolean) =>
      sim(6, async (_ctx, net) => {
        const [tx] = net.oracle.register(key(0), 0, 64)
        const [, rx] = net.oracle.register(key(1), 0, 64)
        net.oracle.addLink(key(0), key(1), { latencyMs: 50, jitterMs: 30, successRate: 1, ordered })
        for (let i = 0; i < 200; i++) await tx.send(Recipients.all(), Uint8Array.of(i))
        const order: number[] = []
        for (let i = 0; i < 200; i++) order.push((await rx.recv())[1][0]!)
        return order
      })
    expect(await run(true)).toEqual(Array.from({ length: 200 }, (_, i) => i))
    expect(await run(false)).not.toEqual(Array.from({ length: 200 }, (_, i) => i))
  })

  it('a partition stops exactly the cross-group traffic, until healed; block cuts one pair', async () => {
    await sim(7, async (ctx, net) => {
      const chans = [0, 1, 2, 3].map((i) => net.oracle.register(key(i), 0, 64))
      for (let a = 0; a < 4; a++) for (let b = 0; b < 4; b++) if (a !== b) net.oracle.addLink(key(a), key(b), perfect)
      net.oracle.partition([[key(0), key(1)], [key(2), key(3)]])
      expect((await chans[0]![0].send(Recipients.all(), Uint8Array.of(0))).map(hex)).toEqual([hex(key(1))])
      expect((await chans[2]![0].send(Recipients.all(), Uint8Array.of(2))).map(hex)).toEqual([hex(key(3))])
      net.oracle.heal()
      expect(await chans[0]![0].send(Recipients.all(), Uint8Array.of(9))).toHaveLength(3)
      await ctx.sleep(100)
      net.oracle.block(key(0), key(3))
      expect((await chans[3]![0].send(Recipients.all(), Uint8Array.of(3))).map(hex).sort()).toEqual([hex(key(1)), hex(key(2))].sort())
      await ctx.sleep(100)
      const pairs = net.trace().filter((e) => e.event === 'deliver').map((e) => `${e.from}>${e.to}`)
      const pair = (a: number, b: number) => `${hex(key(a))}>${hex(key(b))}`
      // While partitioned: only 0>1 and 2>3. Healed: 0 to all. Blocked 0-3: 3 reaches 1 and 2 only.
      expect(pairs).toEqual([pair(0, 1), pair(2, 3), ...[1, 2, 3].map((b) => pair(0, b)).sort(), ...[1, 2].map((b) => pair(3, b)).sort()].map((x) => x))
    })
  })

  it('corruption flips exactly one bit of delivered copies (seed=8)', async () => {
    await sim(8, async (_ctx, net) => {
      const [tx] = net.oracle.register(key(0), 0, 64)
      const [, rx] = net.oracle.register(key(1), 0, 64)
      net.oracle.addLink(key(0), key(1), { ...perfect, corruptRate: 1 })
      const msg = new Uint8Array(16).fill(0x55)
      await tx.send(Recipients.all(), msg)
      const [, got] = await rx.recv()
      const diff = got.reduce((n, b, i) => n + ((b ^ msg[i]!).toString(2).split('1').length - 1), 0)
      expect(diff).toBe(1)
      expect(net.trace().some((e) => e.event === 'corrupt')).toBe(true)
    })
  })

  it('the same seed gives the same trace; another seed another (seed=9)', async () => {
    const digest = (seed: number) =>
      sim(seed, async (ctx, net) => {
        const peers = [0, 1, 2, 3, 4].map((i) => net.oracle.register(key(i), 0, 256))
        for (let a = 0; a < 5; a++) for (let b = 0; b < 5; b++) if (a !== b) net.oracle.addLink(key(a), key(b), { latencyMs: 20, jitterMs: 10, successRate: 0.7, corruptRate: 0.05 })
        for (let r = 0; r < 50; r++) {
          const p = peers[ctx.randomInt(5)]!
          await p[0].send(Recipients.all(), ctx.randomBytes(1 + ctx.randomInt(100)), ctx.randomInt(2) === 1)
          await ctx.sleep(ctx.randomInt(30))
        }
        await ctx.sleep(1000)
        return createHash('sha256').update(net.traceLines()).digest('hex') + net.digest()
      })
    expect(await digest(9)).toBe(await digest(9))
    expect(await digest(9)).not.toBe(await digest(10))
  })

  it('code written against authenticated Sender/Receiver runs unchanged', async () => {
    // A vote collector that only knows the shared Sender/Receiver interfaces.
    async function collect(tx: Sender, rx: Receiver, me: Uint8Array, quorum: number): Promise<number> {
      await tx.send(Recipients.all(), me)
      const voters = new Set<string>([hex(me)])
      for await (const [from] of rx) {
        voters.add(hex(from))
        if (voters.size >= quorum) break
      }
      return voters.size
    }
    await sim(11, async (_ctx, net) => {
      const chans = [0, 1, 2, 3].map((i) => net.oracle.register(key(i), 0, 64))
      for (let a = 0; a < 4; a++) for (let b = 0; b < 4; b++) if (a !== b) net.oracle.addLink(key(a), key(b), { latencyMs: 30, jitterMs: 100, successRate: 1 })
      const counts = await Promise.all(chans.map((c, i) => collect(c[0], c[1], key(i), 3)))
      expect(counts).toEqual([3, 3, 3, 3])
    })
    // The same function, unchanged, over the authenticated network (deterministic runtime).
    const { Config, Network } = await import('../../src/authenticated/index.js')
    const { Quota } = await import('../../src/utils/quota.js')
    const rt = new DeterministicRuntime({ seed: 11 })
    const counts = await rt.run(async () => {
      const keys = [0, 1, 2, 3].map(key)
      const nodes = [0, 1, 2, 3].map((i) => {
        const boot = i === 0 ? [] : [{ publicKey: keys[0]!, address: '10.0.0.1:4000' }]
        const { network, oracle } = Network.create(rt.context(`10.0.0.${i + 1}`), Config.test(Ed25519.fromSeed(700 + i), new TextEncoder().encode('votes'), `10.0.0.${i + 1}:4000`, boot, 1024))
        oracle.register(0n, keys)
        const ch = network.register(0, Quota.perSecond(100), 64)
        return { network, ch, handle: network.start() }
      })
      await Promise.all(nodes.map((n) => n.network.whenConnected(3)))
      const result = await Promise.all(nodes.map((n, i) => collect(n.ch[0], n.ch[1], keys[i]!, 3)))
      await Promise.all(nodes.map((n) => n.handle.stop()))
      return result
    })
    expect(counts).toEqual([3, 3, 3, 3])
  })
})

describe('simulated network: quotas and scale', () => {
  it('a channel quota holds deliveries from each sender to its rate, in order, dropping none (seed=12)', async () => {
    const { Quota } = await import('../../src/utils/quota.js')
    await sim(12, async (ctx, net) => {
      const [tx] = net.oracle.register(key(0), 0, 64)
      const [, rx] = net.oracle.register(key(1), 0, 64, Quota.perSecond(2))
      net.oracle.addLink(key(0), key(1), perfect)
      for (let i = 0; i < 10; i++) await tx.send(Recipients.all(), Uint8Array.of(i))
      const got: [number, number][] = []
      for (let i = 0; i < 10; i++) {
        const [, m] = await rx.recv()
        got.push([m[0]!, ctx.now()])
      }
      expect(got.map((g) => g[0])).toEqual(Array.from({ length: 10 }, (_, i) => i))
      // Burst of 2 at t = 10, then one per 500 ms.
      expect(got[9]![1] - got[0]![1]).toBe(4_000)
    })
  })

  it('200 peers broadcast to each other over lossy, jittery links (seed=13)', async () => {
    await sim(13, async (ctx, net) => {
      const n = 200
      const chans = Array.from({ length: n }, (_, i) => net.oracle.register(key(i), 0, 1024))
      for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) if (a !== b) net.oracle.addLink(key(a), key(b), { latencyMs: 50, jitterMs: 20, successRate: 0.9 })
      for (const [i, c] of chans.entries()) expect(await c[0].send(Recipients.all(), Uint8Array.of(i & 255, i >> 8))).toHaveLength(n - 1)
      await ctx.sleep(1_000)
      const delivered = net.trace().filter((e) => e.event === 'deliver').length
      // Binomial(39800, 0.9): sd ~ 60; allow 5 sd.
      expect(Math.abs(delivered - 0.9 * n * (n - 1))).toBeLessThan(300)
    })
  })
})

describe('simulated network: bandwidth', () => {
  const MB = 1_000_000
  const setup = (net: SimulatedNetwork, n: number) => {
    const chans = Array.from({ length: n }, (_, i) => net.oracle.register(key(i), 0, 4 * MB))
    for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) if (a !== b) net.oracle.addLink(key(a), key(b), { latencyMs: 0, jitterMs: 0, successRate: 1 })
    return chans
  }

  it('a 1 MB message over 1 MB/s egress takes one virtual second (within 1%), a vote beside it stays fast', async () => {
    await sim(14, async (ctx, net) => {
      const [a, b, c] = setup(net, 3)
      net.oracle.setBandwidth(key(0), { egressBps: MB })
      const t0 = ctx.now()
      await a![0].send(Recipients.one(key(1)), new Uint8Array(MB))
      await a![0].send(Recipients.one(key(2)), new Uint8Array(100))
      await c![1].recv()
      const vote = ctx.now() - t0
      await b![1].recv()
      const block = ctx.now() - t0
      // The vote shares the link with the block: ~0.2 ms of transmission, rounded up to whole ms.
      expect(vote).toBeLessThanOrEqual(1)
      expect(Math.abs(block - 1000)).toBeLessThanOrEqual(10)
    })
  })

  it('concurrent transfers share egress and ingress fairly', async () => {
    await sim(15, async (ctx, net) => {
      const [a, b, c] = setup(net, 3)
      net.oracle.setBandwidth(key(0), { egressBps: MB })
      const t0 = ctx.now()
      await a![0].send(Recipients.some([key(1), key(2)]), new Uint8Array(MB))
      await Promise.all([b![1].recv(), c![1].recv()])
      expect(Math.abs(ctx.now() - t0 - 2000)).toBeLessThanOrEqual(20)
      // Two senders into one receiver limited to 1 MB/s of ingress.
      net.oracle.setBandwidth(key(0), {})
      net.oracle.setBandwidth(key(2), { ingressBps: MB })
      const t1 = ctx.now()
      await a![0].send(Recipients.one(key(2)), new Uint8Array(MB))
      await b![0].send(Recipients.one(key(2)), new Uint8Array(MB))
      await c![1].recv()
      await c![1].recv()
      expect(Math.abs(ctx.now() - t1 - 2000)).toBeLessThanOrEqual(20)
    })
  })
})

describe('simulated network: trace, digest and shared copies', () => {
  const keys = Array.from({ length: 101 }, (_, i) => key(i))

  it('the trace is bounded by default: the latest DEFAULT_TRACE_LIMIT events, while the digest counts all (seed=16)', async () => {
    await sim(16, async (ctx, net) => {
      const chans = keys.map((k) => net.oracle.register(k, 0, 64))
      for (let b = 1; b < keys.length; b++) net.oracle.addLink(keys[0]!, keys[b]!, perfect)
      for (let r = 0; r < 1_000; r++) await chans[0]![0].send(Recipients.all(), Uint8Array.of(r & 255))
      await ctx.sleep(100)
      // 1,000 sends and 100,000 deliveries.
      expect(net.events).toBe(101_000)
      expect(DEFAULT_TRACE_LIMIT).toBe(100_000)
      const trace = net.trace()
      expect(trace).toHaveLength(DEFAULT_TRACE_LIMIT)
      expect(trace.every((e) => e.event === 'deliver')).toBe(true)
      // Recipients.all() goes in ascending key order: the last delivery of the last broadcast is to the highest key.
      const highest = keys.slice(1).map(hex).sort().at(-1)
      expect(trace.at(-1)).toEqual({ t: 10, event: 'deliver', from: hex(keys[0]!), to: highest, channel: 0, size: 1 })
    })
  })

  it('limit keeps the latest events in order, 0 keeps none, a sink sees every one as it happens (seed=17)', async () => {
    const scenario = (trace: TraceOptions) =>
      sim(
        17,
        async (ctx, net) => {
          const chans = [0, 1, 2].map((i) => net.oracle.register(keys[i]!, 0, 64))
          for (const a of [0, 1, 2]) for (const b of [0, 1, 2]) if (a !== b) net.oracle.addLink(keys[a]!, keys[b]!, { latencyMs: 5, jitterMs: 3, successRate: 0.7 })
          for (let r = 0; r < 20; r++) await chans[r % 3]![0].send(Recipients.all(), Uint8Array.of(r))
          await ctx.sleep(100)
          return { trace: net.trace(), lines: net.traceLines(), digest: net.digest(), events: net.events }
        },
        trace,
      )
    const all: TraceEvent[] = []
    const full = await scenario({ limit: 1_000, sink: (e) => all.push(e) })
    expect(full.events).toBe(60)
    expect(all).toEqual(full.trace)
    const last5 = await scenario({ limit: 5 })
    expect(last5.trace).toEqual(full.trace.slice(-5))
    expect(last5.lines.split('\n')).toHaveLength(5)
    const none = await scenario({ limit: 0 })
    expect(none.trace).toEqual([])
    expect(none.lines).toBe('')
    expect(none.events).toBe(60)
    // The digest covers every event whatever the trace keeps.
    expect(new Set([full.digest, last5.digest, none.digest]).size).toBe(1)
    expect(() => SimulatedNetwork.create(new DeterministicRuntime({ seed: 0 }).context(), { trace: { limit: -1 } })).toThrow(RangeError)
  })

  it('a broadcast shares one copy of the message, taken at send; a corrupted delivery gets its own (seed=18)', async () => {
    await sim(18, async (_ctx, net) => {
      const [[tx], [, b], [, c], [, d]] = [0, 1, 2, 3].map((i) => net.oracle.register(keys[i]!, 0, 64)) as [[Sender, Receiver], [Sender, Receiver], [Sender, Receiver], [Sender, Receiver]]
      net.oracle.addLink(keys[0]!, keys[1]!, perfect)
      net.oracle.addLink(keys[0]!, keys[2]!, perfect)
      net.oracle.addLink(keys[0]!, keys[3]!, { ...perfect, corruptRate: 1 })
      const msg = new Uint8Array(8).fill(7)
      await tx.send(Recipients.all(), msg)
      msg.fill(0) // the caller may reuse its buffer once send has returned
      const [[fb, atB], [fc, atC], [, atD]] = await Promise.all([b.recv(), c.recv(), d.recv()])
      expect(Array.from(atB)).toEqual(Array(8).fill(7))
      expect(atC).toBe(atB)
      expect(atD).not.toBe(atB)
      expect(atD.reduce((n, x) => n + ((x ^ 7).toString(2).split('1').length - 1), 0)).toBe(1)
      expect(hex(fb)).toBe(hex(keys[0]!))
      expect(fc).toBe(fb)
    })
  })
})
