/**
 * Lookup-mode TypeScript nodes in a network of commonware-p2p 0.0.25 Rust nodes (interop/ p2p_node),
 * which discover: the lookup nodes dial from registered addresses, the Rust nodes learn the lookup
 * nodes' addresses from their own signed records, every ordered pair exchanges a message, the Rust
 * nodes accept the lookup nodes' all-set bit vectors as the keep-alive, and no Rust node ever sends a
 * lookup node a Peers message. Runs in the active backend.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { Config, Network, Recipients, type LookupPeer } from '../../src/authenticated/index.js'
import { Ed25519 } from '../../src/crypto/index.js'
import { backend } from '../../src/native/load.js'
import { NodeContext } from '../../src/runtime/index.js'
import { Quota } from '../../src/utils/quota.js'
import { P2P_NODE, freePort, hasRustPeer, skipReason, startRustPeer, type RustPeer } from '../helpers/rust-peer.js'

const NS = 'interop'
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const key = (seed: number) => Ed25519.fromSeed(seed).publicKey

let rust: RustPeer[] = []
let stops: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const r of rust) r.stop()
  await Promise.all(stops.map((s) => s()))
  rust = []
  stops = []
})

if (!hasRustPeer) console.warn(`lookup interop tests skipped: ${skipReason}`)

describe.skipIf(!hasRustPeer)(`lookup mode among commonware-p2p 0.0.25 nodes [${backend}]`, () => {
  it('2 Rust discovery nodes + 2 TypeScript lookup nodes: every ordered pair, keep-alive accepted, no Peers to the lookup nodes', async () => {
    const rustSeeds = [350, 351]
    const tsSeeds = [360, 361]
    const all = [...rustSeeds, ...tsSeeds]
    const ports = new Map<number, number>()
    for (const s of all) ports.set(s, await freePort())
    const addr = (s: number) => `127.0.0.1:${ports.get(s)}`
    rust = rustSeeds.map((s, i) =>
      startRustPeer(P2P_NODE, [
        '--seed', String(s), '--namespace', NS, '--listen', addr(s), '--peer-set', `0:${all.join(',')}`, '--channel', '0:1000:1024:none',
        ...(i === 0 ? [] : ['--bootstrapper', `${rustSeeds[0]}@${addr(rustSeeds[0]!)}`]),
      ]),
    )
    const ts = tsSeeds.map((s) => {
      const ctx = new NodeContext()
      const cfg = { ...Config.test(Ed25519.fromSeed(s), new TextEncoder().encode(NS), addr(s), [], 1 << 20), mode: 'lookup' as const }
      const { network, oracle } = Network.create(ctx, cfg)
      oracle.register(0n, all.map((x): LookupPeer => [key(x), addr(x)]))
      const ch = network.register(0, Quota.perSecond(1000), 1024)
      const handle = network.start()
      stops.push(() => handle.stop())
      return { seed: s, ctx, network, ch }
    })
    await Promise.all(rust.map((r) => r.waitFor('ready')))
    await Promise.all(ts.map((t) => t.network.whenConnected(3)))
    rust.forEach((r, i) => r.command({ cmd: 'send', req: i, channel: 0, to: 'all', data_hex: hex(key(rustSeeds[i]!)), until: 3 }))
    for (const t of ts) expect(await t.ch[0].send(Recipients.all(), key(t.seed))).toHaveLength(3)
    for (const t of ts) {
      const from = new Set<string>()
      while (from.size < 3) {
        const [sender, msg] = await t.ch[1].recv()
        expect(hex(msg)).toBe(hex(sender))
        from.add(hex(sender))
      }
    }
    for (const r of rust) await r.until((evs) => new Set(evs.filter((e) => e.event === 'recv').map((e) => e.from)).size >= 3)
    // Three more gossip periods: each Rust node counts bit vectors from each lookup node, none drops.
    let dropped = false
    for (const t of ts) void t.network.whenPeers((c) => c.length < 3).then(() => (dropped = true))
    for (const [i, r] of rust.entries()) {
      for (const t of ts) {
        const req = `m-${i}-${t.seed}`
        r.command({ cmd: 'wait_metric', req, prefix: `messages_received_total{peer="${hex(key(t.seed))}",message="-1"}`, min: 3 })
        await r.until((evs) => evs.some((e) => e.event === 'metric' && e.req === req))
      }
    }
    expect(dropped).toBe(false)
    for (const t of ts) {
      const peersIn = (await t.ctx.registry.getSingleMetric('messages_received')!.get()).values.filter((v) => v.labels.message === '-2')
      expect(peersIn.reduce((n, v) => n + v.value, 0)).toBe(0)
    }
    for (const r of rust) {
      const events = await new Promise<Record<string, unknown>[]>((resolve) => r.until((evs) => (resolve(evs), true)))
      expect(events.some((x) => x.event === 'recv_error')).toBe(false)
    }
  }, 60_000)
})
