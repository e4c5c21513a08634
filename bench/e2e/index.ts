/**
 * `npm run bench:e2e`: the end-to-end benchmark. Every scenario runs over 127.0.0.1 with the sender
 * and the receiver in separate child processes, then in one child process, for each candidate:
 * quorumnet (native and fallback backends), raw node:net (the ceiling), js-libp2p, secret-stream and
 * the Rust commonware-p2p 0.0.25 node; then discovery on the deterministic runtime. Writes
 * bench/results/e2e.json, e2e.md and e2e-*.svg.
 *
 * Usage: `bench/e2e/index.ts [scenario ...] [--candidates a,b] [--modes two-process] [--no-discovery]`;
 * `--from-json bench/results/e2e.json` renders the tables and charts of a past run again.
 * Environment: E2E_WARMUP_S (2), E2E_SECONDS (window, 2), E2E_REPS (windows, 5), E2E_DISCOVERY (sizes,
 * "100"; the sizes up to 1,000 are `npm run bench:discovery`), E2E_DISCOVERY_FIT (sizes tried, largest first, when one does not fit: "400,300,200"),
 * E2E_DISCOVERY_BUDGET_S (wall-clock budget per discovery run, 300), E2E_QUIET_WAIT_S (how long a run
 * waits for other work on the machine to settle, 120), E2E_CPU_PROF (directory for CPU profiles).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { CANDIDATES, CONN_CONCURRENCY, FANOUT_PEERS, SCENARIOS, type Candidate, type SocketScenario } from './common.js'
import { charts, fmt, markdown, newReport, projection, targets, type Report } from './report.js'
import { runDiscovery, runSocket, type Mode, type Result, type Timing } from './run.js'

export const RESULTS = join(import.meta.dirname, '..', 'results')
const BASELINES = join(import.meta.dirname, 'node_modules')

export const METHOD = [
  'Two-process: the listening side and the dialing side are separate child processes (node --import tsx bench/e2e/worker.ts; the Rust node is one process per node); one-process: both sides in one child. Loopback TCP, Nagle off everywhere.',
  'Streaming scenarios: the sender sends back to back and waits only when the candidate pushes back; the receiver counts messages delivered to the application, on its own clock, over consecutive windows.',
  'rtt: one 100 B request outstanding; the client times each echo (performance.now). conns: ' + `${CONN_CONCURRENCY}` + ' dial loops at once, each with its own identity; a connection counts once its handshake completed at the dialer (peer key checked), then it is closed.',
  `fanout: one node sends each 1 KiB message to ${FANOUT_PEERS} peers (quorumnet: one Recipients.all() send; the others: one write per connection); all ${FANOUT_PEERS} receivers live in the other process; figure = deliveries summed over receivers.`,
  'vote: two dialing identities in one process, each with its own connection to the listening node: one sends 1 KiB messages back to back, the other a 16 B vote every 10 ms carrying its send time (performance.timeOrigin + performance.now(): one clock for every process of the machine); the listener records each vote\'s latency (p50 is the figure, p99 beside it). Shows whether a flooding peer delays another peer\'s messages.',
  'quorumnet: the authenticated Network (Config.test, one channel, quota high enough never to throttle, backlog 1024), driven through sender.send(Recipients.one(peer), msg, { transfer: true }) awaited per message (the message handed over, not copied: the harness never modifies a sent message); mailboxSize 64 for 1 MiB messages (the preset\'s 1,000 queues up to 1 GB per peer, sealed as one batch), 1,000 otherwise. conns uses the network\'s own handshake (quorumnet/stream: signed Ed25519 + X25519, both keys verified), since a Network dials on its own schedule.',
  'raw-tcp: node:net, 4-byte length prefix, writes of one tick corked into one writev, no encryption or authentication (the ceiling); its conns is the TCP handshake alone.',
  'libp2p: js-libp2p 3 (TCP + noise + yamux, no other service), one yamux stream with 4-byte length-prefixed messages, back-pressure on the drain event; inbound connection threshold, pending-connection and connection limits raised; Promise.withResolvers polyfilled for Node 20.',
  'secret-stream: @hyperswarm/secret-stream over node:net (allowHalfOpen on both ends), one message per write; keys checked after the noise XX handshake.',
  'rust-commonware: interop/src/bin/p2p_node.rs (commonware-p2p 0.0.25 on tokio, 2 worker threads per process, --tcp-nodelay true) in its benchmark mode; no connection scenario (its network dials on its own schedule).',
  'discovery: N quorumnet nodes on the deterministic runtime (Config.test, 10 ms links, all bootstrapped from node 0), in a child process; virtual time until every node has N - 1 connections, wall time, peak RSS.',
]

function args(argv: string[]) {
  const scenarios = argv.filter((a) => !a.startsWith('--') && a in SCENARIOS) as SocketScenario[]
  const opt = (name: string) => {
    const i = argv.indexOf(name)
    return i >= 0 ? argv[i + 1] : undefined
  }
  return {
    scenarios: scenarios.length ? scenarios : (Object.keys(SCENARIOS) as SocketScenario[]),
    candidates: (opt('--candidates')?.split(',') as Candidate[] | undefined) ?? CANDIDATES,
    modes: (opt('--modes')?.split(',') as Mode[] | undefined) ?? (['two-process', 'one-process'] as Mode[]),
    discovery: !argv.includes('--no-discovery'),
  }
}

export function timingFromEnv(defaults: Timing): Timing {
  return {
    warmupS: Number(process.env.E2E_WARMUP_S ?? defaults.warmupS),
    seconds: Number(process.env.E2E_SECONDS ?? defaults.seconds),
    reps: Number(process.env.E2E_REPS ?? defaults.reps),
  }
}

/** Why a baseline of bench/e2e/package.json cannot run, if it is not installed. */
export function notInstalled(c: Candidate): string | undefined {
  const pkg = c === 'libp2p' ? 'libp2p' : c === 'secret-stream' ? '@hyperswarm/secret-stream' : undefined
  if (pkg && !existsSync(join(BASELINES, pkg))) return `${pkg} not installed (npm run bench:e2e:install)`
  return undefined
}

function line(r: Result): string {
  const name = `${r.scenario}/${r.candidate}/${r.mode}`.padEnd(44)
  if (r.discovery && !r.reason) return `${name} n=${r.discovery.n}: virtual ${(r.discovery.virtualMs / 1000).toFixed(2)} s, wall ${r.discovery.wallS.toFixed(1)} s, peak RSS ${r.discovery.peakRssMB.toFixed(0)} MB`
  if (!r.figure) return `${name} not run: ${r.reason}`
  const f = r.figure
  const p99 = r.p99 ? `, p99 ${fmt(r.p99.median, 'us')}` : ''
  return `${name} ${fmt(f.median, r.unit)} ${r.unit} (${fmt(f.min, r.unit)}..${fmt(f.max, r.unit)})${p99}${r.errors ? ` [${r.errors} errors]` : ''}`
}

async function discovery(report: Report): Promise<void> {
  const budget = Number(process.env.E2E_DISCOVERY_BUDGET_S ?? 300)
  const sizes = (process.env.E2E_DISCOVERY ?? '100').split(',').map(Number)
  const fit = (process.env.E2E_DISCOVERY_FIT ?? '400,300,200').split(',').map(Number)
  const push = (r: Result) => {
    report.results.push(r)
    console.log(line(r))
  }
  let failed = false
  for (const n of sizes) {
    const r = await runDiscovery(n, 'quorumnet-native', budget)
    push(r)
    failed ||= r.reason !== undefined
  }
  if (failed) {
    // The largest size that fits the budget.
    for (const n of fit) {
      if (report.results.some((x) => x.discovery?.n === n)) continue
      const r = await runDiscovery(n, 'quorumnet-native', budget)
      push(r)
      if (!r.reason) break
    }
  }
  push(await runDiscovery(sizes[0]!, 'quorumnet-fallback', budget))
  const p = projection(report)
  if (p) console.log(p)
}

/** Write the JSON, the Markdown and the charts of `report` into RESULTS. */
function write(report: Report, scenarios: SocketScenario[]): void {
  mkdirSync(RESULTS, { recursive: true })
  writeFileSync(join(RESULTS, 'e2e.json'), JSON.stringify({ ...report, targets: targets(report) }, null, 2) + '\n')
  writeFileSync(join(RESULTS, 'e2e.md'), markdown(report, scenarios))
  const svgs = charts(report, scenarios, RESULTS)
  console.log(`\nwrote ${join(RESULTS, 'e2e.json')}, e2e.md and ${svgs.length} charts`)
}

export async function main(argv: string[]): Promise<Report> {
  const a = args(argv)
  const from = argv.indexOf('--from-json')
  if (from >= 0) {
    // Render the tables and charts again from a run's JSON (no measurement).
    const report = JSON.parse(readFileSync(argv[from + 1]!, 'utf8')) as Report & { targets?: unknown }
    delete report.targets
    write(report, a.scenarios.filter((s) => report.results.some((r) => r.scenario === s)))
    return report
  }
  const timing = timingFromEnv({ warmupS: 2, seconds: 2, reps: 5 })
  const report = newReport('quorumnet end-to-end benchmark', timing, METHOD)
  const m = report.machine
  console.log(`quorumnet e2e benchmark: ${m.cpu}, ${m.cores} cores, Node ${m.node}; warm-up ${timing.warmupS} s, ${timing.reps} windows of ${timing.seconds} s`)
  const t0 = performance.now()
  for (const s of a.scenarios) {
    for (const mode of a.modes) {
      for (const c of a.candidates) {
        const missing = notInstalled(c)
        const r: Result = missing ? { scenario: s, mode, candidate: c, unit: SCENARIOS[s].unit, reason: missing } : await runSocket(s, c, mode, timing)
        report.results.push(r)
        console.log(line(r))
      }
    }
  }
  if (a.discovery) await discovery(report)
  console.log(`\nmeasured in ${((performance.now() - t0) / 1000).toFixed(0)} s`)
  write(report, a.scenarios)
  console.log('\ntargets (two processes, native):')
  for (const t of targets(report)) console.log(`  ${t.name}: ${t.measured}: ${t.met === undefined ? 'not measured' : t.detail}`)
  return report
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await main(process.argv.slice(2))
  process.exit(0)
}
