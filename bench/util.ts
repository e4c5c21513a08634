/**
 * Shared helpers for the micro-benchmarks: backends, throughput figures and ratio tables.
 *
 * Every ratio compares tasks of the same run on the same machine (STYLE.md 9).
 */
import { Bench, hrtimeNow, type Task } from 'tinybench'
import { jsBinding, nativeBinding } from '../src/native/load.js'
import type { Binding } from '../src/native/binding.js'

export const backends: { name: string; b: Binding }[] = [
  ...(nativeBinding ? [{ name: 'native', b: nativeBinding }] : []),
  { name: 'js', b: jsBinding },
]

const TIME_MS = Number(process.env.BENCH_TIME_MS ?? 400)

export function newBench(name: string): Bench {
  return new Bench({ name, time: TIME_MS, warmupTime: Math.min(200, TIME_MS), now: hrtimeNow })
}

function opsPerSec(task: Task | undefined): number | undefined {
  const r = task?.result
  return r && 'throughput' in r ? r.throughput.mean : undefined
}

export interface Row {
  task: string
  'ops/s': string
  'MB/s': string
  [ratio: string]: string
}

/**
 * Print a table: for every task, ops/s, MB/s (when `bytesPerOp` knows the task) and its ratio to each
 * baseline of the same group. `group(name)` gives the comparison key (e.g. the size), `who(name)` the
 * candidate (e.g. the backend).
 */
export function printRatios(
  bench: Bench,
  opts: {
    group: (task: string) => string
    who: (task: string) => string
    baselines: string[]
    bytesPerOp?: (task: string) => number | undefined
  },
): Row[] {
  const rows: Row[] = []
  for (const task of bench.tasks) {
    const ops = opsPerSec(task)
    if (ops === undefined) {
      const r = task.result as { state?: string; error?: unknown }
      console.warn(`${task.name}: ${r.state ?? 'no result'} ${r.error ?? ''}`)
      continue
    }
    const bytes = opts.bytesPerOp?.(task.name)
    const row: Row = {
      task: task.name,
      'ops/s': ops.toFixed(0),
      'MB/s': bytes ? ((ops * bytes) / 1e6).toFixed(1) : '',
    }
    for (const base of opts.baselines) {
      const peer = bench.tasks.find(
        (t) => opts.group(t.name) === opts.group(task.name) && opts.who(t.name) === base,
      )
      const baseOps = opsPerSec(peer)
      row[`x ${base}`] = baseOps ? (ops / baseOps).toFixed(2) : ''
    }
    rows.push(row)
  }
  console.log(`\n## ${bench.name}`)
  console.table(rows)
  return rows
}

/** `key=value` parts of a bench name `module::operation/key=value key=value`. */
export function param(name: string, key: string): string {
  return new RegExp(`${key}=([^ ]+)`).exec(name)?.[1] ?? ''
}

export const randomBytes = (n: number, seed = 1): Uint8Array => {
  const out = new Uint8Array(n)
  let x = seed >>> 0 || 1
  for (let i = 0; i < n; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    out[i] = x & 0xff
  }
  return out
}
