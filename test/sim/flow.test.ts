/**
 * Send semantics on the deterministic runtime (virtual time, replayable from the seed in each name):
 * `trySend` never waits and says who took a message; the overflow policies of a channel (wait,
 * drop-newest, drop-oldest) each do what they promise and count what they drop; and a channel serves
 * its sending peers in turn, so a peer flooding it cannot delay another peer's votes.
 */
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { Config, Network, Recipients, type Overflow, type Receiver, type Sender } from '../../src/authenticated/index.js'
import { Ed25519 } from '../../src/crypto/index.js'
import { DeterministicRuntime, type Context } from '../../src/runtime/index.js'
import { Quota } from '../../src/utils/quota.js'

const NS = new TextEncoder().encode('flow-test')
const keys = [1, 2, 3].map((i) => Ed25519.fromSeed(i))
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const CH = 7

interface Node {
  ctx: Context
  network: Network
  sender: Sender
  receiver: Receiver
  stop: () => Promise<void>
}

function start(rt: DeterministicRuntime, i: number, opts: { overflow?: Overflow; backlog?: number; mailboxSize?: number; maxPeerQueueBytes?: number } = {}): Node {
  const ctx = rt.context(`10.0.0.${i + 1}`, new Registry())
  const boot = i === 0 ? [] : [{ publicKey: keys[0]!.publicKey, address: '10.0.0.1:4000' }]
  const { network, oracle } = Network.create(ctx, { ...Config.test(keys[i]!, NS, `10.0.0.${i + 1}:4000`, boot, 1 << 16), mailboxSize: opts.mailboxSize ?? 1_000, maxPeerQueueBytes: opts.maxPeerQueueBytes ?? 16 << 20 })
  oracle.register(0n, keys.map((k) => k.publicKey))
  const [sender, receiver] = network.register(CH, Quota.perSecond(1_000_000), opts.backlog ?? 1_024, { overflow: opts.overflow ?? 'wait' })
  const handle = network.start()
  return { ctx, network, sender, receiver, stop: () => handle.stop() }
}

const dropped = async (n: Node, reason: string): Promise<number> => {
  const m = n.ctx.registry.getSingleMetric('messages_dropped')
  return m ? (await m.get()).values.filter((v) => v.labels.reason === reason).reduce((s, v) => s + v.value, 0) : 0
}

/** `count` numbered messages sent in one synchronous burst (the peer's writer cannot run in between). */
function burst(n: Node, to: Uint8Array, count: number): Promise<Uint8Array[]>[] {
  return Array.from({ length: count }, (_, i) => n.sender.send(Recipients.one(to), Uint8Array.of(i)))
}

async function receiveN(n: Node, count: number): Promise<number[]> {
  const out: number[] = []
  while (out.length < count) out.push((await n.receiver.recv())[1][0]!)
  return out
}

describe('trySend and the overflow policies', () => {
  it('trySend never waits: a burst past a full queue reports the rest as full, counted (seed=301)', async () => {
    const rt = new DeterministicRuntime({ seed: 301 })
    await rt.run(async () => {
      const [a, b] = [start(rt, 0, { mailboxSize: 10 }), start(rt, 1, { mailboxSize: 10 })]
      await a.network.whenConnected(1)
      const outcomes = Array.from({ length: 15 }, (_, i) => a.sender.trySend(Recipients.all(), Uint8Array.of(i)))
      expect(outcomes.filter((o) => o.queued.length === 1)).toHaveLength(10)
      expect(outcomes.slice(10).map((o) => o.full.map(hex))).toEqual(Array(5).fill([hex(keys[1]!.publicKey)]))
      expect(outcomes.every((o) => o.stalled.length === 0)).toBe(true)
      expect(await receiveN(b, 10)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
      expect(await dropped(a, 'queue_full')).toBe(5)
      // Not connected: reported nowhere.
      expect(a.sender.trySend(Recipients.one(keys[2]!.publicKey), Uint8Array.of(0))).toEqual({ queued: [], full: [], stalled: [] })
      await Promise.all([a.stop(), b.stop()])
    })
  })

  it.each([
    ['wait', 15, [...Array(15).keys()], 0, 0],
    ['drop-newest', 10, [...Array(10).keys()], 5, 0],
    ['drop-oldest', 15, [5, 6, 7, 8, 9, 10, 11, 12, 13, 14], 0, 5],
  ] as const)('%s: a burst of 15 into a queue of 10 (seed=302)', async (overflow, queued, arrives, full, oldest) => {
    const rt = new DeterministicRuntime({ seed: 302 })
    await rt.run(async () => {
      const [a, b] = [start(rt, 0, { overflow, mailboxSize: 10 }), start(rt, 1, { mailboxSize: 10 })]
      await a.network.whenConnected(1)
      const results = await Promise.all(burst(a, keys[1]!.publicKey, 15))
      expect(results.filter((r) => r.length === 1)).toHaveLength(queued)
      expect(await receiveN(b, arrives.length)).toEqual(arrives)
      expect(await dropped(a, 'queue_full')).toBe(full)
      expect(await dropped(a, 'dropped_oldest')).toBe(oldest)
      await Promise.all([a.stop(), b.stop()])
    })
  })

  it('a queue is also bounded in bytes, shown per peer in peer_queued_bytes (seed=305)', async () => {
    const rt = new DeterministicRuntime({ seed: 305 })
    await rt.run(async () => {
      const [a, b] = [start(rt, 0, { maxPeerQueueBytes: 4096 }), start(rt, 1)]
      await a.network.whenConnected(1)
      const queuedBytes = async () => (await a.ctx.registry.getSingleMetric('peer_queued_bytes')!.get()).values.find((v) => v.labels.peer === hex(keys[1]!.publicKey))?.value
      const outcomes = Array.from({ length: 10 }, () => a.sender.trySend(Recipients.all(), new Uint8Array(1000)))
      // 1,000 B payloads are 1,008 B encoded: four fit under 4,096 and a fifth is taken while under it.
      expect(outcomes.filter((o) => o.queued.length === 1)).toHaveLength(5)
      expect(outcomes.filter((o) => o.full.length === 1)).toHaveLength(5)
      expect(await queuedBytes()).toBe(5 * 1008)
      expect(await receiveN(b, 5)).toHaveLength(5)
      expect(await queuedBytes()).toBe(0)
      await Promise.all([a.stop(), b.stop()])
    })
  })

  it('an unknown overflow policy is refused at register', () => {
    const rt = new DeterministicRuntime({ seed: 303 })
    const { network } = Network.create(rt.context('10.0.0.1'), Config.test(keys[0]!, NS, '10.0.0.1:4000', [], 1 << 16))
    expect(() => network.register(1, Quota.perSecond(1), 1, { overflow: 'sometimes' as Overflow })).toThrow(/overflow must be one of/)
  })
})

describe('a channel serves its peers in turn', () => {
  it('one peer floods, another sends a vote every 10 ms: the votes wait at most a few reads (seed=304)', async () => {
    const rt = new DeterministicRuntime({ seed: 304 })
    await rt.run(async (ctx) => {
      const [alice, flooder, voter] = [start(rt, 0, { backlog: 64 }), start(rt, 1), start(rt, 2)]
      await alice.network.whenConnected(2)
      await Promise.all([flooder.network.whenConnected(1), voter.network.whenConnected(1)])
      let running = true
      // The flooder: 20 messages each virtual millisecond, far more than Alice's application reads.
      const flood = (async () => {
        for (let i = 0; running; i++) {
          for (let j = 0; j < 20; j++) await flooder.sender.send(Recipients.one(keys[0]!.publicKey), new Uint8Array(100))
          await ctx.sleep(1)
        }
      })()
      const sentAt: number[] = []
      const votes = (async () => {
        for (let v = 0; v < 50; v++) {
          const m = new Uint8Array(8)
          new DataView(m.buffer).setUint32(0, v)
          sentAt.push(ctx.now())
          await voter.sender.send(Recipients.one(keys[0]!.publicKey), m)
          await ctx.sleep(10)
        }
      })()
      // Alice's application reads one message per virtual millisecond.
      const delays: number[] = []
      while (delays.length < 50) {
        const [from, msg] = await alice.receiver.recv()
        if (hex(from) === hex(keys[2]!.publicKey)) delays.push(ctx.now() - sentAt[new DataView(msg.buffer, msg.byteOffset).getUint32(0)]!)
        await ctx.sleep(1)
      }
      running = false
      await Promise.all([flood, votes])
      delays.sort((x, y) => x - y)
      const p99 = delays[Math.ceil(0.99 * delays.length) - 1]!
      // A link is 1 ms each way; Alice serves the voter's lane every other read (1 ms each).
      expect(p99).toBeLessThanOrEqual(10)
      await Promise.all([alice.stop(), flooder.stop(), voter.stop()])
    })
  })
})
