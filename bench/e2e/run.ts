/**
 * Runs one measurement of the end-to-end benchmark: a scenario, a candidate and a process layout.
 *
 * Two-process: the listening side and the dialing side are separate child processes (`worker.ts`, or
 * one `p2p_node` per node for the Rust reference). One-process: one child hosts both. After setup the
 * load starts, runs `warmupS` unmeasured, then `reps` consecutive windows of `seconds` each; the
 * counting side reports its counters (on its own clock) at every window boundary. A run that fails or
 * cannot run returns a one-line reason instead of figures.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { cpus, setPriority } from 'node:os'
import { join } from 'node:path'
import { median, quantile, SCENARIOS, sleep, type Candidate, type Command, type Mark, type Reply, type SocketScenario, type WorkerImpl } from './common.js'
import { rustSession, rustUnavailable } from './rust.js'

export type Mode = 'two-process' | 'one-process'

export interface Timing {
  warmupS: number
  seconds: number
  reps: number
}

export interface Figure {
  /** One value per window. */
  values: number[]
  median: number
  min: number
  max: number
}

export interface Result {
  scenario: SocketScenario | 'discovery'
  mode: Mode | 'deterministic'
  candidate: Candidate
  unit: string
  /** The scenario's figure (p50 for rtt); absent when `reason` says why. */
  figure?: Figure
  /** rtt only: the 99th percentile per window. */
  p99?: Figure
  /** discovery only. */
  discovery?: { n: number; virtualMs: number; wallS: number; peakRssMB: number }
  /** Peak RSS of each worker process over the run, MB: [listener, dialer] (one entry in one process). */
  peakRssMB?: number[]
  /** Failed dials or sends counted by the load (a healthy run has 0). */
  errors?: number
  /** Why there is no figure. */
  reason?: string
  /** Share of the machine's CPU busy just before the run, while this harness was idle (other work). */
  backgroundCpu?: number
}

function cpuTimes(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number)
  const total = f.reduce((a, b) => a + b, 0)
  return { busy: total - f[3]! - (f[4] ?? 0), total }
}

/** Share of all CPUs busy over `ms` (0..1), from /proc/stat; undefined where there is none. */
export async function busyShare(ms = 1_000): Promise<number | undefined> {
  try {
    const a = cpuTimes()
    await sleep(ms)
    const b = cpuTimes()
    return (b.busy - a.busy) / Math.max(1, b.total - a.total)
  } catch {
    return undefined
  }
}

/**
 * Wait (up to `maxWaitS`) until other work on the machine uses under 15% of its CPU; returns the last
 * reading, which is recorded with the result (the machine may be shared).
 */
export async function quiet(maxWaitS = 120): Promise<number | undefined> {
  if (process.env.E2E_QUIET_WAIT_S !== undefined) maxWaitS = Number(process.env.E2E_QUIET_WAIT_S)
  const end = performance.now() + maxWaitS * 1000
  for (;;) {
    const b = await busyShare()
    if (b === undefined || b < 0.15 || performance.now() >= end) return b
    process.stderr.write(`(machine busy: ${(b * 100).toFixed(0)}% CPU used by other work; waiting)\n`)
    await sleep(4_000)
  }
}

const WORKER = join(import.meta.dirname, 'worker.ts')
const DISCOVERY = join(import.meta.dirname, 'discovery.ts')

export function figure(values: number[]): Figure {
  return { values, median: median(values), min: Math.min(...values), max: Math.max(...values) }
}

/** The worker candidate and P2P_NATIVE value of a result candidate. */
function workerOf(c: Candidate): { impl: WorkerImpl; native?: string } {
  switch (c) {
    case 'quorumnet-native':
      return { impl: 'quorumnet', native: '1' }
    case 'quorumnet-fallback':
      return { impl: 'quorumnet', native: '0' }
    case 'rust-commonware':
      throw new Error('not a worker candidate')
    default:
      return { impl: c }
  }
}

interface Worker {
  call(cmd: DistributiveOmit<Command, 'id'>, timeoutMs?: number): Promise<unknown>
  kill(): Promise<void>
}
type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never

async function startWorker(native: string | undefined, extraEnv: Record<string, string> = {}): Promise<Worker> {
  const env = { ...process.env, ...extraEnv }
  if (native === undefined) delete env.P2P_NATIVE
  else env.P2P_NATIVE = native
  // E2E_CPU_PROF=dir: each worker writes a V8 CPU profile there when it exits.
  const prof = process.env.E2E_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.E2E_CPU_PROF}`] : []
  const child: ChildProcess = fork(WORKER, [], { execArgv: ['--import', 'tsx', ...prof], env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const exited = new Promise<void>((r) => child.once('exit', (code, sig) => (process.env.E2E_DEBUG && console.error('worker', child.pid, 'exit', code, sig), r())))
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>()
  let next = 1
  const ready = new Promise<void>((resolve, reject) => {
    pending.set(0, { resolve: () => resolve(), reject })
  })
  child.on('message', (r: Reply) => {
    const p = pending.get(r.id)
    if (!p) return
    pending.delete(r.id)
    if (r.ok) p.resolve(r.result)
    else p.reject(new Error(r.error))
  })
  child.on('exit', (code, signal) => {
    for (const p of pending.values()) p.reject(new Error(`worker exited (${code ?? signal})`))
    pending.clear()
  })
  await ready
  return {
    call(cmd, timeoutMs = 60_000) {
      const id = next++
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id)
          reject(new Error(`${cmd.cmd}: no answer within ${timeoutMs / 1000} s`))
        }, timeoutMs)
        pending.set(id, {
          resolve: (v) => (clearTimeout(timer), resolve(v)),
          reject: (e) => (clearTimeout(timer), reject(e)),
        })
        child.send({ ...cmd, id } as Command)
      })
    },
    async kill() {
      // Ask first (a profile is written at a clean exit), then force.
      if (child.connected) child.send({ id: -1, cmd: 'exit' })
      await Promise.race([exited, sleep(3_000)])
      child.kill('SIGKILL')
    },
  }
}

/** Figures of consecutive windows from the marks of every counting process. */
function figures(scenario: SocketScenario, marks: Mark[][]): { figure: Figure; p99?: Figure } {
  const windows = marks[0]!.length - 1
  const values: number[] = []
  const p99: number[] = []
  for (let w = 1; w <= windows; w++) {
    if (!SCENARIOS[scenario].higherIsBetter) {
      const lat = Float64Array.from(marks[0]![w]!.latencies ?? []).sort()
      if (lat.length === 0) throw new Error('no round trip completed in a window')
      values.push(quantile(lat, 0.5))
      p99.push(quantile(lat, 0.99))
      continue
    }
    let v = 0
    for (const m of marks) {
      const dt = (m[w]!.t - m[w - 1]!.t) / 1000
      v += scenario === 'throughput' ? (m[w]!.bytes - m[w - 1]!.bytes) / 1e6 / dt : (m[w]!.count - m[w - 1]!.count) / dt
    }
    values.push(v)
  }
  return SCENARIOS[scenario].higherIsBetter ? { figure: figure(values) } : { figure: figure(values), p99: figure(p99) }
}

async function measure(counters: { mark(): Promise<Mark> }[], timing: Timing): Promise<Mark[][]> {
  await sleep(timing.warmupS * 1000)
  const marks: Mark[][] = counters.map(() => [])
  const take = async () => (await Promise.all(counters.map((c) => c.mark()))).forEach((m, i) => marks[i]!.push(m))
  await take()
  for (let r = 0; r < timing.reps; r++) {
    await sleep(timing.seconds * 1000)
    await take()
  }
  return marks
}

/** One lowest-priority busy loop per core, so that no CPU goes idle (see `ScenarioSpec.awake`); returns the stop. */
export function keepAwake(): () => void {
  const spinners = cpus().map(() => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }))
  for (const s of spinners) if (s.pid) setPriority(s.pid, 19)
  return () => spinners.forEach((s) => s.kill('SIGKILL'))
}

const reasonOf = (e: unknown) => (e instanceof Error ? e.message : String(e)).split('\n')[0]!.slice(0, 200)

/** One scenario, one candidate, one layout. */
export async function runSocket(scenario: SocketScenario, candidate: Candidate, mode: Mode, timing: Timing, quietWaitS = 120): Promise<Result> {
  const spec = SCENARIOS[scenario]
  const base: Result = { scenario, mode, candidate, unit: spec.unit }
  const bg = candidate === 'rust-commonware' && mode === 'one-process' ? undefined : await quiet(quietWaitS)
  if (bg !== undefined) base.backgroundCpu = Math.round(bg * 100) / 100
  const wake = spec.awake ? keepAwake() : undefined
  try {
    return await runSocketOn(base, scenario, candidate, mode, timing)
  } finally {
    wake?.()
  }
}

async function runSocketOn(base: Result, scenario: SocketScenario, candidate: Candidate, mode: Mode, timing: Timing): Promise<Result> {
  const spec = SCENARIOS[scenario]
  if (candidate === 'rust-commonware') {
    if (mode === 'one-process') return { ...base, reason: 'p2p_node runs one node per process' }
    const why = rustUnavailable(scenario)
    if (why) return { ...base, reason: why }
    let session: Awaited<ReturnType<typeof rustSession>> | undefined
    try {
      session = await rustSession(scenario)
      await session.start()
      const marks = await measure(session.counters, timing)
      return { ...base, ...figures(scenario, marks), errors: 0 }
    } catch (e) {
      return { ...base, reason: reasonOf(e) }
    } finally {
      await session?.stop()
    }
  }
  const { impl, native } = workerOf(candidate)
  const workers: Worker[] = []
  try {
    const debug = (what: string) => process.env.E2E_DEBUG && console.error(`${(performance.now() - t0).toFixed(0).padStart(6)} ms ${what}`)
    const t0 = performance.now()
    const starting = mode === 'one-process' ? [startWorker(native)] : [startWorker(native), startWorker(native)]
    for (const w of starting) void w.then((x) => workers.push(x), () => undefined)
    const up = await Promise.all(starting)
    const server = up[0]!
    const client = up[1] ?? server
    debug('workers up')
    const info = await server.call({ cmd: 'listen', impl, scenario })
    await client.call({ cmd: 'dial', impl, scenario, info })
    debug('connected')
    await client.call({ cmd: 'start' })
    const counter = spec.counter === 'server' ? server : client
    const marks = await measure([{ mark: () => counter.call({ cmd: 'mark' }, 30_000) as Promise<Mark> }], timing)
    debug('measured')
    const errors = (marks[0]!.at(-1) as Mark & { errors: number }).errors
    const peakRssMB = (await Promise.all(up.map((w) => w.call({ cmd: 'rss' }).catch(() => NaN)))) as number[]
    await client.call({ cmd: 'stop' }, 20_000).catch(() => undefined)
    debug('stopped')
    return { ...base, ...figures(scenario, marks), errors, peakRssMB }
  } catch (e) {
    return { ...base, reason: reasonOf(e) }
  } finally {
    await Promise.all(workers.map((w) => w.kill()))
    if (process.env.E2E_DEBUG) console.error('workers gone')
  }
}

/**
 * A scenario set up once (workers started, connected) whose load runs only during `window` calls, so
 * that windows of several sessions can be interleaved (the benchmark gate). Two-process layout.
 */
export interface Session {
  /**
   * Run the load `warmupS` unmeasured, then one window of `seconds`, then pause it. Resolves to the
   * window's figure (p50 in us for rtt), its work per CPU-second of both processes (MB, messages,
   * round trips or connections per second of CPU time used by the two workers in the window) and the
   * failed sends or dials counted in the window; with `seconds` 0 it only warms up (figures NaN).
   */
  window(warmupS: number, seconds: number): Promise<{ value: number; perCpuS: number; errors: number }>
  close(): Promise<void>
}

/**
 * Start a session of `scenario` for a worker candidate; `env` is added to the workers' environment
 * (`E2E_QUORUMNET_ROOT` selects the quorumnet build). Rejects with a one-line reason.
 */
export async function openSession(scenario: SocketScenario, candidate: Candidate, env: Record<string, string> = {}): Promise<Session> {
  const spec = SCENARIOS[scenario]
  const { impl, native } = workerOf(candidate)
  const workers: Worker[] = []
  const close = () => Promise.all(workers.map((w) => w.kill())).then(() => undefined)
  try {
    const starting = [startWorker(native, env), startWorker(native, env)]
    for (const w of starting) void w.then((x) => workers.push(x), () => undefined)
    const [server, client] = (await Promise.all(starting)) as [Worker, Worker]
    const info = await server.call({ cmd: 'listen', impl, scenario })
    await client.call({ cmd: 'dial', impl, scenario, info })
    const [counter, other] = spec.counter === 'server' ? [server, client] : [client, server]
    type Marked = Mark & { errors: number }
    const mark = () => Promise.all([counter.call({ cmd: 'mark' }, 30_000) as Promise<Marked>, other.call({ cmd: 'mark' }, 30_000) as Promise<Marked>])
    return {
      async window(warmupS, seconds) {
        await client.call({ cmd: 'start' })
        try {
          await sleep(warmupS * 1000)
          if (seconds <= 0) return { value: NaN, perCpuS: NaN, errors: 0 }
          const [a, a2] = await mark()
          await sleep(seconds * 1000)
          const [b, b2] = await mark()
          const cpuS = (b.cpuUs! - a.cpuUs! + b2.cpuUs! - a2.cpuUs!) / 1e6
          const work = scenario === 'throughput' ? (b.bytes - a.bytes) / 1e6 : b.count - a.count
          return { value: figures(scenario, [[a, b]]).figure.median, perCpuS: work / cpuS, errors: b.errors - a.errors }
        } finally {
          await client.call({ cmd: 'pause' }, 20_000)
        }
      },
      close,
    }
  } catch (e) {
    await close()
    throw new Error(reasonOf(e))
  }
}

/** Discovery of `n` nodes on the deterministic runtime, in a child process bounded by `budgetS`. */
export async function runDiscovery(n: number, candidate: 'quorumnet-native' | 'quorumnet-fallback', budgetS: number): Promise<Result> {
  const base: Result = { scenario: 'discovery', mode: 'deterministic', candidate, unit: 's' }
  const bg = await quiet()
  if (bg !== undefined) base.backgroundCpu = Math.round(bg * 100) / 100
  const env = { ...process.env, P2P_NATIVE: candidate === 'quorumnet-native' ? '1' : '0' }
  const child = spawn(process.execPath, ['--import', 'tsx', DISCOVERY, String(n)], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-4000)
    process.stderr.write(d)
  })
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    child.kill('SIGKILL')
  }, budgetS * 1000)
  const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)))
  clearTimeout(timer)
  if (timedOut) {
    const last = err.trim().split('\n').at(-1) ?? ''
    return { ...base, discovery: { n, virtualMs: NaN, wallS: NaN, peakRssMB: NaN }, reason: `n=${n} did not finish within ${budgetS} s (last progress: ${last})` }
  }
  try {
    const r = JSON.parse(out.trim().split('\n').at(-1)!) as { virtualMs: number; wallS: number; peakRssMB: number }
    return { ...base, discovery: { n, virtualMs: r.virtualMs, wallS: r.wallS, peakRssMB: r.peakRssMB } }
  } catch {
    return { ...base, discovery: { n, virtualMs: NaN, wallS: NaN, peakRssMB: NaN }, reason: `n=${n}: exited ${code}: ${err.trim().split('\n').at(-1) ?? ''}`.slice(0, 300) }
  }
}
