/**
 * Operator features on real loopback sockets (127.0.0.1 only), waiting on events (`whenPeers`,
 * received messages, refusals counted) rather than on a clock: lookup mode with an address update,
 * IP pinning from a second source address of 127.0.0.0/8 (NodeContext's `localAddress`), and blocking
 * with expiry and unblock.
 */
import { Registry } from 'prom-client'
import { afterEach, describe, expect, it } from 'vitest'
import { Config, Network, Recipients, type LookupPeer } from '../../src/authenticated/index.js'
import { Ed25519 } from '../../src/crypto/index.js'
import { NodeContext } from '../../src/runtime/index.js'
import { STREAM_SUFFIX, withSuffix } from '../../src/codec/index.js'
import { StreamConfig, upgradeDialer } from '../../src/stream/index.js'
import { Quota } from '../../src/utils/quota.js'
import { freePort } from '../helpers/rust-peer.js'

const NS = new TextEncoder().encode('quorumnet-e2e-operator')
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const key = (s: number) => Ed25519.fromSeed(s).publicKey

let stops: (() => Promise<void>)[] = []
afterEach(async () => {
  await Promise.all(stops.map((s) => s()))
  stops = []
})

function node(seed: number, port: number, patch: Partial<Config>, boot: { seed: number; port: number }[] = []) {
  const registry = new Registry()
  const ctx = new NodeContext({ registry })
  const bootstrappers = boot.map((b) => ({ publicKey: key(b.seed), address: `127.0.0.1:${b.port}` }))
  const { network, oracle } = Network.create(ctx, { ...Config.test(Ed25519.fromSeed(seed), NS, `127.0.0.1:${port}`, bootstrappers, 1 << 16), ...patch })
  const [sender, receiver] = network.register(0, Quota.perSecond(1000), 4096)
  const handle = network.start()
  let stopped = false
  const stop = () => (stopped ? Promise.resolve() : ((stopped = true), handle.stop()))
  stops.push(stop)
  return { ctx, registry, network, oracle, sender, receiver, stop }
}

async function metric(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = registry.getSingleMetric(name)
  if (!m) return 0
  return (await m.get()).values.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((s, v) => s + v.value, 0)
}

/** Resolves once `name{labels}` of node `n` is above zero (looked at every 50 ms on its clock). */
async function until(n: ReturnType<typeof node>, name: string, labels: Record<string, string>): Promise<void> {
  while ((await metric(n.registry, name, labels)) === 0) await n.ctx.sleep(50)
}

const has = (s: number) => (c: Uint8Array[]) => c.some((k) => hex(k) === hex(key(s)))

describe('operator features over 127.0.0.1', () => {
  it('lookup mode: nodes connect from registered addresses, exchange, and follow an address update', async () => {
    const set = [601, 602, 603]
    const ports = await Promise.all([...set, 0].map(() => freePort()))
    const peers = (p3: number): LookupPeer[] => set.map((s, i) => [key(s), `127.0.0.1:${i === 2 ? p3 : ports[i]!}`])
    const nodes = set.map((s, i) => node(s, ports[i]!, { mode: 'lookup' }))
    nodes.forEach((n) => n.oracle.register(0n, peers(ports[2]!)))
    await Promise.all(nodes.map((n) => n.network.whenConnected(2)))
    expect(await nodes[0]!.sender.send(Recipients.all(), Uint8Array.of(1))).toHaveLength(2)
    for (const n of nodes.slice(1)) expect(Array.from((await n.receiver.recv())[1])).toEqual([1])
    // 603 restarts on another port; the application publishes the new address.
    await nodes[2]!.stop()
    await Promise.all(nodes.slice(0, 2).map((n) => n.network.whenPeers((c) => !has(603)(c))))
    const moved = node(603, ports[3]!, { mode: 'lookup' })
    moved.oracle.register(0n, peers(ports[3]!))
    for (const n of nodes.slice(0, 2)) expect(n.oracle.updateAddress(key(603), `127.0.0.1:${ports[3]!}`)).toBe(true)
    await moved.network.whenConnected(2)
    await Promise.all(nodes.slice(0, 2).map((n) => n.network.whenPeers(has(603))))
    expect(await nodes[1]!.sender.send(Recipients.one(key(603)), Uint8Array.of(2))).toHaveLength(1)
    expect(Array.from((await moved.receiver.recv())[1])).toEqual([2])
    for (const n of [...nodes.slice(0, 2), moved]) expect(await metric(n.registry, 'messages_sent', { message: '-2' })).toBe(0)
  }, 30_000)

  it.each([false, true])('lookup mode pins inbound connections to the registered IP (allowInboundFromAnyIp: %s)', async (allowAny) => {
    const [pa, pb] = [await freePort(), await freePort()]
    const a = node(621, pa, { mode: 'lookup', allowInboundFromAnyIp: allowAny })
    a.oracle.register(0n, [
      [key(621), `127.0.0.1:${pa}`],
      [key(622), `127.0.0.1:${pb}`],
    ])
    // Peer 622 dials from a source address; resolves with whether Alice answered the handshake.
    const dialFrom = async (source: string): Promise<boolean> => {
      const ctx = new NodeContext({ localAddress: source })
      const cfg = StreamConfig.recommended(Ed25519.fromSeed(622), withSuffix(NS, STREAM_SUFFIX), (1 << 16) + 64)
      try {
        const conn = await upgradeDialer(ctx, cfg, await ctx.dial(`127.0.0.1:${pa}`), key(621))
        await a.network.whenPeers(has(622))
        conn.close()
        await a.network.whenPeers((c) => !has(622)(c))
        return true
      } catch {
        return false
      }
    }
    expect(await dialFrom('127.0.0.2')).toBe(allowAny)
    expect(await metric(a.registry, 'handshakes_refused', { reason: 'wrong_ip' })).toBe(allowAny ? 0 : 1)
    expect(await dialFrom('127.0.0.1')).toBe(true)
  }, 30_000)

  it('a block disconnects the peer and refuses its reconnects until it expires; unblock lifts one', async () => {
    const set = [611, 612]
    const ports = await Promise.all(set.map(() => freePort()))
    const a = node(611, ports[0]!, {})
    const b = node(612, ports[1]!, {}, [{ seed: 611, port: ports[0]! }])
    for (const n of [a, b]) n.oracle.register(0n, set.map(key))
    await Promise.all([a, b].map((n) => n.network.whenConnected(1)))
    const block = a.oracle.block(key(612), { forMs: 1_500 })
    expect(a.network.connected()).toHaveLength(0)
    await until(a, 'handshakes_refused', { reason: 'blocked' })
    expect(await metric(a.registry, 'blocked_peers')).toBe(1)
    await a.network.whenPeers(has(612))
    expect(a.ctx.now()).toBeGreaterThanOrEqual(block.until)
    expect(await metric(a.registry, 'blocked_peers')).toBe(0)
    a.oracle.block(key(612), { forMs: Infinity })
    const refused = await metric(a.registry, 'handshakes_refused', { reason: 'blocked' })
    while ((await metric(a.registry, 'handshakes_refused', { reason: 'blocked' })) === refused) await a.ctx.sleep(50)
    expect(a.network.connected()).toHaveLength(0)
    expect(a.oracle.unblock(key(612))).toBe(true)
    await a.network.whenPeers(has(612))
    expect(await metric(a.registry, 'peers_disconnected', { reason: 'blocked' })).toBe(2)
  }, 30_000)

  it('discovery-only bootstrappers: after an epoch change the bootstrapper helps a new member find the others, its Data is dropped, then every member closes it', async () => {
    const ports = await Promise.all([621, 622, 623, 624].map(() => freePort()))
    const boot = [{ seed: 621, port: ports[0]! }]
    const patch: Partial<Config> = { trackedPeerSets: 1, bootstrappersOutsideSets: 'discovery-only' }
    const b = node(621, ports[0]!, patch)
    const members = [622, 623].map((s, i) => node(s, ports[i + 1]!, patch, boot))
    for (const n of [b, ...members]) n.oracle.register(0n, [621, 622, 623].map(key))
    await Promise.all([b, ...members].map((n) => n.network.whenConnected(2)))
    // Epoch 1 leaves the bootstrapper out and adds 624, which knows only the bootstrapper.
    for (const n of [b, ...members]) n.oracle.register(1n, [622, 623, 624].map(key))
    expect(await b.sender.send(Recipients.all(), Uint8Array.of(7))).toHaveLength(2)
    await Promise.all(members.map((n) => until(n, 'messages_dropped', { reason: 'bootstrapper_data' })))
    const joined = node(624, ports[3]!, patch, boot)
    joined.oracle.register(1n, [622, 623, 624].map(key))
    await joined.network.whenPeers((c) => has(622)(c) && has(623)(c))
    await Promise.all([...members, joined].map((n) => until(n, 'peers_disconnected', { reason: 'bootstrapper_done' })))
    await b.network.whenPeers((c) => c.length === 0)
    for (const n of [...members, joined]) expect(n.network.connected().some((k) => hex(k) === hex(key(621)))).toBe(false)
  }, 30_000)
})
