/**
 * Operator features on the deterministic runtime: lookup mode (addresses from the application, IP
 * pinning, address updates, a mixed network with discovery-mode nodes), blocking with expiry, and
 * bootstrappers whose key leaves every tracked set (`keep` as in the reference, and `discovery-only`).
 * Each scenario runs twice with one seed and must leave the same digest.
 */
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { Config, Network, Recipients, type LookupPeer } from '../../src/authenticated/index.js'
import { Ed25519 } from '../../src/crypto/index.js'
import { isP2pError } from '../../src/errors.js'
import { DeterministicRuntime, type Context } from '../../src/runtime/index.js'
import { Quota } from '../../src/utils/quota.js'

const NS = new TextEncoder().encode('quorumnet-sim')
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const key = (s: number) => Ed25519.fromSeed(s).publicKey
const host = (s: number) => `10.0.0.${s}`
const addr = (s: number) => `${host(s)}:4000`

type Node = ReturnType<typeof start>

function start(rt: DeterministicRuntime, seed: number, at: string, patch: Partial<Config> = {}, boot: number[] = []) {
  const registry = new Registry()
  const ctx = rt.context(at, registry)
  const bootstrappers = boot.map((b) => ({ publicKey: key(b), address: addr(b) }))
  const { network, oracle } = Network.create(ctx, { ...Config.test(Ed25519.fromSeed(seed), NS, `${at}:4000`, bootstrappers, 1 << 16), ...patch })
  const [sender, receiver] = network.register(0, Quota.perSecond(1000), 1024)
  return { seed, ctx, registry, network, oracle, sender, receiver, handle: network.start() }
}

/** A lookup-mode node whose set 0 maps each seed to `10.0.0.<seed>:4000` (or `at[seed]`). */
function lookupNode(rt: DeterministicRuntime, seed: number, set: number[], patch: Partial<Config> = {}, at: Record<number, string> = {}): Node {
  const n = start(rt, seed, at[seed]?.split(':')[0] ?? host(seed), { mode: 'lookup', ...patch })
  n.oracle.register(0n, set.map((s): LookupPeer => [key(s), at[s] ?? addr(s)]))
  return n
}

async function metric(n: Node, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = n.registry.getSingleMetric(name)
  if (!m) return 0
  return (await m.get()).values.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((s, v) => s + v.value, 0)
}

const connectedTo = (n: Node, s: number) => n.network.connected().some((k) => hex(k) === hex(key(s)))

async function replay(seed: number, body: (rt: DeterministicRuntime, ctx: Context) => Promise<void>): Promise<void> {
  const digests: string[] = []
  for (let i = 0; i < 2; i++) {
    const rt = new DeterministicRuntime({ seed, defaultLink: { latencyMs: 5, jitterMs: 2 } })
    await rt.run((ctx) => body(rt, ctx), { maxTimeMs: 600_000 })
    digests.push(rt.auditor.digest())
  }
  expect(digests[1]).toBe(digests[0])
}

describe('lookup mode (deterministic)', () => {
  it('4 nodes connect from registered addresses alone: no bootstrappers, no Peers message anywhere (seed=41)', async () => {
    await replay(41, async (rt) => {
      const set = [1, 2, 3, 4]
      const nodes = set.map((s) => lookupNode(rt, s, set))
      await Promise.all(nodes.map((n) => n.network.whenConnected(3)))
      for (const n of nodes) {
        const to = await n.sender.send(Recipients.all(), Uint8Array.of(n.seed))
        expect(to).toHaveLength(3)
      }
      for (const n of nodes) {
        const got = new Set<number>()
        for (let i = 0; i < 3; i++) got.add((await n.receiver.recv())[1][0]!)
        expect([...got].sort()).toEqual(set.filter((s) => s !== n.seed))
      }
      for (const n of nodes) {
        // Bit vectors (the keep-alive) go out with every bit set, so nobody answers with records.
        expect(await metric(n, 'messages_sent', { message: '-1' })).toBeGreaterThan(0)
        expect(await metric(n, 'messages_sent', { message: '-2' })).toBe(0)
        expect(await metric(n, 'messages_received', { message: '-2' })).toBe(0)
      }
      await Promise.all(nodes.map((n) => n.handle.stop()))
    })
  })

  it('an inbound connection from another IP than the registered one is refused (wrong_ip) unless allowInboundFromAnyIp (seed=42)', async () => {
    await replay(42, async (rt, ctx) => {
      // A registers C at 10.0.0.3, but C listens and dials from 10.0.0.33 (as behind NAT).
      const a = lookupNode(rt, 1, [1, 3])
      const c = lookupNode(rt, 3, [1, 3], {}, { 3: '10.0.0.33:4000' })
      await ctx.sleep(10_000)
      expect(a.network.connected()).toHaveLength(0)
      expect(await metric(a, 'handshakes_refused', { reason: 'wrong_ip' })).toBeGreaterThan(0)
      await Promise.all([a.handle.stop(), c.handle.stop()])
      // The same with the opt-out: C's dial is accepted.
      const a2 = lookupNode(rt, 1, [1, 3], { allowInboundFromAnyIp: true }, { 1: '10.0.0.11:4000' })
      const c2 = lookupNode(rt, 3, [1, 3], {}, { 1: '10.0.0.11:4000', 3: '10.0.0.34:4000' })
      await Promise.all([a2, c2].map((n) => n.network.whenConnected(1)))
      expect(await metric(a2, 'handshakes_refused', { reason: 'wrong_ip' })).toBe(0)
      expect(await c2.sender.send(Recipients.one(key(1)), Uint8Array.of(9))).toHaveLength(1)
      expect(Array.from((await a2.receiver.recv())[1])).toEqual([9])
      await Promise.all([a2.handle.stop(), c2.handle.stop()])
    })
  })

  it('updateAddress drops the old connection at once and the key is reached at its new address (seed=43)', async () => {
    await replay(43, async (rt, ctx) => {
      const set = [1, 2, 3]
      const [a, b, c] = set.map((s) => lookupNode(rt, s, set))
      await Promise.all([a!, b!, c!].map((n) => n.network.whenConnected(2)))
      // C moves to 10.0.0.33: A learns it first, while C is still up at the old address.
      expect(a!.oracle.updateAddress(key(3), '10.0.0.33:4000')).toBe(true)
      expect(a!.oracle.addressOf(key(3))).toBe('10.0.0.33:4000')
      await ctx.sleep(50)
      expect(connectedTo(a!, 3)).toBe(false)
      expect(await metric(a!, 'peers_disconnected', { reason: 'address_changed' })).toBe(1)
      // C, still at the old IP, keeps dialing A and is refused there.
      await ctx.sleep(5_000)
      expect(connectedTo(a!, 3)).toBe(false)
      expect(await metric(a!, 'handshakes_refused', { reason: 'wrong_ip' })).toBeGreaterThan(0)
      await c!.handle.stop()
      const c2 = lookupNode(rt, 3, set, {}, { 3: '10.0.0.33:4000' })
      b!.oracle.updateAddress(key(3), '10.0.0.33:4000')
      await c2.network.whenConnected(2)
      expect(await a!.sender.send(Recipients.one(key(3)), Uint8Array.of(1))).toHaveLength(1)
      expect(Array.from((await c2.receiver.recv())[1])).toEqual([1])
      // A newer peer set with another address moves a key the same way.
      const before = await metric(b!, 'peers_disconnected', { reason: 'address_changed' })
      expect(b!.oracle.register(1n, [[key(1), addr(1)], [key(2), addr(2)], [key(3), '10.0.0.35:4000']])).toBe(true)
      await ctx.sleep(50)
      expect(connectedTo(b!, 3)).toBe(false)
      expect(await metric(b!, 'peers_disconnected', { reason: 'address_changed' })).toBe(before + 1)
      expect(a!.oracle.updateAddress(key(9), addr(9))).toBe(false)
      await Promise.all([a!, b!, c2].map((n) => n.handle.stop()))
    })
  })

  it('a lookup node in a discovery network: discovery nodes learn its address from its own record, it needs no gossip (seed=44)', async () => {
    await replay(44, async (rt, ctx) => {
      const set = [1, 2, 3]
      // 1 and 2 discover (2 knows only bootstrapper 1); 3 is in lookup mode and knows every address.
      const d1 = start(rt, 1, host(1))
      d1.oracle.register(0n, set.map(key))
      const d2 = start(rt, 2, host(2), {}, [1])
      d2.oracle.register(0n, set.map(key))
      const l3 = lookupNode(rt, 3, set)
      await Promise.all([d1, d2, l3].map((n) => n.network.whenConnected(2)))
      await ctx.sleep(3_000)
      expect(await metric(l3, 'messages_received', { message: '-2' })).toBe(0)
      expect(await metric(l3, 'messages_sent', { message: '-2' })).toBeGreaterThan(0)
      expect(await d2.sender.send(Recipients.one(key(3)), Uint8Array.of(5))).toHaveLength(1)
      expect(Array.from((await l3.receiver.recv())[1])).toEqual([5])
      await Promise.all([d1, d2, l3].map((n) => n.handle.stop()))
    })
  })

  it('refuses entries of the wrong mode and bad addresses; lookup mode refuses bootstrappers', () => {
    const rt = new DeterministicRuntime({ seed: 40 })
    const ctx = rt.context(host(1))
    const { oracle } = Network.create(ctx, { ...Config.test(Ed25519.fromSeed(1), NS, addr(1), [], 1 << 16), mode: 'lookup' })
    expect(() => oracle.register(0n, [key(1), key(2)])).toThrow(/pair in lookup mode/)
    expect(() => oracle.register(0n, [[key(2), 'example.org:1']])).toThrow(/IP literal/)
    expect(() => oracle.register(0n, [[key(2), addr(2)], [key(2), addr(3)]])).toThrow(/two addresses/)
    const d = Network.create(rt.context(host(2)), Config.test(Ed25519.fromSeed(2), NS, addr(2), [], 1 << 16))
    expect(() => d.oracle.register(0n, [[key(2), addr(2)]])).toThrow(/need Config.mode 'lookup'/)
    expect(() => d.oracle.updateAddress(key(1), addr(1))).toThrow(/needs Config.mode 'lookup'/)
    const bad = () => Network.create(rt.context(host(3)), { ...Config.test(Ed25519.fromSeed(3), NS, addr(3), [{ publicKey: key(1), address: addr(1) }], 1 << 16), mode: 'lookup' })
    expect(bad).toThrow(/bootstrappers/)
    const e = (() => { try { bad() } catch (x) { return x } })()
    expect(isP2pError(e, 'ERR_INVALID_CONFIG')).toBe(true)
  })
})

describe('blocking with expiry (deterministic)', () => {
  it('a blocked peer is disconnected, refused before its signature and not dialed until the block expires; unblock lifts one (seed=45)', async () => {
    await replay(45, async (rt, ctx) => {
      const set = [1, 2]
      const a = start(rt, 1, host(1))
      a.oracle.register(0n, set.map(key))
      const b = start(rt, 2, host(2), {}, [1])
      b.oracle.register(0n, set.map(key))
      await Promise.all([a, b].map((n) => n.network.whenConnected(1)))
      const dialsBefore = await metric(a, 'dial_attempts')
      const block = a.oracle.block(key(2), { forMs: 30_000 })
      expect(block.until).toBe(ctx.now() + 30_000)
      expect(connectedTo(a, 2)).toBe(false)
      expect(await metric(a, 'peers_disconnected', { reason: 'blocked' })).toBe(1)
      expect(await metric(a, 'blocked_peers')).toBe(1)
      await ctx.sleep(20_000)
      // B kept dialing (once a second with the test preset); every attempt was refused as blocked.
      expect(connectedTo(a, 2)).toBe(false)
      expect(await metric(a, 'handshakes_refused', { reason: 'blocked' })).toBeGreaterThan(5)
      expect(await metric(a, 'handshakes_refused', { reason: 'bad_signature' })).toBe(0)
      expect(await metric(a, 'dial_attempts')).toBe(dialsBefore)
      const listed = a.oracle.blocked()
      expect(listed.map((x) => hex(x.publicKey))).toEqual([hex(key(2))])
      expect(listed[0]!.remainingMs).toBe(10_000)
      // The block expires: B is back, the gauge and the list are empty.
      await a.network.whenPeers((c) => c.some((k) => hex(k) === hex(key(2))))
      expect(ctx.now()).toBeGreaterThanOrEqual(block.until)
      expect(a.oracle.blocked()).toEqual([])
      expect(await metric(a, 'blocked_peers')).toBe(0)
      // A block until lifted, lifted by unblock.
      a.oracle.block(key(2), { forMs: Infinity })
      await ctx.sleep(5_000)
      expect(connectedTo(a, 2)).toBe(false)
      expect(a.oracle.blocked()[0]!.until).toBe(Infinity)
      expect(a.oracle.unblock(key(2))).toBe(true)
      expect(a.oracle.unblock(key(2))).toBe(false)
      await a.network.whenPeers((c) => c.some((k) => hex(k) === hex(key(2))))
      expect(() => a.oracle.block(key(2), { forMs: -1 })).toThrow(/forMs/)
      expect(() => a.oracle.block(key(1))).toThrow(/own key/)
      await Promise.all([a, b].map((n) => n.handle.stop()))
    })
  })

  it('a block without forMs lasts blockDurationMs; a later block never shortens an earlier one (seed=46)', async () => {
    await replay(46, async (rt, ctx) => {
      const a = start(rt, 1, host(1), { blockDurationMs: 7_000 })
      a.oracle.register(0n, [key(1), key(2)])
      expect(a.oracle.block(key(2)).until).toBe(ctx.now() + 7_000)
      expect(a.oracle.block(key(2), { forMs: 1_000 }).until).toBe(ctx.now() + 7_000)
      expect(a.oracle.block(key(3), { forMs: 60_000 }).remainingMs).toBe(60_000)
      expect(a.oracle.blocked()).toHaveLength(2)
      await ctx.sleep(7_000)
      expect(a.oracle.blocked().map((x) => hex(x.publicKey))).toEqual([hex(key(3))])
      await a.handle.stop()
    })
  })
})

describe('bootstrappers outside the tracked sets (deterministic)', () => {
  /**
   * Epoch 0: {1, 2, 3}, 1 is everyone's bootstrapper. Epoch 1: {2, 3, 4}; 1 tracks it too (an
   * infrastructure node outside the set) and 4 joins with 1 as its bootstrapper.
   */
  async function epochChange(rt: DeterministicRuntime, ctx: Context, policy: Config['bootstrappersOutsideSets']) {
    const patch = { trackedPeerSets: 1, bootstrappersOutsideSets: policy }
    const b = start(rt, 1, host(1), patch)
    b.oracle.register(0n, [1, 2, 3].map(key))
    const members = [2, 3].map((s) => start(rt, s, host(s), patch, [1]))
    for (const m of members) m.oracle.register(0n, [1, 2, 3].map(key))
    await Promise.all([b, ...members].map((n) => n.network.whenConnected(2)))
    for (const n of [b, ...members]) n.oracle.register(1n, [2, 3, 4].map(key))
    const d = start(rt, 4, host(4), patch, [1])
    d.oracle.register(1n, [2, 3, 4].map(key))
    await Promise.all([...members, d].map((n) => n.network.whenPeers((c) => [2, 3, 4].filter((s) => s !== n.seed).every((s) => c.some((k) => hex(k) === hex(key(s)))))))
    await ctx.sleep(5_000)
    return { b, members, d, all: [b, ...members, d] }
  }

  it('keep (the reference): the bootstrapper stays connected, new members dial it, its Data is delivered (seed=47)', async () => {
    await replay(47, async (rt, ctx) => {
      const { b, members, d, all } = await epochChange(rt, ctx, 'keep')
      for (const n of [...members, d]) expect(connectedTo(n, 1)).toBe(true)
      expect(b.network.connected()).toHaveLength(3)
      const to = await b.sender.send(Recipients.all(), Uint8Array.of(1))
      expect(to).toHaveLength(3)
      for (const n of [...members, d]) expect(Array.from((await n.receiver.recv())[1])).toEqual([1])
      await Promise.all(all.map((n) => n.handle.stop()))
    })
  })

  it('discovery-only: its Data is dropped and counted, it is left out of connected() and sends, and its connection closes once every address is known (seed=48)', async () => {
    await replay(48, async (rt, ctx) => {
      const { b, members, d, all } = await epochChange(rt, ctx, 'discovery-only')
      // 4 found 2 and 3 through the bootstrapper; once every address was known all closed it.
      for (const n of [...members, d]) {
        expect(connectedTo(n, 1)).toBe(false)
        expect(await metric(n, 'peers_disconnected', { reason: 'bootstrapper_done' })).toBeGreaterThan(0)
      }
      expect(b.network.connected()).toHaveLength(0)
      // Its own dials to the members are refused: its key is in none of their sets.
      expect(await metric(d, 'handshakes_refused', { reason: 'not_in_peer_set' })).toBeGreaterThan(0)
      await Promise.all(all.map((n) => n.handle.stop()))
    })
  })

  it('discovery-only: while discovery still needs it, its Data is dropped and counted, and no send goes to it (seed=49)', async () => {
    await replay(49, async (rt, ctx) => {
      const patch = { trackedPeerSets: 1, bootstrappersOutsideSets: 'discovery-only' as const }
      const b = start(rt, 1, host(1), patch)
      b.oracle.register(0n, [1, 2, 3].map(key))
      const m = start(rt, 2, host(2), patch, [1])
      m.oracle.register(0n, [1, 2, 3].map(key))
      await Promise.all([b, m].map((n) => n.network.whenConnected(1)))
      // Epoch 1 holds 2 and 5; 5 never comes online, so discovery stays needed and 1 stays connected.
      for (const n of [b, m]) n.oracle.register(1n, [2, 5].map(key))
      await ctx.sleep(5_000)
      expect(m.network.connected()).toHaveLength(0)
      expect(b.network.connected().map(hex)).toEqual([hex(key(2))])
      expect(await b.sender.send(Recipients.all(), Uint8Array.of(1))).toHaveLength(1)
      await ctx.sleep(1_000)
      expect(await metric(m, 'messages_dropped', { reason: 'bootstrapper_data' })).toBe(1)
      expect(await m.sender.send(Recipients.all(), Uint8Array.of(2))).toHaveLength(0)
      expect(await m.sender.send(Recipients.one(key(1)), Uint8Array.of(2))).toHaveLength(0)
      // 1 joins a set again: it is a peer like any other.
      for (const n of [b, m]) n.oracle.register(2n, [1, 2].map(key))
      await m.network.whenConnected(1)
      expect(await b.sender.send(Recipients.all(), Uint8Array.of(3))).toHaveLength(1)
      expect(Array.from((await m.receiver.recv())[1])).toEqual([3])
      await Promise.all([b, m].map((n) => n.handle.stop()))
    })
  })
})
