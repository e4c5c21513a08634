/**
 * node1000: ONE real node (the hub: NodeContext, the authenticated Network, 127.0.0.1) with N
 * connected authenticated peers (default 1,000). The hub runs in a process of its own
 * (`bench/node1000.ts --hub`, one per run); the peers are real Networks too, on NodeContext, spread
 * over `--procs` child processes of the hub's (`bench/node1000.ts --child`),
 * each dialing from its own source address 127.0.x.y (`NodeContextOptions.localAddress`) and
 * listening on that address.
 *
 * Peer sets: every node tracks the same set 0 of all N + 1 keys (so the bit vectors that the hub and
 * a peer exchange have the same length and meaning; a peer tracking a smaller set under the same
 * index would be killed for `BitVecLengthMismatch`). The hub runs in discovery mode, as a validator
 * would. The peers run in lookup mode (every address given at registration, gossiped records not
 * stored, every bit they send set) and block every other peer's key (`Oracle.block(key, { forMs:
 * Infinity })`), so each peer dials the hub only and the peers never mesh (that would be N^2 / 2
 * connections). The hub learns each peer's signed record from the peer's answer to its first bit
 * vector, so from then on every bit vector either side sends is full: the steady state of a network
 * whose nodes know every address.
 *
 * The hub's config is `Config.recommended` with what 127.0.0.1 and the bench need: private addresses
 * allowed (loopback records), the gossip interval of `--gossip-ms` (default 1,000, the `Config.test`
 * interval: 50x the recommended 50 s, a stress case; a list such as `1000,5000` runs once per
 * interval, in fresh processes each time), and admission sized for N peers dialing at
 * once: `maxConcurrentHandshakes` and the global incoming rate at least N, the per-/24 rate at least
 * the peers of one /24 (up to 250 here). The per-IP limits stay at the recommended values (one
 * handshake at a time, 1/s with bursts of 4): every peer has its own source address.
 *
 * Figures: wall time from the moment the peers start until the hub has all N connected (and when it
 * had half and 90%), the hub's RSS and V8 heap before (hub listening, peers created but not started)
 * and after (all connected, records exchanged, after a GC), per connection; then the hub's CPU over
 * an idle window of `--idle-s` (default 30) seconds with gossip running (process.cpuUsage as % of
 * one core, target < 5%), how late its timers fire, and the bit vectors it sent and received in the
 * window. One JSON line per run on stdout; a Markdown report (one column per run) in
 * bench/results/node1000.md (`--out` to change, `--no-write` for none; `--from-json FILE` renders it
 * again from saved JSON lines); progress on stderr. About 50 s per run with the defaults.
 *
 * `npm run bench:node1000 [-- --peers 1000 --procs 4 --idle-s 30 --gossip-ms 1000 --timeout-s 90]`,
 * or `npm run bench -- node1000` (the defaults). Needs `ulimit -n` above N + 100 (checked at
 * start). Exits 1 when the peers did not all connect within `--timeout-s`; the CPU target is
 * reported, not enforced. `NODE1000_CPU_PROF=dir` makes the hub write a V8 CPU profile into dir.
 */
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { Config, Network, type LookupPeer } from '../src/authenticated/index.js'
import { Ed25519 } from '../src/crypto/index.js'
import { backend } from '../src/native/load.js'
import { NodeContext, freePort } from '../src/runtime/index.js'
import { Quota } from '../src/utils/quota.js'

const FILE = fileURLToPath(import.meta.url)
const RESULTS = join(import.meta.dirname, 'results')
const NS = new TextEncoder().encode('quorumnet-node1000')
const MAX_MESSAGE = 1 << 16
/** Key seeds: the hub is SEED, peer i (1..N) is SEED + i. */
const SEED = 70_000
/** Peers per source /24 (127.0.s.1 .. 127.0.s.250). */
const PER_SUBNET = 250
/** A peer's dial round interval, ms: it retries the hub within this if a dial failed. */
const PEER_DIAL_MS = 10_000
/** After all are connected: time for the first bit vectors and records to go both ways, ms. */
const SETTLE_MS = 3_000
/** How long the hub's CPU is measured with no peer connected, before the peers start, ms. */
const BASELINE_MS = 5_000

/** Where peer i (1..N) dials from and listens: 127.0.s.h, one /24 per PER_SUBNET peers. */
const hostOf = (i: number): string => `127.0.${1 + Math.floor((i - 1) / PER_SUBNET)}.${1 + ((i - 1) % PER_SUBNET)}`

interface Options {
  peers: number
  procs: number
  idleS: number
  /** One run per gossip interval (`--gossip-ms 1000,5000`). */
  gossipMs: number[]
  timeoutS: number
  out: string | undefined
}

/** What one run (one gossip interval) needs. */
type RunOptions = Omit<Options, 'gossipMs' | 'out'> & { gossipMs: number }

function options(argv: string[]): Options {
  const opt = (name: string, dflt: number): number => {
    const i = argv.indexOf(name)
    const v = i >= 0 ? Number(argv[i + 1]) : dflt
    if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a positive number, got ${argv[i + 1]}`)
    return v
  }
  const at = argv.indexOf('--out')
  const g = argv.indexOf('--gossip-ms')
  const gossipMs = (g >= 0 ? argv[g + 1]! : '1000').split(',').map(Number)
  if (!gossipMs.every((x) => Number.isInteger(x) && x > 0)) throw new Error(`--gossip-ms must be positive integers (ms), comma-separated, got ${argv[g + 1]}`)
  return {
    peers: Math.floor(opt('--peers', 1000)),
    procs: Math.floor(opt('--procs', 4)),
    idleS: opt('--idle-s', 30),
    gossipMs,
    timeoutS: opt('--timeout-s', 90),
    out: argv.includes('--no-write') ? undefined : at >= 0 ? argv[at + 1] : join(RESULTS, 'node1000.md'),
  }
}

/** The hub: recommended settings, with private addresses, the bench's gossip interval and admission sized for `n` peers at once. */
function hubConfig(signer: Ed25519, listen: string, n: number, gossipMs: number): Config {
  return {
    ...Config.recommended(signer, NS, listen, [], MAX_MESSAGE),
    allowPrivateIps: true,
    gossipBitVecFrequencyMs: gossipMs,
    maxConcurrentHandshakes: Math.max(512, n),
    allowedIncomingConnectionRate: Quota.perSecond(Math.max(256, n)),
    allowedHandshakeRatePerSubnet: Quota.perSecond(PER_SUBNET),
  }
}

/** A peer: lookup mode (every address known, none learned), the hub's gossip interval, a quick retry of the hub. */
function peerConfig(signer: Ed25519, listen: string, gossipMs: number): Config {
  return {
    ...Config.recommended(signer, NS, listen, [], MAX_MESSAGE),
    mode: 'lookup',
    allowPrivateIps: true,
    gossipBitVecFrequencyMs: gossipMs,
    dialFrequencyMs: PEER_DIAL_MS,
    allowedConnectionRatePerPeer: Quota.perSecond(1),
  }
}

/** Messages between the harness and a child process. */
type ToChild = { type: 'init'; from: number; to: number; n: number; hubPort: number; peerPort: number; gossipMs: number } | { type: 'go' } | { type: 'stats' } | { type: 'stop' }
type FromChild =
  | { type: 'ready'; setupS: number }
  | { type: 'started'; startS: number }
  | { type: 'stats'; nodes: number; connected: number; rssMB: number; heapMB: number }
  | { type: 'error'; message: string }

const mb = (bytes: number): number => bytes / 2 ** 20
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/** `gc()`, exposed at run time (on first use) when node was started without --expose-gc. */
let gc: (() => void) | undefined

function fullGc(): void {
  if (!gc) {
    if (typeof globalThis.gc === 'function') gc = globalThis.gc as () => void
    else {
      setFlagsFromString('--expose-gc')
      gc = runInNewContext('gc') as () => void
    }
  }
  for (let i = 0; i < 3; i++) gc()
}

function memory(): { rssMB: number; heapMB: number; externalMB: number } {
  const m = process.memoryUsage()
  return { rssMB: mb(m.rss), heapMB: mb(m.heapUsed), externalMB: mb(m.external) }
}

/** How often the idle window samples timer lateness, ms (perf_hooks' monitorEventLoopDelay at 10 ms cost 0.4% of a core by itself). */
const LATENESS_EVERY_MS = 100

/** Samples how late a `everyMs` timer fires (the event-loop delay a timer sees), until `stop()`. */
function lateness(everyMs: number): { stop(): void; percentile(p: number): number } {
  const samples: number[] = []
  let expected = performance.now() + everyMs
  const timer = setInterval(() => {
    const now = performance.now()
    samples.push(Math.max(0, now - expected))
    expected = now + everyMs
  }, everyMs)
  return {
    stop: () => clearInterval(timer),
    percentile: (p) => {
      const s = [...samples].sort((a, b) => a - b)
      return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! : 0
    },
  }
}

/** The soft limit on open files of this shell, or undefined where it cannot be read. */
function openFileLimit(): number | undefined {
  const r = spawnSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' })
  const v = r.stdout.trim()
  return v === 'unlimited' ? Infinity : Number(v) || undefined
}

/**
 * What source was measured: `NODE1000_SOURCE` if set (e.g. for an exported tree), else the git
 * commit of this checkout and the files under src/ that differ from it.
 */
function sourceLabel(): string {
  if (process.env.NODE1000_SOURCE) return process.env.NODE1000_SOURCE
  const git = (...args: string[]) => spawnSync('git', args, { cwd: import.meta.dirname, encoding: 'utf8' }).stdout ?? ''
  const head = git('rev-parse', '--short', 'HEAD').trim()
  if (!head) return 'unknown (not a git checkout)'
  const dirty = git('status', '--porcelain', '--', '../src', '../native/src').split('\n').filter(Boolean).map((l) => l.slice(3))
  return dirty.length ? `${head} with uncommitted changes in ${dirty.join(', ')}` : head
}

/** Share of all CPUs busy between two /proc/stat readings (0..1). */
function cpuStat(): { busy: number; total: number } | undefined {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number)
    const total = f.reduce((a, b) => a + b, 0)
    return { busy: total - f[3]! - (f[4] ?? 0), total }
  } catch {
    return undefined
  }
}

/** Sum of a prom-client counter's values whose labels match `match`. */
async function sumCounter(c: { get(): Promise<{ values: { value: number; labels: Record<string, unknown> }[] }> }, match: (labels: Record<string, unknown>) => boolean = () => true): Promise<number> {
  return (await c.get()).values.filter((v) => match(v.labels)).reduce((s, v) => s + v.value, 0)
}

/** A counter's values by its `reason` label (zeros left out). */
async function byReason(c: { get(): Promise<{ values: { value: number; labels: Record<string, unknown> }[] }> }): Promise<Record<string, number>> {
  const out: Record<string, number> = {}
  for (const v of (await c.get()).values) if (v.value > 0) out[String(v.labels.reason)] = (out[String(v.labels.reason)] ?? 0) + v.value
  return out
}

// ---------------------------------------------------------------------------------------------
// Child process: peers from..to-1 (1-based), each a Network on its own NodeContext.

async function child(): Promise<void> {
  const send = (m: FromChild) => process.send!(m)
  const nets: { network: Network; stop: () => Promise<void> }[] = []
  let created: { network: Network; index: number }[] = []
  process.on('message', (raw: ToChild) => {
    void (async () => {
      try {
        if (raw.type === 'init') {
          const t0 = performance.now()
          const { from, to, n, hubPort, peerPort, gossipMs } = raw
          const keys = Array.from({ length: n + 1 }, (_, i) => Ed25519.fromSeed(SEED + i).publicKey)
          const addressOf = (i: number) => (i === 0 ? `127.0.0.1:${hubPort}` : `${hostOf(i)}:${peerPort}`)
          const set: LookupPeer[] = keys.map((k, i) => [k, addressOf(i)])
          for (let i = from; i < to; i++) {
            const signer = Ed25519.fromSeed(SEED + i)
            const ctx = new NodeContext({ localAddress: hostOf(i) })
            const { network, oracle } = Network.create(ctx, peerConfig(signer, addressOf(i), gossipMs))
            oracle.register(0n, set)
            // Every other peer is blocked: this node dials (and accepts) the hub only.
            for (let j = 1; j <= n; j++) if (j !== i) oracle.block(keys[j]!, { forMs: Infinity })
            network.register(0, Quota.perSecond(100), 16)
            created.push({ network, index: i })
          }
          send({ type: 'ready', setupS: (performance.now() - t0) / 1000 })
        } else if (raw.type === 'go') {
          const t0 = performance.now()
          const handles = created.map(({ network }) => {
            const h = network.start()
            nets.push({ network, stop: h.stop })
            return h.listening
          })
          await Promise.all(handles)
          send({ type: 'started', startS: (performance.now() - t0) / 1000 })
        } else if (raw.type === 'stats') {
          const m = memory()
          send({ type: 'stats', nodes: created.length, connected: created.filter(({ network }) => network.connected().length > 0).length, rssMB: m.rssMB, heapMB: m.heapMB })
        } else if (raw.type === 'stop') {
          await Promise.race([Promise.allSettled(nets.map((x) => x.stop())), sleep(5_000)])
          created = []
          process.exit(0)
        }
      } catch (e) {
        send({ type: 'error', message: e instanceof Error ? (e.stack ?? e.message) : String(e) })
      }
    })()
  })
  process.on('disconnect', () => process.exit(0))
}

// ---------------------------------------------------------------------------------------------
// The harness, which is also the hub's process.

interface Child {
  proc: ChildProcess
  next(type: FromChild['type'], timeoutMs: number): Promise<FromChild>
  send(m: ToChild): void
}

function spawnChild(): Child {
  const proc = fork(FILE, ['--child'], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const inbox: FromChild[] = []
  const waiters: ((m: FromChild) => void)[] = []
  let failed: Error | undefined
  proc.on('message', (m: FromChild) => {
    const w = waiters.shift()
    if (w) w(m)
    else inbox.push(m)
  })
  proc.on('exit', (code) => {
    failed = new Error(`peer process exited (code ${code})`)
    for (const w of waiters.splice(0)) w({ type: 'error', message: failed.message })
  })
  return {
    proc,
    send: (m) => {
      if (proc.connected) proc.send(m)
    },
    next: async (type, timeoutMs) => {
      const m =
        inbox.shift() ??
        (failed
          ? ({ type: 'error', message: failed.message } as FromChild)
          : await Promise.race([new Promise<FromChild>((r) => waiters.push(r)), sleep(timeoutMs).then(() => ({ type: 'error', message: `no '${type}' within ${timeoutMs} ms` }) as FromChild)]))
      if (m.type === 'error') throw new Error(`peer process: ${m.message}`)
      if (m.type !== type) throw new Error(`peer process: expected '${type}', got '${m.type}'`)
      return m
    },
  }
}

export interface Figures {
  bench: string
  peers: number
  procs: number
  backend: string
  node: string
  /** The commit measured, and any uncommitted changes under src/. */
  source: string
  gossipMs: number
  idleS: number
  /** From the peers' start to all N connected at the hub, and to half and 90% of them. */
  connectWallS: number | null
  connectHalfS: number | null
  connect90S: number | null
  connected: number
  /** Hub CPU (user + system) from the peers' start until all were connected, per connection, ms. */
  connectCpuMsPerConn: number
  /** Inbound connections the hub refused while the peers connected, by reason. */
  refused: Record<string, number>
  hubRssBeforeMB: number
  hubRssAfterMB: number
  rssPerConnKB: number
  hubHeapBeforeMB: number
  hubHeapAfterMB: number
  heapPerConnKB: number
  externalPerConnKB: number
  hubPeakRssMB: number
  /** Hub CPU over the idle window, % of one core (user + system), and its split. */
  idleCpuPct: number
  /** Hub CPU over BASELINE_MS with no peer connected (before the peers start), % of one core. */
  baselineCpuPct: number
  idleUserPct: number
  idleSystemPct: number
  /** Bit vectors the hub sent and received per second in the idle window. */
  bitVecsSentPerS: number
  bitVecsReceivedPerS: number
  /** Hub CPU per connection per gossip round, µs (idle CPU / (connections x rounds in the window)). */
  cpuPerPeerRoundUs: number
  eventLoopDelayP50Ms: number
  eventLoopDelayP99Ms: number
  eventLoopDelayMaxMs: number
  /** Connections the hub lost during the idle window, and peers killed over the whole run. */
  lostInIdle: number
  killed: Record<string, number>
  /** Share of the machine's CPUs busy during the idle window (hub, peers and any other work). */
  machineBusyInIdlePct: number | null
  /** The peers' processes: total RSS and peer nodes connected to the hub at the end. */
  peerProcsRssMB: number
  peersConnectedAtEnd: number
  peerSetupS: number
  loadBefore: string
  totalS: number
  target: { idleCpuPctBelow: number; met: boolean }
}

export async function measure(o: RunOptions): Promise<Figures> {
  const T0 = performance.now()
  const n = o.peers
  const procs = Math.min(o.procs, n)
  const limit = openFileLimit()
  const perProc = Math.ceil(n / procs)
  if (limit !== undefined && (limit < n + 100 || limit < 2 * perProc + 100)) {
    throw new Error(`ulimit -n is ${limit}: the hub needs about ${n + 100} open files and each peer process ${2 * perProc + 100} (raise it: ulimit -n 20000)`)
  }
  const loadBefore = loadavg().map((x) => x.toFixed(2)).join(' ')
  const log = (s: string) => process.stderr.write(`node1000: ${s}\n`)
  log(`${n} peers in ${procs} processes, gossip every ${o.gossipMs} ms, backend ${backend}, load ${loadBefore}`)

  const signer = Ed25519.fromSeed(SEED)
  const keys = Array.from({ length: n + 1 }, (_, i) => (i === 0 ? signer.publicKey : Ed25519.fromSeed(SEED + i).publicKey))
  const hubPort = await freePort()
  const peerPort = await freePort()
  const hubCtx = new NodeContext()
  const { network: hub, oracle } = Network.create(hubCtx, hubConfig(signer, `127.0.0.1:${hubPort}`, n, o.gossipMs))
  oracle.register(0n, keys)
  hub.register(0, Quota.perSecond(100), 16)
  const hubHandle = hub.start()
  await hubHandle.listening

  const children: Child[] = []
  try {
    for (let p = 0; p < procs; p++) children.push(spawnChild())
    const setups = await Promise.all(
      children.map((c, p) => {
        const from = 1 + p * perProc
        const to = Math.min(n + 1, from + perProc)
        c.send({ type: 'init', from, to, n, hubPort, peerPort, gossipMs: o.gossipMs })
        return c.next('ready', 120_000)
      }),
    )
    const peerSetupS = Math.max(...setups.map((s) => (s as { setupS: number }).setupS))
    log(`peer processes ready (setup ${peerSetupS.toFixed(1)} s)`)

    // The hub's own idle cost with no peer connected (timers, GC, the harness's IPC), for reference.
    await sleep(500)
    fullGc()
    const base0 = process.cpuUsage()
    const b0 = performance.now()
    await sleep(BASELINE_MS)
    const base = process.cpuUsage(base0)
    const baselineCpuPct = ((base.user + base.system) / ((performance.now() - b0) * 1000)) * 100
    fullGc()
    const before = memory()

    // Connect: from 'go' until the hub has all N.
    const t0 = performance.now()
    const connectCpu0 = process.cpuUsage()
    const at: { half?: number; p90?: number } = {}
    const progress = setInterval(() => {
      const c = hub.connected().length
      log(`${((performance.now() - t0) / 1000).toFixed(1)} s: ${c} of ${n} connected`)
    }, 1_000)
    const watch = (count: number, key: 'half' | 'p90') => void hub.whenConnected(count).then(() => (at[key] ??= performance.now() - t0))
    watch(Math.ceil(n / 2), 'half')
    watch(Math.ceil(n * 0.9), 'p90')
    for (const c of children) c.send({ type: 'go' })
    const all = await Promise.race([hub.whenConnected(n).then(() => performance.now() - t0), sleep(o.timeoutS * 1000).then(() => undefined)])
    const connectCpu = process.cpuUsage(connectCpu0)
    clearInterval(progress)
    const connectedNow = hub.connected().length
    const refused = await byReason(hub.metrics.handshakesRefused)
    log(all === undefined ? `TIMEOUT: ${connectedNow} of ${n} connected after ${o.timeoutS} s; refused ${JSON.stringify(refused)}` : `all ${n} connected in ${(all / 1000).toFixed(2)} s; refused ${JSON.stringify(refused)}`)
    await Promise.all(children.map((c) => c.next('started', 60_000)))

    // Records exchanged, then memory after.
    await sleep(SETTLE_MS)
    fullGc()
    const after = memory()
    const conns = hub.connected().length

    // Idle window with gossip running.
    const isBitVec = (l: Record<string, unknown>) => l.message === '-1'
    const sent0 = await sumCounter(hub.metrics.messagesSent, isBitVec)
    const recv0 = await sumCounter(hub.metrics.messagesReceived, isBitVec)
    const loop = lateness(LATENESS_EVERY_MS)
    const stat0 = cpuStat()
    const cpu0 = process.cpuUsage()
    const w0 = performance.now()
    log(`idle window: ${o.idleS} s with ${conns} connections`)
    await sleep(o.idleS * 1000)
    loop.stop()
    const cpu = process.cpuUsage(cpu0)
    const wallUs = (performance.now() - w0) * 1000
    const stat1 = cpuStat()
    const sent = (await sumCounter(hub.metrics.messagesSent, isBitVec)) - sent0
    const recv = (await sumCounter(hub.metrics.messagesReceived, isBitVec)) - recv0
    const connsEnd = hub.connected().length
    const killed = await byReason(hub.metrics.peersKilled)

    const stats = await Promise.all(
      children.map((c) => {
        c.send({ type: 'stats' })
        return c.next('stats', 30_000) as Promise<Extract<FromChild, { type: 'stats' }>>
      }),
    )
    const idleCpuPct = ((cpu.user + cpu.system) / wallUs) * 100
    const rounds = (o.idleS * 1000) / o.gossipMs
    const figures: Figures = {
      bench: `node1000::hub/peers=${n} procs=${procs} gossip_ms=${o.gossipMs}`,
      peers: n,
      procs,
      backend,
      node: process.version,
      source: sourceLabel(),
      gossipMs: o.gossipMs,
      idleS: o.idleS,
      connectWallS: all === undefined ? null : all / 1000,
      connectHalfS: at.half === undefined ? null : at.half / 1000,
      connect90S: at.p90 === undefined ? null : at.p90 / 1000,
      connected: connectedNow,
      connectCpuMsPerConn: (connectCpu.user + connectCpu.system) / 1000 / Math.max(1, connectedNow),
      refused,
      hubRssBeforeMB: before.rssMB,
      hubRssAfterMB: after.rssMB,
      rssPerConnKB: ((after.rssMB - before.rssMB) * 1024) / Math.max(1, conns),
      hubHeapBeforeMB: before.heapMB,
      hubHeapAfterMB: after.heapMB,
      heapPerConnKB: ((after.heapMB - before.heapMB) * 1024) / Math.max(1, conns),
      externalPerConnKB: ((after.externalMB - before.externalMB) * 1024) / Math.max(1, conns),
      hubPeakRssMB: process.resourceUsage().maxRSS / 1024,
      idleCpuPct,
      baselineCpuPct,
      idleUserPct: (cpu.user / wallUs) * 100,
      idleSystemPct: (cpu.system / wallUs) * 100,
      bitVecsSentPerS: sent / o.idleS,
      bitVecsReceivedPerS: recv / o.idleS,
      cpuPerPeerRoundUs: (cpu.user + cpu.system) / Math.max(1, conns * rounds),
      eventLoopDelayP50Ms: loop.percentile(50),
      eventLoopDelayP99Ms: loop.percentile(99),
      eventLoopDelayMaxMs: loop.percentile(100),
      lostInIdle: Math.max(0, conns - connsEnd),
      killed,
      machineBusyInIdlePct: stat0 && stat1 ? ((stat1.busy - stat0.busy) / Math.max(1, stat1.total - stat0.total)) * 100 : null,
      peerProcsRssMB: stats.reduce((s, x) => s + x.rssMB, 0),
      peersConnectedAtEnd: stats.reduce((s, x) => s + x.connected, 0),
      peerSetupS,
      loadBefore,
      totalS: 0,
      target: { idleCpuPctBelow: 5, met: idleCpuPct < 5 },
    }
    figures.totalS = (performance.now() - T0) / 1000
    return figures
  } finally {
    for (const c of children) c.send({ type: 'stop' })
    await Promise.race([hubHandle.stop(), sleep(5_000)])
    await Promise.race([Promise.all(children.map((c) => new Promise((r) => (c.proc.exitCode !== null ? r(undefined) : c.proc.once('exit', r))))), sleep(10_000)])
    for (const c of children) if (c.proc.exitCode === null) c.proc.kill()
  }
}

const f1 = (x: number | null): string => (x === null ? 'n/a' : x.toFixed(1))
const f2 = (x: number | null): string => (x === null ? 'n/a' : x.toFixed(2))

const kv = (r: Record<string, number>): string => (Object.keys(r).length ? Object.entries(r).map(([k, v]) => `${k} ${v}`).join(', ') : 'none')

/** The Markdown report: one column per run (gossip interval). */
export function markdown(fs: Figures[], command: string): string {
  const f0 = fs[0]!
  const rows: [string, (f: Figures) => string][] = [
    ['peers connected to the hub', (f) => `${f.connected} of ${f.peers}${f.lostInIdle ? ` (${f.lostInIdle} lost in the idle window)` : ''}`],
    ["time until all connected (wall, from the peers' start)", (f) => (f.connectWallS === null ? 'not reached (timeout)' : `**${f2(f.connectWallS)} s** (half: ${f2(f.connectHalfS)} s, 90%: ${f2(f.connect90S)} s)`)],
    ['hub CPU while connecting, per connection', (f) => `${f2(f.connectCpuMsPerConn)} ms`],
    ['inbound connections refused by the hub', (f) => kv(f.refused)],
    ['hub RSS before / after', (f) => `${f1(f.hubRssBeforeMB)} MB / ${f1(f.hubRssAfterMB)} MB (peak ${f1(f.hubPeakRssMB)} MB)`],
    ['hub RSS per connection', (f) => `**${f1(f.rssPerConnKB)} KB**`],
    ['hub V8 heap used before / after', (f) => `${f1(f.hubHeapBeforeMB)} MB / ${f1(f.hubHeapAfterMB)} MB`],
    ['hub heap used per connection', (f) => `**${f1(f.heapPerConnKB)} KB** (external: ${f1(f.externalPerConnKB)} KB)`],
    ['hub CPU, idle with gossip running (target < 5%)', (f) => `**${f2(f.idleCpuPct)}% of one core** (user ${f2(f.idleUserPct)}%, system ${f2(f.idleSystemPct)}%): ${f.target.met ? 'met' : 'NOT met'}`],
    ['hub CPU with no peer connected (before the peers start)', (f) => `${f2(f.baselineCpuPct)}%`],
    ['bit vectors sent / received by the hub', (f) => `${f1(f.bitVecsSentPerS)}/s / ${f1(f.bitVecsReceivedPerS)}/s`],
    ['hub CPU per connection per gossip round (idle CPU / connections / rounds)', (f) => `${f1(f.cpuPerPeerRoundUs)} µs`],
    ['hub timer lateness in the idle window (p50 / p99 / max)', (f) => `${f2(f.eventLoopDelayP50Ms)} / ${f2(f.eventLoopDelayP99Ms)} / ${f2(f.eventLoopDelayMaxMs)} ms`],
    ['connections killed by the hub', (f) => kv(f.killed)],
    ['machine CPU busy in the idle window (all processes; 100% = every core)', (f) => (f.machineBusyInIdlePct === null ? 'n/a' : `${f1(f.machineBusyInIdlePct)}%`)],
    ['peer processes: total RSS; peer nodes connected at the end', (f) => `${f1(f.peerProcsRssMB)} MB; ${f.peersConnectedAtEnd} of ${f.peers}`],
    ['load average before (1/5/15 min)', (f) => f.loadBefore],
    ['run time', (f) => `${f1(f.totalS)} s`],
  ]
  return [
    `# node1000: one node with ${f0.peers.toLocaleString('en-US')} authenticated peers`,
    '',
    `\`${command}\` (bench/node1000.ts): ${f0.backend} backend, Node ${f0.node}, 127.0.0.1, ${f0.peers} peers in ${f0.procs} processes, idle window ${f0.idleS} s. One column per gossip interval (a separate run each). Source: ${f0.source}.`,
    '',
    `| figure | ${fs.map((f) => `gossip every ${f.gossipMs} ms`).join(' | ')} |`,
    `| --- |${fs.map(() => ' --- |').join('')}`,
    ...rows.map(([k, v]) => `| ${k} | ${fs.map(v).join(' | ')} |`),
    '',
    '## Method',
    '',
    `- The hub: one \`Network\` on \`NodeContext\`, in a process of its own per run: \`Config.recommended\` plus private addresses (loopback records), the run's gossip interval (1,000 ms is \`Config.test\`'s, 5,000 ms \`Config.aggressive\`'s, 50,000 ms \`Config.recommended\`'s), and admission sized for N peers dialing at once (handshakes in progress and the global incoming rate at least N, ${PER_SUBNET}/s per /24; per-IP limits as recommended: every peer has its own source address). Discovery mode, peer set 0 of all N + 1 keys, one channel registered.`,
    `- The peers: N \`Network\`s on \`NodeContext\`, about N / procs per child process, each dialing from and listening on its own 127.0.x.y. Lookup mode with the same set 0 (so their bit vectors match the hub's), every other peer blocked: each dials the hub only, and the peers never mesh. A peer retries the hub within ${PEER_DIAL_MS / 1000} s if a dial fails.`,
    '- Connect time: from the message that starts the peers until the hub has all of them (`whenConnected`). Memory: `process.memoryUsage()` after 3 forced GCs; before = hub listening, peers created but not started; after = all connected plus 3 s for the first bit vectors and records to go both ways; per connection = difference / connections.',
    "- Idle: `process.cpuUsage()` of the hub process (every thread, user + system) over the idle window, no data sent, as a share of one core; bit vectors counted from the hub's `messages_sent` / `messages_received` (`message=\"-1\"`). Every bit vector either side sends is full by then, so none is answered with records: the steady state of a network whose nodes know every address. Timer lateness: a 100 ms interval timer's delay past its due time.",
    "- One run per column on a shared 2-core VM: the peers' processes share the cores with the hub, and other work may have run (see the load and machine CPU rows).",
    '',
    '## Raw figures (one JSON line per run)',
    '',
    '```json',
    ...fs.map((f) => JSON.stringify(f)),
    '```',
    '',
  ].join('\n')
}

/** One run (the first gossip interval of `argv`) in this process: the hub's process. Prints its JSON line. */
async function hub(argv: string[]): Promise<void> {
  const o = options(argv)
  const f = await measure({ ...o, gossipMs: o.gossipMs[0]! })
  console.log(JSON.stringify(f))
  if (f.connectWallS === null) process.exitCode = 1
}

/**
 * `npm run bench:node1000` and `npm run bench -- node1000`: one run per gossip interval, each in a
 * fresh hub process (`--hub`), so that every run's RSS and CPU are its hub's alone; prints each
 * run's JSON line and writes the Markdown report. Sets the exit code to 1 when a run failed.
 */
export async function run(argv: string[] = []): Promise<Figures[]> {
  const o = options(argv)
  const from = argv.indexOf('--from-json')
  if (from >= 0) {
    // Render the report again from the JSON lines of past runs (no measurement).
    const lines = readFileSync(argv[from + 1]!, 'utf8').split('\n').filter((l) => l.startsWith('{'))
    const figures = lines.map((l) => JSON.parse(l) as Figures)
    if (o.out) writeFileSync(o.out, markdown(figures, `npm run bench:node1000 -- --gossip-ms ${figures.map((f) => f.gossipMs).join(',')}${figures[0]!.peers !== 1000 ? ` --peers ${figures[0]!.peers}` : ''}`))
    return figures
  }
  const figures: Figures[] = []
  for (const gossipMs of o.gossipMs) {
    const args = [...withoutOption(argv, '--gossip-ms'), '--gossip-ms', String(gossipMs), '--hub']
    const { code, out } = await new Promise<{ code: number | null; out: string }>((resolve) => {
      // NODE1000_CPU_PROF=dir: the hub writes a V8 CPU profile there when it exits (bench/e2e/profile.ts reads it).
      const prof = process.env.NODE1000_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.NODE1000_CPU_PROF}`] : []
      const p = spawn(process.execPath, [...prof, '--import', 'tsx', FILE, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
      let out = ''
      p.stdout.on('data', (d: Buffer) => (out += d.toString()))
      p.on('exit', (code) => resolve({ code, out }))
    })
    const line = out.trim().split('\n').at(-1) ?? ''
    if (!line.startsWith('{')) {
      console.log(`node1000: the run with gossip every ${gossipMs} ms failed (exit code ${code})`)
      process.exitCode = 1
      continue
    }
    console.log(line)
    figures.push(JSON.parse(line) as Figures)
    if (code !== 0) process.exitCode = 1
  }
  if (o.out && figures.length > 0) {
    const command = `npm run bench:node1000${argv.length ? ` -- ${argv.join(' ')}` : ''}`
    writeFileSync(o.out, markdown(figures, command))
    process.stderr.write(`node1000: wrote ${o.out}\n`)
  }
  return figures
}

/** `argv` without `name` and its value. */
function withoutOption(argv: string[], name: string): string[] {
  const i = argv.indexOf(name)
  return i < 0 ? argv : [...argv.slice(0, i), ...argv.slice(i + 2)]
}

if (process.argv[1] === FILE) {
  if (process.argv.includes('--child')) {
    await child()
  } else if (process.argv.includes('--hub')) {
    await hub(process.argv.slice(2))
    process.exit(process.exitCode ?? 0)
  } else {
    await run(process.argv.slice(2))
    process.exit(process.exitCode ?? 0)
  }
}
