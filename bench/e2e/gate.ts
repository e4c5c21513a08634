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
 * ## Windows
 * For every scenario and backend, three sessions are set up (workers started, connected): two of the
 * baseline (B1, B2: separate processes, so the spread includes what differs between two processes of
 * the same code) and one of the candidate (C). Each session is warmed up once, then windows run one at
 * a time in the order B1 C B2 C B1 C ... B (`pairs` candidate windows, `pairs + 1` baseline windows);
 * each window runs the load `windowWarmupS` unmeasured, then measures `windowS`. Figures are turned
 * into speeds, bigger is better (1 / p50 for the round trip).
 *
 * ## Rule
 * With baseline windows b_0..b_n and candidate windows c_1..c_n (n = `pairs`), in natural logs:
 * - paired ratio r_i = c_i / sqrt(b_(i-1) * b_i): the candidate against the two baseline windows
 *   around it (so a drift of the machine cancels); R = median(r_i), the reported candidate/baseline;
 * - baseline/baseline q_j = b_j / sqrt(b_(j-1) * b_(j+1)) for j = 1..n-1 (each b_j against the other
 *   baseline session's windows around it); Q = median(q_j): what the gate measures between two builds
 *   of the same code in this run;
 * - window noise s = 1.4826 * MAD of all ln r_i and ln q_j (each around its own median);
 * - spread S = |ln Q| + z * 1.2533 * s / sqrt(n) (z = `z`): the baseline's disagreement with itself
 *   plus z standard errors of a median of n windows;
 * - FAIL when ln R < ln(1 - allowedSlowdown) - S, that is, when the candidate is slower than the
 *   baseline by more than 10% beyond the spread measured in the same run.
 * A candidate session that cannot start or run a window also fails. Lines `vs raw-tcp` give
 * quorumnet / raw TCP in the same run for reading only; they never fail.
 *
 * ## Without a baseline
 * When the ref does not resolve (a shallow clone) or the baseline does not build, one line says so and
 * the run is informational: the candidate's figures and ratios to raw TCP, exit status 0 when every
 * candidate session ran, 1 otherwise. A baseline session that cannot run makes only that line
 * informational.
 *
 * Exit status: 0 when no line fails, 1 otherwise; the failing lines are repeated at the end.
 */
import { spawnSync } from 'node:child_process'
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { median, SCENARIOS, sleep, type Candidate, type SocketScenario } from './common.js'
import { fmt } from './report.js'
import { busyShare, keepAwake, openSession, type Session } from './run.js'

interface GateConfig {
  scenarios: SocketScenario[]
  backends: Candidate[]
  /** The slowdown allowed beyond the measured spread (0.1: 10%). */
  allowedSlowdown: number
  /** Standard errors of the median added to the spread. */
  z: number
  /** Candidate windows per scenario and backend. */
  pairs: number
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
// For trying the gate: GATE_SCENARIOS=rate,conns runs some scenarios, GATE_PAIRS=n sets the windows.
if (process.env.GATE_SCENARIOS) cfg.scenarios = process.env.GATE_SCENARIOS.split(',') as SocketScenario[]
if (process.env.GATE_PAIRS) cfg.pairs = Math.max(2, Number(process.env.GATE_PAIRS) | 0)
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
    const last = readFileSync(log, 'utf8').trim().split('\n').filter((l) => l.trim()).at(-1) ?? ''
    return { reason: `npm install of ${sha.slice(0, 10)} failed (status ${installed.status}; ${log}: ${last.slice(0, 160)})` }
  }
  writeFileSync(done, `${sha}\n`)
  console.log(`baseline built in ${((performance.now() - started) / 1000).toFixed(0)} s`)
  return { dir, label }
}

// ---- statistics (natural logs of speeds) ----

interface Verdict {
  /** Median candidate/baseline speed. */
  ratio: number
  /** Median baseline/baseline speed. */
  self: number
  /** Window noise (log). */
  noise: number
  /** Spread S (log). */
  spread: number
  /** Lowest passing ratio. */
  limit: number
  fail: boolean
}

function verdict(b: number[], c: number[]): Verdict {
  const lb = b.map(Math.log)
  const lc = c.map(Math.log)
  const n = lc.length
  const r = lc.map((x, i) => x - (lb[i]! + lb[i + 1]!) / 2)
  const q: number[] = []
  for (let j = 1; j < lb.length - 1; j++) q.push(lb[j]! - (lb[j - 1]! + lb[j + 1]!) / 2)
  const lr = median(r)
  const lq = q.length > 0 ? median(q) : 0
  const dev = [...r.map((x) => Math.abs(x - lr)), ...q.map((x) => Math.abs(x - lq))]
  const noise = 1.4826 * median(dev)
  const spread = Math.abs(lq) + (cfg.z * 1.2533 * noise) / Math.sqrt(n)
  const limit = Math.log(1 - cfg.allowedSlowdown) - spread
  return { ratio: Math.exp(lr), self: Math.exp(lq), noise, spread, limit: Math.exp(limit), fail: lr < limit }
}

// ---- the run ----

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

async function sessions(s: SocketScenario, c: Candidate, envs: Record<string, string>[]): Promise<(Session | Error)[]> {
  const opened = await Promise.allSettled(envs.map((env) => openSession(s, c, env)))
  return opened.map((o) => (o.status === 'fulfilled' ? o.value : o.reason instanceof Error ? o.reason : new Error(String(o.reason))))
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
  const baseEnv = { E2E_QUORUMNET_ROOT: base, P2P_GATE_SLOWDOWN: '' }
  const candEnv = { E2E_QUORUMNET_ROOT: ROOT }
  const opened = await sessions(s, c, [baseEnv, candEnv, baseEnv, candEnv])
  const [b1, c1, b2, c2] = opened
  const close = () => Promise.all(opened.map((x) => (x instanceof Error ? undefined : x!.close())))
  if (c1 instanceof Error || c2 instanceof Error) {
    await close()
    candidateRan = false
    return say(`FAIL ${s} ${name}: the candidate did not run (${((c1 instanceof Error ? c1 : c2) as Error).message})`)
  }
  if (b1 instanceof Error || b2 instanceof Error) {
    const why = `the baseline did not run: ${((b1 instanceof Error ? b1 : b2) as Error).message}`
    await close()
    return informational(s, c, raw, why)
  }
  const b: number[] = []
  const v: number[] = []
  let errors = 0
  let step = 'warm-up'
  try {
    for (const x of [b1!, c1!, b2!, c2!]) await x.window(cfg.sessionWarmupS, 0)
    const baseWindow = async (i: number) => {
      step = `baseline window ${i}`
      const w = await (i % 2 === 0 ? b1! : b2!).window(cfg.windowWarmupS, cfg.windowS)
      b.push(speed(s, w.value))
    }
    for (let i = 0; i < cfg.pairs; i++) {
      await baseWindow(i)
      step = `candidate window ${i}`
      const w = await (i % 2 === 0 ? c1! : c2!).window(cfg.windowWarmupS, cfg.windowS)
      v.push(w.value)
      errors += w.errors
    }
    await baseWindow(cfg.pairs)
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
  const cs = v.map((x) => speed(s, x))
  if (!cs.every((x) => x > 0 && Number.isFinite(x)) || !b.every((x) => x > 0 && Number.isFinite(x))) {
    candidateRan = false
    return say(`FAIL ${s} ${name}: a window measured nothing (candidate ${v.map((x) => fmt(x, unit)).join(' ')})`)
  }
  const d = verdict(b, cs)
  record.push({ scenario: s, backend: name, baseline: b, candidate: cs, ...d })
  const toFigure = (x: number) => (SCENARIOS[s].higherIsBetter ? x : 1 / x)
  say(
    `${d.fail ? 'FAIL' : 'ok  '} ${s} ${name}: candidate/baseline = ${d.ratio.toFixed(3)}, limit ${d.limit.toFixed(3)} ` +
      `(spread ${pct(d.spread)}: baseline/baseline ${d.self.toFixed(3)}, window noise ${pct(d.noise)}; ${cfg.pairs} pairs; ` +
      `candidate ${fmt(median(v), unit)} ${unit}, baseline ${fmt(toFigure(median(b)), unit)} ${unit}${errors ? `; ${errors} failed sends/dials` : ''})`,
  )
  rawLine(s, name, median(v), raw)
}

const timing = `${cfg.pairs} candidate and ${cfg.pairs + 1} baseline windows of ${cfg.windowS} s (each after ${cfg.windowWarmupS} s of load)`
console.log(`benchmark gate (${file}): two processes per session, ${timing} per scenario and backend`)
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
