// A test you can copy into your own project: protocol code on the simulated network, in virtual time.
// Replace the imports' 'quorumnet/...' paths as they are; run with `npx vitest run examples/`.
import { Ed25519 } from 'quorumnet'
import { DeterministicRuntime } from 'quorumnet/runtime'
import { Recipients, SimulatedNetwork } from 'quorumnet/simulated'
import { describe, expect, it } from 'vitest'

/** Three validators; one is cut off by a partition, then the partition heals. */
async function scenario(seed: number) {
  return new DeterministicRuntime({ seed }).run(async (ctx) => {
    const { network, oracle } = SimulatedNetwork.create(ctx)
    const [a, b, c] = [0, 1, 2].map((i) => Ed25519.fromSeed(i).publicKey) as [Uint8Array, Uint8Array, Uint8Array]
    const [[sendA], [, recvB], [, recvC]] = [a, b, c].map((k) => oracle.register(k, 0, 1024))
    for (const x of [a, b, c]) for (const y of [a, b, c]) if (x !== y) oracle.addLink(x, y, { latencyMs: 40, jitterMs: 10, successRate: 1 })

    oracle.partition([[a, b], [c]])
    const before = ctx.now()
    await sendA!.send(Recipients.all(), new TextEncoder().encode('block 1'))
    const [from, msg] = await recvB!.recv()
    const latency = ctx.now() - before

    oracle.heal()
    await sendA!.send(Recipients.all(), new TextEncoder().encode('block 2'))
    const [, atC] = await recvC!.recv() // c never saw block 1: it was dropped by the partition
    // Every send, delivery and drop so far, folded in as they happened (the trace keeps only the latest).
    const digest = network.digest()
    const dropped = network.trace().filter((e) => e.event === 'drop').map((e) => e.reason)
    return { from, text: new TextDecoder().decode(msg), latency, atC: new TextDecoder().decode(atC), digest, dropped, a }
  })
}

describe('my protocol on the simulated network', () => {
  it('delivers within the link latency, drops across a partition, and replays from its seed (seed=5)', async () => {
    const run = await scenario(5)
    expect(Buffer.from(run.from).toString('hex')).toBe(Buffer.from(run.a).toString('hex'))
    expect(run.text).toBe('block 1')
    expect(run.latency).toBeGreaterThan(0) // virtual milliseconds: 40 +- 10, no real waiting
    expect(run.latency).toBeLessThan(100)
    expect(run.atC).toBe('block 2')
    expect(run.dropped).toEqual([]) // a partition does not list c as a recipient: nothing was sent to drop
    expect((await scenario(5)).digest).toBe(run.digest)
  })
})
