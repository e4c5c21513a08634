/**
 * Discovery on the deterministic runtime (a child process of the e2e harness): N authenticated nodes
 * (Config.test timing, Ed25519 keys, one peer set of all N keys), every one bootstrapped from node 0
 * only, links of 10 ms; time until every node is connected to all N - 1 others.
 *
 * Prints one JSON line on stdout: `{ n, connections, virtualMs, wallS, peakRssMB, liveHeapMB,
 * heapPerConnKB, rssPerConnKB, digest, backend }`: live heap is measured after a full collection (run
 * with `--expose-gc`; otherwise it is the heap in use), per connection means per authenticated
 * connection (N (N - 1) / 2, each counted once with both its ends), and the digest folds every socket
 * event of the run (the same seed must give the same digest). Progress (virtual time, connections so
 * far) goes to stderr every 10 s of wall time. Usage: `discovery.ts N [seed]`; sizes above a few hundred
 * need a larger heap (`node --max-old-space-size=...`, as bench/discovery.ts runs it).
 */
// The library from src/ (through tsx), or with DISCOVERY_LIB=dist from the compiled package (what an
// application runs: tsx keeps function names with a property per function, about 3 KB per connection).
const root = process.env.DISCOVERY_LIB === 'dist' ? '../../dist' : '../../src'
const { Config, Network } = (await import(`${root}/authenticated/index.js`)) as typeof import('../../src/authenticated/index.js')
const { Ed25519 } = (await import(`${root}/crypto/index.js`)) as typeof import('../../src/crypto/index.js')
const { backend } = (await import(`${root}/native/load.js`)) as typeof import('../../src/native/load.js')
const { DeterministicRuntime } = (await import(`${root}/runtime/index.js`)) as typeof import('../../src/runtime/index.js')
const { Quota } = (await import(`${root}/utils/quota.js`)) as typeof import('../../src/utils/quota.js')
type Network = import('../../src/authenticated/index.js').Network

const N = Number(process.argv[2] ?? 100)
const SEED = Number(process.argv[3] ?? 7)
const NS = new TextEncoder().encode('quorumnet-discovery')
const host = (i: number) => `10.${(i >> 8) & 255}.${i & 255}.1`

const t0 = performance.now()
const rt = new DeterministicRuntime({ seed: SEED, defaultLink: { latencyMs: 10 } })
let nets: Network[] = []
const progress = setInterval(() => {
  const links = nets.reduce((s, n) => s + n.connected().length, 0) / 2
  const full = nets.filter((n) => n.connected().length === N - 1).length
  process.stderr.write(`discovery n=${N}: wall ${((performance.now() - t0) / 1000).toFixed(0)} s, virtual ${((rt.scheduler.now() - start0) / 1000).toFixed(1)} s, ${links} of ${(N * (N - 1)) / 2} connections, ${full} nodes complete, rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MB\n`)
}, 10_000)
const start0 = rt.scheduler.now()
const virtualMs = await rt.run(async (ctx) => {
  const signers = Array.from({ length: N }, (_, i) => Ed25519.fromSeed(1000 + i))
  const keys = signers.map((s) => s.publicKey)
  const boot = [{ publicKey: keys[0]!, address: `${host(0)}:4000` }]
  nets = signers.map((signer, i) => {
    const { network, oracle } = Network.create(rt.context(host(i)), Config.test(signer, NS, `${host(i)}:4000`, i === 0 ? [] : boot, 1 << 16))
    oracle.register(0n, keys)
    network.register(0, Quota.perSecond(1_000), 16)
    network.start()
    return network
  })
  const start = ctx.now()
  await Promise.all(nets.map((n) => n.whenConnected(N - 1)))
  return ctx.now() - start
})
clearInterval(progress)
const wallS = (performance.now() - t0) / 1000
const peakRssMB = process.resourceUsage().maxRSS / 1024
;(globalThis as { gc?: () => void }).gc?.()
const liveHeapMB = process.memoryUsage().heapUsed / 2 ** 20
const connections = (N * (N - 1)) / 2
const perConnKB = (mb: number) => Math.round((mb * 1024 * 10) / connections) / 10
const digest = rt.auditor.digest()
process.stdout.write(JSON.stringify({ n: N, lib: root.slice(6), connections, virtualMs, wallS, peakRssMB, liveHeapMB, heapPerConnKB: perConnKB(liveHeapMB), rssPerConnKB: perConnKB(peakRssMB), digest, backend, nets: nets.length }) + '\n')
if (process.env.DISCOVERY_SNAPSHOT) (await import("node:v8")).writeHeapSnapshot(process.env.DISCOVERY_SNAPSHOT)
process.exitCode = 0; setTimeout(() => process.exit(0), 0)
