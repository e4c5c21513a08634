/**
 * Superseding and expiring messages on the deterministic runtime (virtual time, replayable from the
 * seed in each name): a keyed send replaces the queued message of its (channel, key) in its turn, even
 * in a full queue; a message with a ttl still queued when it goes stale is dropped; each is counted in
 * `messages_dropped`. The sender's socket writes are held by a gate (a peer that stops reading), so
 * messages wait in its queue as long as the test wants. A handed-over message (`transfer`) is sent from
 * the caller's memory, not copied.
 */
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { Config, Network, Recipients, type Receiver, type Sender } from '../../src/authenticated/index.js'
import { Ed25519 } from '../../src/crypto/index.js'
import { InvalidArgumentError } from '../../src/errors.js'
import { DeterministicRuntime, type Context } from '../../src/runtime/index.js'
import { SimulatedNetwork } from '../../src/simulated/index.js'
import { Quota } from '../../src/utils/quota.js'
import { gated, type Gate } from '../helpers/gate.js'

const NS = new TextEncoder().encode('supersede-test')
const keys = [1, 2].map((i) => Ed25519.fromSeed(i))
const CH = 3

interface Node {
  ctx: Context
  gate: Gate
  network: Network
  sender: Sender
  receiver: Receiver
  stop: () => Promise<void>
}

function start(rt: DeterministicRuntime, i: number, mailboxSize = 1_000): Node {
  const gate = gated(rt.context(`10.0.1.${i + 1}`, new Registry()))
  const boot = i === 0 ? [] : [{ publicKey: keys[0]!.publicKey, address: '10.0.1.1:4000' }]
  const { network, oracle } = Network.create(gate.ctx, { ...Config.test(keys[i]!, NS, `10.0.1.${i + 1}:4000`, boot, 1 << 16), mailboxSize })
  oracle.register(0n, keys.map((k) => k.publicKey))
  const [sender, receiver] = network.register(CH, Quota.perSecond(1_000_000), 1_024)
  const handle = network.start()
  return { ctx: gate.ctx, gate, network, sender, receiver, stop: () => handle.stop() }
}

const dropped = async (n: Node, reason: string): Promise<number> => {
  const m = n.ctx.registry.getSingleMetric('messages_dropped')
  return m ? (await m.get()).values.filter((v) => v.labels.reason === reason).reduce((s, v) => s + v.value, 0) : 0
}

const queuedBytes = async (n: Node): Promise<number> =>
  (await n.ctx.registry.getSingleMetric('peer_queued_bytes')!.get()).values.reduce((s, v) => s + v.value, 0)

const text = (s: string) => new TextEncoder().encode(s)

/** Close `n`'s gate and send fillers until its writer has stopped taking messages (some stay queued). */
async function saturate(n: Node, to: Uint8Array): Promise<number> {
  n.gate.close()
  let sent = 0
  while ((await queuedBytes(n)) === 0) {
    await n.sender.send(Recipients.one(to), text(`filler ${sent++}`))
    await n.ctx.sleep(1)
  }
  return sent
}

async function receiveN(n: Node, count: number): Promise<string[]> {
  const out: string[] = []
  while (out.length < count) out.push(new TextDecoder().decode((await n.receiver.recv())[1]))
  return out
}

/** Two connected nodes; `a` (the dialer) sends to `b`. */
async function pair(rt: DeterministicRuntime, mailboxSize?: number): Promise<[Node, Node]> {
  const b = start(rt, 0)
  const a = start(rt, 1, mailboxSize)
  await Promise.all([a.network.whenConnected(1), b.network.whenConnected(1)])
  return [a, b]
}

describe('superseding messages (key)', () => {
  it('a newer vote replaces the queued one in its turn; others keep their order (seed=401)', async () => {
    const rt = new DeterministicRuntime({ seed: 401 })
    await rt.run(async (ctx) => {
      const [a, b] = await pair(rt)
      const to = keys[0]!.publicKey
      const fillers = await saturate(a, to)
      await a.sender.send(Recipients.one(to), text('vote h=5 r=0'), { key: 'vote' })
      await a.sender.send(Recipients.one(to), text('block 5'))
      await ctx.sleep(10)
      expect(await a.sender.send(Recipients.one(to), text('vote h=5 r=1'), { key: 'vote' })).toHaveLength(1)
      // Another key is another slot; a plain send never replaces anything.
      await a.sender.send(Recipients.one(to), text('status 1'), { key: 'status' })
      await a.sender.send(Recipients.one(to), text('status 2'), { key: 'status' })
      await a.sender.send(Recipients.one(to), text('block 5'))
      expect(await dropped(a, 'superseded')).toBe(2)
      a.gate.open()
      const got = await receiveN(b, fillers + 4)
      expect(got.slice(fillers)).toEqual(['vote h=5 r=1', 'block 5', 'status 2', 'block 5'])
      // Written: once it left the queue, a send with the key is a new message.
      await a.sender.send(Recipients.one(to), text('vote h=6 r=0'), { key: 'vote' })
      expect(await receiveN(b, 1)).toEqual(['vote h=6 r=0'])
      expect(await dropped(a, 'superseded')).toBe(2)
      await Promise.all([a.stop(), b.stop()])
    })
  })

  it('superseding needs no room: in a full queue send does not wait and trySend reports it queued (seed=402)', async () => {
    const rt = new DeterministicRuntime({ seed: 402 })
    await rt.run(async () => {
      const [a, b] = await pair(rt, 4)
      const to = keys[0]!.publicKey
      const fillers = await saturate(a, to)
      a.sender.trySend(Recipients.one(to), text('status 1'), { key: 's' })
      let more = 0
      while (a.sender.trySend(Recipients.one(to), text('filler')).queued.length === 1) more++
      // Full now: a plain message is refused, a keyed one replaces its slot.
      expect(a.sender.trySend(Recipients.one(to), text('plain')).full).toHaveLength(1)
      expect(a.sender.trySend(Recipients.one(to), text('status 2'), { key: 's' }).queued).toHaveLength(1)
      expect(await a.sender.send(Recipients.one(to), text('status 3'), { key: 's', priority: false })).toHaveLength(1)
      expect(await dropped(a, 'superseded')).toBe(2)
      a.gate.open()
      const got = await receiveN(b, fillers + more + 1)
      expect(got.filter((m) => m.startsWith('status'))).toEqual(['status 3'])
      await Promise.all([a.stop(), b.stop()])
    })
  })

  it('a keyed message with the other priority moves to its own queue (seed=403)', async () => {
    const rt = new DeterministicRuntime({ seed: 403 })
    await rt.run(async () => {
      const [a, b] = await pair(rt)
      const to = keys[0]!.publicKey
      const fillers = await saturate(a, to)
      await a.sender.send(Recipients.one(to), text('normal 1'))
      await a.sender.send(Recipients.one(to), text('status low'), { key: 's' })
      await a.sender.send(Recipients.one(to), text('status high'), { key: 's', priority: true })
      a.gate.open()
      const got = await receiveN(b, fillers + 2)
      expect(got.slice(fillers - 1).filter((m) => !m.startsWith('filler'))).toEqual(['status high', 'normal 1'])
      expect(await dropped(a, 'superseded')).toBe(1)
      await Promise.all([a.stop(), b.stop()])
    })
  })
})

describe('expiring messages (ttlMs)', () => {
  it('a message still queued past its ttl is dropped when the writer reaches it; a fresh one is not (seed=411)', async () => {
    const rt = new DeterministicRuntime({ seed: 411 })
    await rt.run(async (ctx) => {
      const [a, b] = await pair(rt)
      const to = keys[0]!.publicKey
      const fillers = await saturate(a, to)
      await a.sender.send(Recipients.one(to), text('status, 50 ms'), { ttlMs: 50 })
      await a.sender.send(Recipients.one(to), text('vote, 500 ms'), { ttlMs: 500, key: 'v' })
      await a.sender.send(Recipients.one(to), text('block'))
      await ctx.sleep(100)
      a.gate.open()
      const got = await receiveN(b, fillers + 2)
      expect(got.slice(fillers - 1).filter((m) => !m.startsWith('filler'))).toEqual(['vote, 500 ms', 'block'])
      expect(await dropped(a, 'expired')).toBe(1)
      expect(await queuedBytes(a)).toBe(0)
      await Promise.all([a.stop(), b.stop()])
    })
  })

  it('stale messages give up their room in a full queue, and a send that waited past its ttl is dropped (seed=412)', async () => {
    const rt = new DeterministicRuntime({ seed: 412 })
    await rt.run(async (ctx) => {
      const [a, b] = await pair(rt, 3)
      const to = keys[0]!.publicKey
      const fillers = await saturate(a, to)
      while (a.sender.trySend(Recipients.one(to), text('stale'), { ttlMs: 20 }).queued.length === 1);
      await ctx.sleep(30)
      // The stale ones make room at once.
      expect(a.sender.trySend(Recipients.one(to), text('fresh')).queued).toHaveLength(1)
      const expiredFirst = await dropped(a, 'expired')
      expect(expiredFirst).toBeGreaterThan(0)
      while (a.sender.trySend(Recipients.one(to), text('filler')).queued.length === 1);
      // Full of fresh messages: this send waits, longer than its ttl, and is dropped.
      const late = a.sender.send(Recipients.one(to), text('late'), { ttlMs: 10 })
      await ctx.sleep(50)
      a.gate.open()
      expect(await late).toEqual([])
      expect(await dropped(a, 'expired')).toBe(expiredFirst + 1)
      const got = await receiveN(b, fillers)
      expect(got).not.toContain('late')
      await Promise.all([a.stop(), b.stop()])
    })
  })

  it('a bad ttl or key is a caller bug: InvalidArgumentError, nothing sent (seed=413)', async () => {
    const rt = new DeterministicRuntime({ seed: 413 })
    await rt.run(async () => {
      const [a, b] = await pair(rt)
      const to = Recipients.one(keys[0]!.publicKey)
      await expect(a.sender.send(to, text('x'), { ttlMs: -1 })).rejects.toBeInstanceOf(InvalidArgumentError)
      expect(() => a.sender.trySend(to, text('x'), { ttlMs: Number.NaN })).toThrow(InvalidArgumentError)
      expect(() => a.sender.trySend(to, text('x'), { key: {} as unknown as string })).toThrow(/key must be/)
      // The positional priority still works.
      expect(await a.sender.send(to, text('urgent'), true)).toHaveLength(1)
      expect(await receiveN(b, 1)).toEqual(['urgent'])
      await Promise.all([a.stop(), b.stop()])
    })
  })
})

describe('send options on the simulated network', () => {
  const simKey = (i: number) => Ed25519.fromSeed(800 + i).publicKey

  it('key: a later send of the same turn replaces an earlier one; ttlMs: a transfer slowed past it is dropped (seed=421)', async () => {
    const rt = new DeterministicRuntime({ seed: 421, startMs: 0 })
    await rt.run(async (ctx) => {
      const { network: net } = SimulatedNetwork.create(ctx)
      const [tx] = net.oracle.register(simKey(0), 0, 1 << 20)
      const [, rx] = net.oracle.register(simKey(1), 0, 1 << 20)
      net.oracle.addLink(simKey(0), simKey(1), { latencyMs: 10, jitterMs: 0, successRate: 1 })
      const sends = [tx.send(Recipients.all(), text('status 1'), { key: 's' }), tx.send(Recipients.all(), text('block')), tx.send(Recipients.all(), text('status 2'), { key: 's' })]
      expect((await Promise.all(sends)).map((r) => r.length)).toEqual([0, 1, 1])
      const got = [await rx.recv(), await rx.recv()].map(([, m]) => new TextDecoder().decode(m))
      expect(got.sort()).toEqual(['block', 'status 2'])
      expect(net.trace().filter((e) => e.reason === 'superseded')).toHaveLength(1)
      // 100 KB at 1 MB/s takes 100 ms on the wire: a 50 ms ttl drops it, a 500 ms one does not.
      net.oracle.setBandwidth(simKey(0), { egressBps: 1_000_000 })
      await tx.send(Recipients.all(), new Uint8Array(100_000), { ttlMs: 50 })
      await ctx.sleep(1_000)
      await tx.send(Recipients.all(), new Uint8Array(100_000), { ttlMs: 500 })
      expect((await rx.recv())[1].length).toBe(100_000)
      expect(net.trace().filter((e) => e.reason === 'expired')).toHaveLength(1)
    })
  })
})

describe('handed-over messages (transfer)', () => {
  const big = (seed: number, n = 20_000) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 255)

  it('arrive byte for byte and in order among lent ones, keyed or not; the queue accounting ends at zero (seed=421)', async () => {
    const rt = new DeterministicRuntime({ seed: 421 })
    await rt.run(async () => {
      const [a, b] = await pair(rt)
      const to = keys[0]!.publicKey
      const fillers = await saturate(a, to)
      const sent = [big(1), text('small, lent'), big(2, 4096), text('small, handed over'), big(4)]
      await a.sender.send(Recipients.one(to), sent[0]!, { transfer: true })
      await a.sender.send(Recipients.one(to), sent[1]!)
      await a.sender.send(Recipients.one(to), big(3), { transfer: true, key: 'k' })
      await a.sender.send(Recipients.one(to), sent[2]!, { transfer: true, key: 'k' }) // replaces big(3) in its turn
      await a.sender.send(Recipients.one(to), sent[3]!, { transfer: true })
      expect(a.sender.trySend(Recipients.one(to), sent[4]!, { transfer: true }).queued).toHaveLength(1)
      expect(await dropped(a, 'superseded')).toBe(1)
      a.gate.open()
      const got: Uint8Array[] = []
      while (got.length < fillers + sent.length) got.push((await b.receiver.recv())[1])
      expect(got.slice(fillers).map((m) => Buffer.from(m).toString('hex'))).toEqual(sent.map((m) => Buffer.from(m).toString('hex')))
      expect(await queuedBytes(a)).toBe(0)
      await Promise.all([a.stop(), b.stop()])
    })
  })

  it('a handed-over message is sent from its own memory; a lent one is copied when sent (seed=422)', async () => {
    const rt = new DeterministicRuntime({ seed: 422 })
    await rt.run(async () => {
      const [a, b] = await pair(rt)
      const to = keys[0]!.publicKey
      const fillers = await saturate(a, to)
      const lent = big(5)
      const handed = big(6)
      await a.sender.send(Recipients.one(to), lent)
      await a.sender.send(Recipients.one(to), handed, { transfer: true })
      // Both still queued (the peer reads nothing): the caller breaks the contract for the second.
      lent.fill(0)
      handed.fill(0)
      a.gate.open()
      const got: Uint8Array[] = []
      while (got.length < fillers + 2) got.push((await b.receiver.recv())[1])
      expect(Buffer.from(got[fillers]!).equals(Buffer.from(big(5)))).toBe(true)
      expect(got[fillers + 1]!.every((x) => x === 0)).toBe(true)
      await Promise.all([a.stop(), b.stop()])
    })
  })
})
