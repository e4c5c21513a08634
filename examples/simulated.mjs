// A tiny vote-collection protocol on the simulated network: 7 validators, 20% loss, 100 ms jitter.
// Each validator re-broadcasts its vote every 200 ms until every validator has seen a quorum (5 of 7).
// Run twice from one seed: same outcome, same trace digest. Run: npm run build && node examples/simulated.mjs
import { Ed25519 } from 'quorumnet'
import { DeterministicRuntime } from 'quorumnet/runtime'
import { Recipients, SimulatedNetwork } from 'quorumnet/simulated'

const N = 7
const QUORUM = 5

async function simulate(seed) {
  const rt = new DeterministicRuntime({ seed })
  return rt.run(async (ctx) => {
    // The trace keeps the latest 100,000 events by default; `trace: { limit: 0 }` keeps none, and
    // `trace: { sink }` sees every one. The digest covers every event either way.
    const { network, oracle } = SimulatedNetwork.create(ctx)
    const keys = Array.from({ length: N }, (_, i) => Ed25519.fromSeed(i).publicKey)
    const channels = keys.map((k) => oracle.register(k, 0, 1024))
    for (const a of keys) for (const b of keys) if (a !== b) oracle.addLink(a, b, { latencyMs: 50, jitterMs: 100, successRate: 0.8 })
    const start = ctx.now()
    // Votes are re-broadcast until every validator has a quorum: one that stopped at its own quorum
    // could leave a validator that lost its vote short of a quorum forever.
    let allDone = false
    const gossip = channels.map(([sender], i) =>
      (async () => {
        while (!allDone) {
          await sender.send(Recipients.all(), Uint8Array.of(i))
          await ctx.sleep(200)
        }
      })(),
    )
    const finished = await Promise.all(
      channels.map(async ([, receiver], i) => {
        const votes = new Set([i])
        while (votes.size < QUORUM) votes.add((await receiver.recv())[1][0])
        return ctx.now() - start
      }),
    )
    allDone = true
    await Promise.all(gossip)
    const digest = network.digest().slice(0, 16)
    const lost = network.trace().filter((e) => e.event === 'drop').length
    return { finishedMs: finished, lost, digest }
  })
}

const a = await simulate(42)
const b = await simulate(42)
console.log('quorum reached at (virtual ms):', a.finishedMs.join(' '))
console.log('messages lost:', a.lost, ' trace digest:', a.digest)
console.log('replayed from seed 42:', a.digest === b.digest ? 'identical' : 'DIFFERENT')
