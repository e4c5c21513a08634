/**
 * A larger authenticated network on the deterministic runtime: N nodes with random per-pair latency
 * and 1% loss (retransmission delays),
 * a partition that heals, discovery from one bootstrapper, a broadcast from every node; run twice
 * with one seed for the same digest.
 */
import { describe, expect, it } from 'vitest'
import { Config, Network, Recipients, type Receiver, type Sender } from '../../src/authenticated/index.js'
import { Ed25519 } from '../../src/crypto/index.js'
import { DeterministicRuntime } from '../../src/runtime/index.js'
import { SeededRng } from '../../src/runtime/rng.js'
import { Quota } from '../../src/utils/quota.js'

const NS = new TextEncoder().encode('quorumnet-large')
const N = Number(process.env.SIM_NODES ?? 100)

async function scenario(seed: number): Promise<{ digest: string; convergedMs: number }> {
  const rt = new DeterministicRuntime({ seed })
  const rng = new SeededRng(BigInt(seed) + 1000n)
  const host = (i: number) => `10.${(i >> 8) & 255}.${i & 255}.1`
  for (let i = 0; i < N; i++) for (let j = 0; j < N; j++) if (i !== j) rt.network.link(host(i), host(j), { latencyMs: 5 + rng.int(95), jitterMs: rng.int(10), lossRate: 0.01 })
  const convergedMs = await rt.run(async (ctx) => {
    const signers = Array.from({ length: N }, (_, i) => Ed25519.fromSeed(1000 + i))
    const keys = signers.map((s) => s.publicKey)
    const nodes = signers.map((signer, i) => {
      const boot = i === 0 ? [] : [{ publicKey: keys[0]!, address: `${host(0)}:4000` }]
      const { network, oracle } = Network.create(rt.context(host(i)), Config.test(signer, NS, `${host(i)}:4000`, boot, 1 << 16))
      oracle.register(0n, keys)
      const ch: [Sender, Receiver] = network.register(0, Quota.perSecond(10_000), 4 * N)
      return { network, ch, handle: network.start() }
    })
    // A partition of the last quarter, healed after 3 s of virtual time.
    const cut = Array.from({ length: Math.floor(N / 4) }, (_, k) => host(N - 1 - k))
    cut.forEach((h) => rt.network.stall(h))
    await ctx.sleep(3_000)
    cut.forEach((h) => rt.network.unstall(h))
    await Promise.all(nodes.map((x) => x.network.whenConnected(N - 1)))
    const converged = ctx.now()
    for (const [i, x] of nodes.entries()) expect(await x.ch[0].send(Recipients.all(), Uint8Array.of(i & 255, i >> 8))).toHaveLength(N - 1)
    for (const x of nodes) {
      const seen = new Set<number>()
      while (seen.size < N - 1) {
        const [, msg] = await x.ch[1].recv()
        seen.add(msg[0]! | (msg[1]! << 8))
      }
    }
    await Promise.all(nodes.map((x) => x.handle.stop()))
    return converged
  }, { maxTimeMs: 600_000 })
  return { digest: rt.auditor.digest(), convergedMs: convergedMs - 1_733_600_000_000 }
}

describe(`authenticated network, ${N} nodes (deterministic)`, () => {
  it(`discovers, survives a healed partition and broadcasts, identically twice (seed=21)`, async () => {
    const a = await scenario(21)
    const b = await scenario(21)
    expect(a.convergedMs).toBeGreaterThan(3_000)
    expect(b).toEqual(a)
  }, 600_000)
})
