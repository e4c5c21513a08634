/**
 * The authenticated network on the deterministic runtime: discovery from one bootstrapper, messages on
 * a plain and a compressed channel between every ordered pair, typed errors, replay from a seed.
 */
import { describe, expect, it } from 'vitest'
import { Config, Network, Recipients, type Receiver, type Sender } from '../../src/authenticated/index.js'
import { Ed25519 } from '../../src/crypto/index.js'
import { isP2pError } from '../../src/errors.js'
import { DeterministicRuntime, type Context } from '../../src/runtime/index.js'
import { Quota } from '../../src/utils/quota.js'

const NS = new TextEncoder().encode('quorumnet-sim')
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

interface Node {
  key: Uint8Array
  network: Network
  plain: [Sender, Receiver]
  packed: [Sender, Receiver]
  stop: () => Promise<void>
}

async function cluster(rt: DeterministicRuntime, n: number, seedBase = 100): Promise<Node[]> {
  const signers = Array.from({ length: n }, (_, i) => Ed25519.fromSeed(seedBase + i))
  const keys = signers.map((s) => s.publicKey)
  const addr = (i: number) => `10.0.0.${i + 1}:4000`
  return signers.map((signer, i) => {
    const ctx = rt.context(`10.0.0.${i + 1}`)
    const boot = i === 0 ? [] : [{ publicKey: keys[0]!, address: addr(0) }]
    const { network, oracle } = Network.create(ctx, Config.test(signer, NS, addr(i), boot, 1 << 16))
    oracle.register(0n, keys)
    const plain = network.register(0, Quota.perSecond(1000), 1024)
    const packed = network.register(1, Quota.perSecond(1000), 1024, 3)
    const handle = network.start()
    return { key: signer.publicKey, network, plain, packed, stop: () => handle.stop() }
  })
}

async function untilConnected(ctx: Context, nodes: Node[], limitMs: number): Promise<number> {
  const start = ctx.now()
  while (nodes.some((x) => x.network.connected().length < nodes.length - 1)) {
    if (ctx.now() - start > limitMs) throw new Error(`not connected after ${limitMs} ms: ${nodes.map((x) => x.network.connected().length)}`)
    await ctx.sleep(100)
  }
  return ctx.now() - start
}

async function exchange(nodes: Node[], which: 'plain' | 'packed'): Promise<void> {
  for (const node of nodes) {
    const sentTo = await node[which][0].send(Recipients.all(), new TextEncoder().encode(`from ${hex(node.key)} ${'x'.repeat(500)}`))
    expect(sentTo.map(hex).sort()).toEqual(nodes.filter((x) => x !== node).map((x) => hex(x.key)).sort())
  }
  for (const node of nodes) {
    const from = new Set<string>()
    for (let i = 0; i < nodes.length - 1; i++) {
      const [sender, msg] = await node[which][1].recv()
      expect(new TextDecoder().decode(msg)).toBe(`from ${hex(sender)} ${'x'.repeat(500)}`)
      from.add(hex(sender))
    }
    expect(from.size).toBe(nodes.length - 1)
  }
}

describe('authenticated network (deterministic)', () => {
  it('6 nodes discover each other from one bootstrapper and exchange on a plain and a compressed channel (seed=1)', async () => {
    const rt = new DeterministicRuntime({ seed: 1, defaultLink: { latencyMs: 10, jitterMs: 5 } })
    const took = await rt.run(async (ctx) => {
      const nodes = await cluster(rt, 6)
      const t = await untilConnected(ctx, nodes, 30_000)
      await exchange(nodes, 'plain')
      await exchange(nodes, 'packed')
      const tooBig = await nodes[0]!.plain[0].send(Recipients.all(), new Uint8Array((1 << 16) + 1)).catch((e: unknown) => e)
      expect(isP2pError(tooBig, 'ERR_MESSAGE_TOO_LARGE')).toBe(true)
      await Promise.all(nodes.map((x) => x.stop()))
      return t
    }, { maxTimeMs: 120_000 })
    expect(took).toBeGreaterThan(0)
    expect(took).toBeLessThan(30_000)
  })

  it('replays exactly: the same seed gives the same digest (seed=3)', async () => {
    const digest = async (seed: number) => {
      const rt = new DeterministicRuntime({ seed, defaultLink: { latencyMs: 10, jitterMs: 5 } })
      await rt.run(async (ctx) => {
        const nodes = await cluster(rt, 4)
        await untilConnected(ctx, nodes, 30_000)
        await exchange(nodes, 'packed')
        await Promise.all(nodes.map((x) => x.stop()))
      }, { maxTimeMs: 120_000 })
      return rt.auditor.digest()
    }
    expect(await digest(3)).toBe(await digest(3))
    expect(await digest(3)).not.toBe(await digest(4))
  })

  it('a key outside every peer set cannot connect', async () => {
    const rt = new DeterministicRuntime({ seed: 5 })
    await rt.run(async (ctx) => {
      const nodes = await cluster(rt, 3)
      await untilConnected(ctx, nodes, 30_000)
      const outsider = Ed25519.fromSeed(999)
      const octx = rt.context('10.0.0.99')
      const { network, oracle } = Network.create(octx, Config.test(outsider, NS, '10.0.0.99:4000', [{ publicKey: nodes[0]!.key, address: '10.0.0.1:4000' }], 1 << 16))
      oracle.register(0n, [outsider.publicKey, ...nodes.map((x) => x.key)])
      network.register(0, Quota.perSecond(10), 16)
      const h = network.start()
      await ctx.sleep(10_000)
      expect(network.connected()).toHaveLength(0)
      expect(nodes[0]!.network.connected()).toHaveLength(2)
      await h.stop()
      await Promise.all(nodes.map((x) => x.stop()))
    }, { maxTimeMs: 120_000 })
  })
})
