/**
 * `npm run bench`: every micro-benchmark, each with its baselines in the same run.
 *
 * `BENCH_TIME_MS` sets the time per task (default 400). `npm run bench -- aead` runs one file (aead, sign, zstd, stream, simulated).
 */
import { backend } from '../src/native/load.js'
import * as aead from './aead.js'
import * as sign from './sign.js'
import * as simulated from './simulated.js'
import * as stream from './stream.js'
import * as zstd from './zstd.js'

const suites: Record<string, { run: () => Promise<unknown> }> = { aead, sign, zstd, stream, simulated }
const only = process.argv.slice(2)
console.log(`quorumnet micro-benchmarks: node ${process.version}, active backend ${backend}`)
for (const [name, suite] of Object.entries(suites)) {
  if (only.length === 0 || only.includes(name)) await suite.run()
}
