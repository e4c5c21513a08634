/**
 * `npm run bench:gate`: the release gate. The candidate (the working tree this runs from) against a
 * baseline build of another commit (`HEAD~1`, or the git ref in `GATE_BASELINE`), side by side in
 * the same run on the same machine. Settings: bench/gate.json.
 *
 * ## Baseline
 * The baseline commit is exported with `git archive` into `.gate/<sha>/` (gitignored) and installed
 * there with `npm install` (its addon built from source, `P2P_NATIVE=1`; cargo's target directory
 * `.gate/target` is shared by every baseline build). A finished build is reused. Only the quorumnet
 * sources under test come from there: the harness (`run.ts`, `worker.ts`, `impls/quorumnet.ts`) is
 * the candidate's for both, and a worker loads `<root>/src/...` from `E2E_QUORUMNET_ROOT`.
 * `P2P_GATE_SLOWDOWN` reaches the candidate's workers only.
 *
 * ## Sessions and windows
 * For every scenario and backend, `sessions` sessions of the baseline (B1..Bm) and as many of the
 * candidate (C1..Cm) are set up (workers started, connected), each pair of processes separate. Two
 * processes of the same code can disagree by 20-30% for as long as they live (1 MiB messages: a
 * session that is fast or slow in every window), so a session, not a window, is the unit sampled:
 * the rule compares the builds across sessions and measures how far sessions of the same build
 * disagree. Each session is warmed up once (`sessionWarmupS`), then windows run one at a time in
 * `cycles` cycles; a cycle runs one window of every session, in the order B1 C1 B2 C2 .. Bm Cm and,
 * on the next cycle, reversed (every candidate window sits next to a baseline window, and a linear
 * drift of the machine cancels over two cycles). Each window runs the load `windowWarmupS`
 * unmeasured, then measures `windowS`. A session that fails to open is tried twice more. Each window
 * gives two figures, each judged by the rule below on its own line: the speed (MB/s, messages,
 * deliveries or connections per second, or 1 / p50 for rtt) and the work per CPU-second (the same
 * count divided by the CPU time both worker processes used in the window), which other work on the
 * machine disturbs less. Bigger is better for both.
 *
 * ## Rule
 * In natural logs of the figures, per scenario, backend and figure:
 * - a session's figure: the mean over its windows; b_1..b_m for the baseline, c_1..c_m for the
 *   candidate;
 * - R = exp(mean(c) - mean(b)), the reported candidate/baseline;
 * - the sample standard deviations sb and sc of the session figures of each build (how far two
 *   processes of the same code disagree in this run, window noise included), pooled
 *   s = sqrt((sb^2 + sc^2) / 2);
 * - spread S = z * s * sqrt(2 / m): z standard errors of the difference of the two means;
 * - FAIL when ln R < ln(1 - allowedSlowdown) - S: the candidate is slower than the baseline by more
 *   than 10% beyond the spread measured in this run. The line prints R, the limit, sb, sc and m.
 * A candidate session that cannot start or complete a window fails too. `vs raw-tcp` lines give
 * quorumnet / raw TCP (median of `rawWindows` windows) for reading only; they never fail.
 *
 * ## Without a baseline
 * When the ref does not resolve (a shallow clone) or the baseline does not build, one line says so and
 * the run is informational: the candidate's figures and ratios to raw TCP, exit status 0 when every
 * candidate session ran, 1 otherwise. A baseline session that cannot run makes only that line
 * informational.
 *
 * Exit status: 0 when no line fails, 1 otherwise; the failing lines are repeated at the end. Every
 * compared window is written to `.gate/last-run.json`. For a quick look, `GATE_SCENARIOS=rate,conns`
 * runs some scenarios, `GATE_SESSIONS=n` (at least 3) and `GATE_CYCLES=n` set the sessions per build and the cycles.
 */
import { spawnSync } from 'node:child_process'
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { median, SCENARIOS, sleep, type Candidate, type SocketScenario } from './common.js'
import { fmt } from './report.js'
import { busyShare, keepAwake, openSession, type Session } from './run.js'
import { verdict, type Verdict } from './gate-rule.js'

interface GateConfig {
  scenarios: SocketScenario[]
  backends: Candidate[]
  /** The slowdown allowed beyond the measured spread (0.1: 10%). */
  allowedSlowdown: number
  /** Standard errors of the difference of the builds' session means added to the spread. */
  z: number
  /** Sessions (process pairs) per build, per scenario and backend; at least 3. */
  sessions: number
  /** Cycles of one window per session. */
  cycles: number
  sessionWarmupS: number
  windowWarmupS: number
  windowS: number
  /** Windows of raw TCP per scenario (the informational ratios). */
  rawWindows: number
}

const ROOT = join(import.meta.dirname, '..', '..')
const CACHE = join(ROOT, '.gate')
const file = join(ROOT, 'bench', 'gate.json')
const cfg = JSON.parse(readFileSync(file, 'utf8')) as GateConfig
// For trying the gate: GATE_SCENARIOS=rate,conns runs some scenarios, GATE_SESSIONS / GATE_CYCLES set sessions and cycles.
if (process.env.GATE_SCENARIOS) cfg.scenarios = process.env.GATE_SCENARIOS.split(',') as SocketScenario[]
if (process.env.GATE_CYCLES) cfg.cycles = Math.max(1, Number(process.env.GATE_CYCLES) | 0)
if (process.env.GATE_SESSIONS) cfg.sessions = Number(process.env.GATE_SESSIONS) | 0
cfg.sessions = Math.max(3, cfg.sessions | 0)
const t0 = performance.now()
const elapsed = () => ((performance.now() - t0) / 1000).toFixed(0)
const BACKEND: Partial<Record<Candidate, string>> = { 'quorumnet-native': 'native', 'quorumnet-fallback': 'fallback' }

const git = (...args: string[]) => spawnSync('git', ['-C', ROOT, ...args], { encoding: 'utf8' })

/** The environment of a nested `npm install`: without the variables `npm run` set for this package. */
function installEnv(): NodeJS.ProcessEnv {
  const keep = new Set(['npm_config_nodedir', 'npm_config_cache', 'npm_config_registry', 'npm_config_userconfig', 'npm_config_globalconfig'])
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) if (!k.toLowerCase().startsWith('npm_') || keep.has(k.toLowerCase())) env[k] = v
  delete env.INIT_CWD
  // node-gyp (zstd-napi) must use the local Node headers, as in .ci/run.
  const prefix = dirname(dirname(process.execPath))
  if (!env.npm_config_nodedir && existsSync(join(prefix, 'include', 'node', 'node.h'))) env.npm_config_nodedir = prefix
  env.P2P_NATIVE = '1'
  env.CARGO_TARGET_DIR ??= join(CACHE, 'target')
  delete env.P2P_GATE_SLOWDOWN
  return env
}

/** The baseline's build directory, or why there is none. */
function baseline(): { dir: string; label: string } | { reason: string } {
  const ref = process.env.GATE_BASELINE || 'HEAD~1'
  const rev = git('rev-parse', '--verify', '--quiet', `${ref}^{commit}`)
  if (rev.status !== 0) return { reason: `no commit ${ref} in this clone (shallow clone or unknown ref)` }
  const sha = rev.stdout.trim()
  const label = `${ref} = ${sha.slice(0, 10)} ${git('log', '-1', '--format=%s', sha).stdout.trim().slice(0, 60)}`
  const dir = join(CACHE, sha)
  const done = join(dir, '.gate-built')
  if (existsSync(done)) {
    console.log(`baseline ${label}: reusing ${dir}`)
    return { dir, label }
  }
  const started = performance.now()
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  const log = join(CACHE, `${sha}.install.log`)
  console.log(`baseline ${label}: building in ${dir} (git archive, npm install; log ${log})`)
  const exported = spawnSync('sh', ['-c', 'git -C "$1" archive "$2" | tar -x -C "$3"', 'sh', ROOT, sha, dir], { encoding: 'utf8' })
  if (exported.status !== 0) return { reason: `git archive ${sha.slice(0, 10)} failed: ${exported.stderr.trim().split('\n').at(-1)}` }
  const fd = openSync(log, 'w')
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
  const installed = spawnSync(npm, ['install', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: dir, env: installEnv(), stdio: ['ignore', fd, fd] })
  closeSync(fd)
  if (installed.status !== 0 || !existsSync(join(dir, 'native', 'quorumnet.node'))) {
    const lines = readFileSync(log, 'utf8').trim().split('\n').filter((l) => l.trim() && !l.includes('A complete log of this run'))
    const last = lines.findLast((l) => /native addon not built|error/i.test(l)) ?? lines.at(-1) ?? ''
    return { reason: `npm install of ${sha.slice(0, 10)} failed (status ${installed.status}; ${log}: ${last.slice(0, 160)})` }
  }
  writeFileSync(done, `${sha}\n`)
  console.log(`baseline built in ${((performance.now() - started) / 1000).toFixed(0)} s`)
  return { dir, label }
}

// ---- the run ----

/** Unit of the work per CPU-second of both processes. */
const CPU_UNIT: Record<SocketScenario, string> = {
  throughput: 'MB/CPU-s',
  rate: 'msgs/CPU-s',
  rtt: 'round trips/CPU-s',
  'rtt-awake': 'round trips/CPU-s',
  conns: 'conns/CPU-s',
  fanout: 'deliveries/CPU-s',
  vote: 'votes/CPU-s',
}
const speed = (s: SocketScenario, v: number) => (SCENARIOS[s].higherIsBetter ? v : 1 / v)
const pct = (x: number) => `${(x * 100).toFixed(1)}%`
const failures: string[] = []
/** Every compared line's windows (speeds) and verdict, written to .gate/last-run.json. */
const record: object[] = []
let candidateRan = true
const say = (line: string) => {
  console.log(line)
  if (line.startsWith('FAIL')) failures.push(line)
}

/**
 * Open sessions at once; one that fails is tried twice more (the workers pick free ports, bound then
 * released, and another session starting at the same time can take one first: EADDRINUSE).
 */
async function sessions(s: SocketScenario, c: Candidate, envs: Record<string, string>[]): Promise<(Session | Error)[]> {
  const open = async (env: Record<string, string>): Promise<Session | Error> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await openSession(s, c, env)
      } catch (e) {
        if (attempt === 3) return e instanceof Error ? e : new Error(String(e))
        await sleep(300 * attempt)
      }
    }
  }
  return Promise.all(envs.map(open))
}

async function rawFigure(s: SocketScenario): Promise<number | undefined> {
  let raw: Session | undefined
  try {
    raw = await openSession(s, 'raw-tcp')
    await raw.window(cfg.sessionWarmupS, 0)
    const values: number[] = []
    for (let i = 0; i < cfg.rawWindows; i++) values.push((await raw.window(cfg.windowWarmupS, cfg.windowS)).value)
    return median(values)
  } catch (e) {
    console.log(`info ${s}: raw-tcp not measured (${e instanceof Error ? e.message : String(e)})`)
    return undefined
  } finally {
    await raw?.close()
  }
}

function rawLine(s: SocketScenario, name: string, value: number, raw: number | undefined) {
  if (raw === undefined || !(value > 0)) return
  const unit = SCENARIOS[s].unit
  const ratio = speed(s, value) / speed(s, raw)
  console.log(`info ${s} ${name}: vs raw-tcp = ${ratio.toFixed(3)} (quorumnet ${fmt(value, unit)} ${unit}, raw-tcp ${fmt(raw, unit)} ${unit}; informational)`)
}

/** Candidate only (no baseline): a few windows and the ratios to raw TCP. */
async function informational(s: SocketScenario, c: Candidate, raw: number | undefined, why: string) {
  const name = BACKEND[c]!
  const unit = SCENARIOS[s].unit
  const [cand] = await sessions(s, c, [{ E2E_QUORUMNET_ROOT: ROOT }])
  if (cand instanceof Error) {
    candidateRan = false
    return say(`FAIL ${s} ${name}: the candidate did not run (${cand.message})`)
  }
  try {
    await cand!.window(cfg.sessionWarmupS, 0)
    const values: number[] = []
    for (let i = 0; i < 3; i++) values.push((await cand!.window(cfg.windowWarmupS, cfg.windowS)).value)
    const m = median(values)
    say(`info ${s} ${name}: candidate ${fmt(m, unit)} ${unit} (not compared: ${why})`)
    rawLine(s, name, m, raw)
  } catch (e) {
    candidateRan = false
    say(`FAIL ${s} ${name}: the candidate did not run (${e instanceof Error ? e.message : String(e)})`)
  } finally {
    await cand!.close()
  }
}

async function compare(s: SocketScenario, c: Candidate, base: string, raw: number | undefined) {
  const name = BACKEND[c]!
  const unit = SCENARIOS[s].unit
  const m = cfg.sessions
  const baseEnv = { E2E_QUORUMNET_ROOT: base, P2P_GATE_SLOWDOWN: '' }
  const candEnv = { E2E_QUORUMNET_ROOT: ROOT }
  /** Sessions in the order b1 c1 b2 c2 .. bm cm: even indexes baseline, odd candidate. */
  const opened = await sessions(s, c, Array.from({ length: 2 * m }, (_, i) => (i % 2 === 0 ? baseEnv : candEnv)))
  const isCand = (i: number) => i % 2 === 1
  const label = (i: number) => `${isCand(i) ? 'c' : 'b'}${(i >> 1) + 1}`
  const close = () => Promise.all(opened.map((x) => (x instanceof Error ? undefined : x.close())))
  const candFailed = opened.find((x, i) => isCand(i) && x instanceof Error) as Error | undefined
  if (candFailed) {
    await close()
    candidateRan = false
    return say(`FAIL ${s} ${name}: the candidate did not run (${candFailed.message})`)
  }
  const baseFailed = opened.find((x) => x instanceof Error) as Error | undefined
  if (baseFailed) {
    await close()
    return informational(s, c, raw, `the baseline did not run: ${baseFailed.message}`)
  }
  const live = opened as Session[]
  /** Per cycle, per session (b1 c1 .. bm cm): the figure as measured (p50 for rtt). */
  const figures: number[][] = []
  /** Per cycle, per session: the work per CPU-second. */
  const perCpu: number[][] = []
  let errors = 0
  let step = 'warm-up'
  try {
    for (const x of live) await x.window(cfg.sessionWarmupS, 0)
    for (let k = 0; k < cfg.cycles; k++) {
      const order = live.map((_, i) => i)
      if (k % 2 === 1) order.reverse()
      const value: number[] = new Array(live.length)
      const cpu: number[] = new Array(live.length)
      for (const i of order) {
        step = `${isCand(i) ? 'candidate' : 'baseline'} window (cycle ${k + 1}, ${label(i)})`
        const w = await live[i]!.window(cfg.windowWarmupS, cfg.windowS)
        value[i] = w.value
        cpu[i] = w.perCpuS
        if (isCand(i)) errors += w.errors
      }
      figures.push(value)
      perCpu.push(cpu)
    }
  } catch (e) {
    await close()
    const msg = e instanceof Error ? e.message : String(e)
    if (step.startsWith('candidate')) {
      candidateRan = false
      return say(`FAIL ${s} ${name}: the candidate failed in its ${step} (${msg})`)
    }
    return informational(s, c, raw, `the baseline failed in its ${step}: ${msg}`)
  }
  await close()
  const speeds = figures.map((w) => w.map((x) => speed(s, x)))
  const side = (rows: number[][], cand: boolean) => rows.flatMap((w) => w.filter((_, i) => isCand(i) === cand))
  const cand = side(figures, true)
  const bas = side(figures, false)
  if (![...speeds.flat(), ...perCpu.flat()].every((x) => x > 0 && Number.isFinite(x))) {
    candidateRan = false
    return say(`FAIL ${s} ${name}: a window measured nothing (candidate ${cand.map((x) => fmt(x, unit)).join(' ')}, baseline ${bas.map((x) => fmt(x, unit)).join(' ')})`)
  }
  const d = verdict(speeds, cfg.allowedSlowdown, cfg.z)
  const e = verdict(perCpu, cfg.allowedSlowdown, cfg.z)
  record.push({ scenario: s, backend: name, unit, sessions: live.map((_, i) => label(i)), figures, perCpu, speed: d, cpu: e })
  const detail = (v: Verdict) =>
    `(spread ${pct(v.spread)}: ${m} sessions per build, session sd baseline ${pct(v.sdB)}, candidate ${pct(v.sdC)}`
  say(
    `${d.fail ? 'FAIL' : 'ok  '} ${s} ${name} speed: candidate/baseline = ${d.ratio.toFixed(3)}, limit ${d.limit.toFixed(3)} ${detail(d)}; ` +
      `candidate ${fmt(median(cand), unit)} ${unit}, baseline ${fmt(median(bas), unit)} ${unit}${errors ? `; ${errors} failed sends/dials` : ''})`,
  )
  const cpuUnit = CPU_UNIT[s]
  say(
    `${e.fail ? 'FAIL' : 'ok  '} ${s} ${name} cpu: candidate/baseline = ${e.ratio.toFixed(3)}, limit ${e.limit.toFixed(3)} ${detail(e)}; ` +
      `candidate ${fmt(median(side(perCpu, true)), cpuUnit)} ${cpuUnit}, baseline ${fmt(median(side(perCpu, false)), cpuUnit)} ${cpuUnit})`,
  )
  rawLine(s, name, median(cand), raw)
}

const timing = `${cfg.sessions} sessions per build, ${cfg.cycles} cycles of one window per session of ${cfg.windowS} s (each after ${cfg.windowWarmupS} s of load)`
console.log(`benchmark gate (${file}): two processes per session, ${timing}, per scenario and backend`)
const b = baseline()
if ('reason' in b) console.log(`benchmark gate: INFORMATIONAL run, no baseline: ${b.reason}`)
else console.log(`candidate ${ROOT} (working tree) against baseline ${b.label}; FAIL when slower by more than ${pct(cfg.allowedSlowdown)} beyond the measured spread`)

for (const s of cfg.scenarios) {
  const bg = await busyShare(500)
  console.log(`\n${s}: ${SCENARIOS[s].title}${bg === undefined ? '' : ` (other work on the machine: ${(bg * 100).toFixed(0)}% CPU)`}`)
  const wake = SCENARIOS[s].awake ? keepAwake() : undefined
  try {
    const raw = await rawFigure(s)
    for (const c of cfg.backends) {
      if ('reason' in b) await informational(s, c, raw, 'no baseline')
      else await compare(s, c, b.dir, raw)
      await sleep(200)
    }
  } finally {
    wake?.()
  }
}

try {
  mkdirSync(CACHE, { recursive: true })
  writeFileSync(join(CACHE, 'last-run.json'), JSON.stringify({ config: cfg, baseline: 'reason' in b ? b.reason : b.label, slowdown: process.env.P2P_GATE_SLOWDOWN ?? '', lines: record }, null, 1))
} catch {
  // the record is for reading only
}
if ('reason' in b) {
  console.log(`\nbenchmark gate: INFORMATIONAL run in ${elapsed()} s (no baseline: ${b.reason}); ${candidateRan ? 'the candidate ran every scenario' : 'the candidate did NOT run every scenario'}`)
  process.exit(candidateRan ? 0 : 1)
}
if (failures.length > 0) {
  console.log(`\nbenchmark gate FAILED in ${elapsed()} s (${failures.length} line(s)):`)
  for (const f of failures) console.log(`  ${f}`)
  process.exit(1)
}
console.log(`\nbenchmark gate passed in ${elapsed()} s`)
process.exit(0)
