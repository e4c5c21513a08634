/**
 * simulated::broadcast: simulated messages delivered per wall-clock second, 100 peers each
 * broadcasting 1 KiB messages over links with latency and jitter, on the deterministic runtime.
 * Baseline in the same run: the same number of deliveries through a bare timer queue (the runtime's
 * scheduler alone), to show what the network model costs on top.
 */
import { Ed25519 } from '../src/crypto/index.js'
import { DeterministicRuntime } from '../src/runtime/index.js'
import { Recipients, SimulatedNetwork } from '../src/simulated/index.js'

const PEERS = 100
const ROUNDS = 5

export async function run(): Promise<Record<string, unknown>[]> {
  const keys = Array.from({ length: PEERS }, (_, i) => Ed25519.fromSeed(9000 + i).publicKey)
  const rt = new DeterministicRuntime({ seed: 1 })
  const t0 = performance.now()
  const delivered = await rt.run(async (ctx) => {
    const { network, oracle } = SimulatedNetwork.create(ctx)
    const chans = keys.map((k) => oracle.register(k, 0, 4096))
    for (const a of keys) for (const b of keys) if (a !== b) oracle.addLink(a, b, { latencyMs: 50, jitterMs: 10, successRate: 1 })
    const msg = new Uint8Array(1024).fill(1)
    let received = 0
    const readers = chans.map(async (c) => {
      for (let i = 0; i < ROUNDS * (PEERS - 1); i++) {
        await c[1].recv()
        received++
      }
    })
    for (let r = 0; r < ROUNDS; r++) {
      for (const c of chans) await c[0].send(Recipients.all(), msg)
      await ctx.sleep(100)
    }
    await Promise.all(readers)
    void network
    return received
  })
  const simSeconds = (performance.now() - t0) / 1000

  const base = new DeterministicRuntime({ seed: 1 })
  const t1 = performance.now()
  await base.run(async (ctx) => {
    await Promise.all(Array.from({ length: delivered }, (_, i) => ctx.sleep(50 + (i % 20))))
  })
  const baseSeconds = (performance.now() - t1) / 1000

  const rows = [
    { scenario: `simulated::broadcast/peers=${PEERS} size=1024`, candidate: 'simulated network', deliveries: delivered, 'deliveries/s': Math.round(delivered / simSeconds) },
    { scenario: `simulated::broadcast/peers=${PEERS} size=1024`, candidate: 'timer queue only', deliveries: delivered, 'deliveries/s': Math.round(delivered / baseSeconds) },
  ]
  console.log('\n## simulated network (wall-clock rate of simulated deliveries)')
  console.table(rows.map((r) => ({ ...r, 'x timer queue': (r['deliveries/s'] / rows[1]!['deliveries/s']).toFixed(2) })))
  return rows
}
