/**
 * `npm run fuzz`: a million generated inputs per target (FUZZ_RUNS to change, FUZZ_SEED to pick the
 * seed, target names as arguments to choose). A failing input is shrunk and written to
 * `test/corpus/<target>/<seed>.json`, where every test run replays it; the command then exits 1.
 */
import fc from 'fast-check'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { backend } from '../../src/native/load.js'
import { targets } from './targets.js'

const runs = Number(process.env.FUZZ_RUNS ?? 1_000_000)
const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31)
const only = process.argv.slice(2)
const chosen = targets.filter((t) => only.length === 0 || only.includes(t.name))
if (chosen.length === 0) {
  console.error(`no such target: ${only.join(', ')} (targets: ${targets.map((t) => t.name).join(', ')})`)
  process.exit(2)
}
console.log(`fuzz: ${runs.toLocaleString('en')} cases per target, seed ${seed}, backend ${backend}`)
let failed = false
for (const t of chosen) {
  const start = performance.now()
  const r = fc.check(fc.property(t.arbitrary, (input) => t.check(input)), { seed, numRuns: runs, endOnFailure: false })
  const secs = (performance.now() - start) / 1000
  if (r.failed && r.counterexample) {
    failed = true
    const dir = join(import.meta.dirname, '..', 'corpus', t.name)
    mkdirSync(dir, { recursive: true })
    const file = join(dir, `${seed}.json`)
    writeFileSync(file, JSON.stringify(t.save(r.counterexample[0]), null, 2) + '\n')
    console.log(`${t.name}: FAILED after ${r.numRuns} cases (${secs.toFixed(1)} s): ${String(r.errorInstance)}\n  input saved to ${file}`)
  } else {
    console.log(`${t.name}: ${r.numRuns.toLocaleString('en')} cases, no failure, ${secs.toFixed(1)} s`)
  }
}
process.exit(failed ? 1 : 0)
