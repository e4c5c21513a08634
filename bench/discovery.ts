/**
 * discovery at validator-set scale: N authenticated nodes on the deterministic runtime in one process
 * (bench/e2e/discovery.ts: Config.test, Ed25519, one peer set of all N keys, everyone bootstrapped from
 * node 0, 10 ms links) until every node holds N - 1 connections. One child process per size, so peak
 * RSS is its own. Figures per size: wall time, virtual time, peak RSS, live heap after a full
 * collection, both per connection, and the run's digest; across sizes the exponent of wall time in N
 * (least squares on log-log) and the marginal live heap per added connection (fixed costs such as
 * code and the WebAssembly memories left out). It runs the compiled package (dist/, built first), as
 * an application would, with jemalloc preloaded when the system has it (see `allocator`).
 *
 * `npm run bench:discovery` (sizes `DISCOVERY_SIZES=100,250,500,1000`, the default; a size that does not
 * finish within `DISCOVERY_BUDGET_S`, 900 s, is reported as such and larger sizes are skipped); writes
 * bench/results/discovery.json and discovery.md.
 * `npm run bench:discovery -- --gate`: the regression check at N = 100, run twice: fails (exit 1) when
 * the two digests differ or the live heap per connection exceeds `GATE_MAX_HEAP_PER_CONN_KB`. Live heap
 * after a forced collection on the deterministic runtime is nearly the same from run to run, so a fixed
 * ceiling is a stable check (unlike a speed figure).
 */
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const CHILD = fileURLToPath(new URL('./e2e/discovery.ts', import.meta.url))
const RESULTS = fileURLToPath(new URL('./results', import.meta.url))
/** Live heap per connection allowed at N = 100 (4,950 connections): about 1.25x the 12.7 KB it measured. */
const GATE_MAX_HEAP_PER_CONN_KB = 16
const GATE_N = 100

/**
 * The allocator of the child: jemalloc when the system has it (Debian's libjemalloc2, which .ci/run
 * installs), since a large simulation spends most of its memory outside the V8 heap in malloc and
 * glibc's arenas keep far more of it resident (N = 1,000: 8.8 GB peak with glibc, 7.3 GB and 18% less
 * time with jemalloc, same digest). `DISCOVERY_ALLOCATOR=system` keeps the default one; another value
 * is the path of a shared library to preload.
 */
function allocator(): { name: string; env: Record<string, string> } {
  const wanted = process.env.DISCOVERY_ALLOCATOR ?? 'jemalloc'
  if (wanted === 'system' || process.platform !== 'linux') return { name: 'system malloc', env: {} }
  const candidates = wanted === 'jemalloc' ? ['/usr/lib/x86_64-linux-gnu/libjemalloc.so.2', '/usr/lib/aarch64-linux-gnu/libjemalloc.so.2', '/usr/lib64/libjemalloc.so.2', '/usr/lib/libjemalloc.so.2'] : [wanted]
  const lib = candidates.find((c) => existsSync(c))
  if (!lib) {
    if (wanted !== 'jemalloc') throw new Error(`DISCOVERY_ALLOCATOR: ${wanted} does not exist`)
    return { name: 'system malloc (no libjemalloc.so.2 found)', env: {} }
  }
  const preload = [process.env.LD_PRELOAD, lib].filter(Boolean).join(' ')
  return { name: lib.includes('jemalloc') ? 'jemalloc' : lib, env: { LD_PRELOAD: preload } }
}
const ALLOCATOR = allocator()

interface Row {
  n: number
  connections: number
  virtualMs: number
  wallS: number
  peakRssMB: number
  liveHeapMB: number
  heapPerConnKB: number
  rssPerConnKB: number
  digest: string
  backend: string
}

function runOne(n: number, budgetS: number): Promise<Row | string> {
  return new Promise((resolve) => {
    const env = { ...process.env, ...ALLOCATOR.env, DISCOVERY_LIB: 'dist' }
    const child = spawn(process.execPath, ['--expose-gc', '--max-old-space-size=16000', '--max-semi-space-size=64', '--import', 'tsx', CHILD, String(n)], { env, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let last = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => {
      last = d.toString().trim().split('\n').at(-1) ?? last
      process.stderr.write(d)
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), budgetS * 1000)
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      try {
        resolve(JSON.parse(out.trim().split('\n').at(-1)!) as Row)
      } catch {
        resolve(signal === 'SIGKILL' ? `did not finish within ${budgetS} s (last progress: ${last})` : `exited ${code ?? signal}: ${last}`)
      }
    })
  })
}

/** Slope of log(y) on log(x), least squares. */
function exponent(xs: number[], ys: number[]): number {
  const lx = xs.map(Math.log)
  const ly = ys.map(Math.log)
  const mx = lx.reduce((a, b) => a + b, 0) / lx.length
  const my = ly.reduce((a, b) => a + b, 0) / ly.length
  let num = 0
  let den = 0
  for (let i = 0; i < lx.length; i++) {
    num += (lx[i]! - mx) * (ly[i]! - my)
    den += (lx[i]! - mx) ** 2
  }
  return num / den
}

async function gate(): Promise<void> {
  const a = await runOne(GATE_N, 300)
  const b = await runOne(GATE_N, 300)
  if (typeof a === 'string' || typeof b === 'string') {
    console.log(`discovery gate: FAIL: ${typeof a === 'string' ? a : b}`)
    process.exitCode = 1
    return
  }
  const failures = [
    ...(a.digest === b.digest ? [] : [`the replay gave another digest (${a.digest.slice(0, 12)} vs ${b.digest.slice(0, 12)})`]),
    ...(a.heapPerConnKB > GATE_MAX_HEAP_PER_CONN_KB ? [`live heap ${a.heapPerConnKB} KB per connection > ${GATE_MAX_HEAP_PER_CONN_KB} KB`] : []),
  ]
  const what = `n=${GATE_N}, ${ALLOCATOR.name}: wall ${a.wallS.toFixed(1)} s, live heap ${a.heapPerConnKB} KB and peak RSS ${a.rssPerConnKB} KB per connection, digest ${a.digest.slice(0, 12)} twice`
  console.log(failures.length ? `discovery gate: FAIL: ${failures.join('; ')} (${what})` : `discovery gate: pass (${what})`)
  if (failures.length) process.exitCode = 1
}

async function full(): Promise<void> {
  const sizes = (process.env.DISCOVERY_SIZES ?? '100,250,500,1000').split(',').map(Number)
  const budget = Number(process.env.DISCOVERY_BUDGET_S ?? 900)
  const rows: Row[] = []
  const missed: string[] = []
  for (const n of sizes) {
    const r = await runOne(n, budget)
    if (typeof r === 'string') {
      missed.push(`n=${n}: ${r}`)
      console.log(`n=${n}: ${r}`)
      break
    }
    rows.push(r)
    console.log(JSON.stringify({ ...r, allocator: ALLOCATOR.name }))
  }
  const exp = rows.length >= 2 ? exponent(rows.map((r) => r.n), rows.map((r) => r.wallS)) : NaN
  const first = rows[0]
  const lastRow = rows.at(-1)
  const marginalKB = first && lastRow && lastRow !== first ? ((lastRow.liveHeapMB - first.liveHeapMB) * 1024) / (lastRow.connections - first.connections) : NaN
  const md = [
    '# discovery at validator-set scale (deterministic runtime, one process)',
    '',
    `${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${cpus()[0]?.model ?? '?'} x ${cpus().length}, ${rows[0]?.backend ?? '?'} backend, ${ALLOCATOR.name}; \`npm run bench:discovery\` (bench/discovery.ts).`,
    'N nodes (Config.test, Ed25519, one peer set of all N keys, all bootstrapped from node 0, 10 ms links) until every node holds N - 1 connections.',
    'The compiled package (dist/). Live heap: `heapUsed` after a forced full collection with every node still running. Per connection: over N (N - 1) / 2 connections, both ends counted.',
    '',
    '| N | connections | wall | virtual | peak RSS | RSS / conn | live heap | heap / conn | digest |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---|',
    ...rows.map((r) => `| ${r.n} | ${r.connections} | ${r.wallS.toFixed(1)} s | ${(r.virtualMs / 1000).toFixed(2)} s | ${r.peakRssMB.toFixed(0)} MB | ${r.rssPerConnKB} KB | ${r.liveHeapMB.toFixed(0)} MB | ${r.heapPerConnKB} KB | ${r.digest.slice(0, 12)} |`),
    ...missed.map((m) => `| ${m} |`),
    '',
    `Wall time grows as N^${exp.toFixed(2)} (least squares over the sizes above); marginal live heap ${marginalKB.toFixed(1)} KB per added connection.`,
    '',
  ].join('\n')
  mkdirSync(RESULTS, { recursive: true })
  writeFileSync(join(RESULTS, 'discovery.json'), JSON.stringify({ date: new Date().toISOString(), allocator: ALLOCATOR.name, rows, missed, wallExponent: exp, marginalHeapPerConnKB: marginalKB }, null, 2) + '\n')
  writeFileSync(join(RESULTS, 'discovery.md'), md)
  console.log('\n' + md)
}

/** The suite (`npm run bench -- discovery`); the gate with `gate: true`. */
export async function run(opts: { gate?: boolean } = {}): Promise<void> {
  // The compiled package, as an application runs it (bench/e2e/discovery.ts, DISCOVERY_LIB=dist).
  const built = spawnSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' })
  if (built.status !== 0) throw new Error('npm run build failed')
  if (opts.gate) await gate()
  else await full()
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await run({ gate: process.argv.includes('--gate') })
  process.exit(process.exitCode ?? 0)
}
