// A tiny vote-collection protocol on the simulated network: 7 validators, 20% loss, 100 ms jitter.
// Each validator re-broadcasts its vote every 200 ms until it has seen a quorum (5 of 7).
// Run twice from one seed: same outcome, same trace digest. Run: npm run build && node examples/simulated.mjs
import { createHash } from 'node:crypto'
import { Ed25519 } from 'quorumnet'
import { DeterministicRuntime } from 'quorumnet/runtime'
import { Recipients, SimulatedNetwork } from 'quorumnet/simulated'

const N = 7
const QUORUM = 5

async function simulate(seed) {
  const rt = new DeterministicRuntime({ seed })
  return rt.run(async (ctx) => {
    const { network, oracle } = SimulatedNetwork.create(ctx)
    const keys = Array.from({ length: N }, (_, i) => Ed25519.fromSeed(i).publicKey)
    const channels = keys.map((k) => oracle.register(k, 0, 1024))
    for (const a of keys) for (const b of keys) if (a !== b) oracle.addLink(a, b, { latencyMs: 50, jitterMs: 100, successRate: 0.8 })
    const start = ctx.now()
    const finished = await Promise.all(
      channels.map(async ([sender, receiver], i) => {
        const votes = new Set([i])
        let done = false
        const gossip = (async () => {
          while (!done) {
            await sender.send(Recipients.all(), Uint8Array.of(i))
            await ctx.sleep(200)
          }
        })()
        while (votes.size < QUORUM) votes.add((await receiver.recv())[1][0])
        const reachedAt = ctx.now() - start
        done = true
        await gossip
        return reachedAt
      }),
    )
    const digest = createHash('sha256').update(network.traceLines()).digest('hex').slice(0, 16)
    const lost = network.trace().filter((e) => e.event === 'drop').length
    return { finishedMs: finished, lost, digest }
  })
}

const a = await simulate(42)
const b = await simulate(42)
console.log('quorum reached at (virtual ms):', a.finishedMs.join(' '))
console.log('messages lost:', a.lost, ' trace digest:', a.digest)
console.log('replayed from seed 42:', a.digest === b.digest ? 'identical' : 'DIFFERENT')
