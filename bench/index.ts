/**
 * `npm run bench`: every micro-benchmark, each with its baselines in the same run, then the end-to-end
 * benchmark (bench/e2e: separate processes over loopback against raw TCP, js-libp2p, secret-stream and
 * the Rust reference), which writes bench/results/e2e.json, e2e.md and the e2e-*.svg charts.
 *
 * `BENCH_TIME_MS` sets the time per micro-benchmark task (default 400). `npm run bench -- aead` runs
 * one suite (aead, sign, zstd, stream, simulated, node1000, discovery, e2e). The e2e part alone: `npm run
 * bench:e2e` (see bench/e2e/index.ts for its options); its short regression gate: `npm run
 * bench:gate`. The simulated network alone: `npm run bench:sim` (its CI check: `npm run bench:sim --
 * --gate`). One real node with 1,000 peers (node1000.ts, about 50 s, writes results/node1000.md):
 * `npm run bench:node1000`, with its options (`-- --peers 1000 --procs 4 --gossip-ms 1000,5000`).
 * Full-mesh discovery of N = 100, 250, 500 and 1,000 nodes on the deterministic runtime (discovery.ts,
 * up to about 20 min, writes results/discovery.md): `npm run bench:discovery` (its CI check: `--gate`).
 */
import { backend } from '../src/native/load.js'
import * as aead from './aead.js'
import * as discovery from './discovery.js'
import * as node1000 from './node1000.js'
import * as sign from './sign.js'
import * as simulated from './simulated.js'
import * as stream from './stream.js'
import * as zstd from './zstd.js'

const suites: Record<string, { run: () => Promise<unknown> }> = { aead, sign, zstd, stream, simulated, node1000, discovery }
const only = process.argv.slice(2)
console.log(`quorumnet micro-benchmarks: node ${process.version}, active backend ${backend}`)
for (const [name, suite] of Object.entries(suites)) {
  if (only.length === 0 || only.includes(name)) await suite.run()
}
if (only.length === 0 || only.includes('e2e')) {
  const { main } = await import('./e2e/index.js')
  await main([])
}
process.exit(0)
