/**
 * `npm run bench:gate`: a short end-to-end run (two processes; a few minutes on 2 cores) that fails
 * when a quorumnet / raw-TCP ratio falls below its threshold in bench/gate.json.
 *
 * Every ratio is "how fast quorumnet is next to raw TCP in the same run", so bigger is better
 * everywhere: figure / raw figure for throughput, rates and connections; raw p50 / quorumnet p50 for
 * the round trip. A candidate that cannot run fails the gate. Exit status: 0 when every ratio is at or
 * above its threshold, 1 otherwise (one `FAIL` line per ratio, naming the scenario).
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { SCENARIOS, type Candidate, type SocketScenario } from './common.js'
import { fmt } from './report.js'
import { runSocket, type Result, type Timing } from './run.js'

interface Gate {
  timing: Timing
  /** How long a run waits for other work on the machine to settle, s. */
  quietWaitS: number
  /** Scenario, then candidate, then the lowest acceptable ratio to raw TCP. */
  thresholds: Partial<Record<SocketScenario, Partial<Record<Candidate, number>>>>
}

const file = join(import.meta.dirname, '..', 'gate.json')
const gate = JSON.parse(readFileSync(file, 'utf8')) as Gate
const t0 = performance.now()
const show = (r: Result) => (r.figure ? `${fmt(r.figure.median, r.unit)} ${r.unit}` : `not run (${r.reason})`)
const failures: string[] = []
console.log(`benchmark gate (${file}): two processes, warm-up ${gate.timing.warmupS} s, ${gate.timing.reps} windows of ${gate.timing.seconds} s`)

for (const [scenario, byCandidate] of Object.entries(gate.thresholds) as [SocketScenario, Partial<Record<Candidate, number>>][]) {
  const raw = await runSocket(scenario, 'raw-tcp', 'two-process', gate.timing, gate.quietWaitS)
  for (const [candidate, min] of Object.entries(byCandidate) as [Candidate, number][]) {
    const r = await runSocket(scenario, candidate, 'two-process', gate.timing, gate.quietWaitS)
    const a = r.figure?.median
    const b = raw.figure?.median
    if (a === undefined || b === undefined || !(a > 0) || !(b > 0)) {
      const line = `FAIL ${scenario}: ${candidate} / raw-tcp not measured: ${candidate} ${show(r)}, raw-tcp ${show(raw)}`
      failures.push(line)
      console.log(line)
      continue
    }
    const ratio = SCENARIOS[scenario].higherIsBetter ? a / b : b / a
    const ok = ratio >= min
    const line = `${ok ? 'ok  ' : 'FAIL'} ${scenario}: ${candidate} / raw-tcp = ${ratio.toFixed(3)} (threshold ${min}; ${candidate} ${show(r)}, raw-tcp ${show(raw)})`
    console.log(line)
    if (!ok) failures.push(line)
  }
}

const took = ((performance.now() - t0) / 1000).toFixed(0)
if (failures.length > 0) {
  console.log(`\nbenchmark gate FAILED in ${took} s (${failures.length} ratio(s) below threshold):`)
  for (const f of failures) console.log(`  ${f}`)
  process.exit(1)
}
console.log(`\nbenchmark gate passed in ${took} s`)
process.exit(0)
