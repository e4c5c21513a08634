/**
 * simulated::broadcast: the simulated network at validator-set scale. N peers, fully linked (50 ms
 * latency, 10 ms jitter), each broadcasting 10 messages of 1 KiB with `Recipients.all()` (N x 10 x
 * (N - 1) deliveries), every peer reading all it is sent, on the deterministic runtime with the
 * network's default trace (the latest 100,000 events). Figures per size: wall time, link setup time
 * (N x (N - 1) `addLink` calls), deliveries per wall-clock second, peak RSS of the process and the
 * virtual time. Each size runs in its own child process so that peak RSS is its own; the smallest size
 * runs twice and must give the same digest.
 *
 * Baseline in the same run: the smallest size's number of deliveries as bare sleeps on the runtime's
 * timer queue (one timer per delivery), to show what batching deliveries per virtual time buys.
 *
 * `npm run bench -- simulated` or `npm run bench:sim` (sizes: `SIM_PEERS=100,300,1000`, the default),
 * plus 300 peers x 30 broadcasts (three times the deliveries, the same number in flight: peak RSS
 * should stay put) and the largest size with the trace off.
 * `npm run bench:sim -- --gate`: the regression check, 300 peers only; fails (exit 1) when the run
 * is not reproducible, uses more than `GATE_MAX_RSS_MB` of peak RSS, or delivers fewer than
 * `GATE_MIN_RATIO` times the deliveries per second of the bare timer queue in the same run.
 */
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { Ed25519 } from '../src/crypto/index.js'
import { DeterministicRuntime } from '../src/runtime/index.js'
import { Recipients, SimulatedNetwork, type TraceOptions } from '../src/simulated/index.js'

const ROUNDS = 10
const SIZE = 1024
/** Peak RSS allowed for 300 peers x 10 broadcasts (897,000 deliveries); about 2x what it measured. */
const GATE_MAX_RSS_MB = 400
/** Deliveries per second at least this many times the bare timer queue's in the same run. */
const GATE_MIN_RATIO = 2

interface Figures {
  peers: number
  rounds: number
  trace: string
  deliveries: number
  wallS: number
  linkSetupS: number
  deliveriesPerS: number
  peakRssMB: number
  virtualMs: number
  digest: string
}

/** One size, in this process: returns its figures (peak RSS is this process's so far). */
async function measure(peers: number, rounds: number, trace: TraceOptions): Promise<Figures> {
  const keys = Array.from({ length: peers }, (_, i) => Ed25519.fromSeed(9000 + i).publicKey)
  const rt = new DeterministicRuntime({ seed: 1, startMs: 0 })
  const t0 = performance.now()
  let linkSetup = 0
  const { received, digest, virtualMs } = await rt.run(async (ctx) => {
    const { network, oracle } = SimulatedNetwork.create(ctx, { trace })
    const chans = keys.map((k) => oracle.register(k, 0, 4096))
    const l0 = performance.now()
    for (const a of keys) for (const b of keys) if (a !== b) oracle.addLink(a, b, { latencyMs: 50, jitterMs: 10, successRate: 1 })
    linkSetup = performance.now() - l0
    const msg = new Uint8Array(SIZE).fill(1)
    let received = 0
    const readers = chans.map(async ([, rx]) => {
      for (let i = 0; i < rounds * (peers - 1); i++) {
        await rx.recv()
        received++
      }
    })
    for (let r = 0; r < rounds; r++) {
      for (const [tx] of chans) await tx.send(Recipients.all(), msg)
      await ctx.sleep(100)
    }
    await Promise.all(readers)
    return { received, digest: network.digest(), virtualMs: ctx.now() }
  })
  const wall = (performance.now() - t0) / 1000
  return {
    peers,
    rounds,
    trace: trace.limit === 0 ? 'off' : 'default',
    deliveries: received,
    wallS: wall,
    linkSetupS: linkSetup / 1000,
    deliveriesPerS: received / wall,
    peakRssMB: process.resourceUsage().maxRSS / 1024,
    virtualMs,
    digest,
  }
}

/** Run one size in a child process (so its peak RSS is its own). */
function child(peers: number, traceOff: boolean, rounds = ROUNDS): Figures {
  const file = fileURLToPath(import.meta.url)
  const r = spawnSync(process.execPath, ['--import', 'tsx', file, '--child', String(peers), String(rounds), traceOff ? 'off' : 'default'], { encoding: 'utf8', maxBuffer: 1 << 20 })
  const line = r.stdout.trim().split('\n').at(-1) ?? ''
  if (r.status !== 0 || !line.startsWith('{')) throw new Error(`simulated bench child (peers=${peers}) failed: ${r.stderr || r.stdout}`)
  return JSON.parse(line) as Figures
}

/** The baseline: `n` deliveries as bare sleeps on the timer queue; deliveries per second. */
async function timerQueue(n: number): Promise<number> {
  const rt = new DeterministicRuntime({ seed: 1 })
  const t0 = performance.now()
  await rt.run(async (ctx) => {
    await Promise.all(Array.from({ length: n }, (_, i) => ctx.sleep(50 + (i % 20))))
  })
  return n / ((performance.now() - t0) / 1000)
}

const load = async (): Promise<string> => {
  const { loadavg } = await import('node:os')
  return loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')
}

export async function run(opts: { gate?: boolean } = {}): Promise<Record<string, unknown>[]> {
  const sizes = opts.gate ? [300] : (process.env.SIM_PEERS ?? '100,300,1000').split(',').map(Number)
  const rows: Record<string, unknown>[] = []
  const results: Figures[] = []
  for (const peers of sizes) {
    const before = await load()
    const f = child(peers, false)
    results.push(f)
    rows.push(row(f, before))
  }
  const smallest = results[0]!
  const again = child(smallest.peers, false)
  if (!opts.gate) {
    // Three times the deliveries at the same number in flight: peak RSS should not follow them.
    const longer = await load()
    rows.push(row(child(sizes.includes(300) ? 300 : smallest.peers, false, 3 * ROUNDS), longer))
    const off = await load()
    rows.push(row(child(sizes.at(-1)!, true), off))
  }
  const before = await load()
  const base = await timerQueue(smallest.deliveries)
  rows.push({
    scenario: `simulated::broadcast/peers=${smallest.peers} rounds=${ROUNDS}`,
    candidate: 'timer queue only',
    deliveries: smallest.deliveries,
    'deliveries/s': Math.round(base),
    'load (1/5/15 min)': before,
  })
  console.log(`\n## simulated network: N peers x R broadcasts of ${SIZE} B each, fully linked (one child process per row)`)
  console.table(rows.map((r) => ({ ...r, 'x timer queue': ((r['deliveries/s'] as number) / base).toFixed(2) })))
  const reproducible = again.digest === smallest.digest
  console.log(`replay of peers=${smallest.peers} from the same seed: ${reproducible ? 'same digest' : 'DIFFERENT digest'} (${smallest.digest.slice(0, 16)})`)
  if (opts.gate) {
    const ratio = smallest.deliveriesPerS / base
    const failures = [
      ...(reproducible ? [] : ['the replay gave another digest']),
      ...(smallest.peakRssMB > GATE_MAX_RSS_MB ? [`peak RSS ${smallest.peakRssMB.toFixed(0)} MB > ${GATE_MAX_RSS_MB} MB`] : []),
      ...(ratio < GATE_MIN_RATIO ? [`${ratio.toFixed(2)}x the timer queue < ${GATE_MIN_RATIO}x`] : []),
    ]
    console.log(failures.length ? `simulated gate: FAIL: ${failures.join('; ')}` : `simulated gate: pass (${ratio.toFixed(2)}x the timer queue, peak RSS ${smallest.peakRssMB.toFixed(0)} MB)`)
    if (failures.length) process.exitCode = 1
  } else if (!reproducible) {
    process.exitCode = 1
  }
  return rows
}

function row(f: Figures, load: string): Record<string, unknown> {
  return {
    scenario: `simulated::broadcast/peers=${f.peers} rounds=${f.rounds}`,
    candidate: `simulated network (trace ${f.trace})`,
    deliveries: f.deliveries,
    'wall s': Number(f.wallS.toFixed(2)),
    'link setup s': Number(f.linkSetupS.toFixed(2)),
    'deliveries/s': Math.round(f.deliveriesPerS),
    'peak RSS MB': Math.round(f.peakRssMB),
    'virtual ms': f.virtualMs,
    'load (1/5/15 min)': load,
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf('--child')
  if (at >= 0) {
    const f = await measure(Number(process.argv[at + 1]), Number(process.argv[at + 2]), process.argv[at + 3] === 'off' ? { limit: 0 } : {})
    console.log(JSON.stringify(f))
  } else {
    await run({ gate: process.argv.includes('--gate') })
  }
  process.exit(process.exitCode ?? 0)
}
