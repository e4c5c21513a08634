/**
 * Behaviours of the authenticated network on real loopback sockets, waiting on events
 * (`whenPeers`, received messages) rather than on a clock: rotation, restart on a new port,
 * inbound throttling and priority.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { Config, Network, Recipients } from '../../src/authenticated/index.js'
import { Ed25519 } from '../../src/crypto/index.js'
import { NodeContext } from '../../src/runtime/index.js'
import { STREAM_SUFFIX, withSuffix } from '../../src/codec/index.js'
import { StreamConfig, upgradeDialer } from '../../src/stream/index.js'
import { Quota } from '../../src/utils/quota.js'
import { freePort } from '../helpers/rust-peer.js'

const NS = new TextEncoder().encode('quorumnet-e2e-behaviour')
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const key = (s: number) => Ed25519.fromSeed(s).publicKey

let stops: (() => Promise<void>)[] = []
afterEach(async () => {
  await Promise.all(stops.map((s) => s()))
  stops = []
})

function node(seed: number, port: number, boot: { seed: number; port: number } | undefined, set: number[], patch: Partial<Config> = {}, quota = Quota.perSecond(1000)) {
  const ctx = new NodeContext()
  const bootstrappers = boot ? [{ publicKey: key(boot.seed), address: `127.0.0.1:${boot.port}` }] : []
  const { network, oracle } = Network.create(ctx, { ...Config.test(Ed25519.fromSeed(seed), NS, `127.0.0.1:${port}`, bootstrappers, 1 << 16), ...patch })
  oracle.register(0n, set.map(key))
  const [sender, receiver] = network.register(0, quota, 4096)
  const handle = network.start()
  let stopped = false
  const stop = () => (stopped ? Promise.resolve() : ((stopped = true), handle.stop()))
  stops.push(stop)
  return { ctx, network, oracle, sender, receiver, stop }
}

describe('authenticated behaviours over 127.0.0.1', () => {
  it('peer-set rotation drops the key left out of the tracked sets', async () => {
    const set = [501, 502, 503]
    const ports = await Promise.all(set.map(() => freePort()))
    const nodes = set.map((s, i) => node(s, ports[i]!, i === 0 ? undefined : { seed: set[0]!, port: ports[0]! }, set, { trackedPeerSets: 1 }))
    await Promise.all(nodes.map((n) => n.network.whenConnected(2)))
    for (const n of nodes.slice(0, 2)) n.oracle.register(1n, [key(501), key(502)])
    await Promise.all(nodes.slice(0, 2).map((n) => n.network.whenPeers((c) => c.length === 1)))
    await nodes[2]!.network.whenPeers((c) => c.length === 0)
    expect(nodes[0]!.network.connected().map(hex)).toEqual([hex(key(502))])
  }, 30_000)

  it('a node restarting on a new port is reached again by every peer', async () => {
    const set = [511, 512, 513]
    const ports = await Promise.all([...set, 0].map(() => freePort()))
    const boot = { seed: set[0]!, port: ports[0]! }
    const nodes = set.map((s, i) => node(s, ports[i]!, i === 0 ? undefined : boot, set))
    await Promise.all(nodes.map((n) => n.network.whenConnected(2)))
    const has3 = (c: Uint8Array[]) => c.some((k) => hex(k) === hex(key(513)))
    await nodes[2]!.stop()
    await Promise.all(nodes.slice(0, 2).map((n) => n.network.whenPeers((c) => !has3(c))))
    const again = node(513, ports[3]!, boot, set)
    await again.network.whenConnected(2)
    await Promise.all(nodes.slice(0, 2).map((n) => n.network.whenPeers(has3)))
    expect(await nodes[1]!.sender.send(Recipients.one(key(513)), Uint8Array.of(7))).toHaveLength(1)
    expect(Array.from((await again.receiver.recv())[1])).toEqual([7])
  }, 30_000)

  it('an inbound quota throttles without dropping, and a priority message overtakes queued ones', async () => {
    const set = [521, 522]
    const ports = await Promise.all(set.map(() => freePort()))
    const a = node(521, ports[0]!, undefined, set, {}, Quota.perSecond(10))
    const b = node(522, ports[1]!, { seed: 521, port: ports[0]! }, set, {}, Quota.perSecond(10))
    await b.network.whenConnected(1)
    for (let i = 0; i < 30; i++) void b.sender.send(Recipients.all(), Uint8Array.of(i))
    void b.sender.send(Recipients.all(), Uint8Array.of(255), true)
    const order: number[] = []
    for (let i = 0; i < 31; i++) order.push((await a.receiver.recv())[1][0]!)
    expect(order.indexOf(255)).toBeLessThan(30)
    expect(order.filter((x) => x !== 255)).toEqual(Array.from({ length: 30 }, (_, i) => i))
    const limited = (await a.ctx.registry.getSingleMetric('messages_rate_limited')!.get()).values.reduce((n, v) => n + v.value, 0)
    expect(limited).toBeGreaterThan(0)
  }, 30_000)

  it('a key outside every peer set is refused: the listener drops it without answering', async () => {
    const set = [531, 532]
    const ports = await Promise.all(set.map(() => freePort()))
    const a = node(531, ports[0]!, undefined, set)
    const b = node(532, ports[1]!, { seed: 531, port: ports[0]! }, set)
    await a.network.whenConnected(1)
    // The outsider speaks the network's handshake correctly; only its key is not in any set.
    const ctx = new NodeContext()
    const cfg = StreamConfig.recommended(Ed25519.fromSeed(999), withSuffix(NS, STREAM_SUFFIX), (1 << 16) + 64)
    const err = await upgradeDialer(ctx, cfg, await ctx.dial(`127.0.0.1:${ports[0]}`), key(531)).catch((e: unknown) => e)
    expect((err as { reason?: string }).reason).toBe('RecvFailed')
    expect(a.network.connected().map(hex)).toEqual([hex(key(532))])
    void b
  }, 30_000)
})
